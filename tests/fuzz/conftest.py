"""The fuzz suite: generated DAM answers through the DAM hook, and through real DAG runs."""

from __future__ import annotations

from typing import Any

from tests.fuzz import tally
from tests.fuzz.worlds import a1_to_a2_dag, make_suite_world, make_world  # noqa: F401 (fixtures)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    line = tally.summary()
    if line:
        terminalreporter.write_line(line)
