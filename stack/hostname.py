"""``[core] hostname_callable`` for the cluster's Celery workers, which all run on this machine.

Each worker reports its own name (``w1``, ``w2``...) as the hostname of the tasks it runs, so a
task instance's ``hostname`` tells the workers apart.
"""

from __future__ import annotations

import os

WORKER_NAME = "A1_WORKER_NAME"


def worker_name() -> str:
    return os.environ[WORKER_NAME]
