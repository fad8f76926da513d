"""A Box file streamed into the DAM by the `reset` operator, against a plain HTTP copy.

`measure` starts both sandboxes (no latency) holding one campaign with one file, then copies the
file three times, each time in a child process of its own doing only the transfer
(`python -m bench.stream --transfer reset|plain`): as a plain `requests` GET-to-POST copy, by
the reset task's promotion (after loading the DAG file, as a task runner does), and as a plain copy
again; "plain" is the mean of the two (the larger memory figures). Each child reports
its peak memory (VmHWM: ru_maxrss would count the parent's at the fork), its RSS before the
transfer, its peak during the transfer, the seconds the transfer took and, of those, the seconds
of the stream itself (the reset task's `DamHook.import_asset`; the whole plain copy), and the
CPU seconds the transfer cost the child (less swayed by a busy machine than the clock).
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import ROOT
from sandbox.box import fixture as box
from sandbox.box.content import generated_sha1
from sandbox.dam import fixture as dam

CAMPAIGN_ID = "bench-stream"
BOX_FOLDER_ID = "bench-stream-box"
FILE_ID = f"{BOX_FOLDER_ID}-ma-f1"
FILE_NAME = "master.mov"
CHUNK_SIZE = 1 << 20
RESULT = "RESULT "


def measure(workdir: Path, env: dict[str, str], size: int) -> dict[str, Any]:
    """Both transfers of a `size`-byte file; `env` holds the tracking database's connection."""
    # Here, not at the top: the measured children import this module, and the harness's API
    # client alone would add 35 MiB to their peak memory.
    from bench.stack import Sandboxes

    fixture = {
        "box": box.box_fixture(box.campaign_folder(BOX_FOLDER_ID, assets={FILE_NAME: size})),
        "dam": dam.dam([dam.campaign(CAMPAIGN_ID, box_folder_id=BOX_FOLDER_ID)]),
    }
    sandboxes = Sandboxes(workdir, latency_ms=0)
    sandboxes.start(fixture)
    try:
        # The operator reads the settings Variable; here from the environment, empty.
        child_env = {**env, **sandboxes.connections(), "AIRFLOW_VAR_A1_TO_A2_SETTINGS": "{}"}
        # A transfer's place in the run sways its time (the first was often the slowest): the
        # reset task between two plain copies, measured against both.
        copies = [_run_child(way, sandboxes.urls, child_env) for way in ("plain", "reset", "plain")]
        imported = sandboxes.control("dam", "GET", f"campaigns/{CAMPAIGN_ID}")["imported"]
    finally:
        sandboxes.stop()
    first, reset, last = copies
    plain = {
        key: max(first[key], last[key]) if key.endswith("_kib") else (first[key] + last[key]) / 2
        for key in first
    }
    expected = (size, generated_sha1(FILE_ID, size))
    intact = len(imported) == len(copies) and all(
        (asset["size"], asset["sha1"]) == expected for asset in imported
    )
    return {"reset": reset, "plain": plain, "intact": intact}


def _run_child(way: str, urls: dict[str, str], env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.stream", "--transfer", way]
    command += ["--box", urls["box"], "--dam", urls["dam"]]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    if done.returncode or not lines:
        raise RuntimeError(f"the {way} transfer failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix(RESULT))


def _transfer(way: str, box_url: str, dam_url: str) -> None:
    """In the child: copy the file into the DAM campaign once, then print time and memory."""
    streams: list[float] = []
    copy = _reset_task(streams) if way == "reset" else _plain_copy(box_url, dam_url)
    rss_before, peak_before = _memory_kib("VmRSS"), _memory_kib("VmHWM")
    # Resets VmHWM, so that it holds the transfer's peak alone.
    Path("/proc/self/clear_refs").write_text("5")
    started, cpu_started = time.perf_counter(), time.process_time()
    copy()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - cpu_started
    transfer_peak = _memory_kib("VmHWM")
    result = {
        "seconds": seconds,
        "stream_seconds": sum(streams) if way == "reset" else seconds,
        "cpu_seconds": cpu_seconds,
        "max_rss_kib": max(peak_before, transfer_peak),
        "rss_before_kib": rss_before,
        "transfer_peak_kib": transfer_peak,
    }
    print(RESULT + json.dumps(result), flush=True)


def _reset_task(streams: list[float]):
    """The reset task's promotion of the campaign (``campaigns.promotion``, with the hooks the
    operator gives it), after loading the DAG file as a task runner does; the seconds of each
    import go to `streams`."""
    import logging
    from dataclasses import asdict

    from airflow.dag_processing.dagbag import DagBag

    from campaigns.hooks.box import BoxHook
    from campaigns.hooks.dam import DamHook
    from campaigns.hooks.retry_state import RetryStateHook
    from campaigns.promotion import Promotion
    from campaigns.settings import PipelineSettings

    DagBag(dag_folder=str(ROOT / "dags" / "a1_to_a2.py"))
    campaign = {
        "campaign_id": CAMPAIGN_ID,
        "number": f"C-{CAMPAIGN_ID}",
        "name": f"Campaign {CAMPAIGN_ID}",
        "status": "A1",
        "box_folder_id": BOX_FOLDER_ID,
    }
    RetryStateHook().upsert_campaigns([campaign])
    found = BoxHook().check_campaign_folder(BOX_FOLDER_ID)
    campaign["assets"] = [asdict(asset) for asset in found.assets]
    import_asset = DamHook.import_asset

    def timed_import(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return import_asset(*args, **kwargs)
        finally:
            streams.append(time.perf_counter() - started)

    DamHook.import_asset = timed_import

    def promote() -> None:
        settings = PipelineSettings()
        box = BoxHook(requests_per_minute=settings.box_requests_per_minute)
        with DamHook() as dam:
            log = logging.getLogger("bench.reset")
            Promotion(settings, box, dam, RetryStateHook(), log).promote(campaign)

    return promote


def _plain_copy(box_url: str, dam_url: str):
    import requests

    def copy() -> None:
        token = requests.post(
            f"{box_url}/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": box.CLIENT_ID,
                "client_secret": box.CLIENT_SECRET,
                "box_subject_type": "enterprise",
                "box_subject_id": box.ENTERPRISE_ID,
            },
            timeout=30,
        ).json()["access_token"]
        download = requests.get(
            f"{box_url}/2.0/files/{FILE_ID}/content",
            headers={"Authorization": f"Bearer {token}"},
            stream=True,
            timeout=60,
        )
        download.raise_for_status()
        session = requests.Session()
        signed_in = session.post(
            f"{dam_url}/otmmapi/v6/sessions",
            data={"username": dam.USER, "password": dam.PASSWORD},
            timeout=30,
        ).json()
        session.headers["X-Requested-By"] = str(signed_in["session_resource"]["session"]["id"])
        boundary = secrets.token_hex(16)
        name = f"plain {FILE_NAME}"
        fields = {
            "asset_representation": json.dumps(
                {
                    "asset_resource": {
                        "asset": {
                            "metadata_model_id": dam.MODEL_ID,
                            "security_policy_list": [{"id": p} for p in dam.SECURITY_POLICY_IDS],
                        }
                    }
                }
            ),
            "parent_folder_id": CAMPAIGN_ID,
            "manifest": json.dumps({"upload_manifest": {"master_files": []}}),
        }
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'
            for key, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"'
            "\r\nContent-Type: application/octet-stream\r\n\r\n"
        )

        def body():
            yield head.encode()
            yield from download.iter_content(CHUNK_SIZE)
            yield f"\r\n--{boundary}--\r\n".encode()

        session.post(
            f"{dam_url}/otmmapi/v6/assets",
            data=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
            timeout=60,
        ).raise_for_status()

    return copy


def _memory_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stream")
    parser.add_argument("--transfer", choices=["reset", "plain"], required=True)
    parser.add_argument("--box", required=True)
    parser.add_argument("--dam", required=True)
    args = parser.parse_args()
    _transfer(args.transfer, args.box, args.dam)


if __name__ == "__main__":
    main()
