"""Throwaway databases on the PostgreSQL server the tests and the benchmark share."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

PG_SERVER = os.environ.get("A1_TEST_PG_SERVER", "postgres@127.0.0.1:5432")


def pg_url(database: str) -> str:
    """The libpq URL of a database on the server."""
    return f"postgresql://{PG_SERVER}/{database}"


def admin(statement: str) -> Any:
    """Run a statement on the server's ``postgres`` database (autocommit); its rows, if any."""
    with psycopg.connect(pg_url("postgres"), autocommit=True) as conn:
        cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else None


def unique_name(prefix: str) -> str:
    """A database name of its own: ``<prefix>_<random>``."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def create_database(name: str) -> None:
    admin(f'CREATE DATABASE "{name}"')


def drop_database(name: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def throwaway_database(prefix: str) -> Iterator[str]:
    """A new empty database, dropped afterwards; yields its name."""
    name = unique_name(prefix)
    create_database(name)
    try:
        yield name
    finally:
        drop_database(name)
