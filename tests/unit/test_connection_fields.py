"""The connection extras' declaration: each kind's reader, the checks, the forms and the table."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import airflow
import pytest
from airflow.sdk import Connection
from jsonschema import Draft7Validator

from campaigns.connection_fields import (
    BOX,
    DAM,
    ConnectionFields,
    ConnectionSettingError,
    Extra,
)
from campaigns.errors import NotRetryable
from campaigns.hooks.dam.settings import DamSettings
from sandbox.dam.fixture import CLIENT_SECRET, PASSWORD

AIRFLOW_SCHEMAS = Path(airflow.__file__).parent
BOOLEAN_WORDS = "one of true, 1, yes, on, false, 0, no, off"
FIELDS = [DAM, BOX]
DAM_EXTRAS = {
    "status_field": "ACME.FIELD.CAMPAIGN STATUS",
    "number_field": "ACME.FIELD.CAMPAIGN NUMBER",
    "box_folder_field": "ACME.FIELD.BOX FOLDER ID",
    "metadata_model_id": "ACME.MODEL.MASTER ASSET",
    "security_policy_ids": "1, 42",
}


def read(kind: str, raw: Any, **declared: Any) -> Any:
    return Extra("setting", "Setting", "what it sets", kind=kind, **declared).read(
        "Svc", "svc_conn", raw
    )


def refusal(kind: str, raw: Any, **declared: Any) -> ConnectionSettingError:
    with pytest.raises(ConnectionSettingError) as raised:
        read(kind, raw, **declared)
    return raised.value


def dam_connection(**extra: Any) -> Connection:
    return Connection(
        conn_id="dam_test",
        conn_type="otmm",
        host="dam.example.com",
        port=8443,
        login="svc",
        password=PASSWORD,
        extra=json.dumps(extra),
    )


def dam_refusal(**extra: Any) -> ConnectionSettingError:
    with pytest.raises(ConnectionSettingError) as raised:
        DamSettings.from_connection(dam_connection(**extra))
    return raised.value


def test_the_error_names_the_service_the_connection_and_the_extra_and_is_not_retried():
    error = ConnectionSettingError("Box", "box_default", "auth", "is 'x': it must be one of a, b")
    assert isinstance(error, NotRetryable)
    assert str(error) == "Box connection 'box_default': extra 'auth' is 'x': it must be one of a, b"
    assert (error.conn_id, error.extra) == ("box_default", "auth")


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("string", "ACME.FIELD.STATUS", "ACME.FIELD.STATUS"),
        ("string", "  padded  ", "padded"),
        ("string", 1234567, "1234567"),
        ("string", 3.5, "3.5"),
        ("integer", 5, 5),
        ("integer", "5", 5),
        ("integer", " 250 ", 250),
        ("number", 1.5, 1.5),
        ("number", "0.25", 0.25),
        ("number", 0, 0.0),
        ("number", "2", 2.0),
        ("number", "1e3", 1000.0),
        ("boolean", True, True),
        ("boolean", False, False),
        ("boolean", "true", True),
        ("boolean", " False ", False),
        ("boolean", "YES", True),
        ("boolean", "no", False),
        ("boolean", "on", True),
        ("boolean", "off", False),
        ("boolean", "1", True),
        ("boolean", 0, False),
        ("list", "1, 42", ("1", "42")),
        ("list", "a,, b ,", ("a", "b")),
        ("list", "one", ("one",)),
        ("list", ["1", 42], ("1", "42")),
        ("list", ("x", " "), ("x",)),
        ("list", [], ()),
        ("timeout", 10, 10.0),
        ("timeout", "2.5", 2.5),
        ("timeout", "10, 120", (10.0, 120.0)),
        ("timeout", [5, "30"], (5.0, 30.0)),
        ("json", '{"boxAppSettings": {"clientID": "c"}}', {"boxAppSettings": {"clientID": "c"}}),
        ("json", {"a": [1, 2]}, {"a": [1, 2]}),
        ("json", "{}", {}),
        ("verify", True, True),
        ("verify", False, False),
        ("verify", "false", False),
        ("verify", "TRUE", True),
        ("verify", "0", False),
        ("verify", "off", False),
        ("verify", 1, True),
        ("verify", " /etc/ssl/certs/dam-ca.pem ", "/etc/ssl/certs/dam-ca.pem"),
    ],
)
def test_each_kind_reads_json_values_and_form_text(kind, raw, value):
    read_value = read(kind, raw)
    assert read_value == value
    assert type(read_value) is type(value)


@pytest.mark.parametrize(
    ("kind", "raw", "problem"),
    [
        ("string", {"a": 1}, "not text"),
        ("string", ["a"], "not text"),
        ("string", True, "not text"),
        ("integer", "ten", "not a whole number"),
        ("integer", 2.5, "not a whole number"),
        ("integer", "2.5", "not a whole number"),
        ("integer", True, "not a whole number"),
        ("integer", [1], "not a whole number"),
        ("integer", 0, "it must be at least 1"),
        ("integer", "-3", "it must be at least 1"),
        ("number", "fast", "not a number"),
        ("number", True, "not a number"),
        ("number", {"s": 1}, "not a number"),
        ("number", "nan", "not a finite number"),
        ("number", "inf", "not a finite number"),
        ("number", -1, "it must not be negative"),
        ("boolean", "maybe", f"not true or false ({BOOLEAN_WORDS})"),
        ("boolean", 2, f"not true or false ({BOOLEAN_WORDS})"),
        ("boolean", [True], f"not true or false ({BOOLEAN_WORDS})"),
        ("list", 5, "not a list"),
        ("list", {"a": "b"}, "not a list"),
        ("list", ["1", {"id": 2}], "its entry {'id': 2} is not text"),
        ("list", [True], "its entry True is not text"),
        ("timeout", "1, 2, 3", "give seconds, or connect and read seconds"),
        ("timeout", ",", "give seconds, or connect and read seconds"),
        ("timeout", 0, "a timeout must be more than 0 seconds"),
        ("timeout", "10, 0", "a timeout must be more than 0 seconds"),
        ("timeout", "soon", "not a number"),
        ("timeout", -5, "it must not be negative"),
        ("timeout", True, "not a number"),
        ("json", "[1, 2]", "not a JSON object"),
        ("json", "null", "not a JSON object"),
        ("json", 5, "not a JSON object"),
        ("verify", {"ca": "x"}, "not text"),
        ("verify", ["x"], "not text"),
    ],
)
def test_each_kind_refuses_what_it_cannot_read_naming_the_value(kind, raw, problem):
    error = refusal(kind, raw)
    assert str(error) == f"Svc connection 'svc_conn': extra 'setting' is {raw!r}: {problem}"
    assert (error.conn_id, error.extra) == ("svc_conn", "setting")


def test_text_that_is_no_json_says_where_it_breaks():
    error = refusal("json", '{"boxAppSettings": ')
    assert str(error).startswith(
        "Svc connection 'svc_conn': extra 'setting' is '{\"boxAppSettings\": ': not JSON ("
    )
    assert "line 1 column 20" in str(error)


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("string", {"value": "not-the-secret"}),
        ("json", '{"privateKey": not-the-secret'),
        ("json", '["not-the-secret"]'),
    ],
)
def test_a_secrets_value_never_appears_in_the_error(kind, raw):
    error = refusal(kind, raw, secret=True)
    assert "not-the-secret" not in str(error)
    assert str(error).startswith(
        "Svc connection 'svc_conn': extra 'setting' is a secret (not shown): "
    )


@pytest.mark.parametrize("raw", [None, "", "   "])
@pytest.mark.parametrize(
    ("kind", "default"),
    [
        ("string", "ARTESIA.OPERATOR.CHAR.IS"),
        ("integer", 100),
        ("number", 1.0),
        ("boolean", False),
        ("list", ("1",)),
        ("timeout", (10.0, 60.0)),
        ("json", None),
        ("verify", True),
    ],
)
def test_unset_or_blank_is_the_default(kind, default, raw):
    assert read(kind, raw, default=default) == default


def test_choices_take_only_the_declared_values():
    choices = {"choices": ("session", "oauth2", "otds"), "default": "session"}
    assert read("string", " oauth2 ", **choices) == "oauth2"
    assert read("string", "", **choices) == "session"
    for wrong in ("kerberos", "OAuth2"):
        assert str(refusal("string", wrong, **choices)) == (
            f"Svc connection 'svc_conn': extra 'setting' is {wrong!r}: "
            "it must be one of session, oauth2, otds"
        )


SERVICE = ConnectionFields(
    service="Svc",
    conn_type="svc",
    hook_class="campaigns.hooks.box.BoxHook",
    hook_name="Service",
    relabeling={},
    placeholders={},
    extras=(
        Extra("auth", "Auth", "how to sign in", choices=("basic", "token"), default="basic"),
        Extra("field", "Field", "the field id", required=True),
        Extra("token", "Token", "the API token", secret=True, needed_when=("auth", "token")),
        Extra("size", "Size", "items a page", kind="integer", default=50),
    ),
)


def test_read_gives_every_declared_extra_with_defaults():
    assert SERVICE.read("svc_conn", {"field": "F", "ignored": 1}) == {
        "auth": "basic",
        "field": "F",
        "token": None,
        "size": 50,
    }


def test_a_required_extra_missing_is_named_with_its_help():
    for extra in ({}, {"field": ""}, {"field": "  ", "size": 3}):
        with pytest.raises(ConnectionSettingError) as raised:
            SERVICE.read("svc_conn", extra)
        assert str(raised.value) == (
            "Svc connection 'svc_conn': extra 'field' is missing: the field id"
        )
        assert raised.value.extra == "field"


def test_an_extra_needed_by_anothers_value_is_required_only_then():
    assert SERVICE.read("svc_conn", {"field": "F", "auth": "basic"})["token"] is None
    with pytest.raises(ConnectionSettingError) as raised:
        SERVICE.read("svc_conn", {"field": "F", "auth": "token"})
    assert str(raised.value) == (
        "Svc connection 'svc_conn': extra 'token' is missing (auth is token): the API token"
    )
    given = {"field": "F", "auth": "token", "token": "wrong"}
    assert SERVICE.read("svc_conn", given)["token"] == "wrong"


def test_missing_builds_the_error_of_a_declared_extra():
    error = SERVICE.missing("svc_conn", "size", "auth is token")
    assert str(error) == (
        "Svc connection 'svc_conn': extra 'size' is missing (auth is token): items a page"
    )
    assert str(SERVICE.missing("svc_conn", "field")) == (
        "Svc connection 'svc_conn': extra 'field' is missing: the field id"
    )


def test_older_forms_prefixed_keys_are_read_and_the_plain_key_wins():
    values = DAM.read(
        "dam_test",
        {
            "extra__otmm__status_field": "PREFIXED.STATUS",
            "extra__otmm__number_field": "PREFIXED.NUMBER",
            "number_field": "PLAIN.NUMBER",
            "extra__otmm__box_folder_field": "PREFIXED.BOX",
            "extra__otmm__page_size": "25",
        },
    )
    assert values["status_field"] == "PREFIXED.STATUS"
    assert values["number_field"] == "PLAIN.NUMBER"
    assert values["page_size"] == 25


def test_another_types_prefix_is_not_read():
    with pytest.raises(ConnectionSettingError, match="extra 'status_field' is missing"):
        DAM.read("dam_test", {**DAM_EXTRAS, "status_field": None, "extra__box__status_field": "S"})


def test_unknown_lists_the_keys_no_extra_reads():
    extra = {
        "status_field": "S",
        "extra__otmm__number_field": "N",
        "statusfield": "typo",
        "extra__otmm__pagesize": 10,
        "extra__box__auth": "ccg",
    }
    assert DAM.unknown(extra) == ["extra__box__auth", "extra__otmm__pagesize", "statusfield"]
    assert BOX.unknown({"auth": "ccg", "extra__box__enterprise_id": "1"}) == []


def _connection_types_item_schema() -> dict[str, Any]:
    schema = json.loads((AIRFLOW_SCHEMAS / "provider_info.schema.json").read_text())
    return schema["properties"]["connection-types"]["items"]


@pytest.mark.parametrize("declared", FIELDS, ids=lambda f: f.conn_type)
def test_provider_entry_is_what_airflows_providers_manager_validates(declared):
    entry = declared.provider_entry()
    Draft7Validator(_connection_types_item_schema()).validate(entry)
    behaviour = entry["ui-field-behaviour"]
    # The providers manager renames the keys so, then validates them with this schema.
    customized = {
        "hidden_fields": behaviour["hidden-fields"],
        "relabeling": behaviour["relabeling"],
        "placeholders": behaviour["placeholders"],
    }
    schema = json.loads(
        (AIRFLOW_SCHEMAS / "customized_form_field_behaviours.schema.json").read_text()
    )
    Draft7Validator(schema).validate(customized)
    standard = {"host", "schema", "login", "password", "port", "extra", "description"}
    names = {extra.name for extra in declared.extras}
    assert set(behaviour["placeholders"]) <= standard | names
    assert set(behaviour["hidden-fields"]) | set(behaviour["relabeling"]) <= standard


@pytest.mark.parametrize("declared", FIELDS, ids=lambda f: f.conn_type)
def test_provider_entry_names_the_hook_of_its_connection_type(declared):
    entry = declared.provider_entry()
    module, _, name = entry["hook-class-name"].rpartition(".")
    hook = getattr(importlib.import_module(module), name)
    assert (hook.conn_type, hook.hook_name) == (entry["connection-type"], entry["hook-name"])


@pytest.mark.parametrize(
    ("owner", "extra"),
    [(owner, extra) for owner in FIELDS for extra in owner.extras],
    ids=lambda item: item.name if isinstance(item, Extra) else item.conn_type,
)
def test_each_form_field_is_a_valid_schema_whose_default_reads_back(owner, extra):
    field = owner.provider_entry()["conn-fields"][extra.name]
    schema = field["schema"]
    Draft7Validator.check_schema(schema)
    assert field["label"] == extra.label
    assert extra.help[1:] in field["description"]
    assert extra.placeholder in field["description"]
    # Airflow's form requires a field whose type is not nullable.
    assert ("null" not in schema["type"]) is extra.required
    if not extra.required:
        Draft7Validator(schema).validate(None)
    if extra.choices:
        assert schema["enum"] == [*extra.choices, None]
    assert ("format" in schema) is extra.secret
    if extra.secret:
        assert schema["format"] == "password"
    if extra.secret or extra.default in (None, ()):
        assert "default" not in schema
    else:
        Draft7Validator(schema).validate(schema["default"])
        assert extra.read(owner.service, "form", schema["default"]) == extra.default
    assert extra.read(owner.service, "form", None) == extra.default


def test_the_form_shows_every_declared_extra_and_marks_exactly_the_secrets():
    for declared in FIELDS:
        fields = declared.provider_entry()["conn-fields"]
        assert list(fields) == [extra.name for extra in declared.extras]
        hidden = {name for name, f in fields.items() if f["schema"].get("format") == "password"}
        assert hidden == {extra.name for extra in declared.extras if extra.secret}
    assert {e.name for e in DAM.extras if e.secret} == {"client_secret", "client_cert_password"}
    assert {e.name for e in BOX.extras if e.secret} == {"jwt_config", "developer_token"}


@pytest.mark.parametrize("declared", FIELDS, ids=lambda f: f.conn_type)
def test_markdown_table_has_a_row_of_three_cells_per_extra(declared):
    header, rule, *rows = declared.markdown_table().splitlines()
    assert header == "| extra | default | meaning |"
    assert rule == "| --- | --- | --- |"
    assert [row.split(" | ")[0] for row in rows] == [f"| `{e.name}`" for e in declared.extras]
    for row in rows:
        assert row.count("|") == 4, row


def test_markdown_table_shows_required_defaults_and_choices():
    rows = {row.split(" | ")[0]: row for row in DAM.markdown_table().splitlines()[2:]}
    assert rows["| `status_field`"] == (
        "| `status_field` | required | the metadata field id holding the campaign status "
        "(A1, A2, ...) (e.g. `ACME.FIELD.CAMPAIGN STATUS`) |"
    )
    assert rows["| `auth`"] == (
        "| `auth` | session | how the service account signs in: an OTMM session, OAuth2, or "
        "OTDS single sign-on; one of `session`, `oauth2`, `otds` |"
    )
    assert rows["| `page_size`"] == (
        "| `page_size` | 100 | hits and folder children read per request |"
    )
    assert rows["| `timeout`"].startswith("| `timeout` | 10.0, 120.0 | ")
    assert rows["| `verify`"].startswith("| `verify` | true | ")
    assert rows["| `client_id`"] == "| `client_id` | - | the OAuth2 client (auth oauth2) |"
    box_rows = {row.split(" | ")[0]: row for row in BOX.markdown_table().splitlines()[2:]}
    assert box_rows["| `timeout`"].startswith("| `timeout` | 10.0, 60.0 | ")
    assert box_rows["| `auth`"].startswith("| `auth` | - | ")


def test_dam_settings_from_a_complete_connection():
    settings = DamSettings.from_connection(
        dam_connection(**DAM_EXTRAS, timeout="5, 30", page_size="50", verify="false")
    )
    assert settings.base_url == "https://dam.example.com:8443"
    assert settings.status_field == "ACME.FIELD.CAMPAIGN STATUS"
    assert settings.security_policy_ids == ("1", "42")
    assert (settings.timeout, settings.page_size, settings.verify) == ((5.0, 30.0), 50, False)
    assert (settings.auth, settings.api_version, settings.max_attempts) == ("session", "v6", 5)


@pytest.mark.parametrize(
    ("host", "port", "schema", "url"),
    [
        ("dam.example.com", None, "", "https://dam.example.com"),
        ("dam.example.com", 8443, "http", "http://dam.example.com:8443"),
        ("https://dam.example.com/", 8443, "", "https://dam.example.com:8443"),
        ("https://dam.example.com:9443", 8443, "", "https://dam.example.com:9443"),
        ("http://127.0.0.1:8092", None, "", "http://127.0.0.1:8092"),
    ],
)
def test_the_otmm_url_is_the_host_with_the_port_unless_the_url_has_one(host, port, schema, url):
    connection = dam_connection(**DAM_EXTRAS)
    connection.host, connection.port, connection.schema = host, port, schema
    assert DamSettings.from_connection(connection).base_url == url


@pytest.mark.parametrize("extra", ["status_field", "number_field", "box_folder_field"])
def test_dam_settings_without_a_field_id(extra):
    error = dam_refusal(**{**DAM_EXTRAS, extra: None})
    assert (error.conn_id, error.extra) == ("dam_test", extra)
    assert str(error).startswith(f"DAM connection 'dam_test': extra '{extra}' is missing: ")


def test_dam_settings_with_an_unknown_auth():
    error = dam_refusal(**DAM_EXTRAS, auth="kerberos")
    assert str(error) == (
        "DAM connection 'dam_test': extra 'auth' is 'kerberos': "
        "it must be one of session, oauth2, otds"
    )


@pytest.mark.parametrize(
    ("given", "extra"),
    [({}, "client_id"), ({"client_id": "a1-to-a2"}, "client_secret")],
)
def test_dam_settings_oauth2_without_its_client(given, extra):
    error = dam_refusal(**DAM_EXTRAS, auth="oauth2", **given)
    assert (error.conn_id, error.extra) == ("dam_test", extra)
    assert f"'dam_test': extra '{extra}' is missing (auth is oauth2): " in str(error)


def test_dam_settings_oauth2_with_its_client():
    settings = DamSettings.from_connection(
        dam_connection(**DAM_EXTRAS, auth="oauth2", client_id="c", client_secret=CLIENT_SECRET)
    )
    assert (settings.client_id, settings.client_secret) == ("c", CLIENT_SECRET)


def test_dam_settings_otds_without_its_url():
    error = dam_refusal(**DAM_EXTRAS, auth="otds", otds_resource_id="r")
    assert str(error) == (
        "DAM connection 'dam_test': extra 'otds_url' is missing (auth is otds): "
        "the OpenText Directory Services base URL (auth otds)"
    )


@pytest.mark.parametrize(
    ("left_out", "extra"),
    [
        ({"metadata_model_id": None}, "metadata_model_id"),
        ({"security_policy_ids": None}, "security_policy_ids"),
        ({"security_policy_ids": " , "}, "security_policy_ids"),
        ({"security_policy_ids": []}, "security_policy_ids"),
    ],
)
def test_dam_settings_imports_without_model_or_policies(left_out, extra):
    error = dam_refusal(**{**DAM_EXTRAS, **left_out})
    assert (error.conn_id, error.extra) == ("dam_test", extra)
    assert str(error) == (
        f"DAM connection 'dam_test': extra '{extra}' is missing: imports need the metadata "
        "model and the security policies (or an import_template_id that supplies them)"
    )


def test_dam_settings_an_import_template_supplies_model_and_policies():
    extras = {**DAM_EXTRAS, "metadata_model_id": None, "security_policy_ids": None}
    settings = DamSettings.from_connection(dam_connection(**extras, import_template_id="7"))
    assert settings.import_template_id == "7"
    assert (settings.metadata_model_id, settings.security_policy_ids) == (None, ())


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ({"page_size": "0"}, "extra 'page_size' is '0': it must be at least 1"),
        ({"max_attempts": "many"}, "extra 'max_attempts' is 'many': not a whole number"),
        ({"backoff": -1}, "extra 'backoff' is -1: it must not be negative"),
        ({"timeout": "0"}, "extra 'timeout' is '0': a timeout must be more than 0 seconds"),
        ({"api_version": "v7"}, "extra 'api_version' is 'v7': it must be one of v4, v5, v6"),
        ({"verify": {"ca": 1}}, "extra 'verify' is {'ca': 1}: not text"),
    ],
)
def test_dam_settings_with_a_value_it_cannot_use(bad, message):
    error = dam_refusal(**DAM_EXTRAS, **bad)
    assert str(error) == f"DAM connection 'dam_test': {message}"
