"""The demo's child processes: each in a session of its own, all stopped within a bound."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable

import psutil

# How long a child's session may take to exit after SIGTERM before what is left is killed.
GRACE_SECONDS = 5.0


def session_members(session_id: int) -> list[psutil.Process]:
    """The live processes of a session (zombies are dead: they only wait to be reaped)."""
    members = []
    for process in psutil.process_iter(["status"]):
        try:
            if (
                process.info["status"] != psutil.STATUS_ZOMBIE
                and os.getsid(process.pid) == session_id
            ):
                members.append(process)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def signal_session(session_id: int, signum: int) -> None:
    for process in session_members(session_id):
        try:
            process.send_signal(signum)
        except psutil.NoSuchProcess:
            continue


def stop_session(process: subprocess.Popen, grace: float = GRACE_SECONDS) -> None:
    """SIGTERM to every process of the child's session, SIGKILL to those left after ``grace``.

    A whole session, because grandchildren (LocalExecutor workers, the task processes they start
    in process groups of their own, API server workers) must go too.
    """

    def gone() -> bool:
        return process.poll() is not None and not session_members(process.pid)

    signal_session(process.pid, signal.SIGTERM)
    if not _within(grace, gone):
        signal_session(process.pid, signal.SIGKILL)
        _within(grace, gone)


def _within(seconds: float, condition: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


class Children:
    """Processes started for the demo, stopped last-started first."""

    def __init__(self) -> None:
        self._started: list[subprocess.Popen] = []

    def start(self, command: list[str], **popen_arguments) -> subprocess.Popen:
        """Start ``command`` in a new session, so that a terminal's Ctrl-C reaches only the demo."""
        process = subprocess.Popen(command, start_new_session=True, **popen_arguments)
        self._started.append(process)
        return process

    def stop(self) -> None:
        while self._started:
            stop_session(self._started.pop())
