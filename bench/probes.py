"""Measurements that each run in a fresh process: `python -m bench.probes COMMAND`.

Each prints one line, ``RESULT <json>``, which `run_probe` reads back. The connections come
from the AIRFLOW_CONN_* variables the caller sets.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import requests

from bench import ROOT

RESULT = "RESULT "
EXAMPLE_DAG = "tutorial_taskflow_api.py"


def run_probe(*args: str, env: dict[str, str]) -> dict[str, Any]:
    """Run one probe in a child process and return its result."""
    done = subprocess.run(
        [sys.executable, "-m", "bench.probes", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode or not lines:
        raise RuntimeError(f"probe {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix(RESULT))


def migrate() -> dict[str, Any]:
    """Apply the tracking database's migrations."""
    from campaigns.hooks.retry_state import RetryStateHook

    return {"applied": RetryStateHook().apply_migrations()}


def seed(prefix: str, size: int) -> dict[str, Any]:
    """Record a world's campaigns with their Master Assets folder ids, as a first poll would."""
    from bench.stack import campaign_ids
    from campaigns.hooks.retry_state import RetryStateHook

    ids = campaign_ids(prefix, size)
    state = RetryStateHook()
    state.upsert_campaigns(
        {
            "campaign_id": i,
            "number": f"C-{i}",
            "name": f"Campaign {i}",
            "status": "A1",
            "box_folder_id": f"box-{i}",
        }
        for i in ids
    )
    state.cache_master_assets_folders({i: f"box-{i}-ma" for i in ids})
    return {"seeded": size}


def sequential_loop() -> dict[str, Any]:
    """The plain loop: the DAM search, then one Box check per campaign, one after the other."""
    from campaigns.hooks.box import BoxHook
    from campaigns.hooks.dam import DamHook
    from campaigns.hooks.retry_state import RetryStateHook

    started = time.perf_counter()
    dam = DamHook()
    campaigns = dam.get_campaigns("A1").campaigns
    dam.close()
    tracked = RetryStateHook().get_campaigns([c.campaign_id for c in campaigns])
    box = BoxHook()
    for campaign in campaigns:
        cached = tracked[campaign.campaign_id].master_assets_folder_id
        box.check_campaign_folder(campaign.box_folder_id, master_assets_folder_id=cached)
    return {"seconds": time.perf_counter() - started, "campaigns": len(campaigns)}


def parse_time(path: str) -> dict[str, Any]:
    """Seconds to load one DAG file into a DagBag, Airflow itself imported beforehand."""
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    bag = DagBag(dag_folder=path, safe_mode=False)
    seconds = time.perf_counter() - started
    if bag.import_errors or not bag.dags:
        raise RuntimeError(f"{path} did not load: {bag.import_errors}")
    return {"seconds": seconds}


def example_dag_path() -> str:
    import airflow.example_dags

    return os.path.join(os.path.dirname(airflow.example_dags.__file__), EXAMPLE_DAG)


def retry_after(box_url: str, dam_url: str, seconds: float) -> dict[str, Any]:
    """How long the hooks wait after a 429 with Retry-After (sandbox latency off)."""
    from campaigns.hooks.box import BoxHook
    from campaigns.hooks.dam import DamHook

    box, dam = BoxHook(), DamHook()
    campaign = dam.get_campaigns("A1").campaigns[0]
    box.check_campaign_folder(campaign.box_folder_id)
    waited = {}
    for name, url, route, call in (
        (
            "box",
            box_url,
            "GET /2.0/folders/{folder_id}/items",
            lambda: box.check_campaign_folder(campaign.box_folder_id),
        ),
        ("dam", dam_url, "*", lambda: dam.get_campaigns("A1")),
    ):
        fault = {"route": route, "statuses": [429], "retry_after": seconds}
        requests.post(f"{url}/_sandbox/faults", json=fault, timeout=10).raise_for_status()
        started = time.perf_counter()
        call()
        waited[name] = time.perf_counter() - started
    return waited


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.probes")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("migrate")
    commands.add_parser("loop")
    seeding = commands.add_parser("seed")
    seeding.add_argument("prefix")
    seeding.add_argument("size", type=int)
    parse = commands.add_parser("parse")
    parse.add_argument("file", help="a DAG file, or 'example' for Airflow's tutorial_taskflow_api")
    probe = commands.add_parser("retry-after")
    probe.add_argument("--box", required=True)
    probe.add_argument("--dam", required=True)
    probe.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()
    if args.command == "migrate":
        result = migrate()
    elif args.command == "seed":
        result = seed(args.prefix, args.size)
    elif args.command == "loop":
        result = sequential_loop()
    elif args.command == "parse":
        result = parse_time(example_dag_path() if args.file == "example" else args.file)
    else:
        result = retry_after(args.box, args.dam, args.seconds)
    print(RESULT + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
