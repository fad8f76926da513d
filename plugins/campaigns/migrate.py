"""``python -m campaigns.migrate``: apply the tracking database's migrations not applied yet."""

from __future__ import annotations

import argparse
import sys

from campaigns.hooks.retry_state import MigrationChanged, RetryStateHook


def main(argv: list[str] | None = None) -> int:
    """Apply the pending migrations, print each one applied; 1 if an applied one was edited."""
    parser = argparse.ArgumentParser(prog="python -m campaigns.migrate", description=__doc__)
    parser.add_argument(
        "--conn-id",
        default=RetryStateHook.default_conn_name,
        help="Airflow connection of the tracking database (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        applied = RetryStateHook(postgres_conn_id=args.conn_id).apply_migrations()
    except MigrationChanged as error:
        print(f"refused: {error}", file=sys.stderr)
        return 1
    for version in applied:
        print(f"applied {version}")
    print(f"{args.conn_id}: {len(applied)} migration(s) applied, schema up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
