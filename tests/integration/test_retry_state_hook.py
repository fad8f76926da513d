"""RetryStateHook against the real PostgreSQL server: migrations, state, polls, ledgers, queries."""

from __future__ import annotations

import shutil
import threading
import uuid

import psycopg
import pytest

from campaigns import sql
from campaigns.hooks.retry_state import ManualOperation, MigrationChanged, RetryStateHook
from campaigns.rules import Action, CheckResult, Outcome, RetrySettings, RetryState, reset_state

EMPTY = CheckResult(Outcome.EMPTY)
ASSETS = CheckResult(Outcome.ASSETS)
MISSING = CheckResult(Outcome.FOLDER_ERROR, "Assets folder not found (tried Master Assets)")
RULES = RetrySettings()


@pytest.fixture
def hook(tracking_db_url) -> RetryStateHook:
    return RetryStateHook()


@pytest.fixture
def new_ids():
    """Campaign ids of this test alone, so tests share the session database safely."""
    prefix = uuid.uuid4().hex[:8]
    return lambda n: [f"{prefix}-{i}" for i in range(n)]


def track(hook, ids, status="A1"):
    hook.upsert_campaigns(
        {"campaign_id": c, "number": f"N-{c}", "name": f"Campaign {c}", "status": status}
        for c in ids
    )


def count_rows(url, statement, params=None):
    with psycopg.connect(url) as conn:
        return conn.execute(statement, params).fetchone()[0]


# Migrations


def test_migrations_apply_once_and_again_is_a_no_op(empty_db):
    hook = RetryStateHook(postgres_conn_id="empty_db")
    first = hook.apply_migrations()
    assert first == [version for version, _ in sql.migrations()]
    assert len(first) >= 5
    assert hook.apply_migrations() == []
    assert count_rows(empty_db, "SELECT count(*) FROM schema_migrations") == len(first)


def test_concurrent_migrators_apply_each_migration_exactly_once(empty_db):
    results, errors = [], []

    def migrate():
        try:
            results.append(RetryStateHook(postgres_conn_id="empty_db").apply_migrations())
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=migrate) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    applied = [version for batch in results for version in batch]
    assert sorted(applied) == [version for version, _ in sql.migrations()]
    assert count_rows(empty_db, "SELECT count(*) FROM schema_migrations") == len(applied)


def test_a_failing_migration_leaves_nothing_half_applied(empty_db, tmp_path, monkeypatch):
    copy = tmp_path / "sql"
    shutil.copytree(sql.SQL_DIR, copy)
    (copy / "migrations" / "9999_broken.sql").write_text(
        "CREATE TABLE half_applied (id int);\nSELECT * FROM no_such_table;\n"
    )
    monkeypatch.setattr(sql, "SQL_DIR", copy)
    sql.load.cache_clear()
    hook = RetryStateHook(postgres_conn_id="empty_db")
    with pytest.raises(psycopg.errors.UndefinedTable):
        hook.apply_migrations()
    assert (
        count_rows(empty_db, "SELECT count(*) FROM schema_migrations") == len(sql.migrations()) - 1
    )
    assert count_rows(empty_db, "SELECT to_regclass('half_applied') IS NULL")
    sql.load.cache_clear()


def test_an_edited_migration_is_refused(empty_db, tmp_path, monkeypatch):
    hook = RetryStateHook(postgres_conn_id="empty_db")
    hook.apply_migrations()
    copy = tmp_path / "sql"
    shutil.copytree(sql.SQL_DIR, copy)
    first = sorted((copy / "migrations").glob("*.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    monkeypatch.setattr(sql, "SQL_DIR", copy)
    with pytest.raises(MigrationChanged, match=first.stem):
        hook.apply_migrations()


# Campaigns and polls


def test_upsert_records_and_updates_campaigns(hook, new_ids):
    (cid,) = new_ids(1)
    hook.upsert_campaigns(
        [{"campaign_id": cid, "number": "7", "name": "A", "status": "A1", "box_folder_id": "11"}]
    )
    hook.cache_master_assets_folders({cid: "99"})
    assert hook.get_a1_retry_status(cid).master_assets_folder_id == "99"
    # Same folder: the cached Master Assets id stays; another folder: it is dropped.
    hook.upsert_campaigns(
        [{"campaign_id": cid, "number": "7", "name": "B", "status": "A1", "box_folder_id": "11"}]
    )
    tracked = hook.get_a1_retry_status(cid)
    assert (tracked.campaign_name, tracked.master_assets_folder_id) == ("B", "99")
    hook.upsert_campaigns(
        [{"campaign_id": cid, "number": "7", "name": "B", "status": "A1", "box_folder_id": "12"}]
    )
    tracked = hook.get_a1_retry_status(cid)
    assert (tracked.box_folder_id, tracked.master_assets_folder_id) == ("12", None)
    assert tracked.state == RetryState()
    assert hook.get_a1_retry_status("never-seen") is None


def test_batch_state_of_many_campaigns_in_one_call(hook, new_ids):
    ids = new_ids(300)
    track(hook, ids)
    hook.record_polls("run-1", dict.fromkeys(ids[:100], EMPTY), RULES)
    states = hook.get_campaigns([*ids, "unknown"])
    assert set(states) == set(ids)
    assert [states[c].state.poll_count for c in ids[:100]] == [1] * 100
    assert [states[c].state.poll_count for c in ids[100:]] == [0] * 200


def test_record_polls_applies_the_rules_and_stores_the_poll(hook, new_ids, tracking_db_url):
    empty, missing, assets = new_ids(3)
    track(hook, [empty, missing, assets])
    decisions = hook.record_polls("run-1", {empty: EMPTY, missing: MISSING, assets: ASSETS}, RULES)
    assert decisions[empty].action is Action.SKIP
    assert decisions[missing].action is Action.RETRY
    assert decisions[missing].attempt == 1
    assert decisions[assets].action is Action.RESET
    stored = hook.get_a1_retry_status(missing)
    assert stored.state.consecutive_errors == 1
    assert stored.state.failure_reason == MISSING.reason
    assert stored.last_polled_at is not None
    poll = count_rows(
        tracking_db_url,
        "SELECT action || '/' || outcome || '/' || poll_count FROM campaign_polls"
        " WHERE campaign_id = %s AND run_id = 'run-1'",
        [missing],
    )
    assert poll == "retry/folder_error/1"


def test_the_same_poll_recorded_twice_counts_once(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    first = hook.record_polls("run-1", {cid: MISSING}, RULES)
    again = hook.record_polls("run-1", {cid: MISSING}, RULES)
    assert again == first
    state = hook.get_a1_retry_status(cid).state
    assert (state.poll_count, state.consecutive_errors) == (1, 1)
    hook.record_polls("run-2", {cid: MISSING}, RULES)
    state = hook.get_a1_retry_status(cid).state
    assert (state.poll_count, state.consecutive_errors) == (2, 2)


def test_the_same_poll_recorded_concurrently_counts_once(hook, new_ids, tracking_db_url):
    ids = new_ids(50)
    track(hook, ids)
    barrier = threading.Barrier(8)
    results, errors = [], []

    def record():
        try:
            barrier.wait()
            results.append(RetryStateHook().record_polls("run-x", dict.fromkeys(ids, EMPTY), RULES))
        except Exception as error:  # collected and asserted below
            errors.append(error)

    threads = [threading.Thread(target=record) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(result == results[0] for result in results)
    states = hook.get_campaigns(ids)
    assert {states[c].state.poll_count for c in ids} == {1}
    polls = count_rows(
        tracking_db_url, "SELECT count(*) FROM campaign_polls WHERE campaign_id = ANY(%s)", [ids]
    )
    assert polls == 50


def test_recording_unknown_campaigns_is_refused(hook):
    with pytest.raises(KeyError, match="never recorded"):
        hook.record_polls("run-1", {"nobody": EMPTY}, RULES)


def test_warning_stamped_once_and_kept(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    rules = RetrySettings(warning_threshold=2)
    actions = [hook.record_polls(f"run-{i}", {cid: EMPTY}, rules)[cid].action for i in range(4)]
    assert actions == [Action.SKIP, Action.WARN, Action.SKIP, Action.SKIP]
    assert hook.get_a1_retry_status(cid).warning_sent_at is not None


def test_increment_a1_retry_keeps_the_seed_semantics(hook, new_ids):
    cid, other = new_ids(2)
    track(hook, [cid, other])
    for i in range(5):
        decision = hook.increment_a1_retry(other, f"run-{i}", mark_failed_at_max=False)
    assert decision.action is Action.SKIP
    assert not hook.get_a1_retry_status(other).state.permanently_failed
    reasons = "Assets folder not found (tried Master Assets)"
    actions = [hook.increment_a1_retry(cid, f"run-{i}", reason=reasons).action for i in range(3)]
    assert actions == [Action.RETRY, Action.RETRY, Action.FAIL]
    stored = hook.get_a1_retry_status(cid)
    assert stored.state.permanently_failed
    assert stored.state.failure_reason == reasons
    # A failed campaign is not polled again until it is reset.
    assert hook.increment_a1_retry(cid, "run-9", reason=reasons) is None


def test_reset_clears_state_and_starts_a_new_episode(hook, new_ids):
    cid, other = new_ids(2)
    track(hook, [cid, other])
    for i in range(3):
        hook.record_polls(f"run-{i}", {cid: MISSING, other: MISSING}, RULES)
    assert hook.get_a1_retry_status(cid).state.permanently_failed
    assert hook.reset_a1_retry(cid)
    state = hook.get_a1_retry_status(cid).state
    assert state == RetryState(episode=2)
    assert not hook.reset_a1_retry("never-seen")
    assert other in hook.reset_campaigns([], all_failed=True)
    assert not hook.get_a1_retry_status(other).state.permanently_failed


def test_per_campaign_retry_limit(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    assert hook.set_max_retries(cid, 1)
    assert hook.record_polls("run-1", {cid: MISSING}, RULES)[cid].action is Action.FAIL
    assert hook.set_max_retries(cid, None)
    assert hook.get_a1_retry_status(cid).state.max_retries is None
    assert not hook.set_max_retries("never-seen", 2)
    with pytest.raises(ValueError):
        hook.set_max_retries(cid, 0)


def test_a_reset_decision_keeps_the_counters_until_the_promotion_clears_them(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    rules = RetrySettings(warning_threshold=2)
    for i, check in enumerate([EMPTY, EMPTY, MISSING, ASSETS]):
        hook.record_polls(f"run-{i}", {cid: check}, rules)
    decided = hook.get_a1_retry_status(cid)
    assert decided.state == RetryState(poll_count=4, warning_sent=True)
    assert (decided.status, decided.warning_sent_at is not None) == ("A1", True)

    assert hook.mark_promoted(cid) is True
    promoted = hook.get_a1_retry_status(cid)
    assert promoted.state == reset_state(decided.state) == RetryState(episode=2)
    assert promoted.status == "A2"
    assert promoted.promoted_to_a2_at is not None
    assert (promoted.last_polled_at, promoted.warning_sent_at) == (None, None)
    # A cleared reset task stamps again: the promotion it repeats stands, no second episode.
    assert hook.mark_promoted(cid) is False
    assert hook.get_a1_retry_status(cid) == promoted


def test_waiting_for_the_dam_lock_since_the_first_poll_that_met_it(hook, new_ids):
    waiting, other = new_ids(2)
    track(hook, [waiting, other])
    hook.record_polls("run-1", {waiting: ASSETS, other: ASSETS}, RULES)
    hook.mark_waiting_for_dam_lock(waiting)
    since = hook.get_a1_retry_status(waiting).waiting_for_dam_lock_since
    assert since is not None
    assert hook.get_a1_retry_status(other).waiting_for_dam_lock_since is None

    # The lock still held at the next poll: the same wait, the same episode.
    hook.record_polls("run-2", {waiting: ASSETS}, RULES)
    hook.mark_waiting_for_dam_lock(waiting)
    tracked = hook.get_a1_retry_status(waiting)
    assert tracked.waiting_for_dam_lock_since == since
    assert (tracked.state.poll_count, tracked.state.episode) == (2, 1)

    hook.mark_promoted(waiting)
    promoted = hook.get_a1_retry_status(waiting)
    assert promoted.waiting_for_dam_lock_since is None
    assert (promoted.status, promoted.state.episode) == ("A2", 2)


@pytest.mark.parametrize("check", [EMPTY, MISSING], ids=["empty", "folder-error"])
def test_a_poll_deciding_anything_but_a_reset_ends_the_wait(hook, new_ids, check):
    (cid,) = new_ids(1)
    track(hook, [cid])
    hook.record_polls("run-1", {cid: ASSETS}, RULES)
    hook.record_imported_asset(cid, "f1", "ab" * 20, "hero.tif", 10, dam_job_id="j1")
    hook.mark_waiting_for_dam_lock(cid)
    hook.record_polls("run-2", {cid: check}, RULES)
    tracked = hook.get_a1_retry_status(cid)
    assert tracked.waiting_for_dam_lock_since is None
    assert (tracked.status, tracked.state.poll_count, tracked.state.episode) == ("A1", 2, 1)
    # What was imported stays imported: a later promotion brings none of it in again.
    assert [a["box_file_id"] for a in hook.get_imported_assets(cid)] == ["f1"]


def test_a_campaign_leaving_a1_ends_its_wait(empty_db):
    hook = RetryStateHook(postgres_conn_id="empty_db")
    hook.apply_migrations()
    track(hook, ["moved-by-hand", "still-at-a1"])
    hook.record_polls("run-1", dict.fromkeys(["moved-by-hand", "still-at-a1"], ASSETS), RULES)
    for campaign_id in ("moved-by-hand", "still-at-a1"):
        hook.mark_waiting_for_dam_lock(campaign_id)
    assert hook.mark_left("A1", "left A1", ["still-at-a1"]) == ["N-moved-by-hand"]
    tracked = hook.get_campaigns(["moved-by-hand", "still-at-a1"])
    assert tracked["moved-by-hand"].waiting_for_dam_lock_since is None
    assert tracked["still-at-a1"].waiting_for_dam_lock_since is not None


# Ledgers


def test_notification_claimed_once_and_stamped(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    claim = hook.claim_notification(cid, "retry", "run-1", episode=1, attempt=1)
    assert claim.sent_at is None
    again = hook.claim_notification(cid, "retry", "run-1", episode=1, attempt=1)
    assert again.id == claim.id
    hook.mark_notification_sent(claim.id)
    assert hook.claim_notification(cid, "retry", "run-1", 1, 1).sent_at is not None
    # Another run's retry email is another notification.
    assert hook.claim_notification(cid, "retry", "run-2", 1, 2).id != claim.id


def test_one_warning_per_episode_whatever_the_run(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    first = hook.claim_notification(cid, "warning", "run-20", episode=1)
    hook.mark_notification_sent(first.id)
    later = hook.claim_notification(cid, "warning", "run-21", episode=1)
    assert later.id == first.id
    assert later.sent_at is not None
    assert hook.claim_notification(cid, "warning", "run-40", episode=2).id != first.id


def test_asset_ledger(hook, new_ids):
    (cid,) = new_ids(1)
    track(hook, [cid])
    assert hook.record_imported_asset(cid, "f1", "ab" * 20, "hero.tif", 10, dam_job_id="j1")
    assert not hook.record_imported_asset(cid, "f1", "ab" * 20, "hero.tif", 10, dam_job_id="j2")
    assert hook.record_imported_asset(cid, "f1", "cd" * 20, "hero.tif", 12)
    assets = hook.get_imported_assets(cid)
    assert [(a["box_file_id"], a["sha1"], a["dam_job_id"]) for a in assets] == [
        ("f1", "ab" * 20, "j1"),
        ("f1", "cd" * 20, None),
    ]


def test_manual_operation_audit(hook, new_ids, tracking_db_url):
    ids = new_ids(2)
    track(hook, ids)
    operation = ManualOperation("alice", "reset", {"reason": "assets fixed"}, "manual-1")
    reset, op = hook.reset_recorded(operation, ids)
    assert reset == sorted(ids)
    row = count_rows(
        tracking_db_url,
        "SELECT row(performed_by, operation, campaign_ids, details->>'reason', run_id)::text"
        " FROM manual_operations WHERE id = %s",
        [op],
    )
    assert row == f'(alice,reset,"{{{ids[0]},{ids[1]}}}","assets fixed",manual-1)'


@pytest.mark.parametrize(
    "text",
    [
        "O'Brien; DROP TABLE campaign_status; --",
        'quote " and back\\slash',
        "Frühjahr 春 🚀 кампания",
        "<script>alert('x')</script> & <b>bold</b>",
        "line\r\nbreak\ttab",
        "%(campaign_id)s %s {0}",
    ],
)
def test_untrusted_text_is_stored_and_read_back_literally(hook, text):
    cid = f"{text}-{uuid.uuid4().hex[:6]}"
    hook.upsert_campaigns(
        [{"campaign_id": cid, "number": text, "name": text, "status": "A1", "box_folder_id": text}]
    )
    hook.record_polls("run-1", {cid: CheckResult(Outcome.FOLDER_ERROR, text)}, RULES)
    tracked = hook.get_a1_retry_status(cid)
    assert (tracked.campaign_name, tracked.campaign_number, tracked.box_folder_id) == (text,) * 3
    assert tracked.state.failure_reason == text
    assert hook.run_query("check_campaign", campaign=cid)[0]["campaign_name"] == text


# Operators' queries, on real data


@pytest.fixture
def operator_data(empty_db):
    """A database of its own holding one campaign in each state the queries tell apart."""
    hook = RetryStateHook(postgres_conn_id="empty_db")
    hook.apply_migrations()
    ids = ["fresh", "waiting", "warned", "attempt1", "attempt2", "failed", "own-limit", "promoted"]
    ids.append("locked")
    track(hook, ids)
    rules = RetrySettings(warning_threshold=3)
    histories = {
        "waiting": [EMPTY],
        "warned": [EMPTY] * 3,
        "attempt1": [EMPTY, MISSING],
        "attempt2": [MISSING, MISSING],
        "failed": [MISSING] * 3,
        "own-limit": [MISSING] * 3,
        "promoted": [EMPTY, ASSETS],
        "locked": [EMPTY, ASSETS],
    }
    hook.set_max_retries("own-limit", 5)
    for campaign_id, checks in histories.items():
        for i, check in enumerate(checks):
            hook.record_polls(f"run-{i}", {campaign_id: check}, rules)
    hook.mark_promoted("promoted")
    hook.mark_waiting_for_dam_lock("locked")
    return hook


def test_query_check_campaign_by_id_or_number(operator_data):
    by_id = operator_data.run_query("check_campaign", campaign="attempt2")
    by_number = operator_data.run_query("check_campaign", campaign="N-attempt2")
    assert by_id == by_number
    assert by_id[0]["a1_retry_count"] == 2
    assert by_id[0]["a1_consecutive_errors"] == 2


def test_query_list_failed(operator_data):
    rows = operator_data.run_query("list_failed")
    assert [row["campaign_id"] for row in rows] == ["failed"]
    assert rows[0]["a1_failure_reason"] == MISSING.reason


def test_query_dashboard(operator_data):
    (row,) = operator_data.run_query("dashboard")
    assert row == {
        "No Issues": 1,
        "Waiting For Assets": 2,
        "Waiting For DAM Lock": 1,
        "Warned": 1,
        "Attempt 1": 1,
        "Attempt 2": 1,
        "Attempt 3+": 1,
        "Permanently Failed": 1,
        "Box Events Missed": 0,
    }


def test_query_near_failure_alert(operator_data):
    rows = operator_data.run_query("near_failure_alert", max_retries=3)
    assert [(r["campaign_id"], r["error_limit"]) for r in rows] == [("attempt2", 3)]
    rows = operator_data.run_query("near_failure_alert", max_retries=2)
    assert {r["campaign_id"] for r in rows} == {"attempt1", "attempt2"}


def test_query_reset_one_and_all_failed(operator_data):
    assert operator_data.run_query("reset_campaigns", campaign_ids=["attempt2"], all_failed=False)
    assert operator_data.get_a1_retry_status("attempt2").state == RetryState(episode=2)
    rows = operator_data.run_query("reset_campaigns", campaign_ids=[], all_failed=True)
    assert [row["campaign_id"] for row in rows] == ["failed"]
    assert operator_data.run_query("list_failed") == []
