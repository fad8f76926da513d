"""Watching Box's change feed gives what listing every campaign every poll gives: real DAG runs.

The same stories run in a world listing every campaign (``box_watch: list``) and in one watching
the feed (``events``), also with a feed that repeats, reorders and pages events one at a time,
one whose stream position expires, and one that leaves events out; the tracking rows, emails and
imports are compared, each campaign named by its story.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from tests.dags.world import Campaign, World

FEED = "GET /2.0/events"
ITEMS = "GET /2.0/folders/{folder_id}/items"
STORIES = ("arrives", "removed", "erroring", "waiting", "subfolder")


def campaigns(prefix: str) -> dict[str, Campaign]:
    return {story: Campaign(f"{prefix}-{story}") for story in STORIES}


def changes(world: World, cast: dict[str, Campaign]) -> dict[int, Callable[[], Any]]:
    """What people do in Box before each poll (by poll number), the same in every world."""
    removed = cast["removed"].box_folder_id
    erroring = cast["erroring"].box_folder_id
    subfolder = f"{cast['subfolder'].box_folder_id}-ma"

    def add(kind: str, item_id: str, name: str, parent: str, **more: Any) -> None:
        world.box.control(
            "POST", kind, json={"id": item_id, "name": name, "parent": parent, **more}
        )

    def forbid(forbidden: bool) -> None:
        world.box.control("PUT", f"folders/{erroring}/forbidden", json={"forbidden": forbidden})

    def arrive() -> None:
        forbid(False)
        world.add_assets(cast["arrives"], {"key-visual.psd": 10_000, "logo.ai": 2_000})

    def remove() -> None:
        world.box.control("DELETE", f"folders/{removed}-ma")
        forbid(True)

    return {
        2: remove,
        3: arrive,
        4: lambda: add("folders", f"{removed}-ma", "Master Assets", removed),
        6: lambda: add("folders", f"{subfolder}-print", "print", subfolder),
        8: lambda: add(
            "files", f"{subfolder}-poster", "poster.pdf", f"{subfolder}-print", size=5_000
        ),
    }


def play(
    make_world: Callable[..., World],
    prefix: str,
    polls: int,
    before: dict[int, Callable[[World], Any]] | None = None,
    **settings: Any,
) -> tuple[World, dict[str, Campaign], dict[str, Any]]:
    """Run the stories for ``polls`` polls; what each campaign went through, by story."""
    cast = campaigns(prefix)
    world = make_world(list(cast.values()), **settings)
    people = changes(world, cast)
    for poll in range(1, polls + 1):
        if poll in people:
            people[poll]()
        if before and poll in before:
            before[poll](world)
        run = world.run()
        assert str(run.state) == "success", f"poll {poll}"
    return world, cast, observed(world, cast, prefix)


def observed(world: World, cast: dict[str, Campaign], prefix: str) -> dict[str, Any]:
    """Each story's polls, final state, emails and imports, with the world's prefix taken out."""
    from campaigns.hooks.retry_state import RetryStateHook

    ids = {c.campaign_id: story for story, c in cast.items()}
    rows = RetryStateHook().get_records(
        "SELECT campaign_id, outcome, reason, action, poll_count, consecutive_errors, attempt, "
        "episode FROM campaign_polls WHERE campaign_id = ANY(%s) ORDER BY polled_at",
        parameters=(list(ids),),
    )
    polls: dict[str, list[tuple]] = {story: [] for story in STORIES}
    for campaign_id, outcome, reason, *counts in rows:
        polls[ids[campaign_id]].append(
            (outcome, reason and reason.replace(prefix, "<world>"), *counts)
        )
    final = {}
    for story, campaign in cast.items():
        tracked = world.tracked(campaign.campaign_id)
        state = tracked.state
        reason = state.failure_reason and state.failure_reason.replace(prefix, "<world>")
        final[story] = (
            tracked.status,
            replace(state, failure_reason=reason),
            tracked.warning_sent_at is not None,
        )
    emails = sorted(
        (str(message["Subject"]).replace(prefix, "<world>"), message["To"])
        for message in world.emails()
    )
    imports = {
        story: sorted((a["name"], a["size"]) for a in world.dam_campaign(c.campaign_id)["imported"])
        for story, c in cast.items()
    }
    return {"polls": polls, "final": final, "emails": emails, "imports": imports}


def assert_same(watching: dict[str, Any], listed: dict[str, Any]) -> None:
    """The two worlds' observations equal, story by story (for a readable difference)."""
    for story in STORIES:
        assert watching["polls"][story] == listed["polls"][story], story
        assert watching["final"][story] == listed["final"][story], story
        assert watching["imports"][story] == listed["imports"][story], story
    assert watching["emails"] == listed["emails"]


def watched(world: World, campaign: Campaign) -> dict[str, Any]:
    (row,) = world.state.get_records(
        "SELECT missed_events, proving FROM campaign_watch WHERE campaign_id = %s",
        parameters=(campaign.campaign_id,),
    ) or [(0, False)]
    return {"missed_events": row[0], "proving": row[1]}


def test_watching_the_feed_gives_what_listing_every_poll_gives(make_world, uid):
    """Assets arriving (also into a new subfolder), a folder removed and restored, a campaign
    erroring and recovering, and the no-assets warning at poll 20: the same, with fewer calls."""
    _, _, listed = play(make_world, f"{uid}-l", 20, box_watch="list")
    world, _, watching = play(make_world, f"{uid}-e", 20, box_watch="events")

    assert_same(watching, listed)
    assert listed["final"]["arrives"][0] == listed["final"]["subfolder"][0] == "A2"
    assert listed["imports"]["subfolder"] == [("print - poster.pdf", 5_000)]
    assert [p[2] for p in listed["polls"]["erroring"][:3]] == ["skip", "retry", "skip"]
    assert [(p[0], p[2]) for p in listed["polls"]["removed"][1:4]] == [
        ("folder_error", "retry"),
        ("folder_error", "retry"),
        ("empty", "skip"),
    ]
    # Every poll counts, errors included: the three campaigns still empty are warned at poll 20.
    assert [p[2] for p in listed["polls"]["waiting"]] == ["skip"] * 19 + ["warn"]
    warned = {story for story, (_, _, warned) in listed["final"].items() if warned}
    assert warned == {"waiting", "removed", "erroring"}
    counters = world.box.counters()
    assert counters[FEED] >= 20
    # Listed every poll, the five campaigns' folders alone would take 100 listings and more.
    assert counters[ITEMS] < 60


NOISY = {"repeat": True, "reorder": True, "max_chunk": 1}


@pytest.mark.parametrize(
    ("feed", "before"),
    [
        ("repeated, reordered, one event a page", {1: NOISY}),
        ("expired", {3: "expire", 6: "expire"}),
    ],
)
def test_an_unreliable_feed_changes_nothing(make_world, uid, feed, before):
    """Duplicates are dropped, order does not matter, paging goes on to the end, and an expired
    position lists every campaign once: the same polls, emails and imports as listing."""

    def unreliable(poll: int) -> Callable[[World], Any]:
        step = before[poll]
        if step == "expire":
            return lambda world: world.box.control("POST", "events/expire")
        return lambda world: world.box.control("PUT", "events/delivery", json=step)

    settings = {"warning_threshold": 9}
    _, _, listed = play(make_world, f"{uid}-l", 9, box_watch="list", **settings)
    hooks = {poll: unreliable(poll) for poll in before}
    world, _, watching = play(make_world, f"{uid}-e", 9, hooks, box_watch="events", **settings)

    assert_same(watching, listed)
    assert listed["polls"]["waiting"][8][2] == "warn"
    if feed == "expired":
        reads = world.state.get_records(
            "SELECT full_listing FROM box_event_reads WHERE stream_key LIKE %s ORDER BY read_at",
            parameters=(f"% {world.box.url}",),
        )
        refused = [why for (why,) in reads if why and why.startswith("Box refused")]
        assert len(refused) == 2, reads


def test_events_the_feed_left_out_are_found_by_the_reconciliation(make_world, uid):
    """The uploads' events never come: a reconciliation finds the files, counts a missed event,
    and the campaign is promoted with the same imports and emails as by listing."""
    settings = {"warning_threshold": 9, "reconcile_hours": 0.1}
    _, _, listed = play(make_world, f"{uid}-l", 9, box_watch="list", **settings)
    prefix = f"{uid}-e"
    arrives = Campaign(f"{prefix}-arrives")
    left_out = [f"{arrives.box_folder_id}-late-{n}" for n in range(2)]

    def blind(world: World) -> None:
        world.box.control("PUT", "events/delivery", json={"leave_out": left_out})

    world, cast, watching = play(make_world, prefix, 9, {1: blind}, box_watch="events", **settings)

    assert watching["final"] == listed["final"]
    assert watching["emails"] == listed["emails"]
    assert watching["imports"] == listed["imports"]
    assert watched(world, cast["arrives"])["missed_events"] == 1
    assert all(watched(world, cast[s])["missed_events"] == 0 for s in STORIES if s != "arrives")

    # Found at most a reconciliation period (two polls) late, then promoted once settled.
    def found(polls: list[tuple]) -> int:
        return next(n for n, poll in enumerate(polls) if poll[0] != "empty")

    assert found(watching["polls"]["arrives"]) <= found(listed["polls"]["arrives"]) + 2
