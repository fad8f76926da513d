"""Metrics that cannot be sent are logged, never raised (the runs that send them:
``tests/dags/test_metrics.py``)."""

from __future__ import annotations

import logging

import pytest

from campaigns import metrics
from campaigns.hooks.retry_state import RetryStateHook
from tests.statsd_listener import initialize_stats

NOT_SENT = "Metrics are not sent"


@pytest.fixture
def reported(monkeypatch, caplog) -> pytest.LogCaptureFixture:
    """The problems reported so far forgotten; the warnings captured."""
    monkeypatch.setattr(metrics, "_reported", set())
    caplog.set_level(logging.WARNING, logger=metrics.__name__)
    return caplog


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == metrics.__name__]


def test_a_metrics_backend_that_cannot_start_is_logged_once_and_not_raised(reported):
    """Airflow does not catch a ``statsd_port`` that is no number (in a task its own ``ti.start``
    metric fails the task first); this package's metrics log it once and go on."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
        env.setenv("AIRFLOW__METRICS__STATSD_PORT", "not-a-port")
        initialize_stats()
        try:
            metrics.PROMOTIONS.send()
            metrics.EMAILS_SENT.send(kind="retry")
            metrics.CAMPAIGNS_WAITING.send(3)
        finally:
            env.undo()
            initialize_stats()
    [warning] = warnings_of(reported)
    assert warning.startswith(f"{NOT_SENT} (AirflowConfigException: Failed to convert value")
    assert "statsd_port" in warning


def test_state_gauges_whose_database_cannot_be_read_are_logged_not_raised(reported, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_TRACKING_GONE", "postgresql://postgres@127.0.0.1:1/gone")
    metrics.send_campaign_gauges(RetryStateHook(postgres_conn_id="tracking_gone"), "A1")
    [warning] = warnings_of(reported)
    assert warning.startswith(f"{NOT_SENT} (OperationalError: ")


def test_a_metric_takes_exactly_its_declared_tags():
    with pytest.raises(ValueError, match=r"a1_to_a2.emails_sent takes the tags \('kind',\)"):
        metrics.EMAILS_SENT.send()
    with pytest.raises(ValueError, match=r"a1_to_a2.promotions takes the tags \(\), not"):
        metrics.PROMOTIONS.send(kind="retry")
