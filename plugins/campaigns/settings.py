"""The pipeline's settings, each declared once: the ``a1_to_a2_settings`` Variable and a run's
params read into one object, and made into the trigger form's fields and the README's table."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Annotated, Any, Literal, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from campaigns.rules import (
    EMPTY_BACKOFF_MAX_POLLS,
    MAX_CONSECUTIVE_ERRORS,
    POLL_MINUTES,
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
# One poll (3 minutes) up to the 14 days Box keeps events.
MIN_RECONCILE_HOURS = 0.05
MAX_RECONCILE_HOURS = 336
POLL_DEADLINE_MINUTES = 15
# A plain ASCII address (no display name; any SMTP server takes it): the local part's characters
# as RFC 5322 allows them unquoted, "@", and a domain of two labels or more.
EMAIL_ADDRESS = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+")


class SettingsError(ValueError):
    """A setting that cannot be used, with the key and what is wrong with it."""


def _texts(value: Any) -> list[str]:
    """A list of strings as given (one string is a list of one)."""
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
        raise ValueError(f"expected a list of strings, got {value!r}")
    return items


def _names(value: Any) -> tuple[str, ...]:
    names = tuple(item.strip() for item in _texts(value) if item.strip())
    if not names:
        raise ValueError("name at least one folder")
    return names


def _addresses(value: Any) -> tuple[str, ...]:
    items = _texts(value)
    for number, item in enumerate(items, start=1):
        if item.strip():
            _check_address(f"entry {number}, {item.strip()!r},", item.strip())
    return tuple(item.strip() for item in items if item.strip())


def _sender(value: Any) -> str | None:
    if not isinstance(value, str):
        raise ValueError(f"expected an email address, got {value!r}")
    if value.strip():
        _check_address(repr(value.strip()), value.strip())
    return value.strip() or None


def _conn_id(value: Any) -> str | None:
    if not isinstance(value, str):
        raise ValueError(f"expected a connection id, got {value!r}")
    return value.strip() or None


def _file_name(value: Any) -> str | None:
    if not isinstance(value, str) or "/" in value:
        raise ValueError(f"expected a file name, got {value!r}")
    return value.strip() or None


def _check_address(where: str, address: str) -> None:
    if not EMAIL_ADDRESS.fullmatch(address):
        raise ValueError(f"{where} is not an email address (give a plain one: name@example.com)")


def _setting(
    default: Any, title: str, meaning: str, empty: str = "", unit: str = "", **bounds: Any
) -> Any:
    """A setting: its default, the form's title, what it means, and what an empty value means
    where the default does not say it (``empty``); ``unit`` names its numbers in errors."""
    extra = {key: value for key, value in (("empty", empty), ("unit", unit)) if value}
    return Field(default, title=title, description=meaning, json_schema_extra=extra, **bounds)


class PipelineSettings(BaseModel):
    """Everything a run of a1_to_a2 can be told; the defaults are the seed's behaviour."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    warning_threshold: int = _setting(
        WARNING_THRESHOLD,
        "Warning threshold",
        f"empty polls (about {POLL_MINUTES} minutes each) before the one-time warning",
        ge=1,
    )
    max_consecutive_errors: int = _setting(
        MAX_CONSECUTIVE_ERRORS,
        "Consecutive-error limit",
        "genuine folder errors in a row that fail a campaign; a campaign's own "
        "`a1_max_retries` overrides it",
        ge=1,
    )
    master_assets_folder_names: Annotated[tuple[str, ...], BeforeValidator(_names)] = _setting(
        ("Master Assets",),
        "Master Assets folder names",
        "names of the assets folder inside a campaign folder, matched as people read them: any "
        "letter case, kind of space or accent form, invisible characters ignored "
        "(`campaigns.names`)",
    )
    max_campaigns_per_run: int | None = _setting(
        None,
        "Campaigns per run",
        "at most this many campaigns per run, least recently polled first; permanently failed "
        "ones never take a slot",
        empty="no cap",
        ge=1,
    )
    campaigns_per_task: int | None = _setting(
        None,
        "Campaigns per task",
        "campaigns per mapped `check` and action instance; a value set is raised automatically "
        f"beyond {MAX_MAP_LENGTH:,} campaigns (Airflow's map limit), so 5,000 work",
        empty=f"one each up to {DEFAULT_INSTANCES} campaigns, then {DEFAULT_INSTANCES} even "
        "batches",
        ge=1,
    )
    recipients: Annotated[tuple[str, ...], BeforeValidator(_addresses)] = _setting(
        (),
        "Recipients",
        "who receives the warning, retry, failure and overdue-poll emails (required for those "
        "emails); plain addresses",
        empty="none",
    )
    sender: Annotated[str | None, BeforeValidator(_sender)] = _setting(
        None, "Sender", "From address of the emails", empty="the SMTP connection's `from_email`"
    )
    box_concurrency: int = _setting(
        8, "Box concurrency", "Box folders checked at once within one `check` instance", ge=1
    )
    box_requests_per_minute: int = _setting(
        900,
        "Box request rate",
        "ceiling on Box requests a minute, shared by every task and run (requests take their "
        "start slots from the tracking database's `box_request_slots`, a second's worth per "
        "statement), so one task alone may use all of it",
        ge=1,
    )
    box_watch: Literal[WATCH_MODES] = _setting(
        WATCH_MODES[0],
        "Box watch",
        "`events`: each poll reads Box's change feed and lists only the campaigns whose folders "
        "changed (plus new, settling, erroring and reconciled ones); `list`: every campaign is "
        "listed every poll, as before",
    )
    reconcile_hours: float = _setting(
        RECONCILE_HOURS,
        "Reconcile every (hours)",
        "in `events` mode, every campaign is listed in full at least this often "
        f"({MIN_RECONCILE_HOURS} to {MAX_RECONCILE_HOURS} hours), spread evenly over the polls, to "
        "find what the feed missed",
        unit="hours",
        ge=MIN_RECONCILE_HOURS,
        le=MAX_RECONCILE_HOURS,
    )
    settle_minutes: int = _setting(
        SETTLE_MINUTES,
        "Settle minutes",
        "promote only once the Master Assets files have not changed for this many minutes; 0 "
        "promotes at the first poll that finds files",
        empty=f"{SETTLE_MINUTES} ({SETTLE_MINUTES // POLL_MINUTES} polls)",
        unit="minutes",
        ge=0,
    )
    ready_marker: Annotated[str | None, BeforeValidator(_file_name)] = _setting(
        None,
        "Ready marker",
        "a file name (e.g. `READY.txt`) that promotes at the first poll seeing it anywhere in "
        "Master Assets; the marker itself is not imported",
        empty="none",
    )
    poll_deadline_minutes: float = _setting(
        POLL_DEADLINE_MINUTES,
        "Poll deadline (minutes)",
        "a poll run still going this many minutes after it was queued emails the recipients "
        "once (an Airflow deadline alert)",
        unit="minutes",
        gt=0,
    )
    empty_backoff_after_warning: bool = _setting(
        False,
        "Back off after the warning",
        "once warned, a campaign whose folder is still empty is checked only every 2, 4, 8, ... "
        "polls",
    )
    empty_backoff_max_polls: int = _setting(
        EMPTY_BACKOFF_MAX_POLLS,
        "Backoff cap (polls)",
        f"the backoff's longest wait, in polls of {POLL_MINUTES} minutes",
        unit="polls",
        ge=1,
    )
    auto_reset_failed_after_days: int | None = _setting(
        None,
        "Auto-reset failed after (days)",
        "reset campaigns permanently failed this many days ago or longer, at each poll, audited",
        empty="never",
        unit="days",
        ge=1,
    )
    webhook_conn_id: Annotated[str | None, BeforeValidator(_conn_id)] = _setting(
        None,
        "Webhook connection",
        "HTTP connection (e.g. `campaign_webhook`) to POST each warn, retry, fail and reset to, "
        "as JSON",
        empty="no webhook",
    )

    def __init__(self, **values: Any) -> None:
        try:
            super().__init__(**values)
        except ValidationError as error:
            raise SettingsError("; ".join(_described(e) for e in error.errors())) from None

    @classmethod
    def from_sources(cls, *sources: Mapping[str, Any] | None) -> PipelineSettings:
        """Read the Variable's JSON, then each run's params over it.

        ``None`` is unset, and so is a list of nothing but blanks: the trigger form sends one for
        a list emptied by hand (``[""]``), which leaves the Variable's list in force.
        """
        merged: dict[str, Any] = {}
        for source in sources:
            if not isinstance(source, Mapping | None):
                raise SettingsError(f"settings: expected a JSON object, got {source!r}")
            merged |= {k: v for k, v in (source or {}).items() if not _unset(k, v)}
        return cls(**merged)

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


# The settings that are lists: one given as nothing but blanks is unset.
LISTS = tuple(
    key
    for key, field in PipelineSettings.model_fields.items()
    if get_origin(field.annotation) is tuple
)


def _unset(key: str, value: Any) -> bool:
    """None, or a list setting of nothing but blanks (a blank text setting clears its value)."""
    if value is None:
        return True
    items = [value] if isinstance(value, str) else value
    return (
        key in LISTS
        and isinstance(items, list | tuple)
        and all(isinstance(item, str) and not item.strip() for item in items)
    )


def _described(error: ErrorDetails) -> str:
    """One refusal, naming the key: the check's own words, or what the setting takes."""
    if error["type"] == "extra_forbidden":
        known = ", ".join(PipelineSettings.model_fields)
        return f"unknown setting {error['loc'][0]!r}; known: {known}"
    key = str(error["loc"][0])
    if error["type"] == "value_error":
        return f"{key}: {error['ctx']['error']}"
    return f"{key}: expected {_expected(key)}, got {error['input']!r}"


def _expected(key: str) -> str:
    """What a setting takes, in words: its kind, unit and bounds."""
    schema = _form_schema(key)
    kind = schema["type"][1]
    if "enum" in schema:
        return f"one of {', '.join(str(choice) for choice in schema['enum'][1:])}"
    if kind == "boolean":
        return "true or false"
    unit = PipelineSettings.model_fields[key].json_schema_extra.get("unit")
    words = ("a whole number" if kind == "integer" else "a number") + (
        f" of {unit}" if unit else ""
    )
    if "maximum" in schema:
        return f"{words} from {schema['minimum']} to {schema['maximum']}"
    if "exclusiveMinimum" in schema:
        return f"{words}, more than {schema['exclusiveMinimum']}"
    least = schema["minimum"]
    return f"{words}, {least} or more" if least == 0 else f"{words}, at least {least}"


def _form_schema(key: str) -> dict[str, Any]:
    """The JSON schema of one setting in the trigger form: its type, and its bounds, choices or
    items; every field may be left empty (null)."""
    declared = _json_schema()["properties"][key]
    typed = next(s for s in declared.get("anyOf", [declared]) if s["type"] != "null")
    schema: dict[str, Any] = {"type": ["null", typed["type"]]}
    for word in ("minimum", "maximum", "exclusiveMinimum", "items"):
        if word in typed:
            schema[word] = typed[word]
    if "enum" in typed:
        schema["enum"] = [None, *typed["enum"]]
    return schema


@cache
def _json_schema() -> dict[str, Any]:
    return PipelineSettings.model_json_schema()


def default_text(key: str) -> str:
    """What an empty value means, for people: the declared words, or the default itself."""
    field = PipelineSettings.model_fields[key]
    if "empty" in field.json_schema_extra:
        return field.json_schema_extra["empty"]
    default = field.default
    if isinstance(default, bool):
        return str(default).lower()
    if isinstance(default, tuple):
        return f"`{json.dumps(list(default))}`"
    if isinstance(default, str):
        return f"`{default}`"
    return str(default)


def trigger_form() -> dict[str, dict[str, Any]]:
    """Each setting as the trigger form's Param takes it (default None: the Variable's value)."""
    return {
        key: {
            **_form_schema(key),
            "title": field.title,
            "description_md": f"{field.description[:1].upper()}{field.description[1:]}. Empty: "
            f"the Variable's value, or {default_text(key)}.",
        }
        for key, field in PipelineSettings.model_fields.items()
    }


def markdown_table() -> str:
    """The README's table of the settings."""
    rows = ["| setting | default | meaning |", "| --- | --- | --- |"]
    for key, field in PipelineSettings.model_fields.items():
        rows.append(f"| `{key}` | {default_text(key)} | {field.description} |")
    return "\n".join(rows)
