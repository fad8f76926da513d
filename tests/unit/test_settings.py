"""The pipeline settings: defaults, the Variable, per-run params, and clear refusals."""

import pytest

from campaigns.settings import MAX_MAP_LENGTH, PipelineSettings, SettingsError


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


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"warning_treshold": 5}, "unknown setting 'warning_treshold'"),
        ({"warning_threshold": 0}, "at least 1"),
        ({"max_consecutive_errors": "3"}, "whole number"),
        ({"max_campaigns_per_run": True}, "whole number"),
        ({"recipients": [1, 2]}, "list of strings"),
        ({"master_assets_folder_names": []}, "at least one folder"),
        ({"sender": 5}, "email address"),
        ({"empty_backoff_after_warning": "yes"}, "true or false"),
        ({"empty_backoff_after_warning": 1}, "true or false"),
        ({"empty_backoff_max_polls": 0}, "at least 1"),
        ({"empty_backoff_max_polls": 2.5}, "whole number"),
        ({"auto_reset_failed_after_days": 0}, "at least 1"),
        ({"auto_reset_failed_after_days": True}, "whole number"),
        ({"webhook_conn_id": 5}, "connection id"),
    ],
)
def test_bad_settings_are_refused_with_the_key(source, message):
    with pytest.raises(SettingsError, match=message):
        PipelineSettings.from_sources(source)


@pytest.mark.parametrize(
    ("campaigns", "per_task", "expected"),
    [
        (0, None, 1),
        (10, None, 1),
        (MAX_MAP_LENGTH, None, 1),
        (MAX_MAP_LENGTH + 1, None, 2),
        (5000, None, 5),
        (10, 25, 25),
        (5000, 2, 5),
    ],
)
def test_batch_size_keeps_the_map_within_its_limit(campaigns, per_task, expected):
    settings = PipelineSettings(campaigns_per_task=per_task)
    size = settings.batch_size(campaigns)
    assert size == expected
    assert -(-campaigns // size) <= MAX_MAP_LENGTH
