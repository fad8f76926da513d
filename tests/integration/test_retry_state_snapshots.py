"""The settle snapshots in the tracking database: kept with the poll, read by the next check."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from campaigns.hooks.retry_state import RetryStateHook
from campaigns.rules import Action, CheckResult, Outcome, RetrySettings
from campaigns.settle import FileSeen, Snapshot, settle

LOOKED_AT = datetime(2026, 4, 28, 10, 0, tzinfo=UTC)
SETTLING = CheckResult(Outcome.SETTLING)
RULES = RetrySettings()


@pytest.fixture
def campaign(tracking_db_url) -> str:
    campaign_id = f"snap-{uuid.uuid4().hex[:8]}"
    RetryStateHook().upsert_campaigns([{"campaign_id": campaign_id, "status": "A1"}])
    return campaign_id


def look(files: dict[str, tuple[str, int, int]], previous: Snapshot | None = None, at=LOOKED_AT):
    """A settle verdict on files given as id -> (sha1, size, minutes ago)."""
    seen = [
        FileSeen(i, sha1, size, at - timedelta(minutes=ago))
        for i, (sha1, size, ago) in files.items()
    ]
    return settle(previous, seen, at, settle_minutes=6)


def test_a_campaign_never_looked_at_has_no_snapshot(campaign):
    assert RetryStateHook().get_snapshots([campaign]) == {}


def test_the_snapshot_is_kept_with_the_poll_and_read_back_as_it_was(campaign):
    hook = RetryStateHook()
    verdict = look({"f1": ("aa", 10, 2), "f2": ("bb", 20, 1)})
    decisions = hook.record_polls(
        "run-1", {campaign: SETTLING}, RULES, checked_at=LOOKED_AT, looks={campaign: verdict}
    )
    assert decisions[campaign].action is Action.SKIP
    assert hook.get_snapshots([campaign]) == {
        campaign: Snapshot({"f1": ("aa", 10), "f2": ("bb", 20)}, LOOKED_AT - timedelta(minutes=1))
    }
    later = LOOKED_AT + timedelta(minutes=3)
    again = look({"f1": ("aa", 10, 5)}, hook.get_snapshots([campaign])[campaign], at=later)
    hook.record_polls(
        "run-2", {campaign: SETTLING}, RULES, checked_at=later, looks={campaign: again}
    )
    # f2 went away: a change at the look that missed it.
    assert hook.get_snapshots([campaign])[campaign] == Snapshot({"f1": ("aa", 10)}, later)


def test_a_poll_recorded_already_keeps_the_snapshot_of_its_first_recording(campaign):
    """A check cleared and run again compares with the same previous look, and changes nothing."""
    hook = RetryStateHook()
    first = look({"f1": ("aa", 10, 2)})
    hook.record_polls("run-1", {campaign: SETTLING}, RULES, looks={campaign: first})
    other = look({"f1": ("aa", 10, 2), "f9": ("zz", 1, 0)})
    hook.record_polls("run-1", {campaign: SETTLING}, RULES, looks={campaign: other})
    assert hook.get_snapshots([campaign])[campaign] == first.snapshot


def test_a_poll_without_a_look_leaves_the_last_snapshot(campaign):
    hook = RetryStateHook()
    first = look({"f1": ("aa", 10, 2)})
    hook.record_polls("run-1", {campaign: SETTLING}, RULES, looks={campaign: first})
    error = CheckResult(Outcome.FOLDER_ERROR, "No access to Master Assets folder x in Box")
    hook.record_polls("run-2", {campaign: error}, RULES)
    assert hook.get_snapshots([campaign])[campaign] == first.snapshot


def test_an_empty_tree_is_kept_too_so_that_what_arrives_later_is_new(campaign):
    hook = RetryStateHook()
    empty = look({})
    hook.record_polls(
        "run-1", {campaign: CheckResult(Outcome.EMPTY)}, RULES, looks={campaign: empty}
    )
    assert hook.get_snapshots([campaign])[campaign] == Snapshot({}, None)
