"""The decision rules: what to do with a campaign after one check of its Master Assets folder.

Pure functions and small value types, no Airflow and no I/O, so that they read like the rules of
the document they replace (A1_RETRY_LOGIC.md) with its two corrections:

- only *consecutive* genuine folder errors count towards permanent failure; any poll that finds
  the folder (empty or not) ends the streak. ``poll_count`` (``a1_retry_count``) still counts
  every poll, for visibility;
- the one-time warning goes out when the poll count has *reached* the threshold and the episode
  has not been warned yet, so a missed poll or a changed threshold cannot skip it.

Assets found decide a reset, but the counters and the episode are kept until the campaign has
actually moved (``reset_state``, applied by the promotion): someone holding the campaign folder's
lock in the DAM keeps it at A1, within the same episode, and the next poll tries again.

With the backoff on (``empty_backoff_max_polls``), a warned campaign whose folder is still empty
is checked only every 2, 4, 8, ... polls, up to the cap; any other outcome ends the backoff.

A folder whose files are still arriving (*settling*, see ``campaigns.settle``) is skipped
silently: the poll is counted for visibility and ends an error streak (the folder was found), but
never brings the no-assets warning, since files are there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

WARNING_THRESHOLD = 20
MAX_CONSECUTIVE_ERRORS = 3
EMPTY_BACKOFF_MAX_POLLS = 16
# The DAG's cadence: one poll every 3 minutes.
POLL_MINUTES = 3
POLL_INTERVAL = timedelta(minutes=POLL_MINUTES)


class Outcome(StrEnum):
    """What one check of a campaign's Master Assets folder found."""

    ASSETS = "assets"
    EMPTY = "empty"
    SETTLING = "settling"
    FOLDER_ERROR = "folder_error"


class Action(StrEnum):
    """The five things the pipeline can do with a campaign after a check."""

    SKIP = "skip"
    WARN = "warn"
    RETRY = "retry"
    FAIL = "fail"
    RESET = "reset"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, with the reason when it is a folder error."""

    outcome: Outcome
    reason: str | None = None

    def __post_init__(self) -> None:
        if self.outcome is Outcome.FOLDER_ERROR and not self.reason:
            raise ValueError("a folder error needs a reason")


@dataclass(frozen=True)
class RetryState:
    """A campaign's retry state, as the tracking table keeps it."""

    poll_count: int = 0
    consecutive_errors: int = 0
    warning_sent: bool = False
    permanently_failed: bool = False
    failure_reason: str | None = None
    max_retries: int | None = None
    episode: int = 1
    # Polls to wait after this check before the next one; 0 means the next poll.
    backoff_polls: int = 0


@dataclass(frozen=True)
class RetrySettings:
    """The global thresholds; a campaign's own ``max_retries`` overrides the error limit.

    ``empty_backoff_max_polls`` turns the backoff of warned empty campaigns on (None: off).
    """

    warning_threshold: int = WARNING_THRESHOLD
    max_consecutive_errors: int = MAX_CONSECUTIVE_ERRORS
    empty_backoff_max_polls: int | None = None

    def __post_init__(self) -> None:
        if self.warning_threshold < 1 or self.max_consecutive_errors < 1:
            raise ValueError("thresholds must be at least 1")
        if self.empty_backoff_max_polls is not None and self.empty_backoff_max_polls < 1:
            raise ValueError("the backoff cap must be at least 1 poll")

    def error_limit(self, state: RetryState) -> int:
        """The number of consecutive genuine errors that fails this campaign."""
        return state.max_retries or self.max_consecutive_errors


@dataclass(frozen=True)
class Decision:
    """The action for one campaign and its state after this poll."""

    action: Action
    state: RetryState
    attempt: int | None = None
    reason: str | None = None


class PermanentlyFailed(ValueError):
    """A permanently failed campaign is filtered out before any check; it needs a reset first."""


def decide(check: CheckResult, state: RetryState, settings: RetrySettings) -> Decision:
    """Apply the rules to one check of one campaign."""
    if state.permanently_failed:
        raise PermanentlyFailed("a permanently failed campaign must be reset before it is polled")
    polled = replace(state, poll_count=state.poll_count + 1)
    if check.outcome is not Outcome.FOLDER_ERROR:
        polled = replace(polled, consecutive_errors=0, failure_reason=None)
    if check.outcome is Outcome.ASSETS:
        return Decision(Action.RESET, replace(polled, backoff_polls=0))
    if check.outcome is Outcome.SETTLING:
        return Decision(Action.SKIP, replace(polled, backoff_polls=0))
    if check.outcome is Outcome.EMPTY:
        if polled.poll_count >= settings.warning_threshold and not polled.warning_sent:
            return Decision(Action.WARN, _backed_off(replace(polled, warning_sent=True), settings))
        return Decision(Action.SKIP, _backed_off(polled, settings))

    errors = state.consecutive_errors + 1
    polled = replace(
        polled, consecutive_errors=errors, failure_reason=check.reason, backoff_polls=0
    )
    if errors >= settings.error_limit(state):
        failed = replace(polled, permanently_failed=True)
        return Decision(Action.FAIL, failed, attempt=errors, reason=check.reason)
    return Decision(Action.RETRY, polled, attempt=errors, reason=check.reason)


def reset_state(state: RetryState) -> RetryState:
    """The state once the campaign has moved to A2 or an operator reset it: a new episode."""
    return RetryState(max_retries=state.max_retries, episode=state.episode + 1)


def next_backoff(backoff_polls: int, max_polls: int) -> int:
    """Polls until the next check of a warned, still empty campaign: 2, 4, 8, ... up to the cap."""
    return min(max(2, backoff_polls * 2), max_polls)


def due_at(checked_at: datetime, backoff_polls: int) -> datetime | None:
    """When a campaign checked at ``checked_at`` is due again; None: at the next poll."""
    return checked_at + backoff_polls * POLL_INTERVAL if backoff_polls else None


def is_due(next_check: datetime | None, now: datetime) -> bool:
    """Whether a campaign is checked at a poll at ``now``."""
    return next_check is None or next_check <= now


def _backed_off(state: RetryState, settings: RetrySettings) -> RetryState:
    """An empty check's state: backing off once warned, if the backoff is on."""
    if settings.empty_backoff_max_polls is None or not state.warning_sent:
        return replace(state, backoff_polls=0)
    return replace(
        state, backoff_polls=next_backoff(state.backoff_polls, settings.empty_backoff_max_polls)
    )
