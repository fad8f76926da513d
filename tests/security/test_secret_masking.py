"""DAM session ids, cookies and OAuth tokens and Box access tokens never reach a task's log.

Masking happens where Airflow writes the task log: in the supervisor of a real task process,
which the hooks tell of each secret (`mask_secret`). So the run here is a real one (scheduler,
LocalExecutor, API server) and the text read is the task log files under AIRFLOW_HOME/logs.
`dag.test()` and `airflow tasks test` run tasks in their own process and print unmasked.
(No secret is committed to the repository: tests/deploy/test_compose.py scans for them.)
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk._shared.secrets_masker import redact
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.models import DAGPatchBody, TriggerDAGRunPostBody

from campaigns.hooks.box import BoxHook
from campaigns.hooks.dam import DamHook
from sandbox.box import fixture as box_fixture
from sandbox.box.app import create_app as create_box_app
from sandbox.connections import box_connection, dam_connection, smtp_connection
from sandbox.dam import fixture as dam_fixture
from sandbox.dam.app import SearchAnswer, error_body
from sandbox.dam.app import create_app as create_dam_app
from sandbox.mail import MailCatcher
from sandbox.server import RunningServer, run_in_thread
from tests.e2e.cluster import airflow_cluster

DAG_ID = "a1_to_a2"
# A DAM that names its caller in an error message: the hook logs that message and retries.
BUSY = {
    "session": "Session {session_id} (cookie {secret}) is busy, try again",
    "oauth2": "Token {secret} is busy, try again",
}
OAUTH2 = {
    "auth": "oauth2",
    "client_id": dam_fixture.CLIENT_ID,
    "client_secret": dam_fixture.CLIENT_SECRET,
}


class Sandboxes:
    """The Box and DAM sandboxes and a mail catcher, with campaigns that reach Box and the DAM."""

    def __init__(self, uid: str):
        ready, waiting = f"{uid}-ready", f"{uid}-waiting"
        fixture = {
            "box": box_fixture.box_fixture(
                box_fixture.campaign_folder(f"box-{ready}", assets={"master.mov": 4096}),
                box_fixture.campaign_folder(f"box-{waiting}"),
            ),
            "dam": dam_fixture.dam(
                [dam_fixture.campaign(cid, box_folder_id=f"box-{cid}") for cid in (ready, waiting)]
            ),
        }
        self.ready = ready
        self.box = run_in_thread(create_box_app(fixture))
        self.dam = run_in_thread(create_dam_app(fixture))
        self.mail = MailCatcher().start()

    def state(self, server: RunningServer, name: str) -> Any:
        return getattr(server.server.config.app.state, name)

    def stop(self) -> None:
        self.mail.stop()
        self.dam.stop()
        self.box.stop()


@pytest.fixture
def sandboxes(tracking_db_url: str) -> Iterator[Sandboxes]:
    running = Sandboxes(uuid.uuid4().hex[:6])
    yield running
    running.stop()


@pytest.mark.slow
def test_secrets_are_masked_in_the_task_logs_of_a_real_run(sandboxes, monkeypatch):
    # The DAM connection is set per run below, in Airflow's database: no environment override.
    monkeypatch.delenv("AIRFLOW_CONN_DAM_DEFAULT", raising=False)
    env = {
        "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(sandboxes.box.url)),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            smtp_connection(sandboxes.mail.host, sandboxes.mail.port)
        ),
        "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps({"recipients": ["ops@example.com"]}),
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    }
    dam_state = sandboxes.state(sandboxes.dam, "dam")
    box_state = sandboxes.state(sandboxes.box, "box")
    with airflow_cluster("LocalExecutor", env) as cluster:
        cluster.wait_for_dag(DAG_ID)
        api = cluster.client()
        DAGApi(api).patch_dag(DAG_ID, DAGPatchBody(is_paused=False))
        for number, (auth, extras) in enumerate([("session", {}), ("oauth2", OAUTH2)]):
            if number:
                cluster.airflow("connections", "delete", "dam_default")
            connection = dam_connection(sandboxes.dam.url, **extras)
            cluster.airflow(
                "connections", "add", "dam_default", "--conn-json", json.dumps(connection)
            )
            dam_state.search_answers.append(
                SearchAnswer(status=503, body=error_body(503, BUSY[auth]))
            )

            run_id = f"masking__{auth}__{uuid.uuid4().hex[:6]}"
            DagRunApi(api).trigger_dag_run(
                DAG_ID, TriggerDAGRunPostBody(dag_run_id=run_id, logical_date=datetime.now(UTC))
            )
            assert cluster.wait_for_run(DAG_ID, run_id, 240) == "success", cluster.log_tails()

            log = _task_logs(cluster.home, run_id)
            if not number:  # its campaign with assets goes to A2 in the first run
                assert f"{sandboxes.ready} moved to A2" in log
            masked = BUSY[auth].format(session_id="***", secret="***")
            assert f"answered 503: {masked}" in log
            secrets = list(dam_state.sessions)  # cookies, or OAuth tokens
            if auth == "session":
                secrets += [str(session.session_id) for session in dam_state.sessions.values()]
            secrets += list(box_state.tokens)
            assert secrets
            for secret in secrets:
                assert secret not in log


def _task_logs(home: Path, run_id: str) -> str:
    """Every task log of the run, as Airflow wrote it."""
    files = sorted((home / "logs" / f"dag_id={DAG_ID}" / f"run_id={run_id}").rglob("*.log"))
    assert files, f"no task logs for {run_id} under {home / 'logs'}"
    return "\n".join(path.read_text(errors="replace") for path in files)


def test_hooks_register_what_they_sign_in_with(monkeypatch):
    """Each secret a hook receives is handed to Airflow's masker as it arrives."""
    # A campaign at A1: the Test button (the DAM check) passes only with one to read.
    dam_part = dam_fixture.dam([dam_fixture.campaign("c1")])
    fixture = {"box": box_fixture.box_fixture(), "dam": dam_part}
    with (
        run_in_thread(create_box_app(fixture)) as box,
        run_in_thread(create_dam_app(fixture)) as dam,
    ):
        sessions = dam.server.config.app.state.dam.sessions
        monkeypatch.setenv("AIRFLOW_CONN_DAM_DEFAULT", json.dumps(dam_connection(dam.url)))
        assert DamHook().test_connection()[0]
        ((cookie, session),) = sessions.items()
        monkeypatch.setenv(
            "AIRFLOW_CONN_DAM_DEFAULT", json.dumps(dam_connection(dam.url, **OAUTH2))
        )
        assert DamHook().test_connection()[0]
        (token,) = set(sessions) - {cookie}
        monkeypatch.setenv("AIRFLOW_CONN_BOX_DEFAULT", json.dumps(box_connection(box.url)))
        BoxHook().sign_in()
        (box_token,) = box.server.config.app.state.box.tokens

    for secret in (cookie, str(session.session_id), token, box_token):
        assert redact(f"value {secret}") == "value ***"
