"""SQL statements, read from the files under ``include/sql/``."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

SQL_DIR = Path(
    os.environ.get("A1_TO_A2_SQL_DIR", Path(__file__).resolve().parents[2] / "include" / "sql")
)


@cache
def load(name: str) -> str:
    """The statement in ``include/sql/<name>.sql`` (for example ``retry_state/record_polls``)."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def migrations() -> list[tuple[str, str]]:
    """The schema migrations as (version, SQL), in the order they are applied."""
    files = sorted((SQL_DIR / "migrations").glob("[0-9][0-9][0-9][0-9]_*.sql"))
    return [(path.stem, path.read_text(encoding="utf-8")) for path in files]
