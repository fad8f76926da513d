"""Campaigns for the campaigns page's tests, one in each state the page shows, by real polls."""

from __future__ import annotations

from campaigns.hooks.retry_state import RetryStateHook
from campaigns.rules import CheckResult, Outcome, RetrySettings

# A name from the DAM that is also HTML: the page must show it as text and never run it.
HTML_NAME = '<img src=x onerror="window.__xss = 1">Autumn & Co'
NAMES = {
    "d-p01": "Spring Launch",  # fresh: never polled
    "d-p02": "Summer Sale",  # three empty polls: warned
    "d-p03": HTML_NAME,  # three folder errors: permanently failed
    "d-p04": "Winter Promo",  # three folder errors: permanently failed
    "d-p05": "Brand Refresh",  # two folder errors: one from failure
    "d-p06": "Moved On",  # at A2: not on the page
    "d-p07": "Own Limit",  # its own limit of 5, four folder errors: one from failure
}
MISSING = CheckResult(Outcome.FOLDER_ERROR, "Assets folder not found (tried Master Assets)")
EMPTY = CheckResult(Outcome.EMPTY)
POLLS = {"d-p02": [EMPTY] * 3, "d-p03": [MISSING] * 3, "d-p04": [MISSING] * 3}
POLLS |= {"d-p05": [MISSING] * 2, "d-p07": [MISSING] * 4}
# The dashboard's figures for these campaigns (max_consecutive_errors 3).
DASHBOARD = {
    "No Issues": 1,
    "Waiting For Assets": 1,
    "Waiting For DAM Lock": 0,
    "Warned": 1,
    "Attempt 1": 0,
    "Attempt 2": 1,
    "Attempt 3+": 1,
    "Permanently Failed": 2,
    "Box Events Missed": 0,
}


def number(campaign_id: str) -> str:
    """The campaign number of a seeded campaign: d-p01 is CMP-P01."""
    return "CMP-" + campaign_id.removeprefix("d-").upper()


def seed_campaigns(state: RetryStateHook) -> None:
    """Record the campaigns and poll them into their states (warning threshold 2)."""
    state.upsert_campaigns(
        {
            "campaign_id": campaign_id,
            "number": number(campaign_id),
            "name": name,
            "status": "A2" if campaign_id == "d-p06" else "A1",
        }
        for campaign_id, name in NAMES.items()
    )
    state.set_max_retries("d-p07", 5)
    settings = RetrySettings(warning_threshold=2)
    for poll in range(max(len(checks) for checks in POLLS.values())):
        checks = {cid: checks[poll] for cid, checks in POLLS.items() if poll < len(checks)}
        state.record_polls(f"seed-poll-{poll}", checks, settings)


def seed_waiting_for_dam_lock(state: RetryStateHook) -> None:
    """d-p08, apart from the others: its assets found at a poll, its move to A2 refused by
    someone's lock on its folder in the DAM."""
    row = {"campaign_id": "d-p08", "number": "CMP-P08", "name": "Locked Folder", "status": "A1"}
    state.upsert_campaigns([row])
    state.record_polls("seed-lock", {"d-p08": CheckResult(Outcome.ASSETS)}, RetrySettings())
    state.mark_waiting_for_dam_lock("d-p08")
