"""The DAG-run world of tests/dags (``tests/dags/world.py``) for the suites outside it (fuzz,
security): the same world, its runs dated years later, so they never reuse a run of tests/dags.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.dags import world as dag_world
from tests.dags.world import a1_to_a2_dag, make_world  # noqa: F401 (fixtures)


@pytest.fixture
def make_suite_world(make_world: Any, monkeypatch: pytest.MonkeyPatch) -> Any:  # noqa: F811
    """`make_world`, its runs dated from 2030 on."""
    monkeypatch.setattr(dag_world, "FIRST_RUN", datetime(2030, 1, 7, 9, 0, tzinfo=UTC))
    return make_world
