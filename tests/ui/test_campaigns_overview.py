"""The campaigns page's data from a real tracking database: figures, alert, filters, search."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from campaigns_seed import DASHBOARD, HTML_NAME, seed_campaigns, seed_waiting_for_dam_lock

from campaigns.hooks.retry_state import RetryStateHook
from campaigns.page.overview import campaigns_overview
from tests.conftest import throwaway_database

# Failed first, then by errors in a row, then by polls.
ORDER = ["d-p03", "d-p04", "d-p07", "d-p05", "d-p02", "d-p08", "d-p01"]
# With this module's campaign waiting for the DAM lock (d-p08): assets found, not for assets.
FIGURES = DASHBOARD | {"Waiting For DAM Lock": 1}


@pytest.fixture(scope="module")
def state() -> Iterator[RetryStateHook]:
    """A tracking database of this module's own, so the figures count only its campaigns."""
    with throwaway_database("tracking_db"):
        hook = RetryStateHook()
        hook.apply_migrations()
        seed_campaigns(hook)
        seed_waiting_for_dam_lock(hook)
        yield hook


def ids(overview: dict) -> list[str]:
    return [row["campaign_id"] for row in overview["campaigns"]]


def test_all_campaigns_at_a1_with_their_state_and_the_figures(state):
    overview = campaigns_overview(state, 3)
    assert overview["dashboard"] == FIGURES
    assert ids(overview) == ORDER
    assert overview["matching"] == len(ORDER)
    rows = {row["campaign_id"]: row for row in overview["campaigns"]}
    assert rows["d-p03"] | {"a1_last_retry_at": None} == {
        "campaign_id": "d-p03",
        "campaign_number": "CMP-P03",
        "campaign_name": HTML_NAME,
        "a1_retry_count": 3,
        "a1_consecutive_errors": 3,
        "error_limit": 3,
        "a1_last_retry_at": None,
        "a1_warning_sent_at": None,
        "a1_permanently_failed": True,
        "a1_failure_reason": "Assets folder not found (tried Master Assets)",
        "a1_waiting_for_dam_lock_since": None,
        "settling": None,
        "missed_events": 0,
        "proving": False,
    }
    assert rows["d-p03"]["a1_last_retry_at"] is not None
    assert rows["d-p02"]["a1_warning_sent_at"] is not None
    assert (rows["d-p07"]["a1_consecutive_errors"], rows["d-p07"]["error_limit"]) == (4, 5)
    assert (rows["d-p01"]["a1_retry_count"], rows["d-p01"]["a1_last_retry_at"]) == (0, None)


def test_the_campaign_waiting_for_the_dam_lock_says_since_when(state):
    rows = {row["campaign_id"]: row for row in campaigns_overview(state, 3)["campaigns"]}
    waiting = rows.pop("d-p08")
    assert waiting["a1_waiting_for_dam_lock_since"] is not None
    assert (waiting["a1_retry_count"], waiting["a1_consecutive_errors"]) == (1, 0)
    assert waiting["a1_failure_reason"] is None
    assert [row["a1_waiting_for_dam_lock_since"] for row in rows.values()] == [None] * len(rows)


def test_near_failure_alert_against_each_campaigns_limit(state):
    near = campaigns_overview(state, 3)["near_failure"]
    assert [(r["campaign_id"], r["a1_consecutive_errors"], r["error_limit"]) for r in near] == [
        ("d-p07", 4, 5),
        ("d-p05", 2, 3),
    ]
    # A higher global limit leaves only the campaign with its own limit one error from failure.
    assert [r["campaign_id"] for r in campaigns_overview(state, 4)["near_failure"]] == ["d-p07"]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"failed": True}, ["d-p03", "d-p04"]),
        ({"warned": True}, ["d-p02"]),
        ({"failed": True, "warned": True}, []),
        ({"search": "autumn"}, ["d-p03"]),  # in the name, whatever the case
        ({"search": " cmp-p05 "}, ["d-p05"]),  # the number, spaces around ignored
        ({"search": "D-P01"}, ["d-p01"]),  # the DAM id
        ({"search": "cmp-p0"}, ORDER),  # d-p06 is at A2
        ({"search": "<img"}, ["d-p03"]),
        ({"search": "%"}, []),  # plain text, not a LIKE pattern
        ({"search": "  "}, ORDER),
        ({"failed": True, "search": "winter"}, ["d-p04"]),
    ],
)
def test_filters(state, filters, expected):
    overview = campaigns_overview(state, 3, **filters)
    assert ids(overview) == expected
    assert overview["matching"] == len(expected)
    # The figures are always those of every campaign at A1.
    assert overview["dashboard"] == FIGURES


def test_limit_lists_the_first_rows_and_counts_all_matching(state):
    overview = campaigns_overview(state, 3, limit=2)
    assert ids(overview) == ORDER[:2]
    assert overview["matching"] == len(ORDER)
    assert [row["campaign_number"] for row in overview["campaigns"]] == ["CMP-P03", "CMP-P04"]
