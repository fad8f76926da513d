"""Session-wide set-up: an isolated AIRFLOW_HOME and a throwaway tracking database."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Airflow reads its configuration at import time: point it at a private home before any import.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="a1-airflow-home-"))
_WORKER = os.environ.get("PYTEST_XDIST_WORKER")
if _WORKER and os.environ.get("A1_TEST_HOME_OF") != _WORKER:
    # An xdist worker inherits the controller's home and database: each needs its own (once:
    # this file may be imported twice, as `conftest` and as `tests.conftest`).
    os.environ.pop("AIRFLOW_HOME", None)
    os.environ.pop("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", None)
    os.environ["A1_TEST_HOME_OF"] = _WORKER
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(Path(__file__).parents[1] / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(Path(__file__).parents[1] / "plugins"))
os.environ.setdefault("AIRFLOW__API__BASE_URL", "http://localhost:8080")
# One Airflow metadata database per test session, created only if a test asks for `airflow_db`.
_PG_SERVER = os.environ.get("A1_TEST_PG_SERVER", "postgres@127.0.0.1:5432")
os.environ.setdefault(
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    f"postgresql+psycopg://{_PG_SERVER}/a1_test_airflow_{uuid.uuid4().hex[:12]}",
)
_AIRFLOW_DB = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].rsplit("/", 1)[1]

import psycopg  # noqa: E402
import pytest  # noqa: E402

PG_ADMIN_DSN = f"postgresql://{_PG_SERVER}/postgres"
# Loaded by every process of the session, so that the one that prints has the faults' table.
pytest_plugins = ["tests.faults.summary"]


def _admin(statement: str) -> None:
    with psycopg.connect(PG_ADMIN_DSN, autocommit=True) as conn:
        conn.execute(statement)


@contextmanager
def throwaway_database(conn_id: str) -> Iterator[str]:
    """An empty PostgreSQL database reachable as Airflow connection ``conn_id``; dropped after."""
    name = f"a1_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    url = PG_ADMIN_DSN.rsplit("/", 1)[0] + f"/{name}"
    variable = f"AIRFLOW_CONN_{conn_id.upper()}"
    previous = os.environ.get(variable)
    os.environ[variable] = url
    try:
        yield url
    finally:
        if previous is None:
            os.environ.pop(variable, None)
        else:
            os.environ[variable] = previous
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def tracking_db_url() -> Iterator[str]:
    """The session's tracking database (connection ``tracking_db``), schema applied."""
    with throwaway_database("tracking_db") as url:
        from campaigns.hooks.retry_state import RetryStateHook

        RetryStateHook().apply_migrations()
        yield url


@pytest.fixture
def empty_db() -> Iterator[str]:
    """A database of its own, without the schema, as connection ``empty_db``."""
    with throwaway_database("empty_db") as url:
        yield url


@pytest.fixture(scope="session")
def airflow_db() -> Iterator[None]:
    """The session's Airflow metadata database, migrated; dropped afterwards."""
    if not _AIRFLOW_DB.startswith("a1_test_airflow_"):
        pytest.fail("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN names a database the tests did not make")
    _admin(f'CREATE DATABASE "{_AIRFLOW_DB}"')
    try:
        migrated = subprocess.run(
            [str(Path(sys.executable).with_name("airflow")), "db", "migrate"],
            capture_output=True,
            text=True,
        )
        if migrated.returncode:
            pytest.fail(f"airflow db migrate failed:\n{migrated.stderr[-3000:]}")
        yield
    finally:
        from airflow import settings

        if settings.Session is not None:
            settings.Session.remove()
        if settings.engine is not None:
            settings.engine.dispose()
        _admin(f'DROP DATABASE IF EXISTS "{_AIRFLOW_DB}" WITH (FORCE)')
