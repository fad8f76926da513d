"""What the fuzz suite tried, counted by kind; printed at the end of the test session."""

from __future__ import annotations

from collections import Counter

TRIED: Counter[str] = Counter()


def summary() -> str | None:
    """One line for the README's table: bad inputs tried, in all and by kind."""
    if not TRIED:
        return None
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(TRIED.items()))
    return f"fuzz: {sum(TRIED.values())} bad inputs tried ({kinds})"
