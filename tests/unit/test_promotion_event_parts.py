"""The promotion event's pure parts: its extra, the DAM asset ids of job-only imports, which
campaigns a run's events announce already, and which promotions a consumer's run owns."""

from __future__ import annotations

from datetime import UTC, datetime

from airflow.sdk.execution_time.comms import AssetEventResult

from campaigns.promotion_events import (
    PROMOTED_TO_A2,
    announced,
    arrivals,
    promotion_extra,
    with_asset_ids,
)


def row(box_file_id: str, sha1: str, name: str, size: int, asset_id=None, job_id=None) -> dict:
    return {
        "box_file_id": box_file_id,
        "sha1": sha1,
        "name": name,
        "size_bytes": size,
        "dam_asset_id": asset_id,
        "dam_job_id": job_id,
    }


def test_the_extra_holds_the_ledger_rows_of_the_promoted_files_only():
    campaign = {
        "campaign_id": "dam-7",
        "number": "C-7",
        "name": "Spring",
        "assets": [{"file_id": "f1", "sha1": "new"}, {"file_id": "f2", "sha1": "b"}],
    }
    ledger = [
        row("f1", "old", "a.psd", 10, asset_id="x1"),  # f1's content before it was replaced
        row("f1", "new", "a.psd", 12, asset_id="x2"),
        row("f2", "b", "b.psd", 20, job_id="j2"),
        row("f3", "c", "gone.psd", 30, asset_id="x3"),  # a file since removed from Box
    ]
    assert promotion_extra(campaign, ledger, "run-1") == {
        "campaign_id": "dam-7",
        "number": "C-7",
        "name": "Spring",
        "run_id": "run-1",
        "assets": [
            {
                "name": "a.psd",
                "size": 12,
                "sha1": "new",
                "box_file_id": "f1",
                "dam_asset_id": "x2",
                "dam_job_id": None,
            },
            {
                "name": "b.psd",
                "size": 20,
                "sha1": "b",
                "box_file_id": "f2",
                "dam_asset_id": None,
                "dam_job_id": "j2",
            },
        ],
    }


def child(asset_id: str, name: str, size: int) -> dict:
    return {"asset_id": asset_id, "name": name, "size": size}


def test_a_job_only_row_takes_the_one_child_of_its_name_and_size_no_row_holds():
    ledger = [
        row("f1", "a", "a.psd", 10, asset_id="x1"),
        row("f2", "b", "a.psd", 10, job_id="j2"),  # same name and size as f1's asset, held
        row("f3", "c", "twin.psd", 5, job_id="j3"),
        row("f4", "d", "later.psd", 7, job_id="j4"),
    ]
    children = [
        child("x1", "a.psd", 10),
        child("x2", "a.psd", 10),
        child("t1", "twin.psd", 5),  # two children it could be: which one cannot be told
        child("t2", "twin.psd", 5),
        child("l1", "later.psd", 8),  # another size: not its asset
    ]
    assert [r["dam_asset_id"] for r in with_asset_ids(ledger, children)] == [
        "x1",
        "x2",
        None,
        None,
    ]
    assert [r["dam_asset_id"] for r in ledger] == ["x1", None, None, None]  # rows left as read


def event(number: int, dag_id: str | None, run_id: str | None, campaign_id: str, **extra):
    """An event of the asset as Airflow's Task SDK reads it, ``number`` its id and second."""
    return AssetEventResult(
        id=number,
        timestamp=datetime(2026, 1, 5, 9, 0, number, tzinfo=UTC),
        extra={"campaign_id": campaign_id, **extra},
        asset={"name": PROMOTED_TO_A2.name, "uri": PROMOTED_TO_A2.uri, "group": "campaigns"},
        created_dagruns=[],
        source_dag_id=dag_id,
        source_run_id=run_id,
    )


def test_a_run_s_announced_campaigns_are_those_of_its_own_events():
    events = [
        event(1, "a1_to_a2", "run-1", "dam-1"),
        event(2, "a1_to_a2", "run-2", "dam-2"),  # a later run's promotion
        event(3, "other_dag", "run-1", "dam-3"),
        event(4, None, None, "dam-4"),  # posted through the REST API
        event(5, "a1_to_a2", "run-1", "dam-5"),
    ]
    assert announced(events, "a1_to_a2", "run-1") == {"dam-1", "dam-5"}


def emitted(number: int, campaign_id: str, attempt: str, index: int):
    return event(number, "a1_to_a2", "run-1", campaign_id, emission=attempt, emission_index=index)


def test_a_consumer_run_owns_each_emission_whose_first_event_triggered_it():
    log = [
        emitted(1, "dam-1", "reset/0/1", 0),  # the first run's trigger
        emitted(2, "dam-2", "reset/0/1", 1),  # registered after it: came with the second run
        emitted(3, "dam-3", "reset/1/1", 0),
        emitted(4, "dam-4", "reset/1/1", 1),
        emitted(5, "dam-5", "reset/2/1", 0),  # registered after the second run was queued
        event(6, None, None, "dam-6"),  # posted through the REST API: no emission
    ]
    asked = []

    def events_after(since):
        asked.append(since)
        return [e for e in reversed(log) if e.timestamp >= since]

    first = arrivals(log[:1], events_after)
    second = arrivals(log[1:4], events_after)
    assert [c["campaign_id"] for c in first] == ["dam-1", "dam-2"]
    assert [c["campaign_id"] for c in second] == ["dam-3", "dam-4"]
    assert asked == [log[0].timestamp, log[2].timestamp]
    assert arrivals(log[5:], events_after) == []
    assert len(asked) == 2  # a run owning nothing reads nothing
