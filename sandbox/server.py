"""Run a sandbox app under uvicorn in a daemon thread, on a real socket."""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn
from starlette.types import ASGIApp

STARTUP_TIMEOUT = 10.0


class RunningServer:
    """A uvicorn server running in a daemon thread; `url` is its base URL, `stop()` ends it."""

    def __init__(self, server: uvicorn.Server, thread: threading.Thread, url: str):
        self.server = server
        self.thread = thread
        self.url = url

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join()

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def run_in_thread(
    app: ASGIApp, host: str = "127.0.0.1", port: int = 0, **uvicorn_options: Any
) -> RunningServer:
    """Start `app` and return once it accepts connections; extra options go to `uvicorn.Config`."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # h11 writes header names as given (Retry-After); httptools would lowercase them.
    options = {"http": "h11", "log_level": "warning", "timeout_graceful_shutdown": 2}
    options.update(uvicorn_options)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"sandbox server on {host}:{port} did not start")
        time.sleep(0.01)
    scheme = "https" if options.get("ssl_certfile") else "http"
    return RunningServer(server, thread, f"{scheme}://{host}:{sock.getsockname()[1]}")
