"""The seed's wish list, each option on and off, in real runs of a1_to_a2.

Backoff of warned empty campaigns, auto-reset of campaigns failed long ago, and the webhook
(received by a real HTTP server on a local socket).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from campaigns.admin import AUTO_RESET_BY, AUTO_RESET_FAILED
from sandbox.server import run_in_thread
from tests.dags.world import Campaign, task_states

WARNING = "⚠️ Campaign in A1 with no assets yet"
MISSING = "Assets folder not found (tried 'Master Assets'; the campaign folder is empty)"
WEBHOOK_CONN_ID = "campaign_webhook"


def polled_runs(tracking_db_url: str, campaign: Campaign) -> list[str]:
    """The runs that checked the campaign (one campaign_polls row each), oldest first."""
    with psycopg.connect(tracking_db_url) as conn:
        rows = conn.execute(
            "SELECT run_id FROM campaign_polls WHERE campaign_id = %s ORDER BY polled_at",
            (campaign.campaign_id,),
        ).fetchall()
    return [run_id for (run_id,) in rows]


FEED = "GET /2.0/events"


def box_requests(world: Any) -> int:
    """Box requests but reads of the change feed (made at every poll in events mode)."""
    return sum(n for route, n in world.box.counters().items() if route != FEED)


def subjects(world: Any, campaign: Campaign) -> list[str]:
    return [str(message["Subject"]).strip() for message in world.emails(campaign)]


# Backoff


def test_backoff_on_checks_a_warned_empty_campaign_every_two_then_four_polls(
    make_world, uid, tracking_db_url
):
    stuck = Campaign(f"{uid}-stuck")
    reset_by_admin = Campaign(f"{uid}-admin")
    world = make_world(
        [stuck, reset_by_admin],
        warning_threshold=2,
        empty_backoff_after_warning=True,
        empty_backoff_max_polls=4,
    )
    runs = [world.run() for _ in range(2)]
    assert [subjects(world, c) for c in (stuck, reset_by_admin)] == [
        [f"{WARNING} - Campaign {stuck.campaign_id}"],
        [f"{WARNING} - Campaign {reset_by_admin.campaign_id}"],
    ]
    assert world.tracked(stuck.campaign_id).state.backoff_polls == 2

    # Poll 3: both wait; nothing is asked of Box and nothing is counted.
    before = box_requests(world)
    resting = world.run()
    assert str(resting.state) == "success"
    assert task_states(resting)["check"] == {0: "success"}
    assert box_requests(world) == before
    assert world.tracked(stuck.campaign_id).state.poll_count == 2

    # An operator's reset ends the backoff: checked at the very next poll.
    assert world.state.reset_a1_retry(reset_by_admin.campaign_id)
    assert world.tracked(reset_by_admin.campaign_id).next_check_at is None
    runs += [resting, world.run()]  # poll 4: both due (stuck: 2 polls after its warning)
    assert world.tracked(reset_by_admin.campaign_id).state.poll_count == 1
    assert world.tracked(stuck.campaign_id).state.backoff_polls == 4

    world.add_assets(stuck, {"master.mov": 5_000})
    runs += [world.run() for _ in range(4)]  # polls 5-7 wait; poll 8 finds the assets
    assert polled_runs(tracking_db_url, stuck) == [runs[i].run_id for i in (0, 1, 3, 7)]
    promoted = world.tracked(stuck.campaign_id)
    assert promoted.status == "A2"
    assert (promoted.state.backoff_polls, promoted.next_check_at) == (0, None)
    assert world.dam_campaign(stuck.campaign_id)["status"] == "A2"
    assert len(subjects(world, stuck)) == 1


def test_backoff_off_checks_a_warned_empty_campaign_at_every_poll(make_world, uid, tracking_db_url):
    stuck = Campaign(f"{uid}-stuck")
    world = make_world([stuck], warning_threshold=2)
    runs = [world.run() for _ in range(5)]
    assert polled_runs(tracking_db_url, stuck) == [run.run_id for run in runs]
    tracked = world.tracked(stuck.campaign_id)
    assert (tracked.state.poll_count, tracked.state.backoff_polls) == (5, 0)
    assert tracked.next_check_at is None
    assert subjects(world, stuck) == [f"{WARNING} - Campaign {stuck.campaign_id}"]


# Auto-reset


def fail(world: Any, *campaigns: Campaign) -> None:
    """Three runs with the Master Assets folder missing: permanently failed."""
    for _ in range(3):
        world.run()
    for campaign in campaigns:
        assert world.tracked(campaign.campaign_id).state.permanently_failed


def failed_days_ago(tracking_db_url: str, campaign: Campaign, days: int) -> None:
    """Move the failing poll back in time: the test cannot wait days."""
    with psycopg.connect(tracking_db_url) as conn:
        conn.execute(
            "UPDATE campaign_status SET a1_last_retry_at = now() - make_interval(days => %s) "
            "WHERE campaign_id = %s",
            (days, campaign.campaign_id),
        )


def audit_rows(world: Any, dag_run: Any) -> list[dict[str, Any]]:
    return world.state.run_query("manual_operations", run_id=dag_run.run_id, limit=10)


def test_auto_reset_on_resets_campaigns_failed_long_ago_and_polls_them_in_the_same_run(
    make_world, uid, tracking_db_url
):
    old = Campaign(f"{uid}-old", folder="no_master_assets")
    recent = Campaign(f"{uid}-recent", folder="no_master_assets")
    # The assets put in below promote at the next poll, with no settle time (as before).
    world = make_world([old, recent], settle_minutes=0)
    fail(world, old, recent)
    failed_days_ago(tracking_db_url, old, 31)
    failed_days_ago(tracking_db_url, recent, 29)
    # Someone has since created the missing folder and put the assets in.
    master_assets = {"id": f"{old.box_folder_id}-ma", "name": "Master Assets"}
    world.box.control("POST", "folders", json={**master_assets, "parent": old.box_folder_id})
    world.add_assets(old, {"key-visual.psd": 1_000})

    run = world.run(auto_reset_failed_after_days=30)
    assert str(run.state) == "success"
    promoted = world.tracked(old.campaign_id)
    assert not promoted.state.permanently_failed
    assert promoted.status == "A2"
    # Reset (episode 2), then promoted in the same run (episode 3).
    assert promoted.state.episode == 3
    assert world.dam_campaign(old.campaign_id)["status"] == "A2"
    assert world.tracked(recent.campaign_id).state.permanently_failed
    [row] = audit_rows(world, run)
    assert (row["performed_by"], row["operation"]) == (AUTO_RESET_BY, AUTO_RESET_FAILED)
    assert old.campaign_id in row["campaign_ids"]
    assert recent.campaign_id not in row["campaign_ids"]
    assert row["details"] == {"failed_for_days": 30}
    assert len(world.emails(old)) == 3


def test_auto_reset_run_again_resets_nothing_twice(make_world, uid, tracking_db_url):
    """Reset and polled (attempt 1 again); the cleared run bumps no episode, audits nothing more."""
    old = Campaign(f"{uid}-old", folder="no_master_assets")
    world = make_world([old])
    fail(world, old)
    failed_days_ago(tracking_db_url, old, 8)
    run = world.run(auto_reset_failed_after_days=7)
    assert subjects(world, old)[-1].startswith("⚠️ No Assets Found (Attempt 1/3)")
    for again in (False, True):
        if again:
            assert str(world.run_again(run).state) == "success"
        tracked = world.tracked(old.campaign_id)
        assert (tracked.state.episode, tracked.state.consecutive_errors) == (2, 1)
        assert len(audit_rows(world, run)) == 1
        assert len(world.emails(old)) == 4


def test_auto_reset_off_leaves_failed_campaigns_failed(make_world, uid, tracking_db_url):
    old = Campaign(f"{uid}-old", folder="no_master_assets")
    world = make_world([old])
    fail(world, old)
    failed_days_ago(tracking_db_url, old, 400)
    run = world.run()
    assert str(run.state) == "success"
    tracked = world.tracked(old.campaign_id)
    assert tracked.state.permanently_failed
    assert (tracked.state.episode, tracked.state.poll_count) == (1, 3)
    assert audit_rows(world, run) == []
    assert polled_runs(tracking_db_url, old) == [r.run_id for r in world.runs[:3]]


# Webhook


class Receiver:
    """A webhook receiver on a local socket: records every request; answers 500 while told to."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.failures = 0
        self._lock = threading.Lock()
        app = FastAPI()

        @app.post("/events")
        async def event(request: Request) -> JSONResponse:
            body = await request.json()
            with self._lock:
                status = 500 if self.failures else 200
                self.failures = max(0, self.failures - 1)
                self.requests.append({"status": status, "headers": request.headers, "body": body})
            return JSONResponse({"received": status == 200}, status_code=status)

        self.server = run_in_thread(app)
        self.url = f"{self.server.url}/events"

    def delivered(self, campaign: Campaign | None = None) -> list[dict[str, Any]]:
        return [
            r["body"]
            for r in self.requests
            if r["status"] == 200
            and (campaign is None or r["body"]["campaign_id"] == campaign.campaign_id)
        ]


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A running receiver and the HTTP connection ``campaign_webhook`` pointing at it."""
    receiver = Receiver()
    connection = {"conn_type": "http", "host": receiver.url}
    monkeypatch.setenv(f"AIRFLOW_CONN_{WEBHOOK_CONN_ID.upper()}", json.dumps(connection))
    yield receiver
    receiver.server.stop()


def test_webhook_on_posts_each_warn_retry_fail_and_reset_once(make_world, uid, receiver):
    empty = Campaign(f"{uid}-empty", name='Spring <Sale> "25"')
    missing = Campaign(f"{uid}-missing", folder="no_master_assets")
    ready = Campaign(f"{uid}-ready", folder="assets", assets={"a.jpg": 100})
    world = make_world(
        [empty, missing, ready],
        warning_threshold=1,
        max_consecutive_errors=2,
        webhook_conn_id=WEBHOOK_CONN_ID,
    )
    first, second = world.run(), world.run()
    assert str(first.state) == str(second.state) == "success"
    events = {(e["campaign_id"], e["action"]): e for e in receiver.delivered()}
    assert sorted(events) == sorted(
        [
            (empty.campaign_id, "warn"),
            (missing.campaign_id, "retry"),
            (missing.campaign_id, "fail"),
            (ready.campaign_id, "reset"),
        ]
    )
    warn = events[(empty.campaign_id, "warn")]
    assert warn["campaign_name"] == 'Spring <Sale> "25"'
    assert warn["campaign_number"] == empty.number
    assert (warn["poll_count"], warn["episode"], warn["run_id"]) == (1, 1, first.run_id)
    fail = events[(missing.campaign_id, "fail")]
    assert (fail["attempt"], fail["max_attempts"], fail["reason"]) == (2, 2, MISSING)
    assert fail["run_id"] == second.run_id
    reset = events[(ready.campaign_id, "reset")]
    # The promotion ends episode 1, after its one poll; the counters clear once it has moved.
    assert (reset["attempt"], reset["poll_count"], reset["episode"]) == (None, 1, 1)
    assert all(e["timestamp"] for e in events.values())
    keys = [r["headers"]["idempotency-key"] for r in receiver.requests]
    assert keys == [r["body"]["idempotency_key"] for r in receiver.requests]
    assert len(set(keys)) == 4
    assert all(r["headers"]["content-type"] == "application/json" for r in receiver.requests)
    assert len(world.mail.messages) == 3

    world.run_again(first)
    world.run_again(second)
    assert len(receiver.requests) == 4
    assert len(world.mail.messages) == 3


def test_webhook_failing_once_is_delivered_by_the_task_retry_without_a_second_email(
    make_world, uid, receiver
):
    stuck = Campaign(f"{uid}-stuck")
    world = make_world([stuck], warning_threshold=1, webhook_conn_id=WEBHOOK_CONN_ID)
    receiver.failures = 1
    run = world.run()
    assert str(run.state) == "success"
    assert [r["status"] for r in receiver.requests] == [500, 200]
    failed, delivered = (r["body"] for r in receiver.requests)
    assert failed == delivered
    assert len(receiver.delivered(stuck)) == 1
    assert subjects(world, stuck) == [f"{WARNING} - Campaign {stuck.campaign_id}"]


def test_webhook_down_for_a_whole_run_is_delivered_once_after_a_clear(make_world, uid, receiver):
    stuck = Campaign(f"{uid}-stuck")
    world = make_world([stuck], warning_threshold=1, webhook_conn_id=WEBHOOK_CONN_ID)
    receiver.failures = 100
    run = world.run()
    assert str(run.state) == "failed"
    assert task_states(run)["warn"] == {0: "failed"}
    assert receiver.delivered() == []
    tries = len(receiver.requests)
    assert tries >= 2
    assert len(world.emails(stuck)) == 1

    receiver.failures = 0
    again = world.run_again(run)
    assert str(again.state) == "success"
    assert len(receiver.requests) == tries + 1
    [event] = receiver.delivered(stuck)
    assert (event["action"], event["run_id"]) == ("warn", run.run_id)
    assert len(world.emails(stuck)) == 1


def test_webhook_off_posts_nothing(make_world, uid, receiver, tracking_db_url):
    empty = Campaign(f"{uid}-empty")
    missing = Campaign(f"{uid}-missing", folder="no_master_assets")
    ready = Campaign(f"{uid}-ready", folder="assets", assets={"a.jpg": 100})
    world = make_world([empty, missing, ready], warning_threshold=1)
    assert str(world.run().state) == "success"
    assert receiver.requests == []
    assert len(world.mail.messages) == 2
    with psycopg.connect(tracking_db_url) as conn:
        channels = conn.execute(
            "SELECT DISTINCT channel FROM campaign_notifications WHERE campaign_id = ANY(%s)",
            ([c.campaign_id for c in (empty, missing, ready)],),
        ).fetchall()
    assert channels == [("email",)]


# Campaigns moved out of A1 in the DAM by hand


def waiting_in_digest(world: Any) -> set[str]:
    rows = world.state.run_query("stuck_campaigns", days=0)
    return {row["campaign_id"] for row in rows if row["kind"] == "waiting"}


def test_a_campaign_moved_out_of_a1_in_the_dam_is_marked_and_comes_back(make_world, uid):
    moved = Campaign(f"{uid}-moved")
    staying = Campaign(f"{uid}-staying")
    world = make_world([moved, staying])
    world.run()
    assert {moved.campaign_id, staying.campaign_id} <= waiting_in_digest(world)

    world.dam.control("PUT", f"campaigns/{moved.campaign_id}/status", json={"status": "B0"})
    world.run()
    assert world.tracked(moved.campaign_id).status == "left A1"
    assert world.tracked(staying.campaign_id).status == "A1"
    assert moved.campaign_id not in waiting_in_digest(world)
    assert staying.campaign_id in waiting_in_digest(world)

    # A search that does not complete marks nothing, although it returned no campaign.
    world.dam.fault("POST /otmmapi/{version}/search/text", [503] * 500)
    failed = world.run()
    assert str(failed.state) == "failed"
    assert task_states(failed)["fetch"] == {-1: "failed"}
    assert world.tracked(staying.campaign_id).status == "A1"

    world.dam.control("DELETE", "faults")
    world.dam.control("PUT", f"campaigns/{moved.campaign_id}/status", json={"status": "A1"})
    world.run()
    back = world.tracked(moved.campaign_id)
    assert back.status == "A1"
    assert back.state.poll_count == 2
