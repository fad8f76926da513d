"""The campaigns page says how a settling upload stands: "4 files, last change 2 minutes ago"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.hooks.retry_state import RetryStateHook
from campaigns.page.overview import campaigns_overview
from campaigns.rules import CheckResult, Outcome, RetrySettings
from campaigns.settle import FileSeen, settle
from tests.conftest import throwaway_database

LOOKED_AT = datetime(2026, 4, 28, 10, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def state() -> Iterator[RetryStateHook]:
    with throwaway_database("tracking_db"):
        hook = RetryStateHook()
        hook.apply_migrations()
        yield hook


def poll(state, campaign_id, outcome, files, run_id="run-1"):
    """Record a poll of the campaign that saw ``files`` (ids, each uploaded 1 minute before)."""
    state.upsert_campaigns([{"campaign_id": campaign_id, "status": "A1"}])
    seen = [FileSeen(f, "aa", 10, LOOKED_AT - timedelta(minutes=1)) for f in files]
    look = settle(None, seen, LOOKED_AT, settle_minutes=6)
    state.record_polls(
        run_id, {campaign_id: CheckResult(outcome)}, RetrySettings(), looks={campaign_id: look}
    )


def settling(state, campaign_id, now):
    [row] = campaigns_overview(state, 3, search=campaign_id, now=now)["campaigns"]
    return row["settling"]


def test_a_settling_campaign_shows_its_files_and_last_change(state):
    poll(state, "settling-1", Outcome.SETTLING, ["f1", "f2", "f3", "f4"])
    assert settling(state, "settling-1", LOOKED_AT + timedelta(minutes=1)) == (
        "4 files, last change 2 minutes ago"
    )


def test_a_settled_or_empty_campaign_shows_nothing(state):
    poll(state, "empty-1", Outcome.EMPTY, [])
    assert settling(state, "empty-1", LOOKED_AT) is None
    # Settled by a later look (here: the ready marker): nothing to say any more.
    state.upsert_campaigns([{"campaign_id": "settled-1", "status": "A1"}])
    seen = [FileSeen("f1", "aa", 10, LOOKED_AT)]
    look = settle(None, seen, LOOKED_AT, settle_minutes=6, ready_marker_seen=True)
    state.record_polls(
        "run-1",
        {"settled-1": CheckResult(Outcome.ASSETS)},
        RetrySettings(),
        looks={"settled-1": look},
    )
    assert settling(state, "settled-1", LOOKED_AT) is None
