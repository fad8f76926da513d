"""The pipeline settings: defaults, the Variable, per-run params, and clear refusals."""

import json

import pytest
from airflow.sdk import Param
from airflow.sdk.exceptions import ParamValidationError

from campaigns.notify import Email, send_email
from campaigns.settings import (
    MAX_MAP_LENGTH,
    PipelineSettings,
    SettingsError,
    default_text,
    markdown_table,
    trigger_form,
)
from sandbox.connections import smtp_connection
from sandbox.mail import MailCatcher

EMAIL = Email(subject="Campaign news", text="plain", html="<p>html</p>")


def test_defaults_are_the_seed_behaviour():
    settings = PipelineSettings.from_sources(None, None)
    assert settings.warning_threshold == 20
    assert settings.max_consecutive_errors == 3
    assert settings.master_assets_folder_names == ("Master Assets",)
    assert settings.max_campaigns_per_run is None
    assert settings.rules.warning_threshold == 20


def test_the_wish_list_settings_are_off_by_default():
    settings = PipelineSettings.from_sources(None, None)
    assert settings.empty_backoff_after_warning is False
    assert settings.empty_backoff_max_polls == 16
    assert settings.rules.empty_backoff_max_polls is None
    assert settings.auto_reset_failed_after_days is None
    assert settings.webhook_conn_id is None


def test_uploads_settle_for_two_polls_by_default_and_no_ready_marker_is_looked_for():
    settings = PipelineSettings.from_sources(None, None)
    assert (settings.settle_minutes, settings.ready_marker) == (6, None)


def test_settling_turned_off_and_a_ready_marker_named():
    settings = PipelineSettings.from_sources(
        {"settle_minutes": 12, "ready_marker": "READY.txt"}, {"settle_minutes": 0}
    )
    assert (settings.settle_minutes, settings.ready_marker) == (0, "READY.txt")
    # A blank marker in the trigger form turns the Variable's off.
    assert (
        PipelineSettings.from_sources({"ready_marker": "READY"}, {"ready_marker": " "}).ready_marker
        is None
    )


def test_the_wish_list_settings_turned_on():
    settings = PipelineSettings.from_sources(
        {"empty_backoff_after_warning": True, "webhook_conn_id": " campaign_webhook "},
        {"empty_backoff_max_polls": 8, "auto_reset_failed_after_days": 30},
    )
    assert settings.rules.empty_backoff_max_polls == 8
    assert settings.auto_reset_failed_after_days == 30
    assert settings.webhook_conn_id == "campaign_webhook"
    assert PipelineSettings(empty_backoff_after_warning=True).rules.empty_backoff_max_polls == 16


def test_a_run_turns_the_variables_options_off():
    stored = {"empty_backoff_after_warning": True, "webhook_conn_id": "campaign_webhook"}
    settings = PipelineSettings.from_sources(
        stored, {"empty_backoff_after_warning": False, "webhook_conn_id": ""}
    )
    assert settings.rules.empty_backoff_max_polls is None
    assert settings.webhook_conn_id is None


def test_params_override_the_variable_and_none_means_unset():
    stored = {"warning_threshold": 10, "recipients": ["ops@example.com"], "sender": "a@example.com"}
    params = {"warning_threshold": 5, "recipients": None, "max_campaigns_per_run": None}
    settings = PipelineSettings.from_sources(stored, params)
    assert settings.warning_threshold == 5
    assert settings.recipients == ("ops@example.com",)
    assert settings.sender == "a@example.com"


def test_lists_accept_a_single_string_and_drop_blanks():
    settings = PipelineSettings.from_sources(
        {"recipients": "ops@example.com", "master_assets_folder_names": [" Masters ", "", "MA"]}
    )
    assert settings.recipients == ("ops@example.com",)
    assert settings.master_assets_folder_names == ("Masters", "MA")


@pytest.mark.parametrize("emptied", [[""], ["", "  "], [], "", "   "])
def test_a_list_emptied_in_the_trigger_form_leaves_the_variables_in_force(emptied):
    """The form sends [""] for a list field cleared by hand (null only once it loses focus)."""
    stored = {"recipients": ["ops@example.com"], "master_assets_folder_names": ["Finals"]}
    params = {"recipients": emptied, "master_assets_folder_names": emptied}
    settings = PipelineSettings.from_sources(stored, params)
    assert settings.recipients == ("ops@example.com",)
    assert settings.master_assets_folder_names == ("Finals",)
    assert PipelineSettings.from_sources({"master_assets_folder_names": emptied}, None) == (
        PipelineSettings()
    )


def test_recipients_and_sender_that_are_plain_addresses_are_kept():
    settings = PipelineSettings.from_sources(
        {
            "recipients": [" ops@example.com ", "brand.team+a1@mail.example.co.uk"],
            "sender": " a1-to-a2@example.com ",
        }
    )
    assert settings.recipients == ("ops@example.com", "brand.team+a1@mail.example.co.uk")
    assert settings.sender == "a1-to-a2@example.com"
    assert PipelineSettings.from_sources({"sender": "  "}).sender is None


@pytest.mark.parametrize(
    ("recipients", "entry"),
    [
        (["not an address"], "entry 1, 'not an address',"),
        (["ops@example.com", "ops@"], "entry 2, 'ops@',"),
        (["ops@example.com", "", "@example.com"], "entry 3, '@example.com',"),
        (["ops@localhost"], "entry 1, 'ops@localhost',"),
        (["Ops Team <ops@example.com>"], "entry 1, 'Ops Team <ops@example.com>',"),
        (["ops@example.com, brand@example.com"], "entry 1, 'ops@example.com, brand@example.com',"),
        (["ops@@example.com"], "entry 1, 'ops@@example.com',"),
        (["zoë@example.de"], "entry 1, 'zoë@example.de',"),
        ("ops at example.com", "entry 1, 'ops at example.com',"),
    ],
)
def test_a_recipient_that_is_no_email_address_is_refused_by_its_entry(recipients, entry):
    with pytest.raises(SettingsError) as raised:
        PipelineSettings.from_sources({"recipients": recipients})
    assert str(raised.value) == (
        f"recipients: {entry} is not an email address (give a plain one: name@example.com)"
    )


@pytest.mark.parametrize("sender", ["a1-to-a2", "A1 to A2 <a1-to-a2@example.com>", "a1@example"])
def test_a_sender_that_is_no_email_address_is_refused(sender):
    with pytest.raises(SettingsError, match=rf"^sender: {sender!r} is not an email address"):
        PipelineSettings.from_sources(None, {"sender": sender})


def test_an_email_due_without_recipients_fails_naming_the_setting():
    """Refused before any SMTP connection is looked up (none is set here)."""
    with pytest.raises(
        SettingsError,
        match=r"^recipients: none, and an email is due; set "
        r"'recipients' in the a1_to_a2_settings Variable$",
    ):
        send_email(EMAIL, (), "a1-to-a2@example.com", conn_id="smtp_nowhere")


def test_an_email_without_a_sender_anywhere_fails_naming_both_places(monkeypatch):
    """No ``sender`` setting and no from_email on the SMTP connection: nothing is sent."""
    catcher = MailCatcher().start()
    try:
        connection = smtp_connection(catcher.host, catcher.port)
        del connection["extra"]["from_email"]
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_BARE", json.dumps(connection))
        with pytest.raises(SettingsError) as raised:
            send_email(EMAIL, ("ops@example.com",), None, conn_id="smtp_bare")
        assert str(raised.value) == (
            "sender: none; set 'sender' in the a1_to_a2_settings Variable or from_email on "
            "SMTP connection 'smtp_bare'"
        )

        send_email(EMAIL, ("ops@example.com",), "a1-to-a2@example.com", conn_id="smtp_bare")
        assert [message["From"] for message in catcher.messages] == ["a1-to-a2@example.com"]
    finally:
        catcher.stop()


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"warning_treshold": 5}, "unknown setting 'warning_treshold'"),
        ({"warning_threshold": 0}, "at least 1"),
        ({"max_consecutive_errors": "3"}, "whole number"),
        ({"max_campaigns_per_run": True}, "whole number"),
        ({"recipients": [1, 2]}, "list of strings"),
        ({"sender": 5}, "email address"),
        ({"empty_backoff_after_warning": "yes"}, "true or false"),
        ({"empty_backoff_after_warning": 1}, "true or false"),
        ({"empty_backoff_max_polls": 0}, "at least 1"),
        ({"empty_backoff_max_polls": 2.5}, "whole number"),
        ({"auto_reset_failed_after_days": 0}, "at least 1"),
        ({"auto_reset_failed_after_days": True}, "whole number"),
        ({"webhook_conn_id": 5}, "connection id"),
        ({"settle_minutes": -1}, "0 or more"),
        ({"settle_minutes": 1.5}, "0 or more"),
        ({"settle_minutes": False}, "0 or more"),
        ({"ready_marker": 5}, "file name"),
        ({"ready_marker": "done/READY"}, "file name"),
    ],
)
def test_bad_settings_are_refused_with_the_key(source, message):
    with pytest.raises(SettingsError, match=message):
        PipelineSettings.from_sources(source)


def test_settings_made_directly_need_a_folder_name():
    with pytest.raises(SettingsError, match="master_assets_folder_names: name at least one folder"):
        PipelineSettings(master_assets_folder_names=())


@pytest.mark.parametrize(
    ("campaigns", "per_task", "expected"),
    [
        (0, None, 1),
        (10, None, 1),
        (32, None, 1),
        (33, None, 2),
        (200, None, 7),
        (1000, None, 32),
        (5000, None, 157),
        (10, 1, 1),
        (MAX_MAP_LENGTH, 1, 1),
        (MAX_MAP_LENGTH + 1, 1, 2),
        (10, 25, 25),
        (5000, 2, 5),
    ],
)
def test_batch_size_keeps_the_map_within_its_limit(campaigns, per_task, expected):
    settings = PipelineSettings(campaigns_per_task=per_task)
    size = settings.batch_size(campaigns)
    assert size == expected
    assert -(-campaigns // size) <= MAX_MAP_LENGTH


@pytest.mark.parametrize("campaigns", [1, 31, 32, 33, 64, 65, 999, 1000, 5000, 100_000])
def test_by_default_a_stage_runs_at_most_thirty_two_instances(campaigns):
    size = PipelineSettings().batch_size(campaigns)
    instances = -(-campaigns // size)
    assert instances <= 32
    assert size == 1 or instances > 16  # batches only once one each would pass 32


def test_box_is_watched_through_its_change_feed_by_default_and_reconciled_daily():
    settings = PipelineSettings.from_sources(None, None)
    assert (settings.box_watch, settings.reconcile_hours) == ("events", 24)
    listed = PipelineSettings.from_sources({"box_watch": "list"}, {"reconcile_hours": 0.5})
    assert (listed.box_watch, listed.reconcile_hours) == ("list", 0.5)


@pytest.mark.parametrize("value", ["poll", "", 3, "EVENTS", ["events"]])
def test_an_unknown_box_watch_mode_is_refused_with_the_modes_named(value):
    with pytest.raises(SettingsError, match=r"^box_watch: expected one of events, list, got "):
        PipelineSettings.from_sources({"box_watch": value})


@pytest.mark.parametrize("value", [0, 0.04, 337, -1, float("nan"), float("inf"), True, "24", [24]])
def test_reconcile_hours_outside_a_poll_to_fourteen_days_is_refused(value):
    with pytest.raises(
        SettingsError, match=r"^reconcile_hours: expected a number of hours from 0.05 to 336, got "
    ):
        PipelineSettings.from_sources({"reconcile_hours": value})


@pytest.mark.parametrize("value", [0.05, 1, 24, 336])
def test_reconcile_hours_from_one_poll_to_fourteen_days(value):
    assert PipelineSettings.from_sources({"reconcile_hours": value}).reconcile_hours == value


# The one declaration: the trigger form, the refusals and the README's table come from it.


def test_every_setting_is_in_the_trigger_form_and_may_be_left_empty():
    form = trigger_form()
    assert list(form) == list(PipelineSettings.model_fields)
    for key, field in form.items():
        assert field["type"][0] == "null", key
        assert Param(None, **field).resolve() is None
        assert field["title"] == PipelineSettings.model_fields[key].title
        assert field["description_md"].endswith(
            f"Empty: the Variable's value, or {default_text(key)}."
        )


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("warning_threshold", 0),
        ("settle_minutes", -1),
        ("reconcile_hours", 0.04),
        ("reconcile_hours", 337),
        ("poll_deadline_minutes", 0),
        ("box_watch", "poll"),
        ("empty_backoff_after_warning", "yes"),
        ("recipients", "ops@example.com"),
    ],
)
def test_the_trigger_form_refuses_what_the_settings_refuse(key, value):
    with pytest.raises(ParamValidationError):
        Param(value, **trigger_form()[key]).resolve()
    if key != "recipients":  # the Variable may hold one address as text; the form takes a list
        with pytest.raises(SettingsError, match=rf"^{key}: "):
            PipelineSettings.from_sources({key: value})


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("warning_threshold", 1),
        ("settle_minutes", 0),
        ("reconcile_hours", 0.05),
        ("reconcile_hours", 336),
        ("poll_deadline_minutes", 0.05),
        ("box_watch", "list"),
        ("recipients", ["ops@example.com"]),
    ],
)
def test_the_trigger_form_takes_what_the_settings_take(key, value):
    assert Param(value, **trigger_form()[key]).resolve() == value
    assert getattr(PipelineSettings.from_sources({key: value}), key) == (
        tuple(value) if isinstance(value, list) else value
    )


def test_a_run_is_overdue_after_fifteen_minutes_by_default_or_any_positive_number_of_minutes():
    assert PipelineSettings().poll_deadline_minutes == 15
    assert (
        PipelineSettings.from_sources(None, {"poll_deadline_minutes": 0.5}).poll_deadline_minutes
        == 0.5
    )
    for value in (0, -1, True, "15", float("nan")):
        with pytest.raises(
            SettingsError,
            match=r"^poll_deadline_minutes: expected a number of minutes, more than 0, got ",
        ):
            PipelineSettings.from_sources({"poll_deadline_minutes": value})


def test_every_wrong_setting_is_named_at_once():
    with pytest.raises(SettingsError) as raised:
        PipelineSettings.from_sources({"warning_threshold": 0, "box_concurrency": "8"})
    assert str(raised.value) == (
        "warning_threshold: expected a whole number, at least 1, got 0; "
        "box_concurrency: expected a whole number, at least 1, got '8'"
    )


def test_the_readme_table_shows_each_default_as_people_read_it():
    header, rule, *rows = markdown_table().splitlines()
    assert header == "| setting | default | meaning |"
    assert rule == "| --- | --- | --- |"
    by_key = {row.split(" | ")[0].strip("|` "): row.split(" | ")[1] for row in rows}
    assert list(by_key) == list(PipelineSettings.model_fields)
    assert by_key["warning_threshold"] == "20"
    assert by_key["master_assets_folder_names"] == '`["Master Assets"]`'
    assert by_key["box_watch"] == "`events`"
    assert by_key["empty_backoff_after_warning"] == "false"
    assert by_key["max_campaigns_per_run"] == "no cap"
    assert by_key["settle_minutes"] == "6 (2 polls)"
    assert all(row.count(" | ") == 2 for row in rows)
