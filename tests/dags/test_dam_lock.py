"""Someone holding a campaign folder's lock in the DAM: work in progress, not a failure.

Real runs of a1_to_a2: the campaign waits at A1 (no strike, no email, no webhook event, nothing
imported twice) and is promoted at the first poll after the lock is released.
"""

from __future__ import annotations

from typing import Any

from campaigns.page.overview import campaigns_overview
from tests.dags import test_wishlist
from tests.dags.world import Campaign, task_states

# The webhook receiver on a local socket, and the HTTP connection to it (a fixture).
receiver = test_wishlist.receiver
IMPORT = "POST /otmmapi/{version}/assets"
WAITING = "waiting for the DAM lock on its folder; tried again next poll"


def hold_lock(world: Any, campaign: Campaign, user: str | None) -> None:
    """``user`` holds the campaign folder's lock in the DAM (None: nobody does)."""
    world.dam.control("PUT", f"campaigns/{campaign.campaign_id}/lock", json={"user": user})


def in_dam(world: Any, campaign: Campaign) -> tuple[str, list[str]]:
    """The campaign's status in the DAM and the names of the assets imported into its folder."""
    folder = world.dam_campaign(campaign.campaign_id)
    return folder["status"], sorted(asset["name"] for asset in folder["imported"])


def events(receiver: Any, campaign: Campaign) -> list[str]:
    return [event["action"] for event in receiver.delivered(campaign)]


def test_a_held_lock_waits_at_a1_and_the_first_poll_after_its_release_promotes(
    make_world, uid, receiver, capfd
):
    locked = Campaign(f"{uid}-locked", name="Spring <b>Launch</b>")
    beside = Campaign(f"{uid}-beside")
    world = make_world(
        [locked, beside],
        warning_threshold=2,
        campaigns_per_task=2,
        webhook_conn_id=test_wishlist.WEBHOOK_CONN_ID,
        settle_minutes=0,  # the assets added below are found ready at the next poll
    )
    for _ in range(2):
        world.run()
    assert len(world.emails(locked)) == len(world.emails(beside)) == 1  # the warnings
    world.add_assets(locked, {"key-visual.psd": 100, "logo.ai": 200})
    world.add_assets(beside, {"master.mov": 300})
    hold_lock(world, locked, "jane")

    capfd.readouterr()
    held = world.run()
    assert str(held.state) == "success"
    # One reset instance for both: the locked campaign does not stop the other one.
    assert task_states(held)["reset"] == {0: "success"}
    assert f"{locked.number} {locked.name}: {WAITING}" in "".join(capfd.readouterr())
    assert in_dam(world, beside) == ("A2", ["master.mov"])
    assert in_dam(world, locked) == ("A1", ["key-visual.psd", "logo.ai"])
    waiting = world.tracked(locked.campaign_id)
    assert waiting.status == "A1"
    assert (waiting.state.poll_count, waiting.state.episode) == (3, 1)
    assert (waiting.state.consecutive_errors, waiting.state.permanently_failed) == (0, False)
    assert waiting.warning_sent_at is not None
    assert waiting.waiting_for_dam_lock_since is not None
    assert [a["name"] for a in world.state.get_imported_assets(locked.campaign_id)] == [
        "key-visual.psd",
        "logo.ai",
    ]
    assert len(world.emails(locked)) == 1
    assert events(receiver, locked) == ["warn"]
    assert events(receiver, beside) == ["warn", "reset"]
    [row] = campaigns_overview(world.state, 3, search=locked.campaign_id)["campaigns"]
    assert row["a1_waiting_for_dam_lock_since"] == waiting.waiting_for_dam_lock_since
    imports = world.dam.counters()[IMPORT]
    assert imports == 3

    # The waiting run cleared and run again: the same wait, nothing imported or sent again.
    assert str(world.run_again(held).state) == "success"
    assert world.tracked(locked.campaign_id) == waiting
    assert world.dam.counters()[IMPORT] == imports
    assert len(world.emails(locked)) == 1
    assert events(receiver, locked) == ["warn"]

    # The next poll, the lock still held: tried again, nothing imported again, the same episode.
    assert str(world.run().state) == "success"
    assert world.dam.counters()[IMPORT] == imports
    assert in_dam(world, locked) == ("A1", ["key-visual.psd", "logo.ai"])
    still = world.tracked(locked.campaign_id)
    assert (still.state.poll_count, still.state.episode) == (4, 1)
    assert still.waiting_for_dam_lock_since == waiting.waiting_for_dam_lock_since
    assert len(world.emails(locked)) == 1
    assert events(receiver, locked) == ["warn"]

    hold_lock(world, locked, None)
    assert str(world.run().state) == "success"
    assert world.dam.counters()[IMPORT] == imports
    assert in_dam(world, locked) == ("A2", ["key-visual.psd", "logo.ai"])
    promoted = world.tracked(locked.campaign_id)
    assert promoted.status == "A2"
    assert promoted.promoted_to_a2_at is not None
    assert (promoted.state.poll_count, promoted.state.episode) == (0, 2)
    assert (promoted.warning_sent_at, promoted.waiting_for_dam_lock_since) == (None, None)
    assert len(world.emails(locked)) == 1
    assert events(receiver, locked) == ["warn", "reset"]
    reset = receiver.delivered(locked)[-1]
    # The promotion is announced with the episode it ends and the polls that episode took.
    assert (reset["poll_count"], reset["episode"]) == (5, 1)
