"""The DAG file carries the poll's deadline alert, unless turned off for ``airflow dags test``."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.poll_deadline import PollDeadline
from tests.dags.world import parsed_dag


@pytest.mark.parametrize(("switch", "alerts"), [(None, 1), ("off", 0)])
def test_the_dag_carries_the_poll_deadline_unless_turned_off_for_dags_test(
    airflow_db, switch, alerts, monkeypatch
):
    if switch:
        monkeypatch.setenv("A1_TO_A2_POLL_DEADLINE_ALERT", switch)
    dag = parsed_dag("a1_to_a2.py", "a1_to_a2")
    assert len(dag.deadline or []) == alerts
    if alerts:
        [alert] = dag.deadline
        assert isinstance(alert.reference, PollDeadline)
        assert alert.interval == timedelta(0)
        assert alert.callback.path == "campaigns.poll_deadline.alert_overdue_poll"
