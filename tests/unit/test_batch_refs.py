"""Batches travel as one XCom each; mapped instances get a reference (campaigns.stages.refer)."""

from __future__ import annotations

import pytest

from campaigns.errors import NotRetryable
from campaigns.stages import poll_report, pull_batch, refer


def campaign(n: int) -> dict:
    return {"campaign_id": f"id-{n}", "number": f"C-{n:03}", "name": f"Spring {n}"}


class XComs:
    """A run's XComs as a task instance reads and writes them: the DAG runs in tests/dags push
    and pull through Airflow itself; this stands in for the one case they cannot reach, a batch
    missing from its task's XComs."""

    def __init__(self):
        self.pushed: dict[tuple[str, str], object] = {}

    def push_for(self, task_id: str):
        return lambda key, value: self.pushed.__setitem__((task_id, key), value)

    def xcom_pull(self, task_ids: str, key: str):
        return self.pushed.get((task_ids, key))


def test_each_batch_is_pushed_once_and_read_back_whole_by_its_reference():
    xcoms = XComs()
    batches = [[campaign(1), campaign(2)], [campaign(3)]]
    refs = refer("skip", batches, xcoms.push_for("decide"))
    assert [ref["key"] for ref in refs] == ["skip 0", "skip 1"]
    assert len(xcoms.pushed) == 2
    assert [pull_batch(ref, "decide", xcoms) for ref in refs] == batches
    assert refs[0]["campaigns"] == {"id-1": "C-001", "id-2": "C-002"}
    assert refs[0]["label"] == "C-001 Spring 1 (+1 more)"
    assert refs[1]["label"] == "C-003 Spring 3"


def test_an_empty_batch_is_pushed_nowhere_and_reads_as_empty():
    xcoms = XComs()
    (ref,) = refer("to check", [[]], xcoms.push_for("select"))
    assert ref == {"key": None, "label": "no campaigns", "campaigns": {}}
    assert xcoms.pushed == {}
    assert pull_batch(ref, "select", xcoms) == []


def test_a_batch_missing_from_its_task_names_what_to_clear():
    refs = refer("reset", [[campaign(7)]], XComs().push_for("decide"))
    with pytest.raises(NotRetryable) as raised:
        pull_batch(refs[0], "decide", XComs())
    assert "'reset 0'" in str(raised.value)
    assert "C-007 Spring 7" in str(raised.value)
    assert "clear 'decide'" in str(raised.value)


def test_report_counts_per_action_from_the_references():
    push = XComs().push_for("decide")
    selected = refer("to check", [[campaign(1), campaign(2)], [campaign(3)]], push)
    decided = {
        "skip": refer("skip", [[campaign(1)], [campaign(3)]], push),
        "reset": refer("reset", [[campaign(2)]], push),
        "warn": [],
    }
    assert poll_report(selected, decided) == {
        "skip": 2,
        "warn": 0,
        "retry": 0,
        "fail": 0,
        "reset": 1,
    }


def test_report_fails_the_run_naming_the_campaigns_no_decision_reached():
    from airflow.sdk.exceptions import AirflowFailException

    push = XComs().push_for("decide")
    selected = refer("to check", [[campaign(1), campaign(2), campaign(3)]], push)
    decided = {"skip": refer("skip", [[campaign(2)]], push)}
    with pytest.raises(
        AirflowFailException, match=r"2 campaigns could not be checked.*C-001, C-003"
    ):
        poll_report(selected, decided)
