"""Promotions as Airflow Asset events under the real scheduler: a scheduled run of a1_to_a2
promotes two campaigns in one reset instance, its two events of ``campaigns/a2`` trigger one run
of the example DAG a2_arrivals that returns both campaigns once, and the reset cleared through
the REST API runs again without a new event (so without a new a2_arrivals run)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from airflow_client.client.api.asset_api import AssetApi
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.x_com_api import XComApi
from airflow_client.client.models import (
    ClearTaskInstancesBody,
    ClearTaskInstancesBodyTaskIdsInner,
    DAGPatchBody,
)
from cluster import airflow_cluster

from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection, smtp_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import create_app as create_dam_app
from sandbox.mail import MailCatcher
from sandbox.server import run_in_thread

pytestmark = pytest.mark.slow

ASSETS = {"kv.psd": 10, "video/cut.mp4": 20}


@pytest.fixture
def world(tracking_db_url: str) -> Iterator[dict[str, Any]]:
    """Sandboxes holding two campaigns whose Master Assets are ready."""
    uid = uuid.uuid4().hex[:6]
    ids = [f"{uid}-spring", f"{uid}-autumn"]
    box = box_fixture.box_fixture(
        *(box_fixture.campaign_folder(f"box-{cid}", assets=ASSETS) for cid in ids)
    )
    dam = dam_fixture.dam(
        [
            dam_fixture.campaign(cid, f"E2E {cid}", number=f"C-{cid}", box_folder_id=f"box-{cid}")
            for cid in ids
        ]
    )
    fixture = {"box": box, "dam": dam}
    box_server = run_in_thread(create_box_app(fixture))
    dam_server = run_in_thread(create_dam_app(fixture))
    mail = MailCatcher().start()
    settings = {"recipients": ["ops@example.com"], "settle_minutes": 0, "campaigns_per_task": 2}
    try:
        yield {
            "ids": ids,
            "dam_url": dam_server.url,
            "env": {
                "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(box_server.url)),
                "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(dam_connection(dam_server.url)),
                "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp_connection(mail.host, mail.port)),
                "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps(settings),
            },
        }
    finally:
        mail.stop()
        dam_server.stop()
        box_server.stop()


def in_dam(world: dict[str, Any], campaign_id: str) -> dict[str, Any]:
    response = requests.get(f"{world['dam_url']}/_sandbox/campaigns/{campaign_id}", timeout=10)
    response.raise_for_status()
    return response.json()


def test_promotions_trigger_a2_arrivals_once_and_a_cleared_reset_adds_no_event(world):
    ids = world["ids"]
    with airflow_cluster("LocalExecutor", world["env"]) as cluster:
        api = cluster.client()
        dags, runs, tis = DAGApi(api), DagRunApi(api), TaskInstanceApi(api)
        for dag_id in ("a2_arrivals", "a1_to_a2"):
            cluster.wait_for_dag(dag_id)
        # The consumer first: an event finds only unpaused DAGs to queue.
        for dag_id in ("a2_arrivals", "a1_to_a2"):
            dags.patch_dag(dag_id, DAGPatchBody(is_paused=False))

        def first_run(dag_id: str) -> Any:
            listed = runs.get_dag_runs(dag_id, order_by=["run_after"]).dag_runs
            return listed[0] if listed else None

        poll = cluster.wait_for(lambda: first_run("a1_to_a2"), "a scheduled a1_to_a2 run", 120)
        assert cluster.wait_for_run("a1_to_a2", poll.dag_run_id, 180) == "success"
        assert [in_dam(world, cid)["status"] for cid in ids] == ["A2", "A2"]

        arrival = cluster.wait_for(lambda: first_run("a2_arrivals"), "an a2_arrivals run", 120)
        assert arrival.run_type.value == "asset_triggered"
        assert cluster.wait_for_run("a2_arrivals", arrival.dag_run_id, 120) == "success"
        returned = XComApi(api).get_xcom_entry(
            "a2_arrivals", "arrivals", arrival.dag_run_id, "return_value", deserialize=True
        )
        arrived = returned.actual_instance.value
        assert sorted(campaign["campaign_id"] for campaign in arrived) == sorted(ids)
        for campaign in arrived:
            dam = in_dam(world, campaign["campaign_id"])
            assert (campaign["number"], campaign["name"]) == (dam["number"], dam["name"])
            assert campaign["run_id"] == poll.dag_run_id
            assert sorted(
                (a["name"], a["size"], a["sha1"], a["dam_asset_id"]) for a in campaign["assets"]
            ) == sorted((a["name"], a["size"], a["sha1"], a["asset_id"]) for a in dam["imported"])

        assets = AssetApi(api)
        [asset] = assets.get_assets(name_pattern="campaigns/a2").assets

        def events() -> list[Any]:
            listed = assets.get_asset_events(asset_id=asset.id, source_run_id=poll.dag_run_id)
            return sorted((e.id, e.extra["campaign_id"]) for e in listed.asset_events)

        before = events()
        assert sorted(campaign for _, campaign in before) == sorted(ids)

        tries = tis.get_mapped_task_instance("a1_to_a2", poll.dag_run_id, "reset", 0)
        tis.post_clear_task_instances(
            "a1_to_a2",
            ClearTaskInstancesBody(
                dag_run_id=poll.dag_run_id,
                task_ids=[ClearTaskInstancesBodyTaskIdsInner(["reset", 0])],
                dry_run=False,
                only_failed=False,
                include_downstream=False,
                include_upstream=False,
                reset_dag_runs=True,
            ),
        )

        def ran_again() -> bool:
            now = tis.get_mapped_task_instance("a1_to_a2", poll.dag_run_id, "reset", 0)
            return (
                now.try_number == tries.try_number + 1
                and getattr(now.state, "value", None) == "success"
            )

        cluster.wait_for(ran_again, "the cleared reset to run again", 240)
        assert cluster.wait_for_run("a1_to_a2", poll.dag_run_id, 60) == "success"
        assert events() == before
        # No new event, so nothing for the scheduler to make a second a2_arrivals run of.
        assert [r.dag_run_id for r in runs.get_dag_runs("a2_arrivals").dag_runs] == [
            arrival.dag_run_id
        ]
