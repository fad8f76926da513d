"""``bin/demo`` as a new user runs it: the UI comes up, the grid reads as the README says, Ctrl-C
(SIGINT to its process group) and SIGTERM each stop every process it started, and it starts again
on the same ports."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psutil
import psycopg
import pytest
import requests

from campaigns.operators.actions import ACTION_OPERATORS
from demo.processes import session_members, signal_session
from stack.cluster import free_port
from tests.conftest import PG_ADMIN_DSN

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
GRID = ["fetch", "select", "check", "decide", *sorted(ACTION_OPERATORS), "report"]


@pytest.fixture(scope="module")
def demo_venv() -> None:
    """``.demo/venv`` as ``bin/demo`` makes it on first use (minutes then; at once after)."""
    subprocess.run(
        ["bash", "-c", "source bin/lib/venv.sh && ensure_venv .demo/venv requirements-demo.txt"],
        cwd=REPO,
        check=True,
        timeout=1200,
    )


class Demo:
    """One ``bin/demo`` in a session of its own, with its own home, ports and databases."""

    def __init__(self, home: Path, database: str) -> None:
        self.home, self.database = home, database
        self.ports = {name: free_port() for name in ("port", "box-port", "dam-port", "smtp-port")}
        self.url = f"http://127.0.0.1:{self.ports['port']}"
        self.process: subprocess.Popen | None = None
        self.sessions: set[int] = set()

    def start(self) -> None:
        # Without the test session's Airflow settings: the demo makes its own.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "PYTHON"))}
        ports = [f"--{name}={port}" for name, port in self.ports.items()]
        options = [f"--home={self.home}", f"--database={self.database}", *ports]
        with (self.home / "demo.log").open("a") as log:
            self.process = subprocess.Popen(
                [str(REPO / "bin/demo"), *options],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.sessions = {self.process.pid}

    def wait_for(self, probe: Callable[[], Any], what: str, timeout: float = 300) -> Any:
        deadline = time.monotonic() + timeout
        while not (found := probe()):
            assert self.process.poll() is None, f"the demo exited\n{self.log()}"
            assert time.monotonic() < deadline, f"no {what} after {timeout} s\n{self.log()}"
            time.sleep(1)
        return found

    def ui_answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/api/v2/monitor/health", timeout=5).ok
        except requests.ConnectionError:
            return False

    def api(self, method: str, path: str, **arguments: Any) -> requests.Response:
        """A request to the Airflow API as admin."""
        password = json.loads((self.home / "passwords.json").read_text())["admin"]
        token = requests.post(
            f"{self.url}/auth/token", json={"username": "admin", "password": password}, timeout=60
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        return requests.request(method, self.url + path, headers=headers, timeout=60, **arguments)

    def grid(self) -> list[dict[str, Any]] | None:
        """The grid's rows once the DAG is parsed (``/ui/grid/structure``, as the UI reads it)."""
        response = self.api("GET", "/ui/grid/structure/a1_to_a2")
        return response.json() if response.status_code == 200 else None

    def fetch_at_work(self) -> None:
        """A triggered run whose ``fetch`` waits on the DAM (two minutes an answer): a task
        process at work when the demo is stopped, as in the poll a user interrupts."""
        dam = f"http://127.0.0.1:{self.ports['dam-port']}"
        requests.post(f"{dam}/_sandbox/latency", json={"ms": 120_000}, timeout=30)
        self.api("POST", "/api/v2/dags/a1_to_a2/dagRuns", json={"logical_date": None})

        def fetching() -> bool:
            running = self.api(
                "GET", "/api/v2/dags/a1_to_a2/dagRuns/~/taskInstances", params={"state": "running"}
            ).json()["task_instances"]
            return any(instance["task_id"] == "fetch" for instance in running)

        self.wait_for(fetching, "running fetch")

    def note_sessions(self) -> None:
        """The sessions of every process the demo started (each child has its own)."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        self.sessions |= {os.getsid(child.pid) for child in children}

    def stopped(self, timeout: float = 30) -> list[psutil.Process]:
        """Wait for the demo to return; the processes of its sessions still alive after that."""
        returned = self.process.wait(timeout=timeout)
        assert returned == 0, self.log()
        deadline = time.monotonic() + timeout
        while (left := self.left()) and time.monotonic() < deadline:
            time.sleep(1)
        return left

    def left(self) -> list[psutil.Process]:
        return [process for session in self.sessions for process in session_members(session)]

    def ports_in_use(self) -> list[int]:
        in_use = []
        for port in self.ports.values():
            with socket.socket() as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind(("0.0.0.0", port))
                except OSError:
                    in_use.append(port)
        return in_use

    def kill(self) -> None:
        """After a failure: what the demo left."""
        for session in self.sessions:
            signal_session(session, signal.SIGKILL)
        if self.process:
            self.process.wait(timeout=30)

    def log(self) -> str:
        return (self.home / "demo.log").read_text(errors="replace")[-4000:]


@pytest.fixture
def demo(demo_venv: None, tmp_path: Path) -> Iterator[Demo]:
    database = f"a1_test_demo_{uuid.uuid4().hex[:8]}"
    started = Demo(tmp_path, database)
    try:
        yield started
    finally:
        started.kill()
        with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as admin:
            for name in (database, f"{database}_airflow"):
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_ctrl_c_stops_everything_and_the_demo_starts_again(demo: Demo):
    demo.start()
    demo.wait_for(demo.ui_answers, "answer from the UI")
    rows = demo.wait_for(demo.grid, "grid of a1_to_a2")
    assert [row["label"] for row in rows] == GRID
    demo.fetch_at_work()
    demo.note_sessions()
    # The demo, the sandboxes, Airflow standalone: each a session of its own.
    assert len(demo.sessions) == 3, demo.sessions

    os.killpg(demo.process.pid, signal.SIGINT)  # what Ctrl-C in its terminal does

    assert demo.stopped() == []
    assert demo.ports_in_use() == []
    assert sorted(demo.home.rglob("*.pid")) == []

    demo.start()
    demo.wait_for(demo.ui_answers, "answer from the UI after a restart")
    demo.note_sessions()

    demo.process.send_signal(signal.SIGTERM)  # `kill`, to the demo alone

    assert demo.stopped() == []
    assert demo.ports_in_use() == []
