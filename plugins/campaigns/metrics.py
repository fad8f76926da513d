"""The pipeline's metrics, each declared once: sent through Airflow's own Stats facility (StatsD,
Datadog or OpenTelemetry, as ``[metrics]`` configures it); the README's table is made from here.

Plain StatsD carries no tags (Airflow adds them to the name only with ``statsd_influxdb_enabled``),
so whatever must stay apart there, such as the campaign states, is apart in the name.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from campaigns.notify import FAILED, RETRY, WARNING

if TYPE_CHECKING:
    from campaigns.hooks.retry_state import RetryStateHook

log = logging.getLogger(__name__)

PREFIX = "a1_to_a2"
EMAIL_KINDS = (WARNING, RETRY, FAILED)
COUNTER = "counter"
GAUGE = "gauge"

# What sending a metric raised, reported once per process each: metrics never fail a task.
_reported: set[str] = set()


@dataclass(frozen=True)
class Metric:
    """One metric: its name under the prefix, counter or gauge, its tags and what it means."""

    name: str
    kind: str
    meaning: str
    tags: tuple[str, ...] = ()

    @property
    def stat(self) -> str:
        return f"{PREFIX}.{self.name}"

    def send(self, value: float = 1, **tags: str) -> None:
        """Add ``value`` to the counter, or set the gauge; a failure to send is logged, never
        raised (tags other than the declared ones are a bug: ValueError)."""
        if set(tags) != set(self.tags):
            raise ValueError(f"metric {self.stat} takes the tags {self.tags}, not {tuple(tags)}")
        with never_failing():
            from airflow.sdk.observability import stats

            if self.kind == COUNTER:
                stats.incr(self.stat, count=value, tags=tags)
            else:
                stats.gauge(self.stat, value, tags=tags)


@contextmanager
def never_failing() -> Iterator[None]:
    """Log what the block raises, once per process for each problem, instead of raising it."""
    try:
        yield
    except Exception as error:  # whatever the metrics backend or their source raises
        problem = f"{type(error).__name__}: {error}"
        if problem not in _reported:
            _reported.add(problem)
            log.warning("Metrics are not sent (%s); the task goes on without them", problem)


def _state(name: str, meaning: str) -> Metric:
    return Metric(f"campaigns.{name}", GAUGE, f"campaigns at A1 {meaning}; set at each poll")


CAMPAIGNS_WAITING = _state(
    "waiting",
    "waiting for assets: last Box listing empty or none yet, no error streak (warned "
    "ones included)",
)
CAMPAIGNS_SETTLING = _state("settling", "whose last Box listing found files still arriving")
CAMPAIGNS_WARNED = _state("warned", "warned as stuck in their current episode")
CAMPAIGNS_IN_ERROR_STREAK = _state(
    "error_streak", "with genuine folder errors in a row, not (yet) permanently failed"
)
CAMPAIGNS_FAILED = _state("failed", "permanently failed")
OLDEST_AT_A1 = Metric(
    "oldest_at_a1_seconds",
    GAUGE,
    "seconds since the pipeline first saw the oldest campaign at A1 that is not permanently "
    "failed (0 when none); set at each poll",
)
PROMOTIONS = Metric("promotions", COUNTER, "campaigns moved to A2")
ASSETS_IMPORTED = Metric(
    "assets_imported", COUNTER, "master assets brought into the DAM (entered in the asset ledger)"
)
BYTES_IMPORTED = Metric("bytes_imported", COUNTER, "the bytes of those assets")
EMAILS_SENT = Metric(
    "emails_sent",
    COUNTER,
    "emails sent; `kind`: " + ", ".join(f"`{kind}`" for kind, _ in EMAIL_KINDS),
    ("kind",),
)
BOX_CALLS = Metric(
    "box_calls",
    COUNTER,
    "requests to Box's API, token requests and retries included (a file's download from its "
    "pre-signed URL is not an API call); over a poll's 3 minutes: Box calls per poll",
)
DAM_CALLS = Metric(
    "dam_calls",
    COUNTER,
    "requests to the DAM, sign-in, sign-out and retries included; over a poll's 3 minutes: DAM "
    "calls per poll",
)

METRICS = (
    CAMPAIGNS_WAITING,
    CAMPAIGNS_SETTLING,
    CAMPAIGNS_WARNED,
    CAMPAIGNS_IN_ERROR_STREAK,
    CAMPAIGNS_FAILED,
    OLDEST_AT_A1,
    PROMOTIONS,
    ASSETS_IMPORTED,
    BYTES_IMPORTED,
    EMAILS_SENT,
    BOX_CALLS,
    DAM_CALLS,
)
# The state gauges by the column of ``retry_state/campaign_gauges.sql`` that counts them.
STATE_GAUGES = {
    "waiting": CAMPAIGNS_WAITING,
    "settling": CAMPAIGNS_SETTLING,
    "warned": CAMPAIGNS_WARNED,
    "error_streak": CAMPAIGNS_IN_ERROR_STREAK,
    "failed": CAMPAIGNS_FAILED,
    "oldest_at_a1_seconds": OLDEST_AT_A1,
}


def send_campaign_gauges(state: RetryStateHook, status: str) -> None:
    """Set the state gauges and the oldest campaign's age from the tracking database's counts of
    the campaigns at ``status``; a failure to read them is logged, never raised."""
    with never_failing():
        counts = state.campaign_gauges(status)
        for column, metric in STATE_GAUGES.items():
            metric.send(counts[column])


def markdown_table() -> str:
    """The README's table of the metrics, their names as sent under Airflow's prefix."""
    rows = ["| metric | type | tags | meaning |", "| --- | --- | --- | --- |"]
    for metric in METRICS:
        tags = ", ".join(f"`{tag}`" for tag in metric.tags) or "-"
        rows.append(f"| `{metric.stat}` | {metric.kind} | {tags} | {metric.meaning} |")
    return "\n".join(rows)
