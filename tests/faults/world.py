"""The world the fault-injection suite breaks, and what it reads back after each fault.

A PostgreSQL cluster of the suite's own holds the tracking database, so that a test may restart
it; the Box and DAM sandboxes, a mail catcher and Airflow's processes (LocalExecutor) run beside
it. Scenarios share one world and keep apart by their campaign ids: each seeds its campaigns,
and moves them off A1 in the DAM when it is done, so that later polls no longer find them.

Retries are those of the DAG (three, with backoff) but seconds apart: ``cluster_policy/`` holds
the Airflow cluster policy that shortens the delays.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, TypeVar

import psutil
import psycopg
import pytest
import requests
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.api.task_instance_api import TaskInstanceApi
from airflow_client.client.models import (
    ClearTaskInstancesBody,
    DAGPatchBody,
    DAGRunPatchBody,
    TriggerDAGRunPostBody,
)
from psycopg import sql

from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection, smtp_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import create_app as create_dam_app
from sandbox.mail import MailCatcher
from sandbox.server import RunningServer, run_in_thread
from tests.e2e.cluster import AirflowCluster, airflow_cluster
from tests.faults.tally import Snapshot, Tally

DAG_ID = "a1_to_a2"
RECIPIENTS = ("ops@example.com",)
WARNING_THRESHOLD = 2
FINISHED = frozenset({"success", "failed"})
RETIRED = "RETIRED"  # a DAM status no poll looks for
RESTART, KILL = "PostgreSQL restarted", "task process killed (SIGKILL)"
# Holds the cluster policy that shortens retry delays; on the cluster's path only, not pytest's.
POLICY_DIR = Path(__file__).with_name("cluster_policy")
REPO = Path(__file__).resolve().parents[2]
TRACKING_DB = "a1_faults_tracking"
TRACKING_CONN_ID = "a1_faults_tracking"
BOX_TIMEOUT_S = 3  # how long boxsdk waits for an answer: a hung request costs that
T = TypeVar("T")


@dataclass(frozen=True)
class Campaign:
    """A campaign at A1 in the DAM; ``folder`` says what its Box folder holds.

    ``empty``, ``assets`` (``assets`` maps file names to sizes), ``no_master_assets`` (a genuine
    folder error) or ``forbidden`` (another one; an empty folder once the test grants access).
    """

    campaign_id: str
    folder: str = "empty"
    assets: tuple[tuple[str, int], ...] = ()

    @property
    def name(self) -> str:
        return f"Faults {self.campaign_id}"

    @property
    def box_folder_id(self) -> str:
        return f"box-{self.campaign_id}"

    @property
    def box_folder_ids(self) -> tuple[str, str]:
        """The campaign folder's id and its Master Assets folder's (``campaign_folder``'s)."""
        return self.box_folder_id, f"{self.box_folder_id}-ma"


def campaigns(uid: str, **folders: str | Mapping[str, int]) -> dict[str, Campaign]:
    """Campaigns by role: a folder kind, or the assets of an ``assets`` folder."""
    return {
        role: Campaign(f"{uid}-{role}", "assets", tuple(kind.items()))
        if isinstance(kind, Mapping)
        else Campaign(f"{uid}-{role}", kind)
        for role, kind in folders.items()
    }


class SandboxServer:
    """A sandbox app on a port of its own; stopped and started there again, its state kept."""

    def __init__(self, app: Any):
        self.app = app
        self.server: RunningServer | None = run_in_thread(app)
        self.url = self.server.url
        self.port = int(self.url.rsplit(":", 1)[1])

    def control(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None

    def stop(self) -> None:
        """Close the port: clients find nothing listening until ``start()``."""
        if self.server is not None:
            self.server.stop()
            self.server = None

    def start(self) -> None:
        if self.server is None:
            self.server = run_in_thread(self.app, port=self.port)


class TrackingServer:
    """A PostgreSQL cluster of the suite's own (Debian's ``pg_createcluster``) with the tracking
    database: restarting it leaves alone the server that other suites share."""

    def __init__(self) -> None:
        self.version = max(os.listdir("/etc/postgresql"), key=float)
        self.name = f"a1faults{uuid.uuid4().hex[:8]}"
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/{TRACKING_DB}"

    def create(self) -> TrackingServer:
        """Create and start the cluster, the database, and apply the schema's migrations."""
        subprocess.run(
            [
                *("pg_createcluster", self.version, self.name),
                *("--port", str(self.port), "--start", "--", "--auth=trust"),
            ],
            check=True,
            capture_output=True,
        )
        admin_url = self.url.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(TRACKING_DB)))
        from campaigns.hooks.retry_state import RetryStateHook

        with pytest.MonkeyPatch.context() as patch:
            patch.setenv(f"AIRFLOW_CONN_{TRACKING_CONN_ID.upper()}", self.url)
            RetryStateHook(postgres_conn_id=TRACKING_CONN_ID).apply_migrations()
        return self

    def ctl(self, action: str) -> None:
        """``pg_ctlcluster <action>`` (start, stop, restart: fast, cutting every connection)."""
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", self.version, self.name, action],
            check=True,
            capture_output=True,
        )

    def drop(self) -> None:
        subprocess.run(
            ["pg_dropcluster", "--stop", self.version, self.name], check=True, capture_output=True
        )

    def query(self, statement: str, *params: Any) -> list[tuple]:
        with psycopg.connect(self.url) as conn:
            return conn.execute(statement, params).fetchall()

    def waiting_writers(self, table: str) -> list[int]:
        """Backends waiting for a lock to write into ``table``."""
        rows = self.query(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'"
            " AND query ~* %s",
            TRACKING_DB,
            rf"(INSERT\s+INTO|UPDATE)\s+{table}\y",
        )
        return [pid for (pid,) in rows]

    @contextmanager
    def writes_held(self, table: str) -> Iterator[None]:
        """Hold a lock on ``table`` that lets readers through and makes every writer wait."""
        conn = psycopg.connect(self.url)
        try:
            conn.execute(sql.SQL("LOCK TABLE {} IN SHARE MODE").format(sql.Identifier(table)))
            yield
        finally:
            with suppress(psycopg.OperationalError):  # the server may have been restarted
                conn.rollback()
            conn.close()


@dataclass
class FaultWorld:
    """The running world and the operator's moves on it: trigger, wait, clear, break, heal."""

    tracking: TrackingServer
    box: SandboxServer
    dam: SandboxServer
    mail: MailCatcher
    cluster: AirflowCluster
    tallies: list[Tally]
    triggered: list[str] = field(default_factory=list)

    @cached_property
    def api(self) -> Any:
        return self.cluster.client()

    # Campaigns

    def seed(self, seeded: Iterable[Campaign]) -> None:
        """Put the campaigns' Box folders in the Box sandbox and the campaigns at A1 in the DAM."""
        for campaign in seeded:
            part = box_fixture.campaign_folder(
                campaign.box_folder_id,
                assets=dict(campaign.assets),
                master_assets_name=(
                    None if campaign.folder == "no_master_assets" else "Master Assets"
                ),
            )
            for record in part["folders"]:
                if record["id"] == campaign.box_folder_id:
                    record["forbidden"] = campaign.folder == "forbidden"
                self.box.control("POST", "folders", json=record)
            for record in part["files"]:
                self.box.control("POST", "files", json=record)
            self.dam.control(
                "POST",
                "campaigns",
                json=dam_fixture.campaign(
                    campaign.campaign_id, campaign.name, box_folder_id=campaign.box_folder_id
                ),
            )

    def retire(self, retired: Iterable[Campaign]) -> None:
        """Move the campaigns still at A1 in the DAM elsewhere: later polls no longer see them."""
        for campaign in retired:
            path = f"campaigns/{campaign.campaign_id}"
            if self.dam.control("GET", path)["status"] == "A1":
                self.dam.control("PUT", f"{path}/status", json={"status": RETIRED})

    def set_forbidden(self, campaign: Campaign, forbidden: bool) -> None:
        self.box.control(
            "PUT", f"folders/{campaign.box_folder_id}/forbidden", json={"forbidden": forbidden}
        )

    def upload(self, campaign: Campaign, assets: Mapping[str, int]) -> None:
        """Files arriving in the campaign's (empty) Master Assets folder."""
        for name, size in assets.items():
            self.box.control(
                "POST",
                "files",
                json={"name": name, "parent": campaign.box_folder_ids[1], "size": size},
            )

    def box_hangs(self, folder_id: str, requests_: int) -> None:
        """The next ``requests_`` listings of the Box folder get no answer at all."""
        self.box.control(
            "POST",
            "faults",
            json={"route": f"GET /2.0/folders/{folder_id}/items", "hang": requests_},
        )

    @contextmanager
    def scenario(
        self, name: str, seeded: Iterable[Campaign], summed: bool = True
    ) -> Iterator[Tally]:
        """Seed the campaigns; afterwards heal every fault, end leftover runs, retire them. The
        tally goes to the summary if the scenario passed (and is ``summed``)."""
        seeded = list(seeded)
        tally = Tally(name, campaigns=len(seeded))
        self.triggered.clear()
        self.seed(seeded)
        try:
            yield tally
        finally:
            self.heal()
            self.end_active_runs()
            self.retire(seeded)
        tally.task_reruns = sum(
            max(ti.try_number - 1, 0)
            for run_id in self.triggered
            for ti in self.instances(run_id).values()
        )
        if summed:
            self.tallies.append(tally)

    def heal(self) -> None:
        """Every server up and every scripted fault gone."""
        self.box.control("DELETE", "faults")
        self.dam.start()
        self.dam.control("DELETE", "faults")
        self.mail.start()
        with suppress(subprocess.CalledProcessError):
            self.tracking.ctl("start")  # already running is an error we may ignore

    # Runs

    def unpause(self) -> None:
        DAGApi(self.api).patch_dag(DAG_ID, DAGPatchBody(is_paused=False))

    def trigger(self, **conf: Any) -> str:
        """Trigger a run through the REST API, as the UI's play button does; its run id."""
        run_id = f"faults__{uuid.uuid4().hex[:10]}"
        DagRunApi(self.api).trigger_dag_run(
            DAG_ID,
            TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=datetime.now(UTC), conf=conf),
        )
        self.triggered.append(run_id)
        return run_id

    def run_state(self, run_id: str) -> str:
        return DagRunApi(self.api).get_dag_run(DAG_ID, run_id).state.value

    def finished(self, run_id: str, timeout: float = 300) -> str:
        """Wait for the run to end; its state."""

        def ended() -> str | None:
            state = self.run_state(run_id)
            return state if state in FINISHED else None

        return self.wait(ended, f"run {run_id} to finish", timeout)

    def poll(self, **conf: Any) -> tuple[str, str]:
        """Trigger a run and wait for it to end: its run id and final state."""
        run_id = self.trigger(**conf)
        return run_id, self.finished(run_id)

    def instances(self, run_id: str) -> dict[tuple[str, int], Any]:
        """The run's task instances, mapped ones included, by (task id, map index)."""
        listed = TaskInstanceApi(self.api).get_task_instances(DAG_ID, run_id, limit=200)
        return {(ti.task_id, ti.map_index): ti for ti in listed.task_instances}

    def states(self, run_id: str) -> dict[tuple[str, int], str | None]:
        return {
            key: ti.state.value if ti.state else None for key, ti in self.instances(run_id).items()
        }

    def describe(self, run_id: str, lines: int = 30) -> str:
        """The run's task states and the log tails of its failed tries, for a failure message."""
        parts = [f"run {run_id}: {self.run_state(run_id)}"]
        for (task_id, index), ti in sorted(self.instances(run_id).items()):
            state = ti.state.value if ti.state else None
            parts.append(f"  {task_id}[{index}] {state} try {ti.try_number}")
            if state in ("failed", "up_for_retry"):
                for log in sorted(
                    self.cluster.home.glob(f"logs/**/run_id={run_id}/task_id={task_id}/**/*.log")
                ):
                    tail = log.read_text(errors="replace").splitlines()[-lines:]
                    parts.append(f"  ----- {log.name}\n    " + "\n    ".join(tail))
        return "\n".join(parts)

    def wait_instance(
        self, run_id: str, accept: Callable[[Any], bool], what: str, timeout: float = 240
    ) -> Any:
        """The first task instance of the run that ``accept`` takes, once there is one."""

        def found() -> Any:
            return next(filter(accept, self.instances(run_id).values()), None)

        return self.wait(found, what, timeout)

    def retried(self, run_id: str, task_id: str, timeout: float = 240) -> Any:
        """Once a try of the task has failed and Airflow retries it (or waits to): that instance."""
        return self.wait_instance(
            run_id,
            lambda ti: ti.task_id == task_id and failed_a_try(ti),
            f"{task_id} of run {run_id} to be retried",
            timeout,
        )

    def running(self, run_id: str, task_id: str, timeout: float = 240) -> Any:
        """The task's instance once it runs (its process started)."""
        return self.wait_instance(
            run_id,
            lambda ti: (
                ti.task_id == task_id
                and ti.state is not None
                and ti.state.value == "running"
                and ti.pid is not None
            ),
            f"{task_id} of run {run_id} to run",
            timeout,
        )

    def waits_to_write(self, table: str) -> None:
        """Until a task's transaction waits for the lock ``TrackingServer.writes_held`` holds."""
        self.wait(lambda: self.tracking.waiting_writers(table), f"a task to write {table}")

    def interrupt(self, run_id: str, task_id: str, how: str) -> None:
        """Restart the tracking server, or SIGKILL the task and wait until Airflow retries it."""
        if how == RESTART:
            self.tracking.ctl("restart")
        else:
            self.kill(self.running(run_id, task_id))
            self.retried(run_id, task_id)

    def clear_failed(self, run_id: str) -> None:
        """What an operator does once the outage is over: clear the run's failed tasks (and what
        they held up) so that they run again."""
        TaskInstanceApi(self.api).post_clear_task_instances(
            DAG_ID,
            ClearTaskInstancesBody(
                dag_run_id=run_id,
                dry_run=False,
                only_failed=True,
                include_downstream=True,
                include_upstream=False,
                reset_dag_runs=True,
            ),
        )

    def end_active_runs(self) -> None:
        """Fail what a broken test left running, so that the next scenario's runs start."""
        runs = DagRunApi(self.api)
        for run in runs.get_dag_runs(DAG_ID, limit=100).dag_runs:
            if run.state.value not in FINISHED:
                runs.patch_dag_run(DAG_ID, run.dag_run_id, DAGRunPatchBody(state="failed"))

    def kill(self, ti: Any) -> None:
        """SIGKILL the process running the task instance (its title names the instance)."""
        process = psutil.Process(ti.pid)
        title = " ".join(process.cmdline())
        assert str(ti.id) in title, f"pid {ti.pid} runs {title!r}, not {ti.task_id}"
        process.send_signal(signal.SIGKILL)

    def wait(self, probe: Callable[[], T | None], what: str, timeout: float = 240) -> T:
        return self.cluster.wait_for(probe, what, timeout)

    # What the campaigns left behind

    def snapshot(self, seeded: Iterable[Campaign]) -> Snapshot:
        """The tracking rows, emails and DAM state of these campaigns."""
        seeded = list(seeded)
        ids = [c.campaign_id for c in seeded]
        queries = {
            "status": "SELECT campaign_id, status, a1_retry_count, a1_consecutive_errors,"
            " a1_permanently_failed, a1_failure_reason, a1_warning_sent_at IS NOT NULL,"
            " a1_episode, promoted_to_a2_at IS NOT NULL FROM campaign_status",
            "polls": "SELECT campaign_id, run_id, outcome, action, poll_count,"
            " consecutive_errors, attempt, episode FROM campaign_polls",
            "notifications": "SELECT campaign_id, kind, attempt, episode, run_id,"
            " sent_at IS NOT NULL FROM campaign_notifications",
            "assets": "SELECT campaign_id, name, size_bytes FROM campaign_assets",
        }
        tables: dict[str, dict[str, list[tuple]]] = {}
        for table, query in queries.items():
            rows = self.tracking.query(f"{query} WHERE campaign_id = ANY(%s) ORDER BY 1, 2, 3", ids)
            tables[table] = {cid: [r[1:] for r in rows if r[0] == cid] for cid in ids}
        dam = {}
        for campaign in seeded:
            folder = self.dam.control("GET", f"campaigns/{campaign.campaign_id}")
            imported = sorted((a["name"], a["size"]) for a in folder["imported"])
            dam[campaign.campaign_id] = (folder["status"], imported)
        return Snapshot(
            status={cid: rows[0] if rows else () for cid, rows in tables["status"].items()},
            polls=tables["polls"],
            notifications=tables["notifications"],
            assets=tables["assets"],
            emails=self.emails(seeded),
            dam=dam,
        )

    def emails(self, seeded: Iterable[Campaign]) -> Counter:
        """(campaign id, subject, recipients) of every email received about these campaigns.

        An email belongs to the campaign whose name its subject holds (the longest such name).
        """
        by_name = sorted(seeded, key=lambda c: len(c.name), reverse=True)
        found: Counter = Counter()
        for message in list(self.mail.messages):
            subject = re.sub(r"\s+", " ", str(message["Subject"])).strip()
            campaign = next((c for c in by_name if c.name in subject), None)
            if campaign is not None:
                found[(campaign.campaign_id, subject, str(message["To"]))] += 1
        return found


def email(campaign: Campaign, kind: str, attempt: int = 0, limit: int = 3) -> tuple:
    """The (campaign id, subject, recipients) an email of ``kind`` about the campaign has."""
    subjects = {
        "warning": f"⚠️ Campaign in A1 with no assets yet - {campaign.name}",
        "retry": f"⚠️ No Assets Found (Attempt {attempt}/{limit}) - Campaign {campaign.name}",
        "failed": f"PERMANENTLY FAILED - Campaign {campaign.name} "
        f"(No Assets After {limit} Attempts)",
    }
    return (campaign.campaign_id, subjects[kind], ", ".join(RECIPIENTS))


def failed_a_try(ti: Any) -> bool:
    """Whether a try of the task instance failed: Airflow retries it, or waits to."""
    return ti.try_number > 1 or (ti.state is not None and ti.state.value == "up_for_retry")


def emails_after(c: Mapping[str, Campaign], polls: int) -> list[tuple]:
    """The emails ``polls`` polls cause about an ``empty`` campaign and one whose Master Assets
    folder is ``missing``: the warning at the threshold; retries, then the failure at the third."""
    sent = [email(c["missing"], "retry", attempt) for attempt in range(1, min(polls, 2) + 1)]
    if polls >= 3:
        sent.append(email(c["missing"], "failed"))
    if polls >= WARNING_THRESHOLD:
        sent.append(email(c["empty"], "warning"))
    return sent


def cluster_env(
    box: SandboxServer, dam: SandboxServer, mail: MailCatcher, tracking_url: str, **extra: str
) -> dict[str, str]:
    """The Airflow processes' environment: connections to the world, settings, the policy."""
    return {
        "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(box.url, timeout=BOX_TIMEOUT_S)),
        "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(dam_connection(dam.url)),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp_connection(mail.host, mail.port)),
        "AIRFLOW_CONN_TRACKING_DB": tracking_url,
        # settle_minutes 0: files uploaded between two polls promote at the next (the settle wait
        # is tests/dags/test_settling.py's; these runs follow the wall clock).
        "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps(
            {
                "recipients": list(RECIPIENTS),
                "warning_threshold": WARNING_THRESHOLD,
                "settle_minutes": 0,
            }
        ),
        "PYTHONPATH": os.pathsep.join(map(str, [POLICY_DIR, REPO / "plugins", REPO])),
        **extra,
    }


@contextmanager
def running_world(
    tallies: list[Tally], paused: bool = False, **cluster_extra: str
) -> Iterator[FaultWorld]:
    """Start the whole world, the DAG unpaused unless ``paused``; its scenarios' tallies go to
    ``tallies``. Stopped, and the tracking cluster dropped, afterwards."""
    tracking = TrackingServer().create()
    box = SandboxServer(create_box_app({"box": box_fixture.box_fixture()}))
    dam = SandboxServer(create_dam_app({"dam": dam_fixture.dam()}))
    mail = MailCatcher().start()
    try:
        env = cluster_env(box, dam, mail, tracking.url, **cluster_extra)
        with airflow_cluster("LocalExecutor", env) as cluster:
            cluster.wait_for_dag(DAG_ID)
            started = FaultWorld(tracking, box, dam, mail, cluster, tallies)
            if not paused:
                started.unpause()
            yield started
    finally:
        mail.stop()
        dam.stop()
        box.stop()
        tracking.drop()
