"""The poll's deadline callback against the real tracking database and a real SMTP server.

The callback is called as the executor calls it, with the context the scheduler builds for a
missed deadline (the run as the REST API shows it); the e2e test lets a real scheduler do it.
"""

from __future__ import annotations

import json
import logging
import smtplib
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from campaigns.poll_deadline import alert_overdue_poll
from sandbox.connections import smtp_connection
from sandbox.mail import MailCatcher


@pytest.fixture
def mail(monkeypatch):
    catcher = MailCatcher().start()
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(smtp_connection(catcher.host, catcher.port))
    )
    yield catcher
    catcher.stop()


@pytest.fixture
def settings(monkeypatch):
    def stored(**values):
        monkeypatch.setenv("AIRFLOW_VAR_A1_TO_A2_SETTINGS", json.dumps(values))

    stored(recipients=["ops@example.com"])
    return stored


def missed(state="running", conf=None):
    """The context of a missed deadline: the run's REST view and the deadline."""
    run_id = f"scheduled__{uuid.uuid4().hex[:8]}"
    # Queued 17 minutes before the call (not before the module was collected, minutes earlier).
    queued_at = datetime.now(UTC) - timedelta(minutes=17)
    return {
        "dag_run": {
            "dag_run_id": run_id,
            "dag_id": "a1_to_a2",
            "state": state,
            "queued_at": queued_at.isoformat().replace("+00:00", "Z"),
            "run_after": queued_at.isoformat().replace("+00:00", "Z"),
            "conf": conf or {},
        },
        "deadline": {"id": str(uuid.uuid4()), "deadline_time": queued_at + timedelta(minutes=15)},
    }


def ledger(url, run_id):
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT campaign_id, kind, channel, sent_at IS NOT NULL FROM campaign_notifications"
            " WHERE run_id = %s",
            [run_id],
        ).fetchall()


def test_an_overdue_run_emails_the_recipients_once_however_often_its_deadline_fires(
    tracking_db_url, mail, settings
):
    context = missed()
    run_id = context["dag_run"]["dag_run_id"]
    alert_overdue_poll(context)
    alert_overdue_poll(context)

    assert mail.subjects() == [f"⚠️ Poll still running after 17 minutes - a1_to_a2 run {run_id}"]
    [message] = mail.messages
    assert message["To"] == "ops@example.com"
    text = message.get_body(("plain",)).get_content()
    assert "Deadline:  15 minutes (setting poll_deadline_minutes)" in text
    assert f"http://localhost:8080/dags/a1_to_a2/runs/{run_id}" in text
    assert ledger(tracking_db_url, run_id) == [(None, "overdue", "email", True)]


def test_the_run_s_params_choose_the_recipients_and_the_deadline_named(
    tracking_db_url, mail, settings
):
    context = missed(conf={"recipients": ["lead@example.com"], "poll_deadline_minutes": 0.5})
    alert_overdue_poll(context)
    [message] = mail.messages
    assert message["To"] == "lead@example.com"
    assert "Deadline:  0.5 minutes" in message.get_body(("plain",)).get_content()


@pytest.mark.parametrize("state", ["success", "failed"])
def test_a_run_that_ended_before_its_deadline_was_handled_sends_nothing(
    tracking_db_url, mail, settings, state
):
    context = missed(state)
    alert_overdue_poll(context)
    assert mail.messages == []
    assert ledger(tracking_db_url, context["dag_run"]["dag_run_id"]) == []


def test_no_recipients_is_logged_naming_the_setting_and_the_run_without_failing(
    tracking_db_url, mail, settings, caplog
):
    settings(warning_threshold=5)
    context = missed()
    run_id = context["dag_run"]["dag_run_id"]
    with caplog.at_level(logging.ERROR, logger="campaigns.poll_deadline"):
        alert_overdue_poll(context)
    assert mail.messages == []
    assert caplog.messages == [
        f"Run {run_id} still going after 17 minutes, and nobody was told: recipients: none, "
        "and an email is due; set 'recipients' in the a1_to_a2_settings Variable"
    ]


def test_unusable_settings_are_logged_naming_the_key_without_failing(
    tracking_db_url, mail, settings, caplog
):
    settings(recipients=["ops@example.com"], poll_deadline_minutes=0)
    with caplog.at_level(logging.ERROR, logger="campaigns.poll_deadline"):
        alert_overdue_poll(missed())
    assert mail.messages == []
    [logged] = caplog.messages
    assert "nobody was told: poll_deadline_minutes: expected a number of minutes" in logged


def test_an_smtp_failure_fails_the_callback_and_a_later_call_sends_the_one_email(
    tracking_db_url, mail, settings
):
    context = missed()
    run_id = context["dag_run"]["dag_run_id"]
    mail.refusing = True
    with pytest.raises(smtplib.SMTPDataError):
        alert_overdue_poll(context)
    assert ledger(tracking_db_url, run_id) == [(None, "overdue", "email", False)]

    mail.refusing = False
    alert_overdue_poll(context)
    alert_overdue_poll(context)
    assert len(mail.messages) == 1
    assert ledger(tracking_db_url, run_id) == [(None, "overdue", "email", True)]


def test_the_ledger_holds_one_overdue_claim_per_run_and_no_campaign_less_campaign_email(
    tracking_db_url,
):
    from campaigns.hooks.retry_state import RetryStateHook

    hook, run_id = RetryStateHook(), f"manual__{uuid.uuid4().hex[:8]}"
    first = hook.claim_notification(None, "overdue", run_id, episode=0)
    assert hook.claim_notification(None, "overdue", run_id, episode=0).id == first.id
    assert hook.claim_notification(None, "overdue", f"{run_id}-other", episode=0).id != first.id
    with pytest.raises(psycopg.errors.CheckViolation):
        hook.claim_notification(None, "warning", run_id, episode=1)
