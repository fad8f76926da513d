"""a1_weekly_digest for real: dag.test() runs against a tracking database of its own and SMTP."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from campaigns.digest import stuck_for
from campaigns.hooks.retry_state import RetryStateHook
from campaigns.rules import CheckResult, Outcome, RetrySettings
from sandbox.connections import smtp_connection
from sandbox.mail import MailCatcher
from tests.conftest import throwaway_database
from tests.dags.world import RECIPIENTS, parsed_dag

FIRST_RUN = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
_RUN_SLOTS = itertools.count()
MISSING = CheckResult(Outcome.FOLDER_ERROR, "Assets folder not found (tried Master Assets)")


@pytest.fixture(scope="session")
def digest_dag(airflow_db: None, tracking_db_url: str) -> Any:
    """The digest DAG as Airflow parses it."""
    return parsed_dag("a1_weekly_digest.py", "a1_weekly_digest")


@pytest.fixture
def mail(monkeypatch: pytest.MonkeyPatch) -> Iterator[MailCatcher]:
    """A mail catcher as ``smtp_default``, the pipeline's recipients in the Variable."""
    catcher = MailCatcher().start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp_connection(catcher.host, catcher.port))
    )
    monkeypatch.setenv("AIRFLOW_VAR_A1_TO_A2_SETTINGS", json.dumps({"recipients": RECIPIENTS}))
    yield catcher
    catcher.stop()


@pytest.fixture
def tracking(digest_dag: Any) -> Iterator[str]:
    """A tracking database of this test's own: the digest reports on every campaign in it."""
    with throwaway_database("tracking_db") as url:
        RetryStateHook().apply_migrations()
        yield url


def run(dag: Any, stuck_days: int = 7) -> Any:
    dag_run = dag.test(
        logical_date=FIRST_RUN + timedelta(days=7 * next(_RUN_SLOTS)),
        run_conf={"stuck_days": stuck_days},
    )
    assert str(dag_run.state) == "success"
    return dag_run


def seed(url: str, waiting: dict[str, timedelta], failed: dict[str, timedelta]) -> None:
    """Campaigns at A1 first seen this long ago, and failed ones that failed this long ago."""
    state = RetryStateHook()
    state.upsert_campaigns(
        {"campaign_id": c, "number": f"C-{c}", "name": f"Campaign <{c}>", "status": "A1"}
        for c in [*waiting, *failed]
    )
    for poll in range(3):
        state.record_polls(f"seed-{poll}", dict.fromkeys(failed, MISSING), RetrySettings())
    with psycopg.connect(url) as conn:
        for campaign_id, age in waiting.items():
            conn.execute(
                "UPDATE campaign_status SET first_seen_at = now() - %s WHERE campaign_id = %s",
                (age, campaign_id),
            )
        for campaign_id, age in failed.items():
            conn.execute(
                "UPDATE campaign_status SET a1_last_retry_at = now() - %s WHERE campaign_id = %s",
                (age, campaign_id),
            )


def test_digest_lists_stuck_and_failed_campaigns(digest_dag, tracking, mail):
    """One email: campaigns at A1 beyond the days and the failed ones, with how long, escaped."""
    seed(
        tracking,
        waiting={"old": timedelta(days=9, hours=4, minutes=10), "recent": timedelta(days=6)},
        failed={"broken": timedelta(days=2, hours=3)},
    )
    run(digest_dag)
    [message] = mail.messages
    assert message["To"] == ", ".join(RECIPIENTS)
    assert str(message["Subject"]).strip() == (
        "A1 weekly digest - 1 Campaign Waiting Over 7 Days, 1 Permanently Failed"
    )
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Campaign <old> (C-old, DAM id old)\n  waiting 9 days 4 hours" in text
    assert "C-recent" not in text
    assert "Campaign <broken> (C-broken, DAM id broken)\n  failed 2 days 3 hours ago" in text
    assert "Assets folder not found (tried Master Assets)" in text
    html = message.get_body(("html",)).get_content()
    assert "Campaign &lt;old&gt;" in html
    assert "<old>" not in html
    assert "9 days 4 hours" in html


def test_digest_days_param(digest_dag, tracking, mail):
    """A run with fewer days lists the campaigns waiting that long too."""
    seed(tracking, waiting={"six": timedelta(days=6, hours=1)}, failed={})
    run(digest_dag, stuck_days=5)
    [message] = mail.messages
    assert "waiting 6 days 1 hour," in message.get_body(("plain",)).get_content()
    assert "0 Permanently Failed" in str(message["Subject"])


def test_no_email_when_nothing_to_report(digest_dag, tracking, mail):
    """Recent campaigns and none failed: the run succeeds and sends nothing."""
    seed(tracking, waiting={"fresh": timedelta(days=1)}, failed={})
    run(digest_dag)
    assert mail.messages == []


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 hours"),
        (3599, "0 hours"),
        (3600, "1 hour"),
        (86400, "1 day"),
        (9 * 86400 + 7300, "9 days 2 hours"),
    ],
)
def test_stuck_for(seconds, text):
    assert stuck_for(seconds) == text
