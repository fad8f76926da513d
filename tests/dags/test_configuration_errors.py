"""Configuration errors in real runs: the task fails on its first try, naming what to fix."""

from __future__ import annotations

import json
from typing import Any

import pytest

from sandbox.connections import box_connection, dam_connection
from tests.dags.world import Campaign, task_states


def tries(dag_run: Any, task_id: str) -> dict[int, tuple[int, int]]:
    """Map index to (try number, earlier tries kept in the history), from the metadata DB."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.taskinstancehistory import TaskInstanceHistory
    from airflow.utils.session import create_session

    with create_session() as session:
        instances = session.query(TaskInstance).filter_by(
            dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id
        )
        earlier = session.query(TaskInstanceHistory).filter_by(
            dag_id=dag_run.dag_id, run_id=dag_run.run_id, task_id=task_id
        )
        kept = [row.map_index for row in earlier]
        return {ti.map_index: (ti.try_number, kept.count(ti.map_index)) for ti in instances}


def fails_at_once(world: Any, task_id: str, capfd: Any) -> tuple[dict[int, str], str]:
    """One run that fails: each instance of ``task_id`` failed on its first try, none retried.

    Returns the task's states by map index and what the run logged.
    """
    capfd.readouterr()
    run = world.run()
    assert str(run.state) == "failed"
    states = task_states(run)[task_id]
    assert set(states.values()) == {"failed"}
    assert tries(run, task_id) == dict.fromkeys(states, (1, 0))
    return states, "".join(capfd.readouterr())


def test_a_dam_connection_without_its_status_field_fails_the_fetch_at_once(
    make_world, uid, monkeypatch, capfd
):
    campaign = Campaign(f"{uid}-nostatus")
    world = make_world([campaign])
    connection = dam_connection(world.dam.url, status_field=None)
    monkeypatch.setenv("AIRFLOW_CONN_DAM_DEFAULT", json.dumps(connection))

    states, log = fails_at_once(world, "fetch", capfd)

    assert states == {-1: "failed"}
    assert "DAM connection 'dam_default': extra 'status_field' is missing: " in log
    assert world.tracked(campaign.campaign_id) is None
    assert world.mail.messages == []


@pytest.mark.parametrize(
    ("box_watch", "task_id", "failed"),
    [("events", "select", {-1: "failed"}), ("list", "check", {0: "failed", 1: "failed"})],
)
def test_an_unknown_box_auth_fails_the_first_box_task_at_once_without_a_strike(
    make_world, uid, monkeypatch, capfd, box_watch, task_id, failed
):
    """The first task to call Box fails: select reading the change feed, or check listing."""
    waiting = Campaign(f"{uid}-authwait")
    gone = Campaign(f"{uid}-authgone", folder="no_master_assets")
    world = make_world([waiting, gone], box_watch=box_watch)
    connection = box_connection(world.box.url, auth="oauth")
    monkeypatch.setenv("AIRFLOW_CONN_BOX_DEFAULT", json.dumps(connection))

    states, log = fails_at_once(world, task_id, capfd)

    assert states == failed
    assert (
        "Box connection 'box_default': extra 'auth' is 'oauth': "
        "it must be one of ccg, jwt, developer_token"
    ) in log
    for campaign in (waiting, gone):
        tracked = world.tracked(campaign.campaign_id)
        assert (tracked.state.poll_count, tracked.state.consecutive_errors) == (0, 0)
    assert world.box.counters() == {}
    assert world.mail.messages == []


def test_a_recipient_that_is_no_address_fails_the_run_at_once(make_world, uid, capfd):
    campaign = Campaign(f"{uid}-badmail")
    world = make_world([campaign], recipients=["not an address"])

    states, log = fails_at_once(world, "fetch", capfd)

    assert states == {-1: "failed"}
    assert "recipients: entry 1, 'not an address', is not an email address" in log
    assert world.tracked(campaign.campaign_id) is None
    assert world.dam.counters() == {}


def test_a_warning_due_with_no_recipients_fails_the_warn_at_once(make_world, uid, capfd):
    """The poll is counted; the warning stays unsent until recipients are set and it is cleared."""
    campaign = Campaign(f"{uid}-nobody")
    world = make_world([campaign], recipients=[], warning_threshold=1)

    states, log = fails_at_once(world, "warn", capfd)

    assert states == {0: "failed"}
    assert "recipients: none, and an email is due; set 'recipients' in the a1_to_a2_settings" in log
    assert world.tracked(campaign.campaign_id).state.poll_count == 1
    assert world.mail.messages == []
