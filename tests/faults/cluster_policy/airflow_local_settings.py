"""Cluster policy of the fault-injection suite's Airflow: retries seconds apart, not minutes.

Only on the suite's cluster's PYTHONPATH. The DAG's retries, retry policy and backoff stay as
written; only the delays shrink (20 s doubling to 5 minutes in production), so that a test sees
a task fail, wait, and retry within seconds.
"""

from __future__ import annotations

from datetime import timedelta

RETRY_DELAY = timedelta(seconds=1)
MAX_RETRY_DELAY = timedelta(seconds=3)


def task_policy(task) -> None:
    task.retry_delay = RETRY_DELAY
    task.max_retry_delay = MAX_RETRY_DELAY
