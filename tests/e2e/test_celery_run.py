"""a1_to_a2 distributed: the CeleryExecutor with two workers over 200 campaigns, then one worker
killed while `reset` tasks import assets; its tasks are retried on the other worker."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
import requests
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.api.x_com_api import XComApi
from airflow_client.client.models import TriggerDAGRunPostBody
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
CAMPAIGNS = 200
CAMPAIGNS_PER_TASK = 20
ASSETS = {"key-visual.psd": 4096, "logo.ai": 1024}
# The first poll's action by campaign number modulo 10: half are still empty (warned at once,
# the threshold being 1), a fifth have no Master Assets folder, the rest have their assets.
FIRST_ACTION = ["warn"] * 5 + ["retry"] * 2 + ["reset"] * 3
# A dead worker's tasks stop heartbeating; the scheduler fails them for a retry after this.
HEARTBEAT_TIMEOUT = 30
# Seconds the DAM holds each import's answer until worker w1 is killed: the kill lands between
# an import and its answer, the case where the task cannot know its import happened.
IMPORT_DELAY = 4
NUMBER = re.compile(r"C-[0-9a-f]{6}-\d{3}")


@dataclass
class Sandboxes:
    """The Box and DAM sandboxes and the mail catcher, running in this process."""

    box: str
    dam: str
    mail: MailCatcher

    def control(self, server: str, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{getattr(self, server)}/_sandbox/{path}"
        response = requests.request(method, url, timeout=30, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def dam_campaign(self, campaign_id: str) -> dict[str, Any]:
        return self.control("dam", "GET", f"campaigns/{campaign_id}")

    def airflow_env(self) -> dict[str, str]:
        """Connections and settings pointing Airflow at the sandboxes; only triggered runs."""
        settings = {
            "recipients": ["campaign-ops@example.com"],
            "warning_threshold": 1,
            "campaigns_per_task": CAMPAIGNS_PER_TASK,
            # Assets delivered between two polls promote at the next (no settle wait here).
            "settle_minutes": 0,
        }
        smtp = smtp_connection(self.mail.host, self.mail.port)
        return {
            "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(self.box)),
            "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(dam_connection(self.dam)),
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp),
            "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps(settings),
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            # A task w1 had taken but not started stays queued: its unacknowledged message is
            # Redis's until the visibility timeout (a day). Airflow requeues it after this.
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "90",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT_CHECK_INTERVAL": "15",
        }


@pytest.fixture
def campaigns() -> dict[str, str]:
    """Campaign id -> the action of its first poll."""
    uid = uuid.uuid4().hex[:6]
    return {f"{uid}-{n:03d}": FIRST_ACTION[n % 10] for n in range(CAMPAIGNS)}


@pytest.fixture
def sandboxes(campaigns: dict[str, str], tracking_db_url: str) -> Iterator[Sandboxes]:
    folders = [
        box_fixture.campaign_folder(
            f"box-{cid}",
            assets=ASSETS if action == "reset" else {},
            master_assets_name=None if action == "retry" else "Master Assets",
        )
        for cid, action in campaigns.items()
    ]
    dam_campaigns = [
        dam_fixture.campaign(cid, f"Launch {cid}", number=f"C-{cid}", box_folder_id=f"box-{cid}")
        for cid in campaigns
    ]
    fixture = {"box": box_fixture.box_fixture(*folders), "dam": dam_fixture.dam(dam_campaigns)}
    with ExitStack() as running:
        box = running.enter_context(run_in_thread(create_box_app(fixture)))
        dam = running.enter_context(run_in_thread(create_dam_app(fixture)))
        mail = MailCatcher().start()
        running.callback(mail.stop)
        yield Sandboxes(box.url, dam.url, mail)


def test_two_workers_then_one_killed_while_importing(campaigns, sandboxes, tracking_db_url):
    """Both workers share a run handling each campaign once; a dead worker's import task is
    retried on the other, and no asset is imported twice nor any email sent twice."""
    clock = Clock()
    with airflow_cluster("CeleryExecutor", sandboxes.airflow_env(), workers=2) as cluster:
        cluster.wait_for_dag(DAG_ID)
        clock.lap("cluster started, DAG parsed")
        api = cluster.client()
        tis = TaskInstanceApi(api)

        first = trigger(cluster, "celery_first")
        assert cluster.wait_for_run(DAG_ID, first, 360) == "success", cluster.log_tails()
        clock.lap(f"first run over 200 campaigns: {summary(tis, first)}")
        ran_on = {ti.hostname for ti in instances(tis, first, state=["success"])}
        assert ran_on == {"w1", "w2"}
        assert ledger(tracking_db_url, "polls", campaigns, first) == sorted(campaigns.items())
        emailed = {cid: action for cid, action in campaigns.items() if action != "reset"}
        assert ledger(tracking_db_url, "notifications", campaigns) == sorted(
            (cid, {"warn": "warning", "retry": "retry"}[action]) for cid, action in emailed.items()
        )
        emails = emails_per_campaign(sandboxes.mail)
        assert emails == dict.fromkeys((f"C-{cid}" for cid in emailed), 1)
        promoted = [cid for cid, action in campaigns.items() if action == "reset"]
        assert_imported_once(sandboxes, tracking_db_url, promoted)

        for cid in emailed:
            deliver_assets(sandboxes, cid, make_folder=campaigns[cid] == "retry")
        sandboxes.control("dam", "PUT", "imports/delay", json={"seconds": IMPORT_DELAY})
        second = trigger(cluster, "celery_second")
        killed = cluster.wait_for(
            lambda: reset_importing_on("w1", tis, XComApi(api), sandboxes, second),
            "a reset task on w1 with an import in the DAM",
            300,
            interval=0.5,
        )
        cluster.kill_worker("w1")
        sandboxes.control("dam", "PUT", "imports/delay", json={"seconds": 0})
        clock.lap(f"second run: w1 killed in reset[{killed.map_index}]")
        assert cluster.wait_for_run(DAG_ID, second, 420) == "success", cluster.log_tails()
        clock.lap(f"second run finished: {summary(tis, second)}")

        tries = tis.get_task_instance_tries(DAG_ID, second, "reset", killed.map_index)
        history = [(t.try_number, t.hostname, t.state.value) for t in tries.task_instances]
        print("reset tries:", history)
        assert history == [(1, "w1", "failed"), (2, "w2", "success")]
        assert ledger(tracking_db_url, "polls", campaigns, second) == sorted(
            (cid, "reset") for cid in emailed
        )
        assert_imported_once(sandboxes, tracking_db_url, list(campaigns))
        assert emails_per_campaign(sandboxes.mail) == emails
        assert len(ledger(tracking_db_url, "notifications", campaigns)) == len(emailed)
        assert ledger(tracking_db_url, "status", campaigns) == [
            (cid, "A2", 0, 0, False, None, True) for cid in sorted(campaigns)
        ]
        print("DAM requests:", sandboxes.control("dam", "GET", "counters"))
    clock.lap("cluster stopped")


class Clock:
    """Prints the seconds each phase took (the run's timings, never asserted)."""

    def __init__(self) -> None:
        self.started = self.last = time.monotonic()

    def lap(self, what: str) -> None:
        now = time.monotonic()
        print(f"{what}: {now - self.last:.0f} s ({now - self.started:.0f} s in all)")
        self.last = now


def trigger(cluster: AirflowCluster, prefix: str) -> str:
    run_id = f"{prefix}__{uuid.uuid4().hex[:8]}"
    body = TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=datetime.now(UTC))
    DagRunApi(cluster.client()).trigger_dag_run(DAG_ID, body)
    return run_id


def instances(tis: TaskInstanceApi, run_id: str, **filters: Any) -> list[Any]:
    return tis.get_task_instances(DAG_ID, run_id, limit=200, **filters).task_instances


def summary(tis: TaskInstanceApi, run_id: str) -> str:
    """The run's task instances: how many, seconds in tasks (busiest tasks first), per worker."""
    done = instances(tis, run_id)
    seconds: Counter[str] = Counter()
    for ti in done:
        seconds[ti.task_id] += ti.duration or 0
    busiest = ", ".join(f"{task} {s:.0f}" for task, s in seconds.most_common(4))
    hosts = Counter(ti.hostname for ti in done if ti.hostname)
    return (
        f"{len(done)} task instances, {seconds.total():.0f} s in tasks ({busiest}),"
        f" per worker {dict(hosts)}"
    )


def reset_importing_on(
    worker: str, tis: TaskInstanceApi, xcoms: XComApi, sandboxes: Sandboxes, run_id: str
) -> Any:
    """A running `reset` instance on ``worker`` whose batch has an import in the DAM, if any."""
    for ti in instances(tis, run_id, task_id="reset", state=["running"]):
        if ti.hostname != worker:
            continue
        refs = xcoms.get_xcom_entry(DAG_ID, "to_reset", run_id, "return_value", -1)
        batch = refs.actual_instance.value[ti.map_index]["campaigns"]
        if any(sandboxes.dam_campaign(campaign)["imported"] for campaign in batch):
            return ti
    return None


def deliver_assets(sandboxes: Sandboxes, campaign_id: str, make_folder: bool) -> None:
    """Upload the assets into the campaign's Master Assets folder, made first if asked."""
    master_assets = f"box-{campaign_id}-ma"
    if make_folder:
        folder = {"id": master_assets, "name": "Master Assets", "parent": f"box-{campaign_id}"}
        sandboxes.control("box", "POST", "folders", json=folder)
    for number, (name, size) in enumerate(ASSETS.items(), start=1):
        file = {"id": f"{master_assets}-f{number}", "name": name, "parent": master_assets}
        sandboxes.control("box", "POST", "files", json={**file, "size": size})


def emails_per_campaign(mail: MailCatcher) -> dict[str, int]:
    """How many emails name each campaign number."""
    return Counter(
        number
        for message in mail.messages
        for number in set(NUMBER.findall(message.get_body(("plain",)).get_content()))
    )


def assert_imported_once(sandboxes: Sandboxes, url: str, campaign_ids: list[str]) -> None:
    """Each campaign at A2 in the DAM holding each asset once, and each in the asset ledger."""
    expected = sorted(ASSETS.items())
    for cid in campaign_ids:
        in_dam = sandboxes.dam_campaign(cid)
        assert in_dam["status"] == "A2", cid
        assert sorted((a["name"], a["size"]) for a in in_dam["imported"]) == expected, cid
    assert ledger(url, "assets", dict.fromkeys(campaign_ids)) == sorted(
        (cid, name, size) for cid in campaign_ids for name, size in expected
    )


LEDGER = {
    "polls": "SELECT campaign_id, action FROM campaign_polls"
    " WHERE campaign_id = ANY(%(ids)s) AND run_id = %(run_id)s",
    "notifications": "SELECT campaign_id, kind FROM campaign_notifications"
    " WHERE campaign_id = ANY(%(ids)s) AND sent_at IS NOT NULL",
    "assets": "SELECT campaign_id, name, size_bytes FROM campaign_assets"
    " WHERE campaign_id = ANY(%(ids)s)",
    "status": "SELECT campaign_id, status, a1_retry_count, a1_consecutive_errors,"
    " a1_permanently_failed, a1_warning_sent_at, promoted_to_a2_at IS NOT NULL"
    " FROM campaign_status WHERE campaign_id = ANY(%(ids)s)",
}


def ledger(url: str, table: str, campaigns: dict[str, Any], run_id: str = "") -> list[tuple]:
    """Rows of one tracking table for these campaigns (and run), sorted."""
    with psycopg.connect(url) as conn:
        params = {"ids": list(campaigns), "run_id": run_id}
        return sorted(conn.execute(LEDGER[table], params).fetchall())
