"""`bench/run`: start what the benchmark needs, measure, print one table; asserts nothing."""

from __future__ import annotations

import argparse
import re
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench import ROOT, machine, progress, stream
from bench.probes import run_probe
from bench.stack import (
    AirflowStack,
    RateSampler,
    Sandboxes,
    Stage,
    StatementLog,
    campaign_ids,
    workdir,
    world,
)
from campaigns.settings import PipelineSettings
from stack.postgres import pg_url, throwaway_database

CADENCE_SECONDS = 180
BOX_RATE_LIMIT = 900
DAM_PAGE_SIZE = 100
RUN_TIMEOUT = 900
# `--changing-sizes`: the share of the folders changed between the first and the steady poll.
CHANGING = 0.05
CHANGING_SETTING = f"default, {CHANGING * 100:g} % changing"


@dataclass
class Poll:
    """One measured DAG run."""

    campaigns: int
    setting: str
    run: str
    state: str
    seconds: float
    task_instances: int
    batches: int
    box: dict[str, int]
    dam: dict[str, int]
    statements: int | None
    busiest_box_minute: int
    loop_seconds: float | None = None
    changed: int | None = None  # folders changed before the run (`--changing-sizes`)
    stages: list[Stage] = field(default_factory=list)

    @property
    def box_requests(self) -> int:
        return sum(self.box.values())

    @property
    def dam_requests(self) -> int:
        return sum(self.dam.values())

    @property
    def dam_requests_expected(self) -> int:
        """Sign-in, one search a page (one even when nothing is found), sign-out."""
        return 2 + max(1, -(-self.campaigns // DAM_PAGE_SIZE))


@dataclass
class Results:
    settings: dict[str, str]
    polls: list[Poll] = field(default_factory=list)
    parse: dict[str, list[float]] = field(default_factory=dict)
    stream: dict[str, Any] = field(default_factory=dict)
    retry_after: dict[str, float] = field(default_factory=dict)
    economy: str = ""
    seconds: float = 0.0


def main() -> None:
    parser = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 5000])
    parser.add_argument(
        "--default-sizes",
        type=int,
        nargs="*",
        default=[10],
        help="sizes also run with the default settings (first and steady poll, then the loop)",
    )
    parser.add_argument(
        "--first-max",
        type=int,
        default=10,
        help="largest tuned size polled from scratch; beyond it only a steady poll, cache seeded",
    )
    parser.add_argument("--campaigns-per-task", type=int, default=250)
    parser.add_argument("--box-concurrency", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--loop-max", type=int, default=1000, help="largest size for the loop")
    parser.add_argument("--parse-repeats", type=int, default=5)
    parser.add_argument("--stream-mib", type=int, default=1024)
    parser.add_argument(
        "--economy-sizes",
        type=int,
        nargs="*",
        default=[200, 1000, 5000],
        help="sizes of the Box calls per month section (none: left out)",
    )
    parser.add_argument(
        "--changing-sizes",
        type=int,
        nargs="*",
        default=[],
        help=f"sizes run with the default settings: a first poll (folder ids seeded), then "
        f"{CHANGING:.0%} of the folders changed and a steady poll (default: none)",
    )
    parser.add_argument("--economy-only", action="store_true", help="only Box calls per month")
    args = parser.parse_args()
    # A SIGTERM unwinds like Ctrl-C, so Airflow stops and the databases are dropped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.economy_only:
        print(economy(args.economy_sizes))
        return
    started = time.monotonic()
    results = Results(
        settings={
            "tuned": f"campaigns_per_task={args.campaigns_per_task}, "
            f"box_concurrency={args.box_concurrency}",
            "latency": f"{args.latency_ms} ms per Box and per DAM request",
        }
    )
    tuned = {"campaigns_per_task": args.campaigns_per_task, "box_concurrency": args.box_concurrency}
    with workdir() as work, throwaway_database("a1_bench_tracking") as tracking_db:
        statements = StatementLog(tracking_db)
        sandboxes = Sandboxes(work, args.latency_ms)
        stack = AirflowStack(
            {"AIRFLOW_CONN_TRACKING_DB": pg_url(tracking_db), **sandboxes.connections()}
        )
        run_probe("migrate", env=stack.env)
        progress(f"parse time, {args.parse_repeats} fresh processes per DAG file")
        results.parse = parse_times(stack.env, args.parse_repeats)
        progress(f"streaming import of {args.stream_mib} MiB")
        results.stream = stream.measure(work, stack.env, args.stream_mib * 2**20)
        if args.economy_sizes:
            results.economy = economy(args.economy_sizes)
        try:
            stack.start()
            scenarios = (
                ("default", "d", args.default_sizes, {}),
                ("tuned", "t", args.sizes, tuned),
            )
            for setting, letter, sizes, conf in scenarios:
                for size in sizes:
                    prefix = f"{letter}{size}"
                    sandboxes.start(world(prefix, size))
                    runs = ["first", "steady"]
                    if setting == "tuned" and size > args.first_max:
                        # Its first poll would take too long: cache the folder ids as one would.
                        run_probe("seed", prefix, str(size), env=stack.env)
                        runs = ["steady"]
                    for run in runs:
                        results.polls.append(
                            poll(stack, sandboxes, statements, size, setting, conf, run)
                        )
                    if size <= args.loop_max:
                        progress(f"sequential loop over {size} campaigns")
                        sandboxes.reset_counters()
                        loop = run_probe("loop", env=stack.env)
                        results.polls[-1].loop_seconds = loop["seconds"]
            for size in args.changing_sizes:
                results.polls += changing(stack, sandboxes, statements, size)
            progress("Retry-After probe")
            sandboxes.start(world("r", 1))
            sandboxes.control("box", "POST", "latency", json={"ms": 0})
            sandboxes.control("dam", "POST", "latency", json={"ms": 0})
            results.retry_after = run_probe(
                "retry-after", "--box", sandboxes.urls["box"], "--dam", sandboxes.urls["dam"],
                env=stack.env,
            )  # fmt: skip
        finally:
            progress("stopping Airflow and the sandboxes, dropping the databases")
            stack.stop()
            sandboxes.stop()
    results.seconds = time.monotonic() - started
    print(render(results, args))


def poll(
    stack: AirflowStack,
    sandboxes: Sandboxes,
    statements: StatementLog,
    size: int,
    setting: str,
    conf: dict[str, Any],
    run: str = "first",
) -> Poll:
    """Trigger one run of the DAG and measure it."""
    run_id = re.sub(r"[^A-Za-z0-9_]+", "_", f"bench_{setting}_{size}_{run}")
    progress(f"{setting} run over {size} campaigns ({run} poll)")
    sandboxes.reset_counters()
    statements.mark()
    with RateSampler(sandboxes) as sampler:
        stack.trigger(run_id, conf)
        finished = stack.wait(run_id, RUN_TIMEOUT)
    measured = Poll(
        campaigns=size,
        setting=setting,
        run=run,
        state=finished["state"],
        seconds=finished["seconds"],
        task_instances=finished["task_instances"],
        batches=-(-size // PipelineSettings.from_sources(conf).batch_size(size)),
        box=sandboxes.counters("box"),
        dam=sandboxes.counters("dam"),
        statements=statements.count(),
        busiest_box_minute=sampler.busiest_minute(),
        stages=finished["stages"],
    )
    progress(
        f"  {measured.state} in {measured.seconds:.1f} s, {measured.task_instances} task "
        f"instances, {measured.box_requests} Box and {measured.dam_requests} DAM requests"
    )
    progress("  " + "; ".join(map(str, measured.stages)))
    return measured


def changing(
    stack: AirflowStack, sandboxes: Sandboxes, statements: StatementLog, size: int
) -> list[Poll]:
    """Default settings over `size` campaigns: a first poll, which lists every campaign (the
    folder ids seeded, as a first poll leaves them: one listing each), then CHANGING of the
    folders changed as `bench.economy` changes them, and the steady poll after it."""
    # Here, not at the top: it imports the pipeline's stages, which the other sections do without.
    from bench.economy import FolderChanges

    prefix = f"c{size}"
    sandboxes.start(world(prefix, size))
    run_probe("seed", prefix, str(size), env=stack.env)
    first = poll(stack, sandboxes, statements, size, CHANGING_SETTING, {}, "first")
    changes = FolderChanges(sandboxes, campaign_ids(prefix, size), seed=size)
    progress(f"changing {CHANGING:.0%} of the {size:,} campaigns' folders")
    changed = changes.make(CHANGING)
    steady = poll(stack, sandboxes, statements, size, CHANGING_SETTING, {}, "steady")
    steady.changed = changed
    return [first, steady]


def economy(sizes: list[int]) -> str:
    """Box calls per month (`python -m bench.economy`), in a process of its own: its table."""
    progress(f"Box calls per month at {', '.join(f'{n:,}' for n in sizes)} campaigns")
    command = [sys.executable, "-m", "bench.economy", "--sizes", *map(str, sizes)]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return done.stdout.strip()


def parse_times(env: dict[str, str], repeats: int) -> dict[str, list[float]]:
    """Seconds to parse each DAG file alone in a fresh process, the two files taking turns."""
    files = {"dags/a1_to_a2.py": str(ROOT / "dags" / "a1_to_a2.py"), "example": "example"}
    times: dict[str, list[float]] = {name: [] for name in files}
    for _ in range(repeats):
        for name, path in files.items():
            times[name].append(run_probe("parse", path, env=env)["seconds"])
    return times


def render(results: Results, args: argparse.Namespace) -> str:
    """The table, in Markdown."""
    lines = [
        f"**a1_to_a2 benchmark**, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}; "
        f"{results.settings['latency']}; tuned: {results.settings['tuned']}; "
        f"the whole benchmark took {results.seconds / 60:.1f} min.",
        "",
        "1\\. Poll time: one triggered run, scheduler + LocalExecutor, PostgreSQL metadata DB; "
        "wall = queued to finished.",
        "",
        "| campaigns | settings | poll | state | task instances | wall s | / 180 s cadence "
        "| sequential loop s | / loop |",
        "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in results.polls:
        loop = f"{p.loop_seconds:.1f}" if p.loop_seconds else "not run"
        ratio = f"{p.seconds / p.loop_seconds:.2f}" if p.loop_seconds else ""
        lines.append(
            f"| {p.campaigns:,} | {p.setting} | {p.run} | {p.state} | {p.task_instances:,} "
            f"| {p.seconds:.1f} | {p.seconds / CADENCE_SECONDS:.2f} | {loop} | {ratio} |"
        )
    lines += [
        "",
        "Where each poll's time went: per task, its instances, the first start and the last end "
        "in seconds after the run was queued, and the instances' own seconds added up (busy).",
        "",
        *(
            f"- {p.campaigns:,} {p.setting} {p.run}: " + "; ".join(map(str, p.stages))
            for p in results.polls
        ),
    ]
    lines += [
        "",
        "2\\. API economy per poll (requests counted by the sandboxes, statements by "
        "PostgreSQL's log of the tracking database).",
        "",
        "| campaigns | settings | poll | Box requests | Box / campaign | of which token "
        "| listings / campaign "
        "| busiest Box minute | DAM requests | DAM sign-in + pages + sign-out expected "
        "| tracking DB statements |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for p in results.polls:
        tokens = p.box.get("POST /oauth2/token", 0)
        lines.append(
            f"| {p.campaigns:,} | {p.setting} | {p.run} | {p.box_requests:,} "
            f"| {p.box_requests / p.campaigns:.2f} | {tokens} "
            f"| {(p.box_requests - tokens) / p.campaigns:.2f} | {p.busiest_box_minute:,} "
            f"| {p.dam_requests} | {p.dam_requests_expected} | "
            f"{'n/a' if p.statements is None else p.statements} |"
        )
    waited = results.retry_after
    lines += [
        "",
        f"Retry-After: after a 429 with `Retry-After: 2`, the Box hook's call took "
        f"{waited.get('box', 0):.2f} s and the DAM hook's {waited.get('dam', 0):.2f} s "
        "(sandbox latency off).",
        "",
        "3\\. Task instances per run (every campaign skipped; `computed` = the run's fixed "
        "tasks + one check and one skip instance per batch).",
        "",
        *task_instance_table(results, args),
        "",
        *parse_table(results.parse),
        "",
        *stream_table(results.stream, args.stream_mib),
        "",
        *([f"6\\. {results.economy}", ""] if results.economy else []),
        *goals(results),
    ]
    return "\n".join(lines)


def goals(results: Results) -> list[str]:
    """Each goal of the issue against what this run measured."""
    steady = {p.campaigns: p for p in results.polls if p.setting == "tuned" and p.run != "first"}
    default = {p.campaigns: p for p in results.polls if p.setting == "default" and p.run != "first"}
    lines = ["Goals (steady polls; default settings, then tuned):", ""]

    def goal(text: str, met: bool | None, measured: str) -> None:
        verdict = "not measured" if met is None else ("met" if met else "**missed**")
        lines.append(f"- {text}: {verdict} ({measured})")

    if 1000 in default:
        p = default[1000]
        goal(
            f"default settings, 1,000 campaigns: steady poll < half the cadence "
            f"({CADENCE_SECONDS // 2} s)",
            p.state == "success" and p.seconds < CADENCE_SECONDS / 2,
            f"{p.state} in {p.seconds:.1f} s, {p.seconds / CADENCE_SECONDS:.2f} of the cadence",
        )
    for p in results.polls:
        if p.setting == CHANGING_SETTING and p.run == "steady":
            goal(
                f"{p.campaigns:,} campaigns, {CHANGING * 100:g} % of folders changing per poll, "
                f"default settings: steady poll under half the cadence ({CADENCE_SECONDS // 2} s)",
                p.state == "success" and p.seconds < CADENCE_SECONDS / 2,
                f"{p.state} in {p.seconds:.1f} s, {p.seconds / CADENCE_SECONDS:.2f} of the "
                f"cadence; {p.changed:,} folders changed, {p.box_requests:,} Box requests, "
                f"{p.task_instances:,} task instances",
            )
    if 200 in default and default[200].loop_seconds:
        p = default[200]
        goal(
            "default settings, 200 campaigns: steady poll no slower than the sequential loop",
            p.state == "success" and p.seconds <= p.loop_seconds,
            f"{p.seconds:.1f} s against {p.loop_seconds:.1f} s, {p.seconds / p.loop_seconds:.2f}",
        )
    at_1000 = steady.get(1000)
    if at_1000:
        cadence = at_1000.seconds / CADENCE_SECONDS
        goal("poll time / cadence < 1.0 at 1,000", cadence < 1.0, f"{cadence:.2f}")
        if at_1000.loop_seconds:
            ratio = at_1000.seconds / at_1000.loop_seconds
            goal("poll time / sequential loop <= 1.0 at 1,000", ratio <= 1.0, f"{ratio:.2f}")
    if 5000 in steady:
        p = steady[5000]
        goal("5,000 campaigns work", p.state == "success", f"{p.state} in {p.seconds:.0f} s")
    for p in steady.values():
        tokens = p.box.get("POST /oauth2/token", 0)
        listings = (p.box_requests - tokens) / p.campaigns
        goal(
            f"Box listings per campaign <= 1.0 at {p.campaigns:,}",
            listings <= 1.0,
            f"{listings:.3f}; {p.box_requests / p.campaigns:.3f} with the {tokens} token requests",
        )
    polls = results.polls
    dam_ok = all(p.dam_requests == p.dam_requests_expected for p in polls)
    goal("DAM requests = sign-in + one per page + sign-out", dam_ok, "every run")
    counts = {p.statements for p in polls}
    goal(
        "tracking DB statements independent of the campaign count",
        None if None in counts else len(counts) == 1,
        ", ".join(str(c) for c in sorted(counts, key=str)),
    )
    busiest = max(p.busiest_box_minute for p in polls)
    goal(f"never above {BOX_RATE_LIMIT} Box requests a minute", busiest <= BOX_RATE_LIMIT,
         f"busiest minute {busiest:,}")  # fmt: skip
    waited = results.retry_after
    goal("Retry-After honoured", min(waited.values()) >= 2.0, "2 s asked")
    ours = statistics.median(results.parse["dags/a1_to_a2.py"])
    ratio = ours / statistics.median(results.parse["example"])
    goal("parse time / tutorial_taskflow_api <= 1.2", ratio <= 1.2, f"{ratio:.2f}")
    peak = results.stream["reset"]["max_rss_kib"] * 1024 / 1e6
    goal("reset task peak memory < 150 MB", peak < 150, f"{peak:.0f} MB")
    return lines


def task_instance_table(results: Results, args: argparse.Namespace) -> list[str]:
    measured = {(p.campaigns, p.setting): p for p in results.polls}
    fixed = {p.task_instances - 2 * p.batches for p in measured.values()}
    fixed_count = fixed.pop() if len(fixed) == 1 else None
    settings = {
        "default": PipelineSettings(),
        "tuned": PipelineSettings(
            campaigns_per_task=args.campaigns_per_task, box_concurrency=args.box_concurrency
        ),
    }
    lines = [
        "| campaigns | default: per task | default: task instances "
        "| tuned: per task | tuned: task instances |",
        "| ---: | ---: | ---: | ---: | ---: |",
    ]
    for size in sorted({*args.sizes, *args.default_sizes}):
        cells = []
        for name, setting in settings.items():
            per_task = setting.batch_size(size)
            if (size, name) in measured:
                count = f"{measured[size, name].task_instances:,}"
            elif fixed_count is not None:
                count = f"{fixed_count + 2 * -(-size // per_task):,} computed"
            else:
                count = "?"
            cells += [str(per_task), count]
        lines.append(f"| {size:,} | {' | '.join(cells)} |")
    return lines


def parse_table(parse: dict[str, list[float]]) -> list[str]:
    ours = statistics.median(parse["dags/a1_to_a2.py"])
    example = statistics.median(parse["example"])
    return [
        f"4\\. Parse time, median of {len(parse['example'])} fresh processes each (DagBag of "
        "the one file, Airflow imported beforehand).",
        "",
        "| DAG file | median ms | ratio |",
        "| --- | ---: | ---: |",
        f"| `dags/a1_to_a2.py` | {ours * 1000:.0f} | {ours / example:.2f} |",
        f"| Airflow's `tutorial_taskflow_api.py` | {example * 1000:.0f} | 1.00 |",
    ]


def stream_table(result: dict[str, Any], size_mib: int) -> list[str]:
    lines = [
        f"5\\. Streaming import of a {size_mib:,} MiB Box file into the DAM, each in a fresh "
        f"process (sandboxes without latency); content intact in the DAM: "
        f"{'yes' if result['intact'] else 'NO'}.",
        "",
        "| transfer | seconds | MiB/s | peak RSS MiB | RSS growth during the transfer MiB "
        "| throughput / plain |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    plain = result["plain"]["seconds"]
    for way, label in (("reset", "`reset` task"), ("plain", "plain HTTP copy")):
        r = result[way]
        growth = (r["max_rss_kib"] - r["rss_before_kib"]) / 1024
        lines.append(
            f"| {label} | {r['seconds']:.1f} | {size_mib / r['seconds']:.0f} "
            f"| {r['max_rss_kib'] / 1024:.0f} | {growth:.0f} | {plain / r['seconds']:.2f} |"
        )
    return lines


if __name__ == "__main__":
    main()
