"""The services a benchmark run needs besides the databases: the sandboxes and Airflow itself."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import requests

from bench import ROOT, progress
from sandbox.box import fixture as box_fixture
from sandbox.connections import box_connection, dam_connection
from sandbox.dam import fixture as dam_fixture
from stack.cluster import AirflowCluster, ClusterError, free_port
from stack.postgres import admin, pg_url

DAG_ID = "a1_to_a2"
FINISHED = ("success", "failed")
IMPORT_ERROR_GRACE = 120


class StatementLog:
    """Statements one database ran, counted from the PostgreSQL server's own log."""

    def __init__(self, database: str):
        self.database = database
        self.path = self._log_file()
        admin(f"ALTER DATABASE \"{database}\" SET log_statement = 'all'")
        self._line = re.compile(rf"@{re.escape(database)} LOG:  (statement|execute [^:]*): ")
        self._offset = 0

    @staticmethod
    def _log_file() -> Path | None:
        configured = os.environ.get("A1_BENCH_PG_LOG")
        if configured:
            return Path(configured)
        ((version,),) = admin("SELECT current_setting('server_version_num')")
        path = Path(f"/var/log/postgresql/postgresql-{int(version) // 10000}-main.log")
        return path if os.access(path, os.R_OK) else None

    def mark(self) -> None:
        """Count from here on."""
        if self.path:
            self._offset = self.path.stat().st_size

    def count(self) -> int | None:
        """Statements logged for the database since `mark`; None when the log is unreadable."""
        if not self.path:
            return None
        time.sleep(0.5)  # the server writes its log asynchronously
        with self.path.open("rb") as log:
            log.seek(self._offset)
            text = log.read().decode(errors="replace")
        return sum(1 for _ in self._line.finditer(text))


def campaign_ids(prefix: str, size: int) -> list[str]:
    return [f"{prefix}-{number:05d}" for number in range(size)]


def world(prefix: str, size: int) -> dict[str, Any]:
    """`size` campaigns at A1, each with an empty Master Assets folder in Box."""
    ids = campaign_ids(prefix, size)
    return {
        "box": box_fixture.box_fixture(*(box_fixture.campaign_folder(f"box-{i}") for i in ids)),
        "dam": dam_fixture.dam([dam_fixture.campaign(i, box_folder_id=f"box-{i}") for i in ids]),
    }


class Sandboxes:
    """`python -m sandbox serve` on fixed ports, restarted with a new fixture per scenario."""

    def __init__(self, workdir: Path, latency_ms: int):
        self.workdir = workdir
        self.latency_ms = latency_ms
        self.ports = {"box": free_port(), "dam": free_port()}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.process: subprocess.Popen | None = None

    def connections(self) -> dict[str, str]:
        """The AIRFLOW_CONN_* variables pointing at the sandboxes."""
        # Bench connections retry like production: 5 attempts and real backoff.
        return {
            "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(
                box_connection(self.urls["box"], max_attempts=5, retry_base_interval=1)
            ),
            "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(
                dam_connection(self.urls["dam"], max_attempts=5, backoff=1.0)
            ),
        }

    def start(self, fixture: dict) -> None:
        self.stop()
        path = self.workdir / "fixture.json"
        path.write_text(json.dumps(fixture))
        command = [sys.executable, "-m", "sandbox", "serve", "--fixture", str(path)]
        command += ["--box-port", str(self.ports["box"]), "--dam-port", str(self.ports["dam"])]
        command += ["--latency-ms", str(self.latency_ms)]
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2):
            if not self.process.stdout.readline():
                raise RuntimeError("the sandboxes did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
            self.process = None

    def control(self, name: str, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(
            method, f"{self.urls[name]}/_sandbox/{path}", timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def reset_counters(self) -> None:
        for name in self.urls:
            self.control(name, "POST", "counters/reset")

    def counters(self, name: str) -> dict[str, int]:
        return self.control(name, "GET", "counters")


class RateSampler:
    """Samples the Box request total every second, for the busiest minute of a run."""

    def __init__(self, sandboxes: Sandboxes):
        self.sandboxes = sandboxes
        self.samples: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> RateSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while True:
            total = sum(self.sandboxes.counters("box").values())
            self.samples.append((time.monotonic(), total))
            if self._stop.wait(1.0):
                return

    def busiest_minute(self) -> int:
        """Most Box requests between two samples at most 60 s apart."""
        busiest = 0
        for start, (t0, n0) in enumerate(self.samples):
            for t1, n1 in self.samples[start:]:
                if t1 - t0 > 60:
                    break
                busiest = max(busiest, n1 - n0)
        return busiest


class AirflowStack(AirflowCluster):
    """The shared cluster as the benchmark runs it: LocalExecutor, Airflow's own loop intervals,
    runs only when triggered, measured from the metadata database."""

    def __init__(self, extra_env: dict[str, str]):
        super().__init__(
            "LocalExecutor",
            {
                **extra_env,
                "AIRFLOW__API__WORKERS": "2",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                # Runs come from `dags trigger` only; the cron schedule would add its own.
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            },
            fast_loops=False,
        )
        self._import_failing_since: float | None = None

    def start(self, timeout: float = 180) -> AirflowStack:
        progress("migrating the metadata database; starting API server, DAG processor, scheduler")
        super().start(timeout)
        serialized = "SELECT 1 FROM serialized_dag WHERE dag_id = %s"
        self.wait_for(
            lambda: self._dag_imports() and self._query(serialized, DAG_ID),
            f"the DAG processor to serialize {DAG_ID}",
            timeout,
        )
        return self

    def stop(self) -> None:
        super().stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def _query(self, statement: str, *params: Any) -> list[tuple]:
        with psycopg.connect(pg_url(self.database), autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()

    def _dag_imports(self) -> bool:
        """True, or raise when the DAG file has not imported for a while."""
        errors = self._query("SELECT stacktrace FROM import_error")
        if not errors:
            self._import_failing_since = None
            return True
        # Others may be editing the tree: only an import error that stays is fatal.
        self._import_failing_since = self._import_failing_since or time.monotonic()
        if time.monotonic() - self._import_failing_since > IMPORT_ERROR_GRACE:
            raise ClusterError(f"the DAG file does not import:\n{errors[0][0]}")
        return True

    def trigger(self, run_id: str, conf: dict[str, Any]) -> None:
        self.airflow("dags", "trigger", DAG_ID, "-r", run_id, "-c", json.dumps(conf))

    def wait(self, run_id: str, timeout: float) -> dict[str, Any]:
        """The finished run: state, seconds from queued to end, task instances by state."""

        def finished() -> dict[str, Any] | None:
            self._dag_imports()
            rows = self._query(
                "SELECT state, EXTRACT(EPOCH FROM end_date - queued_at),"
                " EXTRACT(EPOCH FROM end_date - start_date) FROM dag_run"
                " WHERE dag_id = %s AND run_id = %s",
                DAG_ID,
                run_id,
            )
            if not rows or rows[0][0] not in FINISHED:
                return None
            state, wall, running = rows[0]
            instances = self._query(
                "SELECT task_id, state, count(*) FROM task_instance"
                " WHERE dag_id = %s AND run_id = %s GROUP BY task_id, state",
                DAG_ID,
                run_id,
            )
            stages = self._query(
                "SELECT t.task_id, count(*),"
                " EXTRACT(EPOCH FROM min(t.start_date) - r.queued_at),"
                " EXTRACT(EPOCH FROM max(t.end_date) - r.queued_at),"
                " coalesce(sum(t.duration), 0)"
                " FROM task_instance t JOIN dag_run r USING (dag_id, run_id)"
                " WHERE t.dag_id = %s AND t.run_id = %s AND t.start_date IS NOT NULL"
                " GROUP BY t.task_id, r.queued_at ORDER BY 3",
                DAG_ID,
                run_id,
            )
            return {
                "state": state,
                "stages": [
                    Stage(task, count, float(start), float(end), float(busy))
                    for task, count, start, end, busy in stages
                ],
                "seconds": float(wall),
                "running_seconds": float(running),
                "task_instances": sum(n for _, _, n in instances),
                "by_task": {f"{task} {ti_state}": n for task, ti_state, n in instances},
            }

        return self.wait_for(finished, f"run {run_id} to finish", timeout)


@dataclass(frozen=True)
class Stage:
    """One task of a run: its instances, first start and last end (seconds after the run was
    queued) and the instances' seconds added up."""

    task_id: str
    instances: int
    start: float
    end: float
    busy: float

    def __str__(self) -> str:
        return (
            f"{self.task_id} x{self.instances} {self.start:.1f}-{self.end:.1f} s "
            f"(busy {self.busy:.1f} s)"
        )


@contextmanager
def workdir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="a1-bench-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
