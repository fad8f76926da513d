"""The DAM and Box connections' extras, declared once: read and checked here, and made into the
connection forms (``campaigns.provider``), the README's tables and the DAM check's advice.

Light on purpose: Airflow's providers manager imports it in every process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from campaigns.errors import NotRetryable

DAM_CONN_TYPE = "otmm"
BOX_CONN_TYPE = "box"
FALSE_WORDS = ("false", "0", "no", "off")
TRUE_WORDS = ("true", "1", "yes", "on")


class ConnectionSettingError(NotRetryable):
    """A connection extra that is missing or cannot be used: names the connection and the extra."""

    def __init__(self, service: str, conn_id: str, extra: str, problem: str):
        super().__init__(f"{service} connection {conn_id!r}: extra {extra!r} {problem}")
        self.conn_id = conn_id
        self.extra = extra


@dataclass(frozen=True)
class Extra:
    """One extra of a connection: its key, how the form shows it, its type and default.

    ``kind`` is one of string, integer, number, boolean, list (comma-separated in the form),
    timeout (seconds, or "connect, read"), json (an object, or its text) and verify (true,
    false, or a CA bundle's path). ``needed_when`` names another extra and the value that makes
    this one required.
    """

    name: str
    label: str
    help: str
    kind: str = "string"
    default: Any = None
    required: bool = False
    choices: tuple[str, ...] = ()
    secret: bool = False
    placeholder: str = ""
    needed_when: tuple[str, str] | None = None

    def read(self, service: str, conn_id: str, raw: Any) -> Any:
        """The extra's value from the connection's JSON (or the form's text); default if unset.

        A secret's value never appears in the error.
        """
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return self.default
        shown = "a secret (not shown)" if self.secret else repr(raw)
        try:
            value = _READERS[self.kind](raw)
        except (ValueError, TypeError) as error:
            raise ConnectionSettingError(
                service, conn_id, self.name, f"is {shown}: {error}"
            ) from error
        if self.choices and value not in self.choices:
            raise ConnectionSettingError(
                service,
                conn_id,
                self.name,
                f"is {shown}: it must be one of {', '.join(self.choices)}",
            )
        return value

    def form_field(self) -> dict[str, Any]:
        """The field as the provider info's ``conn-fields`` declare it (a JSON schema).

        Airflow's form marks a field whose type is not nullable as required, and shows no
        placeholder for an extra: the example goes into the description.
        """
        types = {"integer": "integer", "number": "number", "boolean": "boolean"}
        kind = types.get(self.kind, "string")
        schema: dict[str, Any] = {"type": [kind] if self.required else [kind, "null"]}
        if self.choices:
            schema["enum"] = [*self.choices, None]
        if self.secret:
            schema["format"] = "password"
        if _form_text(self.default) and not self.secret:
            schema["default"] = _form_text(self.default) if self.kind not in types else self.default
        example = f" Example: {self.placeholder}" if self.placeholder else ""
        description = f"{self.help[:1].upper()}{self.help[1:]}.{example}"
        return {"label": self.label, "description": description, "schema": schema}


@dataclass(frozen=True)
class ConnectionFields:
    """A connection type's extras and what its standard fields mean."""

    service: str
    conn_type: str
    hook_class: str
    hook_name: str
    extras: tuple[Extra, ...]
    relabeling: Mapping[str, str]
    placeholders: Mapping[str, str]
    hidden: tuple[str, ...] = ()

    def read(self, conn_id: str, extra: Mapping[str, Any]) -> dict[str, Any]:
        """Every declared extra's value, checked; ConnectionSettingError names what to fix."""
        values = {
            item.name: item.read(self.service, conn_id, _raw(extra, item.name, self.conn_type))
            for item in self.extras
        }
        for item in self.extras:
            if values[item.name] is not None:
                continue
            if item.required:
                raise self.missing(conn_id, item.name)
            if item.needed_when and values.get(item.needed_when[0]) == item.needed_when[1]:
                raise self.missing(conn_id, item.name, "{} is {}".format(*item.needed_when))
        return values

    def missing(self, conn_id: str, name: str, because: str = "") -> ConnectionSettingError:
        """The error for declared extra ``name`` left unset, with its help; ``because`` says why."""
        [item] = [item for item in self.extras if item.name == name]
        why = f" ({because})" if because else ""
        return ConnectionSettingError(self.service, conn_id, name, f"is missing{why}: {item.help}")

    def unknown(self, extra: Mapping[str, Any]) -> list[str]:
        """Keys of the connection's extras that no declared extra reads (typos, old names)."""
        known = {item.name for item in self.extras}
        prefix = f"extra__{self.conn_type}__"
        return sorted(key for key in extra if key.removeprefix(prefix) not in known)

    def provider_entry(self) -> dict[str, Any]:
        """The ``connection-types`` entry of the provider info."""
        return {
            "connection-type": self.conn_type,
            "hook-class-name": self.hook_class,
            "hook-name": self.hook_name,
            "ui-field-behaviour": {
                "hidden-fields": list(self.hidden),
                "relabeling": dict(self.relabeling),
                "placeholders": dict(self.placeholders),
            },
            "conn-fields": {item.name: item.form_field() for item in self.extras},
        }

    def markdown_table(self) -> str:
        """The README's table of these extras."""
        rows = ["| extra | default | meaning |", "| --- | --- | --- |"]
        for item in self.extras:
            default = "required" if item.required else _form_text(item.default) or "-"
            meaning = item.help
            if item.choices:
                meaning += f"; one of {', '.join(f'`{choice}`' for choice in item.choices)}"
            if item.placeholder:
                meaning += f" (e.g. `{item.placeholder}`)"
            rows.append(f"| `{item.name}` | {default} | {meaning} |")
        return "\n".join(rows)


def _raw(extra: Mapping[str, Any], name: str, conn_type: str) -> Any:
    """An extra by its name, or by the prefixed name older Airflow forms wrote."""
    if name in extra:
        return extra[name]
    return extra.get(f"extra__{conn_type}__{name}")


def _text(raw: Any) -> str:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise ValueError("not text")
    return str(raw).strip()


def _integer(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ValueError("not a whole number")
    try:
        value = raw if isinstance(raw, int) else int(_text(raw))
    except ValueError:
        raise ValueError("not a whole number") from None
    if value < 1:
        raise ValueError("it must be at least 1")
    return value


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError("not a number")
    try:
        value = float(_text(raw))
    except ValueError:
        raise ValueError("not a number") from None
    if not math.isfinite(value):
        raise ValueError("not a finite number")
    if value < 0:
        raise ValueError("it must not be negative")
    return value


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    word = str(raw).strip().lower() if isinstance(raw, str | int) else ""
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ValueError(f"not true or false (one of {', '.join(TRUE_WORDS + FALSE_WORDS)})")


def _list(raw: Any) -> tuple[str, ...]:
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list | tuple):
        raise ValueError("not a list")
    values = []
    for item in items:
        try:
            values.append(_text(item))
        except ValueError:
            raise ValueError(f"its entry {item!r} is not text") from None
    return tuple(value for value in values if value)


def _timeout(raw: Any) -> float | tuple[float, float]:
    parts = _list(raw) if isinstance(raw, str | list | tuple) else (raw,)
    if len(parts) not in (1, 2):
        raise ValueError("give seconds, or connect and read seconds")
    seconds = tuple(_number(part) for part in parts)
    if not all(seconds):
        raise ValueError("a timeout must be more than 0 seconds")
    return seconds[0] if len(seconds) == 1 else (seconds[0], seconds[1])


def _json_object(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as error:
        raise ValueError(f"not JSON ({error})") from None
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value


def _verify(raw: Any) -> bool | str:
    """TLS verification: on, off, or the path of a CA bundle; on unless turned off explicitly."""
    if isinstance(raw, bool):
        return raw
    text = _text(raw)
    if text.lower() in FALSE_WORDS or text.lower() in TRUE_WORDS:
        return text.lower() in TRUE_WORDS
    return text


_READERS = {
    "string": _text,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "list": _list,
    "timeout": _timeout,
    "json": _json_object,
    "verify": _verify,
}


def _form_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):
        return ", ".join(_form_text(item) for item in value)
    return str(value)


def _common(retries: Sequence[Extra]) -> tuple[Extra, ...]:
    """The transport extras both connections have."""
    return (
        Extra(
            "verify",
            "TLS verification",
            "true, false (not recommended: a warning is logged), or the path of a CA bundle",
            kind="verify",
            default=True,
            placeholder="/etc/ssl/certs/dam-ca.pem",
        ),
        *retries,
    )


DAM = ConnectionFields(
    service="DAM",
    conn_type=DAM_CONN_TYPE,
    hook_class="campaigns.hooks.dam.DamHook",
    hook_name="OpenText Media Management",
    relabeling={"host": "OTMM URL", "port": "OTMM port", "login": "User"},
    # The port is the URL's: Airflow 3.3.2's Test button refuses a connection without one
    # (apache/airflow#73298); the hook reads it only for a host given without its scheme.
    placeholders={"host": "https://dam.example.com", "port": "443", "login": "svc-a1-to-a2"},
    hidden=("schema",),
    extras=(
        Extra(
            "auth",
            "Sign-in method",
            "how the service account signs in: an OTMM session, OAuth2, or OTDS single sign-on",
            choices=("session", "oauth2", "otds"),
            default="session",
        ),
        Extra(
            "status_field",
            "Status field id",
            "the metadata field id holding the campaign status (A1, A2, ...)",
            required=True,
            placeholder="ACME.FIELD.CAMPAIGN STATUS",
        ),
        Extra(
            "number_field",
            "Campaign number field id",
            "the metadata field id holding the campaign number",
            required=True,
            placeholder="ACME.FIELD.CAMPAIGN NUMBER",
        ),
        Extra(
            "box_folder_field",
            "Box folder id field id",
            "the metadata field id holding the id of the campaign's Box folder",
            required=True,
            placeholder="ACME.FIELD.BOX FOLDER ID",
        ),
        Extra(
            "metadata_model_id",
            "Metadata model id",
            "the metadata model imported assets get (not needed with an import template)",
            placeholder="ACME.MODEL.MASTER ASSET",
        ),
        Extra(
            "security_policy_ids",
            "Security policy ids",
            "comma-separated ids of the security policies imported assets get "
            "(not needed with an import template)",
            kind="list",
            default=(),
            placeholder="1, 42",
        ),
        Extra(
            "import_template_id",
            "Import template id",
            "the site's import template, where imports go through one (it supplies the model "
            "and policies)",
        ),
        Extra(
            "search_operator_id",
            "Search operator id",
            "the relational operator of the status search",
            default="ARTESIA.OPERATOR.CHAR.IS",
        ),
        Extra(
            "search_config_id",
            "Search configuration id",
            "the search configuration the site's searches need, if any",
            placeholder="3",
        ),
        Extra(
            "otds_url",
            "OTDS URL",
            "the OpenText Directory Services base URL (auth otds)",
            placeholder="https://otds.example.com",
            needed_when=("auth", "otds"),
        ),
        Extra(
            "otds_resource_id",
            "OTDS resource id",
            "the OTMM resource's id in OTDS, where the site needs a resource ticket (auth otds)",
        ),
        Extra(
            "client_id",
            "OAuth2 client id",
            "the OAuth2 client (auth oauth2)",
            needed_when=("auth", "oauth2"),
        ),
        Extra(
            "client_secret",
            "OAuth2 client secret",
            "the OAuth2 client's secret (auth oauth2)",
            secret=True,
            needed_when=("auth", "oauth2"),
        ),
        Extra(
            "client_cert",
            "Client certificate",
            "path of a PKCS#12 (.pfx) or PEM client certificate, for mutual TLS",
            placeholder="/opt/airflow/secrets/dam-client.pfx",
        ),
        Extra(
            "client_cert_password",
            "Client certificate password",
            "the client certificate's password",
            secret=True,
        ),
        Extra(
            "api_version",
            "API version",
            "the OTMM REST API version",
            choices=("v4", "v5", "v6"),
            default="v6",
        ),
        Extra(
            "page_size",
            "Page size",
            "hits and folder children read per request",
            kind="integer",
            default=100,
        ),
        Extra(
            "lost_import_looks",
            "Looks for a lost import",
            "times the campaign folder is listed, with the backoff between, for an import whose "
            "answer was lost, before the import is sent again",
            kind="integer",
            default=3,
        ),
        Extra(
            "search_rereads",
            "Rereads of a shifting search",
            "times the status search is read again when its results change while it pages; "
            "when every read changed, no campaign is taken for having left A1 that poll",
            kind="integer",
            default=3,
        ),
        *_common(
            (
                Extra(
                    "timeout",
                    "Timeout (seconds)",
                    "seconds to wait for the DAM, or connect and read seconds",
                    kind="timeout",
                    default=(10.0, 120.0),
                ),
                Extra(
                    "max_attempts",
                    "Attempts per request",
                    "tries of a request on 429, 5xx, timeouts and refused connections",
                    kind="integer",
                    default=5,
                ),
                Extra(
                    "backoff",
                    "Backoff (seconds)",
                    "the first wait between tries, doubled after each",
                    kind="number",
                    default=1.0,
                ),
            )
        ),
    ),
)

BOX = ConnectionFields(
    service="Box",
    conn_type=BOX_CONN_TYPE,
    hook_class="campaigns.hooks.box.BoxHook",
    hook_name="Box",
    relabeling={"login": "Client id", "password": "Client secret"},
    placeholders={},
    hidden=("host", "schema", "port"),
    extras=(
        Extra(
            "auth",
            "Sign-in method",
            "client credentials (ccg), a JWT app (jwt) or a developer token; "
            "implied by the extras given when unset",
            choices=("ccg", "jwt", "developer_token"),
        ),
        Extra(
            "enterprise_id",
            "Enterprise id",
            "the enterprise the CCG service account belongs to (or give user_id)",
            placeholder="1234567",
        ),
        Extra("user_id", "User id", "the user CCG signs in as, instead of the enterprise"),
        Extra(
            "jwt_config",
            "JWT app configuration",
            "the JWT app's configuration JSON, as Box's developer console downloads it",
            kind="json",
            secret=True,
            needed_when=("auth", "jwt"),
        ),
        Extra(
            "developer_token",
            "Developer token",
            "a developer token (tests only: it expires after an hour); else the password",
            secret=True,
        ),
        Extra(
            "base_url",
            "API URL",
            "Box's API base URL",
            placeholder="https://api.box.com",
        ),
        Extra(
            "upload_url", "Upload URL", "Box's upload URL", placeholder="https://upload.box.com/api"
        ),
        Extra(
            "oauth2_url",
            "OAuth2 URL",
            "Box's OAuth2 URL",
            placeholder="https://account.box.com/api/oauth2",
        ),
        *_common(
            (
                Extra(
                    "timeout",
                    "Timeout (seconds)",
                    "seconds to wait for Box, or connect and read seconds",
                    kind="timeout",
                    default=(10.0, 60.0),
                ),
                Extra(
                    "max_attempts",
                    "Attempts per request",
                    "tries of a request on 429, 5xx and network errors",
                    kind="integer",
                    default=5,
                ),
                Extra(
                    "retry_base_interval",
                    "Retry interval (seconds)",
                    "the base wait between tries",
                    kind="number",
                    default=1.0,
                ),
            )
        ),
    ),
)
