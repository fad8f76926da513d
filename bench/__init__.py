"""The benchmark behind `bench/run`: poll time, API economy, task instances, parse, streaming,
Box calls per month."""

from __future__ import annotations

import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line of progress on stderr, with the minutes and seconds since the start."""
    minutes, seconds = divmod(int(time.monotonic() - _STARTED), 60)
    print(f"[{minutes:2d}:{seconds:02d}] {message}", file=sys.stderr, flush=True)


def machine() -> str:
    """The machine a table was measured on, for its heading."""
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory_kib = next(
        int(line.split()[1])
        for line in Path("/proc/meminfo").read_text().splitlines()
        if line.startswith("MemTotal")
    )
    memory = f"{memory_kib / 2**20:.0f} GiB RAM"
    return f"{os.cpu_count()} × {model}, {memory}, Python {platform.python_version()}"
