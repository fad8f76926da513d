"""Airflow as it runs in production: API server, scheduler and DAG processor as separate processes.

`AirflowCluster` owns a throwaway metadata database on the test PostgreSQL server, an
AIRFLOW_HOME, and the three processes; `client()` is an `apache-airflow-client` ApiClient signed
in as the simple auth manager's admin.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import psycopg
import requests
from airflow_client import client as airflow_client

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
PG_SERVER = os.environ.get("A1_TEST_PG_SERVER", "postgres@127.0.0.1:5432")
PG_ADMIN_DSN = f"postgresql://{PG_SERVER}/postgres"
COMPONENTS = {
    "api-server": ["api-server"],
    "dag-processor": ["dag-processor"],
    "scheduler": ["scheduler", "--skip-serve-logs"],
}
# Shorter loops than the defaults, so a test waits seconds, not minutes.
FAST_LOOPS = {
    "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
    "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
    "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
    "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
    "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
    "AIRFLOW__API__WORKERS": "1",
}
T = TypeVar("T")


class ClusterError(RuntimeError):
    """A process died, a wait timed out or a command failed; the message has the log tails."""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(statement)


class AirflowCluster:
    """The three Airflow processes for one executor, sharing a metadata database and secrets."""

    def __init__(
        self,
        executor: str = "LocalExecutor",
        env: dict[str, str] | None = None,
        users: dict[str, str] | None = None,
    ):
        """``users``: extra simple-auth-manager users besides ``admin``, name -> role."""
        self.home = Path(tempfile.mkdtemp(prefix="a1-e2e-airflow-"))
        self.database = f"a1_e2e_{uuid.uuid4().hex[:12]}"
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        roles = {"admin": "admin", **(users or {})}
        self.passwords = {name: secrets.token_urlsafe(16) for name in roles}
        self.password = self.passwords["admin"]
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps(self.passwords))
        self.env = {
            **os.environ,
            **FAST_LOOPS,
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": (
                f"postgresql+psycopg://{PG_SERVER}/{self.database}"
            ),
            "AIRFLOW__CORE__EXECUTOR": executor,
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": ",".join(
                f"{name}:{role}" for name, role in roles.items()
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(self.port),
            "AIRFLOW__API__BASE_URL": self.url,
            "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
            "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
            "PATH": os.pathsep.join([str(VENV_BIN), os.environ.get("PATH", "")]),
            **(env or {}),
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self._tokens: dict[str, str] = {}

    def airflow(self, *args: str) -> str:
        """Run an ``airflow`` CLI command with the cluster's environment; its stdout."""
        done = subprocess.run(
            [str(VENV_BIN / "airflow"), *args], env=self.env, capture_output=True, text=True
        )
        if done.returncode:
            raise ClusterError(f"airflow {' '.join(args)} failed:\n{done.stderr[-4000:]}")
        return done.stdout

    def start(self, timeout: float = 120) -> AirflowCluster:
        """Create and migrate the metadata database, start the processes, wait for the API."""
        _admin(f'CREATE DATABASE "{self.database}"')
        self.airflow("db", "migrate")
        for name, args in COMPONENTS.items():
            with (self.home / f"{name}.log").open("w") as log:
                self.processes[name] = subprocess.Popen(
                    [str(VENV_BIN / "airflow"), *args],
                    env=self.env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        self.wait_for(self._api_up, "the API server to answer", timeout)
        return self

    def stop(self) -> None:
        """Terminate every process group (killing what outlives 20 s); drop the database."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # Task processes forked in the group may outlive their parent.
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        _admin(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def log_tails(self, lines: int = 40) -> str:
        """The last lines of every process's log, for a failure message."""
        parts = []
        for name in COMPONENTS:
            path = self.home / f"{name}.log"
            text = path.read_text(errors="replace").splitlines() if path.exists() else []
            parts.append(f"----- {name} ({path}) -----\n" + "\n".join(text[-lines:]))
        return "\n".join(parts)

    def token(self, user: str = "admin") -> str:
        """A JWT for ``user``, from ``POST /auth/token``."""
        if user not in self._tokens:
            response = requests.post(
                f"{self.url}/auth/token",
                json={"username": user, "password": self.passwords[user]},
                timeout=30,
            )
            response.raise_for_status()
            self._tokens[user] = response.json()["access_token"]
        return self._tokens[user]

    def client(self, user: str = "admin") -> airflow_client.ApiClient:
        """An API client for the REST API (``/api/v2``), signed in as ``user``."""
        configuration = airflow_client.Configuration(host=self.url, access_token=self.token(user))
        return airflow_client.ApiClient(configuration)

    def wait_for(
        self, probe: Callable[[], T | None], what: str, timeout: float, interval: float = 1
    ) -> T:
        """Poll ``probe`` until it returns something truthy; fail early if a process died."""
        deadline = time.monotonic() + timeout
        while True:
            dead = [name for name, p in self.processes.items() if p.poll() is not None]
            if dead:
                raise ClusterError(f"{', '.join(dead)} exited\n{self.log_tails()}")
            result = probe()
            if result:
                return result
            if time.monotonic() > deadline:
                raise ClusterError(f"timed out after {timeout:.0f} s waiting for {what}")
            time.sleep(interval)

    def _api_up(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).ok
        except requests.ConnectionError:
            return False


@contextmanager
def airflow_cluster(
    executor: str = "LocalExecutor",
    env: dict[str, str] | None = None,
    users: dict[str, str] | None = None,
) -> Iterator[AirflowCluster]:
    """A started cluster, stopped and its database dropped on exit.

    On failure the log tails go to stderr and AIRFLOW_HOME (with the full logs) is kept.
    """
    cluster = AirflowCluster(executor, env, users)
    try:
        yield cluster.start()
    except BaseException:
        print(cluster.log_tails(80), file=sys.stderr)
        cluster.stop()
        raise
    cluster.stop()
    shutil.rmtree(cluster.home, ignore_errors=True)
