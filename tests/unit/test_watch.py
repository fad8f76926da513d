"""The change feed's rules (campaigns.watch): which campaigns a poll lists in Box, exhaustively."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.rules import POLL_INTERVAL, Outcome
from campaigns.watch import (
    BOX_KEEPS_EVENTS,
    Change,
    Listed,
    Listing,
    Watched,
    missed,
    new_changes,
    reconcile_slots,
    reconciles,
    still_proving,
    stream_expired,
    why_listed,
)

RUN_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
FOLDERS = frozenset({"cf", "ma"})


def watched(**changes) -> Watched:
    base = {
        "box_folder_id": "cf",
        "folder_ids": FOLDERS,
        "outcome": Outcome.EMPTY,
        "episode": 1,
        "listed_at": RUN_AT - POLL_INTERVAL,
    }
    return Watched(**(base | changes))


def listing(**changes) -> Listing:
    base = {
        "box_folder_id": "cf",
        "folder_ids": FOLDERS,
        "outcome": Outcome.EMPTY,
        "listed_for": Listed.RECONCILE,
    }
    return Listing(**(base | changes))


def not_reconciling_id() -> str:
    """A campaign id whose reconciliation slot is not the poll at RUN_AT (24-hour period)."""
    return next(f"c{n}" for n in itertools.count() if not reconciles(f"c{n}", RUN_AT, RUN_AT, 24))


def reconciling_id() -> str:
    return next(f"c{n}" for n in itertools.count() if reconciles(f"c{n}", RUN_AT, RUN_AT, 24))


# The order in which the reasons win, as the module's docstring states them.
@pytest.mark.parametrize(
    ("full", "seen", "changed", "expected"),
    [
        (True, None, False, Listed.FULL),
        (True, watched(), True, Listed.FULL),
        (False, None, False, Listed.NEW),
        (False, watched(outcome=None), True, Listed.NEW),
        (False, watched(episode=2), False, Listed.NEW),
        (False, watched(box_folder_id="another"), False, Listed.NEW),
        (False, watched(outcome=Outcome.ASSETS), False, Listed.NOT_EMPTY),
        (False, watched(outcome=Outcome.SETTLING), True, Listed.NOT_EMPTY),
        (False, watched(outcome=Outcome.FOLDER_ERROR), False, Listed.NOT_EMPTY),
        (False, watched(), True, Listed.CHANGED),
        (False, watched(proving=True), True, Listed.CHANGED),
        (False, watched(proving=True), False, Listed.PROVING),
        (False, watched(), False, None),
    ],
)
def test_why_a_campaign_is_listed(full, seen, changed, expected):
    campaign_id = not_reconciling_id()
    assert why_listed(campaign_id, "cf", 1, seen, changed, RUN_AT, 24, full=full) is expected


def test_every_combination_lists_unless_empty_unchanged_and_not_due():
    """Exhaustive: only an empty, unchanged, not proving, not due campaign keeps its outcome."""
    due_id, idle_id = reconciling_id(), not_reconciling_id()
    outcomes = [None, *Outcome]
    for full, outcome, episode, folder, changed, proving, campaign_id in itertools.product(
        (False, True), outcomes, (1, 2), ("cf", "other"), (False, True), (False, True),
        (due_id, idle_id),
    ):  # fmt: skip
        seen = watched(outcome=outcome, episode=episode, box_folder_id=folder, proving=proving)
        why = why_listed(campaign_id, "cf", 1, seen, changed, RUN_AT, 24, full=full)
        keeps = (
            not full
            and outcome is Outcome.EMPTY
            and episode == 1
            and folder == "cf"
            and not changed
            and not proving
            and campaign_id == idle_id
        )
        assert (why is None) == keeps, (full, outcome, episode, folder, changed, proving)


def test_a_campaign_listed_too_long_ago_is_reconciled_whatever_its_slot():
    campaign_id = not_reconciling_id()
    long_ago = watched(listed_at=RUN_AT - timedelta(hours=24))
    assert why_listed(campaign_id, "cf", 1, long_ago, False, RUN_AT, 24) is Listed.RECONCILE
    recent = watched(listed_at=RUN_AT - timedelta(hours=23, minutes=57))
    assert why_listed(campaign_id, "cf", 1, recent, False, RUN_AT, 24) is None


@given(st.text(min_size=1, max_size=30), st.integers(min_value=0, max_value=10**6))
def test_each_campaign_is_reconciled_once_in_every_period(campaign_id, first_poll):
    """Over any reconcile_hours of consecutive polls, listed recently each time: exactly once."""
    start = datetime(2026, 1, 1, tzinfo=UTC) + first_poll * POLL_INTERVAL
    polls = [start + n * POLL_INTERVAL for n in range(reconcile_slots(1))]
    assert sum(reconciles(campaign_id, at, at, 1) for at in polls) == 1


def test_reconciliation_is_spread_evenly_over_the_polls():
    slots = reconcile_slots(24)
    polls = [RUN_AT + n * POLL_INTERVAL for n in range(slots)]
    per_poll = Counter()
    for n in range(20 * slots):
        campaign_id = f"CMP-{n}"
        per_poll.update(i for i, at in enumerate(polls) if reconciles(campaign_id, at, at, 24))
    assert sum(per_poll.values()) == 20 * slots
    # 20 a poll on average; a hash spreads them, no poll takes a crowd.
    assert max(per_poll.values()) <= 45
    assert len(per_poll) >= 0.99 * slots


@pytest.mark.parametrize(
    ("hours", "slots"), [(24, 480), (1, 20), (0.05, 1), (0.01, 1), (336, 6720), (0.1, 2)]
)
def test_reconcile_slots_are_the_polls_of_the_period(hours, slots):
    assert reconcile_slots(hours) == slots


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (watched(), listing(), False),
        (None, listing(outcome=Outcome.SETTLING), False),
        (watched(), listing(outcome=Outcome.SETTLING), True),
        (watched(), listing(outcome=Outcome.FOLDER_ERROR), True),
        (watched(), listing(folder_ids=FOLDERS | {"sub"}), True),
        (watched(), listing(folder_ids=frozenset({"cf"})), True),
        (watched(), listing(outcome=Outcome.ASSETS, listed_for=Listed.CHANGED), False),
        (watched(), listing(outcome=Outcome.ASSETS, listed_for=Listed.FULL), False),
        (watched(), listing(outcome=Outcome.ASSETS, listed_for=Listed.NEW), False),
        (watched(), listing(outcome=Outcome.ASSETS, listed_for=Listed.PROVING), False),
    ],
)
def test_only_a_reconciliation_that_finds_a_change_counts_a_missed_event(before, now, expected):
    assert missed(before, now) is expected


@pytest.mark.parametrize(
    ("before", "now", "expected"),
    [
        (watched(), listing(outcome=Outcome.ASSETS), True),
        (watched(), listing(), False),
        (watched(proving=True), listing(listed_for=Listed.PROVING), True),
        (watched(proving=True), listing(listed_for=Listed.PROVING, announced=True), False),
        (watched(proving=True), listing(listed_for=Listed.NEW), True),
        (watched(proving=True), listing(listed_for=Listed.FULL), True),
        (None, listing(listed_for=Listed.NEW), False),
    ],
)
def test_proving_lasts_until_the_feed_announces_a_change(before, now, expected):
    assert still_proving(before, now) is expected


def test_repeated_events_are_dropped_in_feed_order():
    a, b, c = (Change(event_id, "file", f"f{event_id}", "ma") for event_id in "abc")
    assert new_changes([b, a, b, c, a], seen_event_ids=["c"]) == [b, a]
    assert new_changes([]) == []


@pytest.mark.parametrize(
    ("change", "folders"),
    [
        (Change("e", "file", "f1", "ma"), {"ma"}),
        (Change("e", "file", "f1", "sub", ("0", "cf", "ma")), {"sub", "0", "cf", "ma"}),
        (Change("e", "folder", "sub", "ma"), {"sub", "ma"}),
        (Change("e", "folder", "cf", None), {"cf"}),
        (Change("e", "file", "f1", None), set()),
    ],
)
def test_an_event_touches_its_item_s_folders(change, folders):
    assert change.folder_ids() == folders


def test_a_stream_position_expires_after_the_fourteen_days_box_keeps():
    assert not stream_expired(RUN_AT - BOX_KEEPS_EVENTS, RUN_AT)
    assert stream_expired(RUN_AT - BOX_KEEPS_EVENTS - timedelta(seconds=1), RUN_AT)
    assert timedelta(days=14) == BOX_KEEPS_EVENTS
