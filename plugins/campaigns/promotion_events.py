"""Each promotion to A2 as one event of the Airflow Asset ``campaigns/a2``: what the event carries,
and which promotions of a run Airflow holds an event for already.

The ``reset`` task emits the events through the alias (an Asset outlet gives one event a task);
Airflow registers them when the task instance succeeds, in the same transaction, so its own
asset events, not a ledger of ours, say whether a promotion was announced.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from airflow.sdk import Asset, AssetAlias

PROMOTED_TO_A2 = Asset(name="campaigns/a2", uri="campaigns://a2", group="campaigns")
# The reset task's outlet: one event of PROMOTED_TO_A2 per campaign it promoted.
PROMOTIONS = AssetAlias(name="campaigns/a2 promotions", group="campaigns")


def promotion_extra(
    campaign: Mapping[str, Any], ledger: Iterable[Mapping[str, Any]], run_id: str
) -> dict[str, Any]:
    """The event's extra: the campaign, and its promoted Master Assets as the ledger recorded
    their imports (rows of files no longer in Master Assets left out)."""
    promoted = {(asset["file_id"], asset["sha1"]) for asset in campaign["assets"]}
    return {
        "campaign_id": campaign["campaign_id"],
        "number": campaign["number"],
        "name": campaign["name"],
        "run_id": run_id,
        "assets": [
            {
                "name": row["name"],
                "size": row["size_bytes"],
                "sha1": row["sha1"],
                "box_file_id": row["box_file_id"],
                "dam_asset_id": row["dam_asset_id"],
                "dam_job_id": row["dam_job_id"],
            }
            for row in ledger
            if (row["box_file_id"], row["sha1"]) in promoted
        ],
    }


def emission(ti: Any, index: int) -> dict[str, Any]:
    """The extra's keys saying which task instance's success registered the event, and its
    place among that success's events (0: the first registered, the earliest)."""
    attempt = f"{ti.dag_id}/{ti.run_id}/{ti.task_id}/{ti.map_index}/{ti.try_number}"
    return {"emission": attempt, "emission_index": index}


def with_asset_ids(
    ledger: Iterable[Mapping[str, Any]], children: Iterable[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The ledger's rows, one holding only an import job's id given the asset id of the DAM
    folder's child of its name and size, when exactly one child no other row holds matches."""
    rows = [dict(row) for row in ledger]
    held = {row["dam_asset_id"] for row in rows if row["dam_asset_id"]}
    free = [c for c in children if c["asset_id"] not in held]
    matches = Counter((c["name"], c["size"]) for c in free)
    asset_of = {(c["name"], c["size"]): c["asset_id"] for c in free}
    for row in rows:
        key = (row["name"], row["size_bytes"])
        if not row["dam_asset_id"] and matches[key] == 1:
            row["dam_asset_id"] = asset_of[key]
    return rows


def announced(events: Iterable[Any], dag_id: str, run_id: str) -> set[str]:
    """The campaigns this DAG run's events of PROMOTED_TO_A2 announce already (Airflow's
    ``AssetEventResult`` objects, as ``inlet_events`` reads them)."""
    return {
        event.extra["campaign_id"]
        for event in events
        if event.source_dag_id == dag_id and event.source_run_id == run_id
    }


def arrivals(triggering: Iterable[Any], events_after: Callable[[Any], Iterable[Any]]) -> list[dict]:
    """The promotions a run of a DAG scheduled on PROMOTED_TO_A2 owns, each once: every event of
    each emission whose first event is among the run's ``triggering`` events, read through
    ``events_after(timestamp)`` (the asset's events from that time on, e.g. ``inlet_events``).

    Airflow (3.3.2) queues the run at the first event it registers and hands it only the events
    registered until then: the rest of an emission may come with the next run, skipped there.
    """
    firsts = [event for event in triggering if (event.extra or {}).get("emission_index") == 0]
    if not firsts:
        return []
    owned = {event.extra["emission"] for event in firsts}
    read = events_after(min(event.timestamp for event in firsts))
    ordered = sorted(read, key=lambda event: (event.timestamp, event.id))
    return [event.extra for event in ordered if (event.extra or {}).get("emission") in owned]
