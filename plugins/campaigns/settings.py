"""The pipeline's settings: the ``a1_to_a2_settings`` Variable and a run's params, in one object."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from campaigns.rules import (
    EMPTY_BACKOFF_MAX_POLLS,
    MAX_CONSECUTIVE_ERRORS,
    WARNING_THRESHOLD,
    RetrySettings,
)
from campaigns.settle import SETTLE_MINUTES
from campaigns.watch import RECONCILE_HOURS, WATCH_MODES

VARIABLE = "a1_to_a2_settings"
MAX_MAP_LENGTH = 1024
# Mapped instances a stage runs at most by default: task instances cost about a third of a
# second each (LocalExecutor, 2 cores), so more campaigns make bigger batches, not more tasks.
DEFAULT_INSTANCES = 32
# Tasks of one run that may call Box at the same time; they share one request rate.
BOX_TASKS_AT_ONCE = 4
LISTS = ("master_assets_folder_names", "recipients")
# One poll (3 minutes) up to the 14 days Box keeps events.
MIN_RECONCILE_HOURS = 0.05
MAX_RECONCILE_HOURS = 336
# A plain ASCII address (no display name; any SMTP server takes it): the local part's characters
# as RFC 5322 allows them unquoted, "@", and a domain of two labels or more.
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class SettingsError(ValueError):
    """A setting that cannot be used, with the key and what is wrong with it."""


@dataclass(frozen=True)
class PipelineSettings:
    """Everything a run of a1_to_a2 can be told; defaults are the seed's behaviour."""

    warning_threshold: int = WARNING_THRESHOLD
    max_consecutive_errors: int = MAX_CONSECUTIVE_ERRORS
    master_assets_folder_names: tuple[str, ...] = ("Master Assets",)
    max_campaigns_per_run: int | None = None
    campaigns_per_task: int | None = None
    recipients: tuple[str, ...] = ()
    sender: str | None = None
    box_concurrency: int = 8
    box_requests_per_minute: int = 900
    empty_backoff_after_warning: bool = False
    empty_backoff_max_polls: int = EMPTY_BACKOFF_MAX_POLLS
    auto_reset_failed_after_days: int | None = None
    webhook_conn_id: str | None = None
    settle_minutes: int = SETTLE_MINUTES
    ready_marker: str | None = None
    box_watch: str = WATCH_MODES[0]
    reconcile_hours: float = RECONCILE_HOURS

    @classmethod
    def from_sources(cls, *sources: Mapping[str, Any] | None) -> PipelineSettings:
        """Read the Variable's JSON, then each run's params over it.

        ``None`` is unset, and so is a list of nothing but blanks: the trigger form sends one for
        a list emptied by hand (``[""]``), which leaves the Variable's list in force.
        """
        known = {field.name for field in fields(cls)}
        merged: dict[str, Any] = {}
        for source in sources:
            for key, value in (source or {}).items():
                if key not in known:
                    raise SettingsError(
                        f"unknown setting {key!r}; known: {', '.join(sorted(known))}"
                    )
                if not _unset(key, value):
                    merged[key] = value
        return cls(**{key: _checked(key, value) for key, value in merged.items()})

    def __post_init__(self) -> None:
        if not self.master_assets_folder_names:
            raise SettingsError("master_assets_folder_names: name at least one folder")
        if self.box_concurrency < 1 or self.box_requests_per_minute < 1:
            raise SettingsError("box_concurrency and box_requests_per_minute must be at least 1")
        RetrySettings(
            self.warning_threshold, self.max_consecutive_errors, self.empty_backoff_max_polls
        )

    @property
    def rules(self) -> RetrySettings:
        """The thresholds the decision rules use; the backoff's cap only when it is on."""
        return RetrySettings(
            self.warning_threshold,
            self.max_consecutive_errors,
            self.empty_backoff_max_polls if self.empty_backoff_after_warning else None,
        )

    def batch_size(self, campaign_count: int) -> int:
        """Campaigns per mapped task instance: the setting (within the map's length), or by
        default one each up to ``DEFAULT_INSTANCES`` campaigns, then that many even batches."""
        if self.campaigns_per_task:
            return max(self.campaigns_per_task, -(-campaign_count // MAX_MAP_LENGTH))
        return -(-campaign_count // DEFAULT_INSTANCES) or 1


def _unset(key: str, value: Any) -> bool:
    if value is None:
        return True
    items = [value] if isinstance(value, str) else value
    return (
        key in LISTS
        and isinstance(items, list | tuple)
        and all(isinstance(item, str) and not item.strip() for item in items)
    )


def _checked(key: str, value: Any) -> Any:
    if key in LISTS:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise SettingsError(f"{key}: expected a list of strings, got {value!r}")
        if key == "recipients":
            for number, item in enumerate(items, start=1):
                if item.strip():
                    _check_address(f"recipients: entry {number}", item.strip())
        return tuple(item.strip() for item in items if item.strip())
    if key == "sender":
        if not isinstance(value, str):
            raise SettingsError(f"sender: expected an email address, got {value!r}")
        if value.strip():
            _check_address("sender", value.strip())
        return value.strip() or None
    if key == "webhook_conn_id":
        if not isinstance(value, str):
            raise SettingsError(f"webhook_conn_id: expected a connection id, got {value!r}")
        return value.strip() or None
    if key == "ready_marker":
        if not isinstance(value, str) or "/" in value:
            raise SettingsError(f"ready_marker: expected a file name, got {value!r}")
        return value.strip() or None
    if key == "box_watch":
        if value not in WATCH_MODES:
            raise SettingsError(
                f"box_watch: expected one of {', '.join(WATCH_MODES)}, got {value!r}"
            )
        return value
    if key == "reconcile_hours":
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not MIN_RECONCILE_HOURS <= value <= MAX_RECONCILE_HOURS
        ):
            raise SettingsError(
                f"reconcile_hours: expected a number of hours from {MIN_RECONCILE_HOURS} to "
                f"{MAX_RECONCILE_HOURS}, got {value!r}"
            )
        return value
    if key == "settle_minutes":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SettingsError(
                f"settle_minutes: expected a whole number of 0 or more, got {value!r}"
            )
        return value
    if key == "empty_backoff_after_warning":
        if not isinstance(value, bool):
            raise SettingsError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{key}: expected a whole number of at least 1, got {value!r}")
    return value


def _check_address(where: str, address: str) -> None:
    if not EMAIL_ADDRESS.fullmatch(address):
        raise SettingsError(
            f"{where}, {address!r}, is not an email address (give a plain one: name@example.com)"
        )
