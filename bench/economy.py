"""Box calls per poll and per month, in both Box watch modes: `python -m bench.economy`.

The poll's stages run in this process as the DAG's tasks call them (fetch, select, check per
batch, decide; the actions left out: every campaign stays empty, and neither skip nor warn calls
Box) against the Box and DAM sandboxes (no latency) and a throwaway tracking database per size;
the Box sandbox counts the calls. Progress on stderr, the table (Markdown) on stdout.
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import random
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from airflow.sdk._shared.secrets_masker import reset_secrets_masker
from airflow.sdk.log import configure_logging

from bench import machine, progress
from bench.probes import migrate, seed
from bench.stack import Sandboxes, campaign_ids, workdir, world
from campaigns.hooks.box_token import RENEW_MARGIN
from campaigns.rules import POLL_INTERVAL
from campaigns.settings import PipelineSettings
from campaigns.stages import check_campaigns, decide_actions, fetch_campaigns, select_campaigns
from campaigns.watch import reconcile_slots
from stack.postgres import admin, pg_url, throwaway_database

MONTH = timedelta(days=30)
POLLS_PER_MONTH = round(MONTH / POLL_INTERVAL)
# Box's access tokens live about 60 minutes; the shared one is fetched again RENEW_MARGIN before.
TOKEN_LIFETIME = timedelta(minutes=60)
SHARED_TOKENS_PER_MONTH = math.ceil(MONTH / (TOKEN_LIFETIME - timedelta(seconds=RENEW_MARGIN)))
GOAL = (200, "events", 30_000)
TOKEN = "POST /oauth2/token"
FEED = "GET /2.0/events"
LISTING = "GET /2.0/folders/{folder_id}/items"
# List mode first: with the folder ids seeded its first poll is already steady; events mode then
# starts as in production, from no stream position.
MODES = ("list", "events")
FIRST_RUN = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
RECIPIENTS = ("campaign-ops@example.com",)
# The pacing only spaces the calls; lifted, a poll of 1,000 campaigns takes seconds, not minutes.
UNPACED = 1_000_000
# A row measures at most this many campaign polls: 20 polls up to 2,500 campaigns, 10 at 5,000.
CAMPAIGN_POLLS = 50_000
# A change the feed reports that leaves the campaign empty: a subfolder made or removed.
SUBFOLDER = "drafts"
EMPTY_ACTIONS = ("skip", "warn")


@dataclass(frozen=True)
class Poll:
    """One measured poll: the Box sandbox's counters, the campaigns listed (by why), the tasks
    that called Box (select reading the feed, each check with campaigns) and the folders changed
    before it."""

    box: dict[str, int]
    listed: Counter[str]
    box_tasks: int
    changed: int

    @property
    def tokens(self) -> int:
        return self.box.get(TOKEN, 0)

    @property
    def calls(self) -> int:
        """Box calls other than token requests."""
        return sum(self.box.values()) - self.tokens


@dataclass(frozen=True)
class Row:
    """The measured polls of one size, mode and share of folders changing."""

    campaigns: int
    mode: str
    share: float
    polls: list[Poll]

    def mean(self, value: Callable[[Poll], float]) -> float:
        return statistics.fmean(value(p) for p in self.polls)

    @property
    def calls_month(self) -> int:
        """Box calls a month other than token requests, reconciliation included."""
        return round(self.mean(lambda p: p.calls) * POLLS_PER_MONTH)

    @property
    def month(self) -> int:
        """Box calls a month with the shared token."""
        return self.calls_month + SHARED_TOKENS_PER_MONTH

    @property
    def month_token_per_task(self) -> int:
        """Box calls a month if every task calling Box fetched a token of its own."""
        return round(self.mean(lambda p: p.calls + p.box_tasks) * POLLS_PER_MONTH)


class FolderChanges:
    """A system file put into, or taken out of, the Master Assets folders of a seeded random set
    of campaigns: Box's feed reports each change, and every campaign stays empty."""

    def __init__(self, sandboxes: Sandboxes, ids: list[str], seed: int):
        self.sandboxes = sandboxes
        self.ids = ids
        self.random = random.Random(seed)
        self.holding: set[str] = set()
        self.events = self._events()

    def _events(self) -> int:
        return len(self.sandboxes.control("box", "GET", "events"))

    def make(self, share: float) -> int:
        """Change the folders of `share` of the campaigns, a new set each time; raise unless
        Box's feed gained one event per change."""
        chosen = self.random.sample(self.ids, round(share * len(self.ids)))
        for campaign_id in chosen:
            folder = f"box-{campaign_id}-ma"
            subfolder_id = f"{folder}-{SUBFOLDER}"
            if campaign_id in self.holding:
                self.sandboxes.control("box", "DELETE", f"folders/{subfolder_id}")
                self.holding.remove(campaign_id)
            else:
                spec = {"id": subfolder_id, "name": SUBFOLDER, "parent": folder}
                self.sandboxes.control("box", "POST", "folders", json=spec)
                self.holding.add(campaign_id)
        before, self.events = self.events, self._events()
        gained = self.events - before
        if gained != len(chosen):
            raise RuntimeError(f"Box's feed gained {gained} events for {len(chosen)} changes")
        return len(chosen)


def poll(settings: PipelineSettings, size: int, slot: int) -> tuple[Counter[str], int]:
    """The poll in time slot `slot`: its stages as the DAG's tasks call them, the actions left
    out; why each campaign was listed in Box, and the tasks that called Box."""
    run_id, run_at = f"economy_{size}_{slot}", FIRST_RUN + slot * POLL_INTERVAL
    fetched = fetch_campaigns()
    batches, watch = select_campaigns(fetched["campaigns"], settings, run_id, run_at)
    checked = []
    for batch in batches:
        reset_secrets_masker()  # as Airflow's supervisor does for each task's process
        checked += check_campaigns(batch, settings, run_at)
    decided = decide_actions(checked, watch, run_id, settings, run_at)
    acted = {action: len(b) for action, b in decided.items() if b and action not in EMPTY_ACTIONS}
    if acted:
        raise RuntimeError(f"campaigns of an empty world took other actions: {acted}")
    listed = Counter(c["listed_for"] for batch in batches for c in batch)
    return listed, (settings.box_watch == "events") + sum(1 for batch in batches if batch)


def polls_for(size: int, most: int) -> int:
    """The polls a row measures: `most`, fewer for big sizes (CAMPAIGN_POLLS), at least two."""
    return max(2, min(most, CAMPAIGN_POLLS // size))


def measure(sandboxes: Sandboxes, size: int, args: argparse.Namespace) -> list[Row]:
    """Both modes at one size, each with nothing changing, then a share of folders changing."""
    prefix = f"e{size}"
    sandboxes.start(world(prefix, size))
    changes = FolderChanges(sandboxes, campaign_ids(prefix, size), seed=size)
    slots = itertools.count()
    rows = []
    with throwaway_database("a1_bench_economy") as database:
        os.environ["AIRFLOW_CONN_TRACKING_DB"] = pg_url(database)
        # Every Box request takes its slot of the shared rate there: commits without a flush.
        admin(f'ALTER DATABASE "{database}" SET synchronous_commit = off')
        migrate()
        seed(prefix, size)  # the Master Assets folder ids cached, as a first poll leaves them
        for mode in MODES:
            settings = PipelineSettings(
                box_watch=mode, recipients=RECIPIENTS, box_requests_per_minute=UNPACED
            )
            if mode == "events":
                progress(f"{size:,} campaigns, events mode: warm-up (no stream position yet)")
                poll(settings, size, next(slots))
            count = polls_for(size, args.polls if mode == "events" else args.list_polls)
            for share in (0.0, args.changing / 100):
                progress(f"{size:,} campaigns, {mode} mode, {share:.0%} changing: {count} polls")
                measured = []
                for _ in range(count):
                    changed = changes.make(share)
                    sandboxes.reset_counters()
                    listed, box_tasks = poll(settings, size, next(slots))
                    measured.append(Poll(sandboxes.counters("box"), listed, box_tasks, changed))
                rows.append(Row(size, mode, share, measured))
    return rows


def render(rows: list[Row], seconds: float) -> str:
    """The table, in Markdown."""
    slots = reconcile_slots(PipelineSettings().reconcile_hours)
    lines = [
        f"Box calls per poll and per month, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on "
        f"{machine()}: the poll's stages in one process, as the DAG's tasks call them (default "
        f"settings, pacing lifted), against the sandboxes without latency; calls counted by the "
        f"Box sandbox; a month = {POLLS_PER_MONTH:,} polls; measured in {seconds / 60:.1f} min.",
        "",
        "| campaigns | mode | changing | polls | Box calls / poll | feed reads | listings "
        "(campaigns listed, why) | Box tasks / poll | token calls measured / poll "
        "| calls / month | shared tokens / month | total / month "
        "| total / month, a token per Box task |",
        "| ---: | --- | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    goal_lines = []
    for row in rows:
        polls = len(row.polls)
        reasons = sum((p.listed for p in row.polls), Counter())
        why = ", ".join(f"{reason} {n / polls:,.2f}" for reason, n in sorted(reasons.items()))
        changing = f"{row.share:.0%}" + (f" ({row.polls[0].changed:,} a poll)" if row.share else "")
        total = f"{row.month:,}"
        if (row.campaigns, row.mode, row.share) == (GOAL[0], GOAL[1], 0.0):
            verdict = "met" if row.month <= GOAL[2] else "**missed**"
            total = f"**{total}** (goal ≤ {GOAL[2]:,}: {verdict})"
            goal_lines.append(
                f"Goal: {GOAL[0]} campaigns, nothing changing, events mode, at most {GOAL[2]:,} "
                f"Box calls a month, reconciliation and tokens included: {verdict} "
                f"({row.month:,})."
            )
        lines.append(
            f"| {row.campaigns:,} | {row.mode} | {changing} | {polls} "
            f"| {row.mean(lambda p: p.calls):,.2f} | {row.mean(lambda p: p.box.get(FEED, 0)):.2f} "
            f"| {row.mean(lambda p: p.box.get(LISTING, 0)):,.2f} ({why or 'none'}) "
            f"| {row.mean(lambda p: p.box_tasks):,.2f} | {row.mean(lambda p: p.tokens):,.2f} "
            f"| {row.calls_month:,} "
            f"| {SHARED_TOKENS_PER_MONTH:,} | {total} | {row.month_token_per_task:,} |"
        )
    return "\n".join(
        [
            *lines,
            "",
            f"Shared tokens: a Box access token lives about {TOKEN_LIFETIME.seconds // 60} "
            f"minutes and is fetched again {RENEW_MARGIN // 60} minutes before it expires "
            f"(`RENEW_MARGIN`, `campaigns/hooks/box_token.py`): one every "
            f"{(TOKEN_LIFETIME.seconds - RENEW_MARGIN) // 60} minutes, "
            f"{SHARED_TOKENS_PER_MONTH:,} a month. A token per Box task: select reading the feed "
            f"(events mode) and each check task with campaigns fetching their own, as before the "
            f"shared token. Reconciliation: each campaign once every {slots} polls, so about "
            f"campaigns / {slots} a poll over a day; the polls measured are consecutive, a sample "
            f"of that.",
            *(["", *goal_lines] if goal_lines else []),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.economy", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 1000, 5000])
    parser.add_argument(
        "--polls",
        type=int,
        default=20,
        help="measured polls a row in events mode (fewer above 2,500 campaigns)",
    )
    parser.add_argument(
        "--list-polls",
        type=int,
        default=2,
        help="measured polls a row in list mode (each lists every campaign)",
    )
    parser.add_argument(
        "--changing", type=float, default=5, help="percent of the folders changed before a poll"
    )
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so the sandboxes stop and the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    configure_logging(log_level="WARNING", output=sys.stderr)  # the stages log each campaign
    started = time.monotonic()
    rows: list[Row] = []
    with workdir() as work:
        sandboxes = Sandboxes(work, latency_ms=0)
        os.environ.update(sandboxes.connections())
        try:
            for size in args.sizes:
                rows += measure(sandboxes, size, args)
        finally:
            sandboxes.stop()
    print(render(rows, time.monotonic() - started))


if __name__ == "__main__":
    main()
