"""Benchmark: a 1 GiB Box file streamed into the DAM through BoxHook and DamHook.

    .venv/bin/python bench/box_to_dam_stream.py [--size-mib 1024]

Starts both sandboxes (`python -m sandbox serve`), then copies the file twice, each time in a
child process of its own doing only the transfer: through `BoxHook.stream_file` and
`DamHook.import_asset`, and as a plain `requests` GET-to-POST copy. Prints each child's peak
memory (ru_maxrss, and its growth over the RSS before the transfer) and the throughput of the
hooks as a ratio to the plain copy. A benchmark: it prints, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "plugins")]

from sandbox.box import fixture as box  # noqa: E402
from sandbox.box.content import generated_sha1  # noqa: E402
from sandbox.connections import box_connection, dam_connection  # noqa: E402
from sandbox.dam import fixture as dam  # noqa: E402

CAMPAIGN_ID = "bench-campaign"
BOX_FOLDER_ID = "bench"
FILE_ID = "bench-ma-f1"
FILE_NAME = "master.mov"
CHUNK_SIZE = 1 << 20
RESULT = "RESULT "


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--transfer", choices=["hooks", "plain"], help=argparse.SUPPRESS)
    parser.add_argument("--box", help=argparse.SUPPRESS)
    parser.add_argument("--dam", help=argparse.SUPPRESS)
    args = parser.parse_args()
    size = args.size_mib * 1024 * 1024
    if args.transfer:
        _transfer(args.transfer, args.box, args.dam, size)
    else:
        _benchmark(size)


def _benchmark(size: int) -> None:
    fixture = {
        "box": box.box_fixture(box.campaign_folder(BOX_FOLDER_ID, assets={FILE_NAME: size})),
        "dam": dam.dam([dam.campaign(CAMPAIGN_ID, box_folder_id=BOX_FOLDER_ID)]),
    }
    with tempfile.TemporaryDirectory(prefix="bench-") as workdir:
        fixture_file = Path(workdir) / "fixture.json"
        fixture_file.write_text(json.dumps(fixture))
        env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'plugins'}", "AIRFLOW_HOME": workdir}
        command = [sys.executable, "-m", "sandbox", "serve", "--fixture", str(fixture_file)]
        servers = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
        try:
            urls = dict(servers.stdout.readline().split() for _ in range(2))
            results = {way: _run_child(way, urls, size, env) for way in ("hooks", "plain")}
            imported = _imported(urls["dam"])
        finally:
            servers.terminate()
            servers.wait()
    expected = generated_sha1(FILE_ID, size)
    print(f"file: {size / 2**20:.0f} MiB; Box sandbox {urls['box']}, DAM sandbox {urls['dam']}")
    for way, result in results.items():
        seconds = result["seconds"]
        print(
            f"{way:>5}: {seconds:6.2f} s, {size / seconds / 2**20:7.1f} MiB/s, "
            f"peak RSS {result['max_rss_kib'] / 1024:6.1f} MiB "
            f"(+{(result['max_rss_kib'] - result['rss_before_kib']) / 1024:.1f} MiB during the "
            "transfer)"
        )
    ratio = results["plain"]["seconds"] / results["hooks"]["seconds"]
    print(f"throughput of the hooks / throughput of the plain copy: {ratio:.2f}")
    for asset in imported:
        match = "yes" if (asset["size"], asset["sha1"]) == (size, expected) else "NO"
        print(f"DAM received {asset['name']!r}: {asset['size']} bytes, sha1 matches Box: {match}")


def _run_child(way: str, urls: dict[str, str], size: int, env: dict) -> dict:
    command = [sys.executable, __file__, "--transfer", way, "--box", urls["box"]]
    command += ["--dam", urls["dam"], "--size-mib", str(size // 2**20)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    (line,) = [line for line in done.stdout.splitlines() if line.startswith(RESULT)]
    return json.loads(line.removeprefix(RESULT))


def _transfer(way: str, box_url: str, dam_url: str, size: int) -> None:
    """In the child: copy the Box file into the DAM campaign once, then print time and memory."""
    os.environ["AIRFLOW_CONN_BOX_DEFAULT"] = json.dumps(box_connection(box_url))
    os.environ["AIRFLOW_CONN_DAM_DEFAULT"] = json.dumps(dam_connection(dam_url))
    if way == "hooks":
        from campaigns.hooks.box import BoxHook
        from campaigns.hooks.dam import DamHook

        copy = _copy_through_hooks(BoxHook(), DamHook(), size)
    else:
        copy = _plain_copy(box_url, dam_url)
    rss_before = _rss_kib()
    started = time.perf_counter()
    copy()
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    result = {"seconds": seconds, "max_rss_kib": peak, "rss_before_kib": rss_before}
    print(RESULT + json.dumps(result), flush=True)


def _copy_through_hooks(box_hook, dam_hook, size: int):
    def copy() -> None:
        dam_hook.import_asset(
            CAMPAIGN_ID, f"hooks {FILE_NAME}", box_hook.stream_file(FILE_ID), size
        )
        dam_hook.close()

    return copy


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
            "asset_representation": json.dumps({"asset_resource": {"asset": {"name": name}}}),
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


def _imported(dam_url: str) -> list[dict]:
    import requests

    response = requests.get(f"{dam_url}/_sandbox/campaigns/{CAMPAIGN_ID}", timeout=30)
    return response.json()["imported"]


def _rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


if __name__ == "__main__":
    main()
