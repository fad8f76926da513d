"""The poll's deadline under the real scheduler: a run held past a tiny deadline emails once.

The run is held by a DAM that answers 503 to everything (its fetch retries, so the run keeps
going) until the overdue email has arrived: nothing here depends on how fast the machine is.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest
import requests
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.models import DAGPatchBody, TriggerDAGRunPostBody
from cluster import airflow_cluster

from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection, smtp_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import create_app as create_dam_app
from sandbox.mail import MailCatcher
from sandbox.server import run_in_thread

pytestmark = pytest.mark.slow

DAG_ID = "a1_to_a2"
OVERDUE = "⚠️ Poll still running after"


@pytest.fixture
def world(tracking_db_url: str) -> Iterator[dict[str, Any]]:
    """One campaign with an empty Master Assets folder, sandboxes and a mail catcher."""
    cid = f"{uuid.uuid4().hex[:6]}-late"
    fixture = {
        "box": box_fixture.box_fixture(box_fixture.campaign_folder(f"box-{cid}")),
        "dam": dam_fixture.dam(
            [dam_fixture.campaign(cid, "E2E late", number=f"C-{cid}", box_folder_id=f"box-{cid}")]
        ),
    }
    box_server = run_in_thread(create_box_app(fixture))
    dam_server = run_in_thread(create_dam_app(fixture))
    mail = MailCatcher().start()
    try:
        yield {
            "dam_url": dam_server.url,
            "mail": mail,
            "env": {
                "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(box_server.url)),
                "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(dam_connection(dam_server.url)),
                "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp_connection(mail.host, mail.port)),
                "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps({"recipients": ["ops@example.com"]}),
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            },
        }
    finally:
        mail.stop()
        dam_server.stop()
        box_server.stop()


def _deadlines(metadata_url: str, run_id: str) -> list[tuple]:
    """The run's deadline rows: deadline time minus queue time, and whether it was missed."""
    with psycopg.connect(metadata_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return conn.execute(
            "SELECT d.deadline_time - r.queued_at, d.missed FROM deadline d"
            " JOIN dag_run r ON r.id = d.dagrun_id WHERE r.run_id = %s",
            [run_id],
        ).fetchall()


def test_a_run_past_its_deadline_emails_once_and_one_within_it_sends_nothing(
    world, tracking_db_url
):
    mail, dam_url = world["mail"], world["dam_url"]
    with airflow_cluster("LocalExecutor", world["env"]) as cluster:
        metadata_url = cluster.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        runs = DagRunApi(cluster.client())
        cluster.wait_for_dag(DAG_ID)
        DAGApi(cluster.client()).patch_dag(DAG_ID, DAGPatchBody(is_paused=False))

        faults = {"route": "*", "statuses": [503], "times": 100_000}
        requests.post(f"{dam_url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()
        late = f"e2e_late__{uuid.uuid4().hex[:8]}"
        runs.trigger_dag_run(
            DAG_ID,
            TriggerDAGRunPostBody(
                dag_run_id=late,
                logical_date=datetime.now(UTC),
                conf={"poll_deadline_minutes": 0.05},
            ),
        )
        cluster.wait_for(
            lambda: any(s.startswith(OVERDUE) for s in mail.subjects()), "the overdue email", 180
        )
        assert runs.get_dag_run(DAG_ID, late).state.value == "running"
        requests.delete(f"{dam_url}/_sandbox/faults", timeout=10).raise_for_status()
        assert cluster.wait_for_run(DAG_ID, late, 300) == "success", cluster.log_tails()

        assert _deadlines(metadata_url, late) == [(timedelta(seconds=3), True)]
        [overdue] = [m for m in mail.messages if str(m["Subject"]).startswith(OVERDUE)]
        assert str(overdue["Subject"]).endswith(f" - a1_to_a2 run {late}")
        assert overdue["To"] == "ops@example.com"
        with psycopg.connect(tracking_db_url) as conn:
            ledger = conn.execute(
                "SELECT kind, sent_at IS NOT NULL FROM campaign_notifications"
                " WHERE campaign_id IS NULL AND run_id = %s",
                [late],
            ).fetchall()
        assert ledger == [("overdue", True)]

        in_time = f"e2e_in_time__{uuid.uuid4().hex[:8]}"
        runs.trigger_dag_run(
            DAG_ID, TriggerDAGRunPostBody(dag_run_id=in_time, logical_date=datetime.now(UTC))
        )
        assert cluster.wait_for_run(DAG_ID, in_time, 300) == "success", cluster.log_tails()
        # Finished within its 15 minutes: the deadline was dropped, nobody emailed.
        assert _deadlines(metadata_url, in_time) == []
        assert [s for s in mail.subjects() if s.startswith(OVERDUE)] == [str(overdue["Subject"])]


def test_settings_in_the_metadata_database_a_cli_trigger_and_a_callback_that_names_the_fix(
    world, tracking_db_url
):
    """As Admin -> Variables keeps them: the deadline reads them while `airflow dags trigger`
    creates the run (in the CLI's own session, which a plain Variable.get closed under it:
    DetachedInstanceError); the callback may not read them (Airflow 3.3.2 refuses callbacks the
    metadata database's Variables) and says what to set instead."""
    env = {k: v for k, v in world["env"].items() if k != "AIRFLOW_VAR_A1_TO_A2_SETTINGS"}
    mail, dam_url = world["mail"], world["dam_url"]
    with airflow_cluster("LocalExecutor", env) as cluster:
        metadata_url = cluster.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
        settings = {"recipients": ["ops@example.com"], "poll_deadline_minutes": 0.05}
        cluster.airflow("variables", "set", "a1_to_a2_settings", json.dumps(settings))
        cluster.wait_for_dag(DAG_ID)
        DAGApi(cluster.client()).patch_dag(DAG_ID, DAGPatchBody(is_paused=False))

        faults = {"route": "*", "statuses": [503], "times": 100_000}
        requests.post(f"{dam_url}/_sandbox/faults", json=faults, timeout=10).raise_for_status()
        by_cli = f"e2e_cli__{uuid.uuid4().hex[:8]}"
        cluster.airflow("dags", "trigger", DAG_ID, "-r", by_cli)
        assert _deadlines(metadata_url, by_cli)[0][0] == timedelta(seconds=3)
        cluster.wait_for(
            lambda: (
                "AIRFLOW_VAR_A1_TO_A2_SETTINGS and AIRFLOW_CONN_<ID>" in cluster.log_tails(5000)
            ),
            "the callback's error naming the fix",
            180,
        )
        requests.delete(f"{dam_url}/_sandbox/faults", timeout=10).raise_for_status()
        assert cluster.wait_for_run(DAG_ID, by_cli, 300) == "success", cluster.log_tails()
        assert not [s for s in mail.subjects() if s.startswith(OVERDUE)]
        assert "nobody was told" in cluster.log_tails(5000)
