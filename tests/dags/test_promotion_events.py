"""Promotions as events of the Airflow Asset ``campaigns/a2``, in real runs of a1_to_a2.

One event per campaign promoted, its extra as the sandboxes and the asset ledger know the
campaign; none for a campaign left at A1; none again when the successful ``reset`` is cleared;
none lost when ``reset`` fails after promoting and its retry succeeds. The events are read from
Airflow's metadata database, where the task's success registered them.
"""

from __future__ import annotations

from typing import Any

import pytest

from campaigns import notify
from campaigns.promotion import dam_name
from sandbox.box import fixture as box_fixture
from tests.dags import test_wishlist
from tests.dags.world import Campaign, World, task_states

# The webhook receiver on a local socket, and the HTTP connection to it (a fixture).
receiver = test_wishlist.receiver
ASSET_NAME = "campaigns/a2"
ALREADY_IN = "event is in already, not again"


def promotion_events(campaigns: list[Campaign]) -> list[Any]:
    """The events of ``campaigns/a2`` about these campaigns, oldest first."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    ids = {c.campaign_id for c in campaigns}
    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetModel.name == ASSET_NAME)
            .order_by(AssetEvent.id)
        ).all()
        session.expunge_all()
    return [event for event in events if event.extra.get("campaign_id") in ids]


def expected_extra(world: World, campaign: Campaign, run_id: str) -> dict[str, Any]:
    """What the event should say, from the DAM sandbox, the Box fixture and the asset ledger."""
    in_dam = world.dam_campaign(campaign.campaign_id)
    box_files = box_fixture.campaign_folder(campaign.box_folder_id, assets=campaign.assets)["files"]
    box_id_of = {
        dam_name(path): file["id"] for path, file in zip(campaign.assets, box_files, strict=True)
    }
    job_of = {
        row["name"]: row["dam_job_id"]
        for row in world.state.get_imported_assets(campaign.campaign_id)
    }
    return {
        "campaign_id": in_dam["id"],
        "number": in_dam["number"],
        "name": in_dam["name"],
        "run_id": run_id,
        "assets": [
            {
                "name": asset["name"],
                "size": asset["size"],
                "sha1": asset["sha1"],
                "box_file_id": box_id_of[asset["name"]],
                "dam_asset_id": asset["asset_id"],
                "dam_job_id": job_of[asset["name"]],
            }
            for asset in in_dam["imported"]
        ],
    }


def by_name(extra: dict[str, Any]) -> dict[str, Any]:
    """The extra without its emission's keys, its assets in name order."""
    left = {key: value for key, value in extra.items() if not key.startswith("emission")}
    return {**left, "assets": sorted(extra["assets"], key=lambda a: a["name"])}


def emissions(events: list[Any]) -> list[tuple[str, int]]:
    return sorted((e.extra["emission"], e.extra["emission_index"]) for e in events)


def tries(dag_run: Any, task_id: str) -> dict[int, int]:
    """Map index to the try number of a task's instances in a finished run."""
    from airflow.utils.session import create_session

    with create_session() as session:
        return {
            ti.map_index: ti.try_number
            for ti in dag_run.get_task_instances(session=session)
            if ti.task_id == task_id
        }


def clear_and_rerun(world: World, dag_run: Any, task_id: str) -> str:
    """Clear one task's instances of a finished run as the UI's Clear does (the other tasks, their
    XComs and mapped inputs kept; ``dag.test`` would make a new run) and run them again in
    process, with the loop of ``dag.test``; the run's final state."""
    from airflow.models.dagrun import DagRun
    from airflow.sdk.definitions.dag import _run_task
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState, TaskInstanceState
    from sqlalchemy import select

    scheduler_dag = DagSerialization.deserialize_dag(DagSerialization.serialize_dag(world.dag))
    scheduler_dag.clear(task_ids=[task_id], run_id=dag_run.run_id)
    with create_session() as session:
        run = session.scalar(
            select(DagRun).where(DagRun.dag_id == dag_run.dag_id, DagRun.run_id == dag_run.run_id)
        )
        run.dag, run.state = scheduler_dag, DagRunState.RUNNING
        session.commit()
        while run.state == DagRunState.RUNNING:
            session.expire_all()
            schedulable, _ = run.update_state(session=session)
            for ti in schedulable:
                ti.try_number += 1
                ti.state = TaskInstanceState.SCHEDULED
            session.commit()
            for ti in run.get_task_instances(state=[TaskInstanceState.SCHEDULED], session=session):
                _run_task(ti=ti, task=world.dag.task_dict[ti.task_id])
        return str(run.state)


def test_each_promoted_campaign_is_one_event_and_a_cleared_reset_adds_none(make_world, uid, capfd):
    cuts = Campaign(f"{uid}-cuts", folder="assets", assets={"video/cut.mp4": 500, "cut.mp4": 400})
    logo = Campaign(f"{uid}-logo", folder="assets", assets={"logo.ai": 200}, name="Logo <b>")
    locked = Campaign(f"{uid}-locked", folder="assets", assets={"kv.psd": 300})
    empty = Campaign(f"{uid}-empty")
    everyone = [cuts, logo, locked, empty]
    world = make_world(everyone, settle_minutes=0, campaigns_per_task=4)
    world.dam.control("PUT", f"campaigns/{locked.campaign_id}/lock", json={"user": "jane"})

    run = world.run()
    assert str(run.state) == "success"
    # One reset instance promotes two campaigns; the third waits for the lock.
    assert task_states(run)["reset"] == {0: "success"}
    assert [world.dam_campaign(c.campaign_id)["status"] for c in everyone] == [
        "A2",
        "A2",
        "A1",
        "A1",
    ]
    events = promotion_events(everyone)
    assert sorted(e.extra["campaign_id"] for e in events) == [cuts.campaign_id, logo.campaign_id]
    for event in events:
        promoted = cuts if event.extra["campaign_id"] == cuts.campaign_id else logo
        assert by_name(event.extra) == by_name(expected_extra(world, promoted, run.run_id))
        assert (event.source_dag_id, event.source_run_id) == ("a1_to_a2", run.run_id)
        assert (event.source_task_id, event.source_map_index) == ("reset", 0)
    assert sorted(len(e.extra["assets"]) for e in events) == [1, 2]
    # Both registered by the success of try 1 of reset[0], in the order they were added.
    emitted = f"a1_to_a2/{run.run_id}/reset/0/1"
    assert emissions(events) == [(emitted, 0), (emitted, 1)]

    capfd.readouterr()
    assert clear_and_rerun(world, run, "reset") == "success"
    assert tries(run, "reset") == {0: 2}
    assert [e.id for e in promotion_events(everyone)] == [e.id for e in events]
    log = "".join(capfd.readouterr())
    # The reset ran again and promoted both again (already at A2: nothing to do), no new event.
    assert f"{cuts.number}: its {ASSET_NAME} {ALREADY_IN}" in log
    assert f"{logo.number}: its {ASSET_NAME} {ALREADY_IN}" in log

    # A poll with nobody to promote (the locked campaign taken out of A1 by hand): reset is
    # skipped (zero-length expand), no event.
    world.dam.control("PUT", f"campaigns/{locked.campaign_id}/status", json={"status": "A3"})
    quiet = world.run()
    assert str(quiet.state) == "success"
    assert task_states(quiet)["reset"] == {-1: "skipped"}
    assert [e.id for e in promotion_events(everyone)] == [e.id for e in events]


def test_a_reset_that_fails_after_promoting_emits_every_promotion_once_at_its_retry(
    make_world, uid, receiver
):
    first = Campaign(f"{uid}-first", folder="assets", assets={"a.psd": 100})
    second = Campaign(f"{uid}-second", folder="assets", assets={"b.psd": 200})
    world = make_world(
        [first, second],
        settle_minutes=0,
        campaigns_per_task=2,
        webhook_conn_id=test_wishlist.WEBHOOK_CONN_ID,
    )
    # The webhook refuses the first announcement: the try fails right after one promotion.
    receiver.failures = 1

    run = world.run()
    assert str(run.state) == "success"
    assert task_states(run)["reset"] == {0: "success"}
    refused = receiver.requests[0]
    assert (refused["status"], refused["body"]["action"]) == (500, "reset")
    assert tries(run, "reset") == {0: 2}
    events = promotion_events([first, second])
    assert sorted(e.extra["campaign_id"] for e in events) == sorted(
        [first.campaign_id, second.campaign_id]
    )
    for event in events:
        promoted = first if event.extra["campaign_id"] == first.campaign_id else second
        assert by_name(event.extra) == by_name(expected_extra(world, promoted, run.run_id))
    emitted = f"a1_to_a2/{run.run_id}/reset/0/2"
    assert emissions(events) == [(emitted, 0), (emitted, 1)]


def test_a_folder_changed_between_the_try_that_promoted_and_its_retry_keeps_its_event(
    make_world, uid, receiver, monkeypatch: pytest.MonkeyPatch
):
    """The campaign reached A2 in the try that failed: its retry does not look at its folder
    again (a new file there waits for no poll: the campaign has left A1), it emits its event."""
    campaign = Campaign(f"{uid}-moved", folder="assets", assets={"a.psd": 100})
    world = make_world([campaign], settle_minutes=0, webhook_conn_id=test_wishlist.WEBHOOK_CONN_ID)
    post, pending = notify.post_webhook, [lambda: world.add_assets(campaign, {"late.psd": 50})]

    def upload_then_post(*args: Any, **kwargs: Any) -> None:
        # Someone uploads a file right after the promotion, as the refused webhook fails the try.
        while pending:
            pending.pop()()
        post(*args, **kwargs)

    monkeypatch.setattr(notify, "post_webhook", upload_then_post)
    receiver.failures = 1

    run = world.run()
    assert str(run.state) == "success"
    assert tries(run, "reset") == {0: 2}
    assert [r["status"] for r in receiver.requests] == [500, 200]
    [event] = promotion_events([campaign])
    assert by_name(event.extra) == by_name(expected_extra(world, campaign, run.run_id))
    assert [a["name"] for a in event.extra["assets"]] == ["a.psd"]
