"""The poll's deadline: the run's setting and how long a run has gone, in words."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from campaigns.poll_deadline import deadline_minutes, duration_text


def test_the_deadline_is_fifteen_minutes_unless_the_variable_or_the_run_says_otherwise():
    assert deadline_minutes(None, None, "r") == 15
    assert deadline_minutes(json.dumps({"poll_deadline_minutes": 30}), {}, "r") == 30
    stored = json.dumps({"poll_deadline_minutes": 30})
    assert deadline_minutes(stored, {"poll_deadline_minutes": 0.5}, "r") == 0.5
    assert deadline_minutes(stored, {"poll_deadline_minutes": None}, "r") == 30


@pytest.mark.parametrize(
    ("stored", "conf", "fault"),
    [
        ("{not json", None, "Expecting property name"),
        (json.dumps(["poll_deadline_minutes"]), None, "settings: expected a JSON object"),
        (None, {"poll_deadline_minute": 5}, "unknown setting 'poll_deadline_minute'"),
        (None, {"poll_deadline_minutes": 0}, "poll_deadline_minutes: expected a number"),
    ],
)
def test_unusable_settings_give_the_default_deadline_and_say_why(stored, conf, fault, caplog):
    with caplog.at_level(logging.WARNING, logger="campaigns.poll_deadline"):
        assert deadline_minutes(stored, conf, "manual__1") == 15
    [logged] = caplog.messages
    assert logged.startswith("Run manual__1: unusable settings (")
    assert fault in logged
    assert logged.endswith("); deadline 15 minutes")


@pytest.mark.parametrize(
    ("elapsed", "text"),
    [
        (timedelta(seconds=-1), "0 seconds"),
        (timedelta(seconds=3.7), "3 seconds"),
        (timedelta(seconds=119), "119 seconds"),
        (timedelta(minutes=2), "2 minutes"),
        (timedelta(minutes=17, seconds=59), "17 minutes"),
    ],
)
def test_how_long_a_run_has_gone_reads_in_seconds_then_minutes(elapsed, text):
    assert duration_text(elapsed) == text


def test_the_plugin_registers_the_deadline_reference_the_dag_uses():
    from airflow import plugins_manager

    references = plugins_manager.get_deadline_references_plugins()
    assert references["campaigns.poll_deadline.PollDeadline"].__name__ == "PollDeadline"
