"""The fault-injection suite's summary: what its faults cost, printed at the end of the session.

A plugin of the whole test session (``tests/conftest.py`` names it), so that the process that
prints loads it whatever the session collects: pytest itself, or xdist's controller, which takes
each worker's rows when the worker ends. Each process also writes its rows to
``faults-summary.json`` in its base temporary directory.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, fields

import pytest

from tests.faults.tally import Tally

SUMMARY = pytest.StashKey[dict[str, list]]()


def _summary(config: pytest.Config) -> dict[str, list]:
    return config.stash.setdefault(SUMMARY, {"tallies": [], "files": []})


def _merge(config: pytest.Config, summary: dict[str, list]) -> None:
    for key, rows in _summary(config).items():
        rows.extend(summary[key])


@pytest.fixture(scope="session")
def tallies(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[list[Tally]]:
    """Each passed scenario's line of the summary."""
    found: list[Tally] = []
    yield found
    rows = [asdict(tally) for tally in found]
    path = tmp_path_factory.getbasetemp() / "faults-summary.json"
    path.write_text(json.dumps(rows, indent=2))
    summary = {"tallies": rows, "files": [str(path)]}
    _merge(request.config, summary)
    if hasattr(request.config, "workeroutput"):  # an xdist worker: its controller prints
        request.config.workeroutput["faults_summary"] = summary


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error) -> None:
    """xdist's controller: take a worker's summary."""
    summary = node.workeroutput.get("faults_summary")
    if summary:
        _merge(node.config, summary)


def pytest_terminal_summary(terminalreporter, config: pytest.Config) -> None:
    """The table of faults tried and what they cost, for the README."""
    summary = _summary(config)
    if not summary["tallies"]:
        return
    names = [f.name for f in fields(Tally)]
    total = {"scenario": "total"} | {
        name: sum(row[name] for row in summary["tallies"]) for name in names[1:]
    }
    terminalreporter.section("fault injection")
    terminalreporter.line(" | ".join(names))
    for row in [*summary["tallies"], total]:
        terminalreporter.line(" | ".join(str(row[name]) for name in names))
    terminalreporter.line(f"(also in {', '.join(summary['files'])})")
