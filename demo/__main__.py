"""``bin/demo``: the a1_to_a2 DAG on embedded services, in the Airflow UI or as a quick table.

It starts (or finds) PostgreSQL, starts the Box and DAM sandboxes seeded from ``demo/fixture.json``
and a mail catcher that writes every email to ``.demo/mail/``, then either runs Airflow standalone
with the DAG unpaused (default) or, with ``--quick N``, runs N polls back to back and prints what
each campaign went through.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

from demo.postgres import ensure_database, server_url
from demo.processes import Children

REPO = Path(__file__).resolve().parents[1]
DEMO_HOME = REPO / ".demo"
FIXTURE = REPO / "demo" / "fixture.json"
LATE_ASSETS = {"box-cmp-1006-ma": {"Brand Book.pdf": 1_200_000, "Logo Pack.zip": 640_000}}
SETTINGS = {
    "recipients": ["campaign-ops@example.com"],
    "sender": "a1-to-a2@example.com",
    # Low, so that the demo reaches the warning within a few polls; production keeps 20.
    "warning_threshold": 3,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="bin/demo", description=__doc__)
    parser.add_argument(
        "--quick", type=int, metavar="POLLS", help="run POLLS polls and print a table"
    )
    parser.add_argument("--home", type=Path, default=DEMO_HOME, help="where the demo keeps state")
    parser.add_argument("--port", type=int, default=8080, help="Airflow UI port")
    parser.add_argument("--box-port", type=int, default=8091)
    parser.add_argument("--dam-port", type=int, default=8092)
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument(
        "--database",
        default="a1_to_a2_demo",
        help="tracking database (made afresh); Airflow's own is this name with _airflow",
    )
    args = parser.parse_args()
    args.home.mkdir(parents=True, exist_ok=True)
    # A SIGTERM stops the demo as Ctrl-C does: through the finally below.
    signal.signal(signal.SIGTERM, signal.default_int_handler)

    print("Starting PostgreSQL...", flush=True)
    admin_url = server_url(args.home / "pgdata")
    # The sandboxes start from their fixture every time, so the tracking state starts afresh too.
    tracking_url = ensure_database(admin_url, args.database, fresh=True)
    airflow_url = ensure_database(admin_url, f"{args.database}_airflow")

    children = Children()
    mail = None
    try:
        print("Starting the Box and DAM sandboxes and the mail catcher...", flush=True)
        urls = start_sandboxes(children, args.box_port, args.dam_port)
        from sandbox.mail import MailCatcher

        mail = MailCatcher(directory=args.home / "mail", port=args.smtp_port).start()
        os.environ.update(airflow_environment(args, tracking_url, airflow_url, urls, mail.port))
        from campaigns.hooks.retry_state import RetryStateHook

        RetryStateHook().apply_migrations()
        airflow("db", "migrate", quiet=True)
        if args.quick:
            run_quick(args.quick, urls["box"], mail)
        else:
            run_standalone(children, args)
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C must not cut the stop short; the stop is bounded.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("\nStopping everything the demo started...", flush=True)
        children.stop()
        if mail:
            mail.stop()


def start_sandboxes(children: Children, box_port: int, dam_port: int) -> dict[str, str]:
    """``python -m sandbox serve`` in the background; its URLs once it is listening."""
    process = children.start(
        [
            sys.executable,
            "-m",
            "sandbox",
            "serve",
            "--fixture",
            str(FIXTURE),
            "--box-port",
            str(box_port),
            "--dam-port",
            str(dam_port),
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    urls = {}
    while len(urls) < 2:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(
                "the sandboxes did not start (ports taken? see --box-port/--dam-port)"
            )
        name, url = line.split()
        urls[name] = url
    return urls


def airflow_environment(
    args: argparse.Namespace, tracking_url: str, airflow_url: str, urls: dict, smtp_port: int
) -> dict[str, str]:
    """Airflow's settings and the four connections, all as environment variables."""
    from sandbox.connections import box_connection, dam_connection, smtp_connection

    metadata_url = airflow_url.replace("postgresql://", "postgresql+psycopg://", 1)
    return {
        "AIRFLOW_HOME": str(args.home / "airflow"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url,
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        # The LocalExecutor forks this many workers at once (32 by default); 8 run a demo poll.
        "AIRFLOW__CORE__PARALLELISM": "8",
        # The Test button of Admin -> Connections, for a DAM or Box connection added there.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(args.home / "passwords.json"),
        "AIRFLOW__API__PORT": str(args.port),
        "AIRFLOW__API__BASE_URL": f"http://localhost:{args.port}",
        "AIRFLOW_CONN_TRACKING_DB": tracking_url,
        "AIRFLOW_CONN_BOX_DEFAULT": json.dumps(box_connection(urls["box"])),
        "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(dam_connection(urls["dam"])),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(smtp_connection("127.0.0.1", smtp_port)),
        "AIRFLOW_VAR_A1_TO_A2_SETTINGS": json.dumps(SETTINGS),
        "PYTHONPATH": os.pathsep.join([str(REPO / "plugins"), str(REPO)]),
        # Airflow standalone starts its parts as `airflow ...` commands found on the PATH.
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    }


def airflow(*command: str, quiet: bool = False) -> None:
    """Run an ``airflow`` command of this environment; its output only if it fails."""
    result = subprocess.run(
        [str(Path(sys.executable).with_name("airflow")), *command],
        capture_output=quiet,
        text=True,
    )
    if result.returncode != 0:
        if quiet:
            print(result.stdout[-3000:], result.stderr[-3000:], sep="\n", file=sys.stderr)
        raise SystemExit(f"airflow {' '.join(command)} failed ({result.returncode})")


def run_quick(polls: int, box_url: str, mail: object) -> None:
    """Run ``polls`` real DAG runs back to back; assets arrive for one campaign after poll 2."""
    import requests

    os.environ["A1_TO_A2_POLL_DEADLINE_ALERT"] = (
        "off"  # see dags/a1_to_a2.py: dags test fails with it
    )
    for poll in range(1, polls + 1):
        print(f"Poll {poll}/{polls}: airflow dags test a1_to_a2 ...", flush=True)
        airflow("dags", "test", "a1_to_a2", quiet=True)
        if poll == 2:
            for folder, files in LATE_ASSETS.items():
                for number, (name, size) in enumerate(files.items()):
                    file = {
                        "id": f"{folder}-late-{number}",
                        "name": name,
                        "parent": folder,
                        "size": size,
                    }
                    requests.post(
                        f"{box_url}/_sandbox/files", json=file, timeout=10
                    ).raise_for_status()
            print("  (master assets uploaded for CMP-1006 Brand Refresh)", flush=True)
    print_table(mail)


def print_table(mail: object) -> None:
    from campaigns.hooks.retry_state import RetryStateHook

    rows = RetryStateHook().run_query("latest_polls")
    columns = [
        "campaign_number",
        "campaign_name",
        "status",
        "outcome",
        "action",
        "poll_count",
        "emails_sent",
        "assets_imported",
    ]
    table = [columns] + [
        [str(row[c]) if row[c] is not None else "-" for c in columns] for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    print()
    for line in table:
        print("  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)))
    print(f"\nEmails received: {len(mail.messages)}, kept in {mail.directory}:")
    for subject in mail.subjects():
        print(f"  {subject}")


def run_standalone(children: Children, args: argparse.Namespace) -> None:
    passwords = args.home / "passwords.json"
    if not passwords.exists():
        passwords.write_text(json.dumps({"admin": secrets.token_urlsafe(12)}))
    password = json.loads(passwords.read_text())["admin"]
    print(
        f"\nAirflow UI: http://localhost:{args.port}  (login: admin / {password})\n"
        "The DAG a1_to_a2 is unpaused and polls every 3 minutes; trigger it to poll at once.\n"
        f"Emails land in {args.home / 'mail'}. Stop with Ctrl-C.\n",
        flush=True,
    )
    children.start([str(Path(sys.executable).with_name("airflow")), "standalone"]).wait()


if __name__ == "__main__":
    main()
