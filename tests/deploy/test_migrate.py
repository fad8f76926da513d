"""``python -m campaigns.migrate`` (the init job's and the Helm hook's command), as a process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from campaigns import sql

REPO = Path(__file__).resolve().parents[2]


def migrate(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "campaigns.migrate", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO / "plugins"), **env},
        timeout=300,
    )


def test_applies_every_migration_once_and_says_which(empty_db):
    versions = [version for version, _ in sql.migrations()]

    first = migrate("--conn-id", "empty_db")
    assert first.returncode == 0, first.stderr
    assert [line for line in first.stdout.splitlines() if line.startswith("applied ")] == [
        f"applied {version}" for version in versions
    ]
    assert f"empty_db: {len(versions)} migration(s) applied" in first.stdout

    again = migrate("--conn-id", "empty_db")
    assert again.returncode == 0, again.stderr
    assert "empty_db: 0 migration(s) applied, schema up to date" in again.stdout


def test_refuses_a_migration_edited_after_it_ran(empty_db, tmp_path):
    copy = tmp_path / "sql"
    shutil.copytree(sql.SQL_DIR, copy)
    assert migrate("--conn-id", "empty_db", A1_TO_A2_SQL_DIR=str(copy)).returncode == 0
    first = sorted((copy / "migrations").glob("0001_*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")

    edited = migrate("--conn-id", "empty_db", A1_TO_A2_SQL_DIR=str(copy))
    assert edited.returncode == 1
    assert "refused: migration 0001_" in edited.stderr
