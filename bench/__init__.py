"""The benchmark behind `bench/run`: poll time, API economy, task instances, parse, streaming."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_STARTED = time.monotonic()


def progress(message: str) -> None:
    """One line of progress on stderr, with the minutes and seconds since the start."""
    minutes, seconds = divmod(int(time.monotonic() - _STARTED), 60)
    print(f"[{minutes:2d}:{seconds:02d}] {message}", file=sys.stderr, flush=True)
