"""`python -m sandbox serve --fixture FILE`: the Box and DAM sandboxes on 127.0.0.1 until killed.

`--dam-variant NAME` serves the DAM as that site variant (`sandbox.dam.fixture.VARIANTS`); the
pipeline's DAM connection then needs the variant's extras.
"""

from __future__ import annotations

import argparse
import json
import signal
from pathlib import Path

import requests

from sandbox.box.app import create_app as create_box_app
from sandbox.dam.app import create_app as create_dam_app
from sandbox.dam.fixture import VARIANTS, with_variant
from sandbox.server import run_in_thread


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sandbox")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the Box and DAM sandboxes")
    serve.add_argument("--fixture", type=Path, required=True, help="JSON with 'box' and 'dam'")
    serve.add_argument("--box-port", type=int, default=0)
    serve.add_argument("--dam-port", type=int, default=0)
    serve.add_argument("--latency-ms", type=int, default=0, help="added to every request")
    serve.add_argument(
        "--dam-variant",
        choices=sorted(VARIANTS),
        help="serve the DAM as this site variant (default: the fixture's own options)",
    )
    args = parser.parse_args(argv)

    fixture = json.loads(args.fixture.read_text())
    if args.dam_variant:
        fixture["dam"] = with_variant(fixture.get("dam", {}), args.dam_variant)
    # Blocked before the server threads start, so only the wait below receives them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    servers = {
        "box": run_in_thread(create_box_app(fixture), port=args.box_port),
        "dam": run_in_thread(create_dam_app(fixture), port=args.dam_port),
    }
    for name, server in servers.items():
        if args.latency_ms:
            requests.post(f"{server.url}/_sandbox/latency", json={"ms": args.latency_ms}, timeout=5)
        print(name, server.url, flush=True)
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    for server in servers.values():
        server.stop()


if __name__ == "__main__":
    main()
