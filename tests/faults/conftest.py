"""One world for the whole fault-injection suite (the summary of its tallies is ``summary.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.faults.tally import Tally
from tests.faults.world import FaultWorld, running_world


@pytest.fixture(scope="session")
def world(tallies: list[Tally]) -> Iterator[FaultWorld]:
    """The tracking cluster, sandboxes, mail catcher and Airflow (no cron: tests trigger runs)."""
    with running_world(tallies, AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="False") as started:
        yield started


@pytest.fixture
def uid() -> str:
    """A prefix that makes the test's campaign ids its own."""
    return uuid.uuid4().hex[:6]
