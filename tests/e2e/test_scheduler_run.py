"""a1_to_a2 under the real scheduler, triggered and cleared through the REST API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import requests
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.exceptions import NotFoundException
from airflow_client.client.models import (
    ClearTaskInstancesBody,
    ClearTaskInstancesBodyTaskIdsInner,
    DAGPatchBody,
    TriggerDAGRunPostBody,
)
from cluster import AirflowCluster, airflow_cluster

from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection, smtp_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import create_app as create_dam_app
from sandbox.mail import MailCatcher
from sandbox.server import run_in_thread

pytestmark = pytest.mark.slow

DAG_ID = "a1_to_a2"
RECIPIENTS = ["ops@example.com"]
ACTIONS = ("warn", "retry", "reset")
FINISHED = {"success", "failed"}
IMPORT = "POST /otmmapi/{version}/assets"


@pytest.fixture
def world(tracking_db_url: str) -> Iterator[dict[str, Any]]:
    """Sandboxes and a mail catcher; three campaigns: empty, with assets, no assets folder."""
    uid = uuid.uuid4().hex[:6]
    ids = {action: f"{uid}-{action}" for action in ACTIONS}
    box = box_fixture.box_fixture(
        box_fixture.campaign_folder(f"box-{ids['warn']}"),
        box_fixture.campaign_folder(f"box-{ids['reset']}", assets={"kv.psd": 10, "logo.ai": 2}),
        box_fixture.campaign_folder(f"box-{ids['retry']}", master_assets_name=None),
    )
    dam = dam_fixture.dam(
        [
            dam_fixture.campaign(
                cid, f"E2E {action}", number=f"C-{cid}", box_folder_id=f"box-{cid}"
            )
            for action, cid in ids.items()
        ]
    )
    fixture = {"box": box, "dam": dam}
    box_server = run_in_thread(create_box_app(fixture))
    dam_server = run_in_thread(create_dam_app(fixture))
    mail = MailCatcher().start()
    try:
        yield {
            "ids": ids,
            "dam_url": dam_server.url,
            "mail": mail,
            "env": {
                "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(box_server.url)),
                "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(dam_connection(dam_server.url)),
                "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp_connection(mail.host, mail.port)),
                "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps(
                    {"recipients": RECIPIENTS, "warning_threshold": 1}
                ),
                # Only the triggered run: the */3 cron schedule would add runs of its own.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            },
        }
    finally:
        mail.stop()
        dam_server.stop()
        box_server.stop()


def _dam(world: dict[str, Any], path: str) -> Any:
    response = requests.get(f"{world['dam_url']}/_sandbox/{path}", timeout=10)
    response.raise_for_status()
    return response.json()


def _ledger(url: str, ids: dict[str, str]) -> dict[str, list[tuple]]:
    """Our campaigns' rows in the tracking tables; a cleared ``reset`` keeps the promotion time."""
    queries = {
        "status": "SELECT campaign_id, status, a1_retry_count, a1_consecutive_errors,"
        " a1_permanently_failed, a1_warning_sent_at, a1_episode, promoted_to_a2_at"
        " FROM campaign_status",
        "polls": "SELECT campaign_id, run_id, outcome, action, poll_count, attempt"
        " FROM campaign_polls",
        "notifications": "SELECT campaign_id, kind, attempt, run_id, sent_at IS NOT NULL"
        " FROM campaign_notifications",
        "assets": "SELECT campaign_id, name, size_bytes, dam_asset_id FROM campaign_assets",
    }
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(
                f"{query} WHERE campaign_id = ANY(%s) ORDER BY 1, 2, 3", [list(ids.values())]
            ).fetchall()
            for table, query in queries.items()
        }


def _instances(api: TaskInstanceApi, run_id: str) -> dict[tuple[str, int], Any]:
    """The run's task instances, mapped ones included, by (task id, map index)."""
    listed = api.get_task_instances(DAG_ID, run_id, limit=100)
    return {(ti.task_id, ti.map_index): ti for ti in listed.task_instances}


def _finished(cluster: AirflowCluster, runs: DagRunApi, run_id: str, timeout: float) -> str:
    def state() -> str | None:
        value = runs.get_dag_run(DAG_ID, run_id).state.value
        return value if value in FINISHED else None

    return cluster.wait_for(state, f"run {run_id} to finish", timeout)


def test_triggered_run_then_cleared_actions_change_nothing(world, tracking_db_url):
    ids, mail = world["ids"], world["mail"]
    with airflow_cluster("LocalExecutor", world["env"]) as cluster:
        api = cluster.client()
        dags, runs, tis = DAGApi(api), DagRunApi(api), TaskInstanceApi(api)

        def parsed() -> bool:
            try:
                return bool(dags.get_dag(DAG_ID))
            except NotFoundException:  # until the DAG processor has serialized it
                return False

        cluster.wait_for(parsed, "the DAG to be parsed", 120)
        dags.patch_dag(DAG_ID, DAGPatchBody(is_paused=False))
        run_id = f"e2e__{uuid.uuid4().hex[:8]}"
        runs.trigger_dag_run(
            DAG_ID,
            TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=datetime.now(UTC)),
        )
        assert _finished(cluster, runs, run_id, 150) == "success", cluster.log_tails()

        instances = _instances(tis, run_id)
        states = {key: ti.state.value if ti.state else None for key, ti in instances.items()}
        assert states == {
            **dict.fromkeys(
                [(task, -1) for task in ("fetch", "select", "decide", "report")], "success"
            ),
            **{(f"to_{action}", -1): "success" for action in ACTIONS},
            **{("check", index): "success" for index in range(3)},
            **{(action, 0): "success" for action in ACTIONS},
            # No campaign for these two: their routing task skips, and so the action.
            **{(task, -1): "skipped" for task in ("to_skip", "skip", "to_fail", "fail")},
        }

        ledger = _ledger(tracking_db_url, ids)
        assert [(row[0], row[1], row[3]) for row in ledger["polls"]] == sorted(
            (cid, run_id, action) for action, cid in ids.items()
        )
        assert [row[:2] for row in ledger["notifications"]] == sorted(
            [(ids["warn"], "warning"), (ids["retry"], "retry")]
        )
        assert all(row[4] for row in ledger["notifications"])
        assert [row[1:3] for row in ledger["assets"]] == [("kv.psd", 10), ("logo.ai", 2)]
        status = {row[0]: (row[1], row[2], row[7] is not None) for row in ledger["status"]}
        assert status == {
            ids["warn"]: ("A1", 1, False),
            ids["retry"]: ("A1", 1, False),
            ids["reset"]: ("A2", 0, True),
        }
        assert sorted(mail.subjects()) == [
            "⚠️ Campaign in A1 with no assets yet - E2E warn",
            "⚠️ No Assets Found (Attempt 1/3) - Campaign E2E retry",
        ]
        dam_before = _dam(world, f"campaigns/{ids['reset']}")
        assert dam_before["status"] == "A2"
        assert sorted(a["name"] for a in dam_before["imported"]) == ["kv.psd", "logo.ai"]
        imports_before = _dam(world, "counters").get(IMPORT)
        assert imports_before == 2

        tries = {action: instances[(action, 0)].try_number for action in ACTIONS}
        tis.post_clear_task_instances(
            DAG_ID,
            ClearTaskInstancesBody(
                dag_run_id=run_id,
                task_ids=[ClearTaskInstancesBodyTaskIdsInner([a, 0]) for a in ACTIONS],
                dry_run=False,
                only_failed=False,
                include_downstream=False,
                include_upstream=False,
                reset_dag_runs=True,
            ),
        )

        def ran_again() -> bool:
            now = _instances(tis, run_id)
            return all(
                now[(a, 0)].try_number == tries[a] + 1
                and now[(a, 0)].state is not None
                and now[(a, 0)].state.value == "success"
                for a in ACTIONS
            )

        cluster.wait_for(ran_again, "the cleared actions to run again", 120)
        assert _finished(cluster, runs, run_id, 60) == "success"

        assert _ledger(tracking_db_url, ids) == ledger
        assert len(mail.messages) == 2
        assert _dam(world, f"campaigns/{ids['reset']}") == dam_before
        assert _dam(world, "counters").get(IMPORT) == imports_before
