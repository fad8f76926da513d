"""a1_campaign_admin for real: resets and retry limits through dag.test(), with their audit."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
import pytest

from campaigns.admin import ACTIONS, Refused, administer
from campaigns.hooks.retry_state import ManualOperation, RetryStateHook
from campaigns.rules import CheckResult, Outcome, RetrySettings
from tests.dags.world import parsed_dag

FIRST_RUN = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
_RUN_SLOTS = itertools.count()
MISSING = CheckResult(Outcome.FOLDER_ERROR, "Assets folder not found (tried Master Assets)")


@pytest.fixture(scope="session")
def admin_dag(airflow_db: None, tracking_db_url: str) -> Any:
    """The admin DAG as Airflow parses it."""
    return parsed_dag("a1_campaign_admin.py", "a1_campaign_admin")


def run(dag: Any, **params: Any) -> Any:
    """One triggered run; every param named (dag.test keeps a previous run's conf otherwise)."""
    conf = dict.fromkeys(dag.params, None) | params
    logical_date = FIRST_RUN + timedelta(minutes=next(_RUN_SLOTS))
    return dag.test(logical_date=logical_date, run_conf=conf)


def seed(*campaign_ids: str, failed: tuple[str, ...] = ()) -> RetryStateHook:
    """Campaigns at A1 in the tracking database; those in ``failed`` permanently failed."""
    state = RetryStateHook()
    state.upsert_campaigns(
        {"campaign_id": c, "number": f"C-{c}", "name": f"Campaign {c}", "status": "A1"}
        for c in campaign_ids
    )
    for poll in range(3):
        state.record_polls(f"seed-{poll}", dict.fromkeys(failed, MISSING), RetrySettings())
    assert all(state.get_a1_retry_status(c).state.permanently_failed for c in failed)
    return state


def audit(state: RetryStateHook, dag_run: Any) -> list[dict[str, Any]]:
    return state.run_query("manual_operations", run_id=dag_run.run_id, limit=10)


def test_reset_one_campaign_by_number(admin_dag, uid):
    """A failed campaign named by its number is reset; the audit row names the user and it."""
    failed, other = f"{uid}-failed", f"{uid}-other-failed"
    state = seed(failed, other, failed=(failed, other))
    dag_run = run(admin_dag, action="reset_campaign", campaign=f"C-{failed}")
    assert str(dag_run.state) == "success"
    reset = state.get_a1_retry_status(failed)
    assert not reset.state.permanently_failed
    assert (reset.state.poll_count, reset.state.consecutive_errors) == (0, 0)
    assert reset.state.episode == 2
    assert state.get_a1_retry_status(other).state.permanently_failed
    [row] = audit(state, dag_run)
    assert row["performed_by"] == "dag_test"
    assert row["operation"] == "reset_campaign"
    assert row["campaign_ids"] == [failed]
    assert row["details"] == {
        "campaign": f"C-{failed}",
        "campaign_number": f"C-{failed}",
        "was_permanently_failed": True,
    }


def test_reset_all_permanently_failed(admin_dag, uid):
    """Every failed campaign is reset in one run; campaigns merely waiting are left alone."""
    failed = (f"{uid}-a", f"{uid}-b")
    waiting = f"{uid}-waiting"
    state = seed(*failed, waiting, failed=failed)
    state.record_polls("seed-empty", {waiting: CheckResult(Outcome.EMPTY)}, RetrySettings())
    dag_run = run(admin_dag, action="reset_all_failed")
    assert str(dag_run.state) == "success"
    for campaign_id in failed:
        assert not state.get_a1_retry_status(campaign_id).state.permanently_failed
    assert state.get_a1_retry_status(waiting).state.poll_count == 1
    [row] = audit(state, dag_run)
    assert row["operation"] == "reset_all_failed"
    assert set(failed) <= set(row["campaign_ids"])
    assert waiting not in row["campaign_ids"]


def test_set_and_clear_retry_limit(admin_dag, uid):
    """A campaign's own retry limit is set, then cleared; both runs are audited."""
    campaign_id = f"{uid}-limited"
    state = seed(campaign_id)
    set_run = run(admin_dag, action="set_retry_limit", campaign=campaign_id, max_retries=5)
    assert str(set_run.state) == "success"
    assert state.get_a1_retry_status(campaign_id).state.max_retries == 5
    clear_run = run(admin_dag, action="clear_retry_limit", campaign=campaign_id)
    assert str(clear_run.state) == "success"
    assert state.get_a1_retry_status(campaign_id).state.max_retries is None
    [set_row] = audit(state, set_run)
    [clear_row] = audit(state, clear_run)
    assert set_row["details"]["max_retries"] == 5
    assert set_row["details"]["previous_max_retries"] is None
    assert clear_row["details"]["max_retries"] is None
    assert clear_row["details"]["previous_max_retries"] == 5
    assert clear_row["campaign_ids"] == [campaign_id]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (
            {"action": "reset_campaign", "campaign": "C-no-such-campaign"},
            "Refused: unknown campaign 'C-no-such-campaign'",
        ),
        (
            {"action": "set_retry_limit", "campaign": "no-such-campaign", "max_retries": 2},
            "Refused: unknown campaign 'no-such-campaign'",
        ),
        ({"action": "reset_campaign"}, "Refused: name the campaign"),
        ({"action": "set_retry_limit", "campaign": "{uid}-known"}, "Refused: set a retry limit"),
    ],
    ids=["unknown-number", "unknown-id", "no-campaign", "no-limit"],
)
def test_refused_runs_fail_and_change_nothing(admin_dag, uid, capfd, params, message):
    """Unknown campaigns and incomplete forms fail the run with the reason; no change, no audit."""
    known = f"{uid}-known"
    state = seed(known, failed=(known,))
    if "campaign" in params:
        params["campaign"] = params["campaign"].format(uid=uid)
    dag_run = run(admin_dag, **params)
    assert str(dag_run.state) == "failed"
    assert message in capfd.readouterr().out
    assert audit(state, dag_run) == []
    assert state.get_a1_retry_status(known).state.permanently_failed
    assert state.get_a1_retry_status(known).state.max_retries is None


def test_refusal_names_the_campaign(tracking_db_url, uid):
    """The refusal says which campaign is unknown (the task fails with this message)."""
    with pytest.raises(Refused, match=f"unknown campaign 'C-{uid}-nowhere'"):
        administer(RetryStateHook(), "reset_campaign", f"C-{uid}-nowhere", None, "ops", "r")
    with pytest.raises(Refused, match="unknown action"):
        administer(RetryStateHook(), "delete_everything", None, None, "ops", "r")


def test_form_offers_every_action(admin_dag):
    """The trigger form's action enum and its labels cover every operation."""
    schema = admin_dag.params.get_param("action").schema
    assert schema["enum"] == list(ACTIONS)
    assert schema["values_display"] == ACTIONS


def test_a_reset_and_its_audit_row_are_one_transaction(tracking_db_url, uid):
    """An audit row that cannot be written leaves the campaign as it was: failed."""
    failed = f"{uid}-failed"
    state = seed(failed, failed=(failed,))
    with pytest.raises(psycopg.errors.NotNullViolation):
        state.reset_recorded(ManualOperation(None, "reset_campaign"), [failed])
    assert state.get_a1_retry_status(failed).state.permanently_failed
    assert state.get_a1_retry_status(failed).state.episode == 1

    reset, audit_id = state.reset_recorded(ManualOperation("ops", "reset_campaign"), [failed])
    assert reset == [failed]
    [row] = [
        r
        for r in state.run_query("manual_operations", run_id=None, limit=50)
        if r["id"] == audit_id
    ]
    assert (row["performed_by"], row["campaign_ids"]) == ("ops", [failed])


def test_a_retry_limit_and_its_audit_row_are_one_transaction(tracking_db_url, uid):
    """An audit row that cannot be written leaves the campaign's limit as it was."""
    campaign = f"{uid}-limited"
    state = seed(campaign)
    with pytest.raises(psycopg.errors.NotNullViolation):
        state.set_max_retries_recorded(ManualOperation(None, "set_retry_limit"), campaign, 5)
    assert state.get_a1_retry_status(campaign).state.max_retries is None

    audit_id = state.set_max_retries_recorded(
        ManualOperation("ops", "set_retry_limit", run_id=f"{uid}-run"), campaign, 5
    )
    assert state.get_a1_retry_status(campaign).state.max_retries == 5
    [row] = state.run_query("manual_operations", run_id=f"{uid}-run", limit=10)
    assert (row["id"], row["campaign_ids"]) == (audit_id, [campaign])
    operation = ManualOperation("ops", "set_retry_limit", run_id=f"{uid}-other")
    assert state.set_max_retries_recorded(operation, f"{uid}-nowhere", 5) is None
    assert state.run_query("manual_operations", run_id=f"{uid}-other", limit=10) == []


def test_a_reset_of_campaigns_failed_long_ago_that_finds_none_records_nothing(tracking_db_url, uid):
    failed = f"{uid}-failed"
    state = seed(failed, failed=(failed,))
    operation = ManualOperation("a1_to_a2 auto-reset", "auto_reset_failed", run_id=f"{uid}-run")
    assert state.reset_recorded(operation, failed_for_days=36500) == ([], None)
    assert state.run_query("manual_operations", run_id=f"{uid}-run", limit=10) == []
    assert state.get_a1_retry_status(failed).state.permanently_failed
