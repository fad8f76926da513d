"""The demo's children stop whole and in order, even what ignores SIGTERM (real processes)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from demo.processes import Children, session_members, stop_session

# A leader that obeys SIGTERM and a grandchild in a process group of its own that ignores it,
# as a LocalExecutor worker's task process does.
LEADER = """
import subprocess, sys, time
subprocess.Popen([sys.executable, "-c", '''
import os, signal, time
os.setpgid(0, 0)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("ready", flush=True)
time.sleep(600)
'''])
time.sleep(600)
"""

# Notes its name in a file on SIGTERM, then exits.
NOTING = """
import signal, sys, time
def note(*_):
    with open(sys.argv[1], "a") as notes:
        notes.write(sys.argv[2] + "\\n")
    sys.exit(0)
signal.signal(signal.SIGTERM, note)
print("ready", flush=True)
time.sleep(600)
"""


def test_a_grandchild_that_ignores_sigterm_is_killed_with_its_session():
    leader = subprocess.Popen(
        [sys.executable, "-c", LEADER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    assert leader.stdout.readline() == "ready\n"
    members = session_members(leader.pid)
    grandchild = next(member for member in members if member.pid != leader.pid)
    assert len(members) == 2 and os.getpgid(grandchild.pid) != os.getpgid(leader.pid)

    stop_session(leader, grace=1)

    assert leader.returncode == -signal.SIGTERM
    assert session_members(leader.pid) == []
    assert not grandchild.is_running() or grandchild.status() == "zombie"


def test_children_stop_last_started_first(tmp_path: Path):
    notes = tmp_path / "notes"
    children = Children()
    for name in ("sandboxes", "airflow"):
        child = children.start(
            [sys.executable, "-c", NOTING, str(notes), name], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout.readline() == "ready\n"

    children.stop()

    assert notes.read_text().split() == ["airflow", "sandboxes"]
    assert session_members(child.pid) == []
