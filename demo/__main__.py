"""``python -m demo``: prepare the demo's tracking database and say where it is."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from demo.postgres import ensure_database, server_url

DEMO_HOME = Path(__file__).resolve().parents[1] / ".demo"


def main() -> None:
    parser = argparse.ArgumentParser(prog="bin/demo", description=__doc__)
    parser.add_argument("--home", type=Path, default=DEMO_HOME, help="where the demo keeps state")
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)

    tracking_url = ensure_database(server_url(args.home / "pgdata"), "a1_to_a2_demo")
    os.environ["AIRFLOW_CONN_TRACKING_DB"] = tracking_url
    os.environ.setdefault("AIRFLOW_HOME", str(args.home / "airflow"))
    from campaigns.hooks.retry_state import RetryStateHook

    applied = RetryStateHook().apply_migrations()
    print(f"Tracking database ready: {tracking_url}")
    print(f"Migrations applied now: {', '.join(applied) or 'none (already up to date)'}")


if __name__ == "__main__":
    main()
