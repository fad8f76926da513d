"""The poll's deadline: a run of a1_to_a2 still going ``poll_deadline_minutes`` after it was
queued emails the recipients once.

Airflow's deadline alert fixes its interval when the DAG is parsed, but the setting is read per
run (the Variable, then the run's conf). So the alert's reference, ``PollDeadline``, is the run's
queue time plus the run's setting, evaluated when the run is created (by the scheduler or the API
server, which find it through the ``campaigns_deadline`` plugin), and its interval is zero. The
callback runs on the executor and claims the email in the notification ledger, once per run.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseDeadlineReference

from campaigns.settings import VARIABLE, PipelineSettings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# The ledger's kind of the email and its template.
OVERDUE = ("overdue", "a1_to_a2_poll_overdue")
# A run in one of these states is still going.
GOING = ("queued", "running")


class PollDeadline(BaseDeadlineReference):
    """When the run was queued plus its ``poll_deadline_minutes``."""

    required_kwargs = frozenset({"dag_id", "run_id"})

    def _evaluate_with(self, *, session: Session, dag_id: str, run_id: str) -> datetime | None:
        from airflow.models import DagRun
        from sqlalchemy import select

        row = session.execute(
            select(DagRun.queued_at, DagRun.run_after, DagRun.conf).where(
                DagRun.dag_id == dag_id, DagRun.run_id == run_id
            )
        ).one_or_none()
        if row is None:
            return None
        minutes = deadline_minutes(stored_settings(session), row.conf, run_id)
        return (row.queued_at or row.run_after) + timedelta(minutes=minutes)


def stored_settings(session: Session) -> str | None:
    """The settings Variable's JSON text, from the secrets backends in their order, the metadata
    database's read in the caller's session.

    ``Variable.get`` would read it in a session of its own, which is the caller's (Airflow's
    sessions are scoped to the thread), and commit and close it: the run being created came
    detached (``airflow dags trigger`` failed with DetachedInstanceError).
    """
    from airflow.configuration import ensure_secrets_loaded
    from airflow.secrets.metastore import MetastoreBackend

    for backend in ensure_secrets_loaded():
        in_session = {"session": session} if isinstance(backend, MetastoreBackend) else {}
        if (value := backend.get_variable(VARIABLE, **in_session)) is not None:
            return value
    return None


def deadline_minutes(stored: str | None, conf: Mapping[str, Any] | None, run_id: str) -> float:
    """The run's ``poll_deadline_minutes``: the Variable's JSON text, then the run's conf.

    Unusable settings give the default, logged: the run is created all the same, and its first
    task fails naming the fault.
    """
    try:
        stored_settings = json.loads(stored) if stored else None
        return PipelineSettings.from_sources(stored_settings, conf).poll_deadline_minutes
    except ValueError as error:  # SettingsError, or JSON that does not parse
        minutes = PipelineSettings().poll_deadline_minutes
        log.warning("Run %s: unusable settings (%s); deadline %g minutes", run_id, error, minutes)
        return minutes


def alert_overdue_poll(context: dict[str, Any]) -> None:
    """The deadline's callback: email the recipients, once per run, that the poll is still going.

    A run that ended meanwhile, or settings with no recipients, are logged and nothing is sent;
    an SMTP failure raises (the callback fails, the claim stays unsent).
    """
    from campaigns import notify
    from campaigns.hooks.retry_state import RetryStateHook
    from campaigns.stages import run_settings

    dag_run = context["dag_run"]
    run_id, state = dag_run["dag_run_id"], dag_run["state"]
    if state not in GOING:
        log.info("Run %s is %s already: no overdue email", run_id, state)
        return
    queued_at = datetime.fromisoformat(dag_run["queued_at"] or dag_run["run_after"])
    ran_for = duration_text(datetime.now(UTC) - queued_at)
    try:
        settings = run_settings(dag_run["conf"])
        email = notify.render_email(
            OVERDUE[1],
            run_id=run_id,
            ran_for=ran_for,
            deadline_minutes=f"{settings.poll_deadline_minutes:g}",
            queued_at=queued_at.strftime("%Y-%m-%d %H:%M:%S UTC"),
            state=state,
            run_url=notify.run_url(dag_run["dag_id"], run_id),
        )
        sent = notify.notify_once(
            RetryStateHook(),
            None,
            OVERDUE[0],
            run_id,
            episode=0,
            attempt=0,
            send=lambda _claim: notify.send_email(email, settings.recipients, settings.sender),
        )
    except SettingsError as error:
        log.error("Run %s still going after %s, and nobody was told: %s", run_id, ran_for, error)
        return
    except PermissionError as error:  # AirflowSecretsBackendAccessDenied
        connections = (RetryStateHook.default_conn_name, notify.SMTP_CONN_ID)
        log.error(
            "Run %s still going after %s, and nobody was told: %s. Airflow 3.3.2 lets a deadline "
            "callback read Variables and Connections from environment variables or a secrets "
            "backend only, never from the metadata database: give the Variable %s and the "
            "connections %s as AIRFLOW_VAR_%s and AIRFLOW_CONN_<ID> on the scheduler's host, or "
            "in a secrets backend",
            run_id,
            ran_for,
            error,
            VARIABLE,
            " and ".join(connections),
            VARIABLE.upper(),
        )
        return
    log.info(
        "Run %s still going after %s: %s", run_id, ran_for, "emailed" if sent else "emailed already"
    )


def duration_text(elapsed: timedelta) -> str:
    """How long a run has gone, for people: seconds under two minutes, else whole minutes."""
    seconds = max(int(elapsed.total_seconds()), 0)
    return f"{seconds} seconds" if seconds < 120 else f"{seconds // 60} minutes"
