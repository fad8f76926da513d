"""a1_to_a2 for real: DAG runs against the Box and DAM sandboxes, PostgreSQL and an SMTP server."""

from __future__ import annotations

import pytest

from campaigns.rules import CheckResult, Outcome, RetrySettings
from tests.dags.world import RECIPIENTS, Campaign, task_states

ITEMS = "GET /2.0/folders/{folder_id}/items"
WARNING = "⚠️ Campaign in A1 with no assets yet"
MISSING = "Assets folder not found (tried 'Master Assets'; the campaign folder is empty)"


def subjects(world, campaign):
    return [str(message["Subject"]).strip() for message in world.emails(campaign)]


def action_instances(world, dag_run):
    """Action task id to the campaign ids its mapped instances handled (their return values)."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    handled: dict[str, list[str]] = {}
    with create_session() as session:
        rows = session.query(XComModel).filter(
            XComModel.dag_id == dag_run.dag_id,
            XComModel.run_id == dag_run.run_id,
            XComModel.task_id.in_(["skip", "warn", "retry", "fail", "reset"]),
            XComModel.key == "return_value",
        )
        for row in rows:
            handled.setdefault(row.task_id, []).extend(XComModel.deserialize_value(row))
    return {task: sorted(ids) for task, ids in handled.items()}


def test_scenario_1_temporary_empty_folder(make_world, uid):
    """Seed scenario 1, as reworked: an empty folder is silent; assets then promote it.

    With no settle time, as before: tests/dags/test_settling.py has the wait.
    """
    campaign = Campaign(f"{uid}-spring")
    world = make_world([campaign], settle_minutes=0)
    world.run()
    assert world.tracked(campaign.campaign_id).state.poll_count == 1
    assert world.mail.messages == []

    world.add_assets(campaign, {"key-visual.psd": 10_000, "logo.ai": 2_000})
    run = world.run()
    assert str(run.state) == "success"
    tracked = world.tracked(campaign.campaign_id)
    assert tracked.state.poll_count == 0
    assert tracked.status == "A2"
    assert tracked.promoted_to_a2_at is not None
    dam = world.dam_campaign(campaign.campaign_id)
    assert dam["status"] == "A2"
    assert sorted((a["name"], a["size"]) for a in dam["imported"]) == [
        ("key-visual.psd", 10_000),
        ("logo.ai", 2_000),
    ]
    assert world.mail.messages == []


def test_scenario_2_persistent_folder_error_fails_after_three(make_world, uid):
    """Seed scenario 2 for genuine errors: attempts 1 and 2 emailed, failed at 3, then silence."""
    campaign = Campaign(f"{uid}-gone", folder="no_master_assets", name="Summer <b>& Co</b>")
    other = Campaign(f"{uid}-waiting")
    world = make_world([campaign, other])
    for _ in range(3):
        world.run()
    assert subjects(world, campaign) == [
        "⚠️ No Assets Found (Attempt 1/3) - Campaign Summer <b>& Co</b>",
        "⚠️ No Assets Found (Attempt 2/3) - Campaign Summer <b>& Co</b>",
        "PERMANENTLY FAILED - Campaign Summer <b>& Co</b> (No Assets After 3 Attempts)",
    ]
    failed = world.tracked(campaign.campaign_id)
    assert failed.state.permanently_failed
    assert failed.state.failure_reason == MISSING
    final = world.emails(campaign)[-1]
    html = final.get_body(("html",)).get_content()
    assert "Summer &lt;b&gt;&amp; Co&lt;/b&gt;" in html
    assert "Summer <b>" not in html
    assert (
        f"WHERE campaign_id = '{campaign.campaign_id}';" in final.get_body(("plain",)).get_content()
    )
    assert "a1_campaign_admin" in html
    assert final["To"] == RECIPIENTS[0]

    # Under a cap of one campaign per run, the failed one no longer takes the slot.
    polls_before = world.tracked(other.campaign_id).state.poll_count
    world.run(max_campaigns_per_run=1)
    world.run(max_campaigns_per_run=1)
    assert world.tracked(other.campaign_id).state.poll_count == polls_before + 2
    assert world.tracked(campaign.campaign_id).state.poll_count == 3
    assert len(world.emails(campaign)) == 3

    # A reset brings it back: polled again, the error streak starts over at attempt 1.
    assert world.state.reset_a1_retry(campaign.campaign_id)
    world.run()
    assert subjects(world, campaign)[-1].startswith("⚠️ No Assets Found (Attempt 1/3)")


def test_scenario_3_wrong_status_drops_out_without_reset(make_world, uid):
    """Seed scenario 3: failed by mistake, its status changed in the DAM: no longer processed."""
    campaign = Campaign(f"{uid}-mistake", folder="no_folder")
    world = make_world([campaign])
    for _ in range(3):
        world.run()
    assert world.tracked(campaign.campaign_id).state.permanently_failed
    world.dam.control("PUT", f"campaigns/{campaign.campaign_id}/status", json={"status": "B0"})
    before = world.box.counters().get(ITEMS, 0)
    run = world.run()
    assert str(run.state) == "success"
    assert task_states(run)["check"] == {0: "success"}
    assert world.box.counters().get(ITEMS, 0) == before
    assert len(world.emails(campaign)) == 3


def test_twenty_five_empty_polls_warn_once_then_promote_then_warn_again(make_world, uid):
    campaign = Campaign(f"{uid}-slow")
    world = make_world([campaign])
    for poll in range(1, 26):
        if poll == 23:
            world.add_assets(campaign, {"master.mov": 50_000})
        world.run()
        warnings = [s for s in subjects(world, campaign) if s.startswith(WARNING)]
        assert len(warnings) == (0 if poll < 20 else 1), f"poll {poll}"
        if poll == 22:
            assert world.tracked(campaign.campaign_id).state.poll_count == 22
    tracked = world.tracked(campaign.campaign_id)
    assert tracked.status == "A2"
    assert tracked.state.poll_count == 0
    assert tracked.warning_sent_at is None
    warning = world.emails(campaign)[0]
    assert "20 polls" in warning.get_body(("plain",)).get_content()
    assert "/dags/a1_to_a2/runs/" in warning.get_body(("html",)).get_content()

    # Back at A1 later with an empty folder: a new episode, warned once more at its poll 20.
    world.box.control("DELETE", f"files/{campaign.box_folder_id}-late-0")
    world.dam.control("PUT", f"campaigns/{campaign.campaign_id}/status", json={"status": "A1"})
    for _ in range(21):
        world.run()
    warnings = [s for s in subjects(world, campaign) if s.startswith(WARNING)]
    assert len(warnings) == 2
    assert world.tracked(campaign.campaign_id).state.poll_count == 21


def test_errors_interleaved_with_empty_polls_never_fail(make_world, uid):
    campaign = Campaign(f"{uid}-flaky")
    world = make_world([campaign])
    master_assets = f"{campaign.box_folder_id}-ma"
    for _ in range(4):
        world.box.control("DELETE", f"folders/{master_assets}")
        world.run()
        world.run()
        world.box.control(
            "POST",
            "folders",
            json={"id": master_assets, "name": "Master Assets", "parent": campaign.box_folder_id},
        )
        world.run()
    tracked = world.tracked(campaign.campaign_id)
    assert not tracked.state.permanently_failed
    assert tracked.state.poll_count == 12
    attempts = [s.split(")")[0] for s in subjects(world, campaign)]
    assert attempts == ["⚠️ No Assets Found (Attempt 1/3", "⚠️ No Assets Found (Attempt 2/3"] * 4


def test_one_run_reaches_all_five_actions(make_world, uid):
    waiting = Campaign(f"{uid}-skip")
    stuck = Campaign(f"{uid}-warn")
    missing = Campaign(f"{uid}-retry", folder="no_master_assets")
    forbidden = Campaign(f"{uid}-fail", folder="forbidden")
    ready = Campaign(f"{uid}-reset", folder="assets", assets={"a.jpg": 100, "deep/b.jpg": 200})
    world = make_world([waiting, stuck, missing, forbidden, ready])
    # Bring two campaigns to the edge first: 19 empty polls, and 2 genuine errors in a row.
    state = world.state
    state.upsert_campaigns(
        {"campaign_id": c.campaign_id, "number": c.number, "status": "A1"}
        for c in (stuck, forbidden)
    )
    for i in range(19):
        state.record_polls(
            f"earlier-{i}", {stuck.campaign_id: CheckResult(Outcome.EMPTY)}, RetrySettings()
        )
    for i in range(2):
        error = CheckResult(Outcome.FOLDER_ERROR, "No access")
        state.record_polls(f"earlier-{i}", {forbidden.campaign_id: error}, RetrySettings())

    run = world.run()
    assert str(run.state) == "success"
    assert action_instances(world, run) == {
        "skip": [waiting.campaign_id],
        "warn": [stuck.campaign_id],
        "retry": [missing.campaign_id],
        "fail": [forbidden.campaign_id],
        "reset": [ready.campaign_id],
    }
    states = task_states(run)
    assert all(len(states[action]) == 1 for action in ("skip", "warn", "retry", "fail", "reset"))
    assert world.tracked(forbidden.campaign_id).state.failure_reason.startswith("No access")
    assert world.dam_campaign(ready.campaign_id)["status"] == "A2"
    assert len(world.mail.messages) == 3


def test_an_action_no_campaign_took_is_skipped_with_its_routing_task(make_world, uid):
    world = make_world([Campaign(f"{uid}-empty")])
    states = task_states(world.run())
    untaken = ("warn", "retry", "fail", "reset")
    assert {task: states[task] for task in ("to_skip", "skip")} == {
        "to_skip": {-1: "success"},
        "skip": {0: "success"},
    }
    assert {task: states[task] for action in untaken for task in (f"to_{action}", action)} == {
        task: {-1: "skipped"} for action in untaken for task in (f"to_{action}", action)
    }


def test_each_dam_session_is_signed_out(make_world, uid):
    """One sign-in for the fetch and one per ``reset`` batch, each signed out when its task
    ends (on a site that has sign-out): a DAM counts open sessions against its licences, and a
    poll every 3 minutes adds up."""
    ready = [
        Campaign(f"{uid}-ready-{n}", folder="assets", assets={f"{n}.jpg": 100}) for n in range(4)
    ]
    world = make_world([*ready, Campaign(f"{uid}-empty")], dam_variant="sign_out")
    run = world.run(campaigns_per_task=2)
    assert str(run.state) == "success"
    assert all(world.dam_campaign(c.campaign_id)["status"] == "A2" for c in ready)
    sign_ins = world.dam.control("GET", "counters")["POST /otmmapi/{version}/sessions"]
    assert (sign_ins, world.dam.control("GET", "sessions")) == (3, {"open": 0})


def test_clearing_a_finished_run_changes_nothing(make_world, uid):
    empty = Campaign(f"{uid}-empty")
    missing = Campaign(f"{uid}-missing", folder="no_master_assets")
    ready = Campaign(f"{uid}-ready", folder="assets", assets={"a.jpg": 100, "b.jpg": 300})
    world = make_world([empty, missing, ready], warning_threshold=1)
    run = world.run()
    before = {c.campaign_id: world.tracked(c.campaign_id) for c in (empty, missing, ready)}
    mails = len(world.mail.messages)
    imported = world.dam_campaign(ready.campaign_id)["imported"]
    assert mails == 2 and len(imported) == 2

    again = world.run_again(run)
    assert str(again.state) == "success"
    after = {c.campaign_id: world.tracked(c.campaign_id) for c in (empty, missing, ready)}
    assert {k: v.state for k, v in after.items()} == {k: v.state for k, v in before.items()}
    assert len(world.mail.messages) == mails
    assert world.dam_campaign(ready.campaign_id)["imported"] == imported
    assert world.dam_campaign(ready.campaign_id)["status"] == "A2"


def test_broken_dam_metadata_is_reported_and_the_rest_processed(make_world, uid):
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    from sandbox.dam import fixture as dam

    broken = Campaign(f"{uid}-broken", missing=(dam.NUMBER_FIELD,))
    fine = Campaign(f"{uid}-fine")
    world = make_world([broken, fine])
    run = world.run()
    assert str(run.state) == "success"
    assert world.tracked(fine.campaign_id).state.poll_count == 1
    assert world.tracked(broken.campaign_id) is None
    with create_session() as session:
        row = session.query(XComModel).filter_by(run_id=run.run_id, task_id="fetch").one()
        fetched = XComModel.deserialize_value(row)
    (bad,) = fetched["bad"]
    assert bad["campaign_id"] == broken.campaign_id
    assert "number" in bad["reason"].lower()


def test_box_rate_limits_and_errors_retry_without_a_strike(make_world, uid):
    campaign = Campaign(f"{uid}-busy")
    world = make_world([campaign])
    # More 5xx than the client's own retries: the check task fails, Airflow retries it.
    world.box.fault(ITEMS, [429, 500, 503, 500], retry_after=1)
    run = world.run()
    assert str(run.state) == "success"
    tracked = world.tracked(campaign.campaign_id)
    assert tracked.state.poll_count == 1
    assert tracked.state.consecutive_errors == 0
    assert world.mail.messages == []
    from airflow.utils.session import create_session

    with create_session() as session:
        (check,) = [t for t in run.get_task_instances(session=session) if t.task_id == "check"]
        assert check.try_number >= 2


@pytest.mark.slow
def test_five_thousand_campaigns_in_one_run(make_world, uid):
    """5,000 campaigns at A1: 50 DAM pages, batched checks and batched tracking statements."""
    campaigns = [Campaign(f"{uid}-{i:04d}") for i in range(4990)]
    campaigns += [
        Campaign(f"{uid}-ready-{i}", folder="assets", assets={"a.jpg": 10}) for i in range(10)
    ]
    world = make_world(
        campaigns, campaigns_per_task=500, box_concurrency=16, box_requests_per_minute=600_000
    )
    run = world.run()
    assert str(run.state) == "success"
    states = task_states(run)
    assert len(states["check"]) == 10
    assert len(states["skip"]) == 10
    assert len(states["reset"]) == 1
    tracked = world.state.get_campaigns([c.campaign_id for c in campaigns])
    assert len(tracked) == 5000
    assert sum(t.state.poll_count == 1 for t in tracked.values()) == 4990
    assert sum(t.status == "A2" for t in tracked.values()) == 10


@pytest.mark.parametrize(
    ("box_watch", "failing"),
    [("events", {"select": {-1: "failed"}}), ("list", {"check": {0: "failed"}})],
)
def test_box_down_for_the_whole_poll_fails_the_run_without_strikes(
    make_world, uid, box_watch, failing
):
    """The first task to call Box fails: select reading the change feed, or check listing."""
    down = Campaign(f"{uid}-down")
    world = make_world([down], box_watch=box_watch)
    world.box.fault("*", [503] * 200)
    run = world.run()
    assert str(run.state) == "failed"
    states = task_states(run)
    assert {task: states[task] for task in failing} == failing
    tracked = world.tracked(down.campaign_id)
    assert (tracked.state.poll_count, tracked.state.consecutive_errors) == (0, 0)
    assert world.mail.messages == []

    world.box.control("DELETE", "faults")
    run = world.run()
    assert str(run.state) == "success"
    assert task_states(run)["report"] == {-1: "success"}
    assert world.tracked(down.campaign_id).state.poll_count == 1
