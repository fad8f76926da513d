"""Airflow as it runs in production: API server, scheduler and DAG processor as separate processes.

`AirflowCluster` owns a throwaway metadata database, an AIRFLOW_HOME and the processes; with the
CeleryExecutor also Celery workers and a Redis database of their own as the broker. `client()` is
an `apache-airflow-client` ApiClient signed in as a simple auth manager user.
"""

from __future__ import annotations

import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TypeVar

import psutil
import redis
import requests
from airflow_client import client as airflow_client
from airflow_client.client.api.dag_api import DAGApi
from airflow_client.client.api.dag_run_api import DagRunApi
from airflow_client.client.exceptions import NotFoundException

from stack.hostname import WORKER_NAME
from stack.postgres import create_database, drop_database, pg_url, unique_name

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
REDIS_SERVER = os.environ.get("A1_TEST_REDIS_SERVER", "127.0.0.1:6379")
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
CELERY = "CeleryExecutor"
# The key that marks a Redis database as a cluster's broker until the cluster stops.
CLAIM = "a1-airflow-cluster"
# The workers share this machine's hostname: each reports its own name instead.
WORKER_HOSTNAME = {"AIRFLOW__CORE__HOSTNAME_CALLABLE": "stack.hostname.worker_name"}
T = TypeVar("T")


class ClusterError(RuntimeError):
    """A process died, a wait timed out or a command failed; the message has the log tails."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class AirflowCluster:
    """The Airflow processes for one executor, sharing a metadata database and secrets."""

    def __init__(
        self,
        executor: str = "LocalExecutor",
        env: dict[str, str] | None = None,
        users: dict[str, str] | None = None,
        *,
        workers: int = 0,
        worker_concurrency: int = 2,
        fast_loops: bool = True,
    ):
        """``users``: extra simple-auth-manager users besides ``admin``, name -> role.

        ``workers``: Celery workers ``w1``... (CeleryExecutor only), each running
        ``worker_concurrency`` tasks at once. ``fast_loops=False`` keeps Airflow's own scheduler
        and DAG processor intervals (the benchmark's choice).
        """
        if workers and executor != CELERY:
            raise ValueError(f"Celery workers need the {CELERY}, not {executor}")
        self.home = Path(tempfile.mkdtemp(prefix="a1-airflow-"))
        self.database = unique_name("a1_airflow")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        roles = {"admin": "admin", **(users or {})}
        self.passwords = {name: secrets.token_urlsafe(16) for name in roles}
        self.password = self.passwords["admin"]
        passwords = self.home / "passwords.json"
        passwords.write_text(json.dumps(self.passwords))
        self.workers = [f"w{number}" for number in range(1, workers + 1)]
        self.worker_concurrency = worker_concurrency
        self.broker_url = _claim_redis_db(self.database) if executor == CELERY else None
        metadata_url = pg_url(self.database)
        self.env = {
            **os.environ,
            **(FAST_LOOPS if fast_loops else {}),
            "AIRFLOW_HOME": str(self.home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url.replace(
                "postgresql://", "postgresql+psycopg://"
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
            **(
                {
                    "AIRFLOW__CELERY__BROKER_URL": self.broker_url,
                    "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{metadata_url}",
                }
                if self.broker_url
                else {}
            ),
            **(env or {}),
        }
        self.processes: dict[str, subprocess.Popen] = {}
        self._logs: list[str] = []
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
        """Create and migrate the metadata database, start the processes, wait until they serve."""
        create_database(self.database)
        self.airflow("db", "migrate")
        self._flush_broker(keep_claim=True)
        for name, args in COMPONENTS.items():
            self._spawn(name, args)
        for name in self.workers:
            self._spawn(name, self._worker_command(name), {WORKER_NAME: name, **WORKER_HOSTNAME})
        self.wait_for(self._api_up, "the API server to answer", timeout)
        for name in self.workers:
            self.wait_for(lambda name=name: self._worker_ready(name), f"{name} to start", timeout)
        return self

    def stop(self) -> None:
        """Terminate every process group (killing what outlives 20 s and the task processes
        forked meanwhile); drop the database and empty the broker."""
        forked = _descendants(self.processes.values())
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
            with suppress(ProcessLookupError):  # what outlived it in its group, or itself
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        _kill(forked)
        drop_database(self.database)
        self._flush_broker()

    def kill_worker(self, name: str) -> None:
        """SIGKILL Celery worker ``name``: its process group and every task process it forked
        (a task runner has a process group of its own)."""
        process = self.processes.pop(name)
        os.killpg(process.pid, signal.SIGSTOP)  # no new forks while its tree is listed
        forked = _descendants([process])
        os.killpg(process.pid, signal.SIGKILL)
        _kill(forked)
        process.wait()

    def log_tails(self, lines: int = 40) -> str:
        """The last lines of every process's log, for a failure message."""
        parts = []
        for name in self._logs:
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

    def wait_for_dag(self, dag_id: str, timeout: float = 180) -> None:
        """Until the DAG processor has serialized ``dag_id``."""
        dags = DAGApi(self.client())

        def parsed() -> bool:
            try:
                return bool(dags.get_dag(dag_id))
            except NotFoundException:
                return False

        self.wait_for(parsed, f"the DAG {dag_id} to be parsed", timeout)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> str:
        """Until the DAG run has finished; its state (``success`` or ``failed``)."""
        runs = DagRunApi(self.client())

        def finished() -> str | None:
            state = runs.get_dag_run(dag_id, run_id).state.value
            return state if state in ("success", "failed") else None

        return self.wait_for(finished, f"run {run_id} of {dag_id} to finish", timeout)

    def _spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Start ``airflow <args>`` in a process group of its own, logging to ``<name>.log``."""
        with (self.home / f"{name}.log").open("w") as log:
            self.processes[name] = subprocess.Popen(
                [str(VENV_BIN / "airflow"), *args],
                env={**self.env, **(env or {})},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self._logs.append(name)

    def _worker_command(self, name: str) -> list[str]:
        return [
            "celery",
            "worker",
            *("--concurrency", str(self.worker_concurrency)),
            *("--celery-hostname", f"{name}@%h"),
            *("--pid", str(self.home / f"{name}.pid")),
            "--skip-serve-logs",
        ]

    def _api_up(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).ok
        except requests.ConnectionError:
            return False

    def _worker_ready(self, name: str) -> bool:
        log = (self.home / f"{name}.log").read_text(errors="replace")
        return re.search(rf"\b{name}@\S+ ready\.", log) is not None

    def _flush_broker(self, keep_claim: bool = False) -> None:
        if self.broker_url:
            broker = redis.Redis.from_url(self.broker_url)
            broker.flushdb()
            if keep_claim:
                broker.set(CLAIM, self.database)


def _claim_redis_db(owner: str) -> str:
    """The URL of a Redis database (1 to 15, at random) that held no keys, claimed for ``owner``."""
    keyspace = redis.Redis.from_url(f"redis://{REDIS_SERVER}/0").info("keyspace")
    unused = [number for number in range(1, 16) if f"db{number}" not in keyspace]
    for number in random.sample(unused, len(unused)):
        url = f"redis://{REDIS_SERVER}/{number}"
        if redis.Redis.from_url(url).set(CLAIM, owner, nx=True):
            return url
    raise ClusterError(f"every Redis database 1-15 on {REDIS_SERVER} is in use")


def _descendants(processes: Iterable[subprocess.Popen]) -> list[psutil.Process]:
    found = []
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            found += psutil.Process(process.pid).children(recursive=True)
    return found


def _kill(processes: Iterable[psutil.Process]) -> None:
    for process in processes:
        with suppress(psutil.NoSuchProcess):
            process.kill()


@contextmanager
def airflow_cluster(
    executor: str = "LocalExecutor",
    env: dict[str, str] | None = None,
    users: dict[str, str] | None = None,
    **options: int | bool,
) -> Iterator[AirflowCluster]:
    """A started cluster, stopped and its database dropped on exit; ``options`` as the class's.

    On failure the log tails go to stderr and AIRFLOW_HOME (with the full logs) is kept.
    """
    cluster = AirflowCluster(executor, env, users, **options)
    try:
        yield cluster.start()
    except BaseException:
        print(cluster.log_tails(80), file=sys.stderr)
        cluster.stop()
        raise
    cluster.stop()
    shutil.rmtree(cluster.home, ignore_errors=True)
