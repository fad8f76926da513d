"""A DAM search that shifts while the fetch pages through it: real runs of a1_to_a2.

Someone else moves campaigns in the DAM between two search pages (the DAM sandbox's
``search-shifts``): every campaign at A1 is polled once, and only one that left is marked so.
"""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from sandbox.connections import dam_connection
from sandbox.dam.fixture import VARIANTS
from tests.dags.world import Campaign

LEFT = "left A1"


@pytest.fixture
def world_paged_by_10(make_world, uid, monkeypatch):
    """25 empty campaigns at A1 (and one more, last), the DAM search paged by 10."""

    def make() -> tuple[Any, list[Campaign], Campaign]:
        waiting = [Campaign(f"{uid}-{n:02}") for n in range(25)]
        last = Campaign(f"{uid}-last")
        world = make_world([*waiting, last])
        connection = dam_connection(world.dam.url, page_size=10, **VARIANTS["strict"]["extras"])
        monkeypatch.setenv("AIRFLOW_CONN_DAM_DEFAULT", json.dumps(connection))
        return world, waiting, last

    return make


def shift_search(world: Any, *shifts: tuple[int, Campaign, str]) -> None:
    """Someone else moves each campaign to its status right after that search page from now."""
    body = [{"after_page": n, "campaign_id": c.campaign_id, "status": s} for n, c, s in shifts]
    world.dam.control("POST", "search-shifts", json=body)


def polled(tracking_db_url: str, dag_run: Any) -> list[str]:
    """The campaigns the run recorded a poll of, one row each (the table's key)."""
    with psycopg.connect(tracking_db_url) as conn:
        rows = conn.execute(
            "SELECT campaign_id FROM campaign_polls WHERE run_id = %s ORDER BY campaign_id",
            (dag_run.run_id,),
        ).fetchall()
    return [campaign_id for (campaign_id,) in rows]


def statuses(world: Any, campaigns: list[Campaign]) -> dict[str, str]:
    return {c.campaign_id: world.tracked(c.campaign_id).status for c in campaigns}


def test_a_campaign_moved_away_between_pages_costs_no_other_its_poll(
    world_paged_by_10, tracking_db_url
):
    """The third campaign moves to A2 after page 1: the next page would start one later and skip
    a campaign; the search is read again, every campaign at A1 is polled once and only the one
    moved away is marked as having left."""
    world, waiting, last = world_paged_by_10()
    everyone = sorted(c.campaign_id for c in [*waiting, last])
    assert polled(tracking_db_url, world.run()) == everyone

    moved = waiting[3]
    shift_search(world, (1, moved, "A2"))
    run = world.run()

    assert str(run.state) == "success"
    assert world.dam_campaign(moved.campaign_id)["status"] == "A2"
    assert polled(tracking_db_url, run) == [c for c in everyone if c != moved.campaign_id]
    stayed = [c for c in [*waiting, last] if c is not moved]
    assert statuses(world, stayed) == {c.campaign_id: "A1" for c in stayed}
    assert world.tracked(moved.campaign_id).status == LEFT


def test_a_search_shifting_on_every_read_polls_all_and_marks_nobody_left(
    world_paged_by_10, tracking_db_url, caplog
):
    """The first campaign leaves A1 and comes back after every page of the poll's four reads:
    the poll takes every campaign any read found and marks nobody as having left, not even one
    that did; the next poll, reading still, marks it."""
    world, waiting, gone = world_paged_by_10()
    world.run()
    world.dam.control("PUT", f"campaigns/{gone.campaign_id}/status", json={"status": "B0"})
    # Four reads of three pages; after the twelfth page the first campaign is back at A1.
    toggles = [(page, waiting[0], "A2" if page % 2 else "A1") for page in range(1, 13)]
    shift_search(world, *toggles)

    caplog.clear()
    run = world.run()

    assert str(run.state) == "success"
    assert "no campaign is marked 'left A1' this poll" in caplog.text
    assert polled(tracking_db_url, run) == sorted(c.campaign_id for c in waiting)
    assert statuses(world, [*waiting, gone]) == {c.campaign_id: "A1" for c in [*waiting, gone]}

    still = world.run()
    assert polled(tracking_db_url, still) == sorted(c.campaign_id for c in waiting)
    assert world.tracked(gone.campaign_id).status == LEFT
    assert statuses(world, waiting) == {c.campaign_id: "A1" for c in waiting}
