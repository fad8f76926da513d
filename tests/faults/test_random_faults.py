"""Twenty polls with a random fault each (seeded): the state they leave is that of twenty polls
without faults.

Two groups of the same eight campaigns poll twenty times each, the same things happening to their
Box folders at the same polls (assets arrive, a folder is locked, then unlocked): the first group
without faults, the second with one fault a poll, drawn from those of the other scenarios and
lifted once the run has felt it; a run that still fails is cleared, as an operator would. Then
every table, email and DAM folder of the second group must equal the first's, campaign by
campaign and poll by poll. ``A1_FAULTS_SEED`` replays another draw.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest

from tests.faults.tally import Snapshot
from tests.faults.world import (
    FINISHED,
    KILL,
    RESTART,
    Campaign,
    FaultWorld,
    campaigns,
    failed_a_try,
)

pytestmark = pytest.mark.slow

SEED = int(os.environ.get("A1_FAULTS_SEED", "20260428"))
POLLS = 20
SETTINGS = {"campaigns_per_task": 8}
FOLDERS: dict[str, Any] = {
    "quiet": "empty",
    "early": {"kv.psd": 4_000},
    "late": "empty",
    "later": "empty",
    "missing": "no_master_assets",
    "locked": "forbidden",
    "flaky": "empty",
    "many": "empty",
}
# Before poll N: what happens to a campaign's Box folder (the same in both groups).
EVENTS: dict[int, list[tuple[str, str, Any]]] = {
    2: [("unlock", "locked", None)],
    5: [("lock", "flaky", None)],
    7: [("unlock", "flaky", None), ("upload", "late", {"late.psd": 3_000})],
    10: [("upload", "many", {"a.ai": 1_000, "b.ai": 2_000, "c.mp4": 5_000})],
    14: [("upload", "later", {"later.psd": 2_500})],
    17: [("upload", "locked", {"unlocked.psd": 1_500})],
}


def happen(world: FaultWorld, group: dict[str, Campaign], poll: int) -> None:
    for what, role, assets in EVENTS.get(poll, ()):
        if what == "upload":
            world.upload(group[role], assets)
        else:
            world.set_forbidden(group[role], what == "lock")


# Each fault: broken before or while the run starts, lifted once the run has felt it. The
# tracking database restarts, or a task is killed, while ``fetch`` or ``decide`` writes.
STAGES = [("fetch", "campaign_status"), ("decide", "campaign_polls")]


def interrupted(world: FaultWorld, rng: random.Random, group: dict[str, Campaign], how: str) -> str:
    task, table = rng.choice(STAGES)
    with world.tracking.writes_held(table):
        run = world.trigger(**SETTINGS)
        world.waits_to_write(table)
        world.interrupt(run, task, how)
    return run


def smtp_down(world: FaultWorld, rng: random.Random, group: dict[str, Campaign]) -> str:
    """No SMTP server until an email has failed (or the run ended: it had none to send)."""
    world.mail.stop()
    run = world.trigger(**SETTINGS)
    felt_or_ended(world, run, {"warn", "retry", "fail"})
    world.mail.start()
    return run


def dam_down(world: FaultWorld, rng: random.Random, group: dict[str, Campaign]) -> str:
    """The DAM unreachable until ``fetch`` has failed once."""
    world.dam.stop()
    run = world.trigger(**SETTINGS)
    world.retried(run, "fetch")
    world.dam.start()
    return run


def box_timeouts(world: FaultWorld, rng: random.Random, group: dict[str, Campaign]) -> str:
    """A third of the campaigns get no answer from Box until ``check`` has failed once."""
    for campaign in rng.sample(sorted(group.values(), key=lambda c: c.campaign_id), 3):
        for folder_id in campaign.box_folder_ids:
            world.box_hangs(folder_id, 100)
    run = world.trigger(**SETTINGS)
    felt_or_ended(world, run, {"check"})
    world.box.control("DELETE", "faults")
    return run


FAULTS: dict[str, Callable[[FaultWorld, random.Random, dict[str, Campaign]], str]] = {
    RESTART: partial(interrupted, how=RESTART),
    KILL: partial(interrupted, how=KILL),
    "SMTP server down": smtp_down,
    "DAM unreachable": dam_down,
    "Box timing out for a third": box_timeouts,
}


def felt_or_ended(world: FaultWorld, run: str, tasks: set[str]) -> None:
    """Until a try of one of ``tasks`` failed, or the run ended."""

    def felt() -> bool:
        if world.run_state(run) in FINISHED:
            return True
        return any(ti.task_id in tasks and failed_a_try(ti) for ti in world.instances(run).values())

    world.wait(felt, f"run {run} to feel the fault")


def poll_through(
    world: FaultWorld,
    group: dict[str, Campaign],
    plan: list[str | None],
    rng: random.Random,
) -> list[str]:
    """Poll once per entry of ``plan``, with that fault; the run ids."""
    runs = []
    for poll, fault in enumerate(plan, start=1):
        happen(world, group, poll)
        run = world.trigger(**SETTINGS) if fault is None else FAULTS[fault](world, rng, group)
        if world.finished(run) == "failed":
            world.heal()
            world.clear_failed(run)
            assert world.finished(run) == "success", world.describe(run)
        runs.append(run)
    return runs


def normalized(found: Snapshot, tag: str, runs: list[str]) -> Snapshot:
    """The snapshot with poll numbers for run ids and ``<group>`` for the group's tag in every
    campaign id, name, subject and reason: alike for both groups if their polls were alike."""
    poll = {run: number for number, run in enumerate(runs, start=1)}
    return found.renamed(lambda text: poll.get(text, text.replace(tag, "<group>")))


def differences(found: Snapshot, reference: Snapshot) -> dict[str, dict]:
    """Per table, the campaigns whose rows differ: (found, reference)."""
    tables: dict[str, dict] = {}
    for table in ("status", "polls", "notifications", "assets", "dam"):
        mine, theirs = getattr(found, table), getattr(reference, table)
        tables[table] = {
            key: (mine.get(key), theirs.get(key))
            for key in mine.keys() | theirs.keys()
            if mine.get(key) != theirs.get(key)
        }
    tables["emails"] = {
        "missing": reference.emails - found.emails,
        "extra": found.emails - reference.emails,
    }
    return {table: rows for table, rows in tables.items() if any(rows.values())}


def test_twenty_polls_with_random_faults_end_as_twenty_polls_without(world, uid):
    rng = random.Random(SEED)
    plan = [rng.choice([None, *FAULTS]) for _ in range(POLLS)]
    tags = {"clean": f"{uid}c", "faulty": f"{uid}f"}
    clean, faulty = (campaigns(tag, **FOLDERS) for tag in tags.values())
    with world.scenario("the reference", clean.values(), summed=False):
        runs = poll_through(world, clean, [None] * POLLS, rng)
        reference = normalized(world.snapshot(clean.values()), tags["clean"], runs)
    with world.scenario(f"{POLLS} polls, random faults (seed {SEED})", faulty.values()) as tally:
        tally.faults = sum(fault is not None for fault in plan)
        runs = poll_through(world, faulty, plan, rng)
        found = normalized(world.snapshot(faulty.values()), tags["faulty"], runs)
        tally.audit(found, range(1, POLLS + 1), reference.effects())
        assert found == reference, (f"seed {SEED}: {plan}", differences(found, reference))
        assert tally.losses == 0, tally
