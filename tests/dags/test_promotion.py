"""A campaign's promotion in real runs of a1_to_a2: same-named files keep distinct DAM names and
are imported once each, and a folder that changed between ``check`` and ``reset`` waits.

With no settle time (tests/dags/test_settling.py has the wait): the check promotes at once.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from campaigns import stages
from tests.dags.world import Campaign, task_states

IMPORT = "POST /otmmapi/{version}/assets"
SAME_NAMED = {"video/cut.mp4": 500, "audio/cut.mp4": 500, "cut.mp4": 500}
IN_DAM = ["audio - cut.mp4", "cut.mp4", "video - cut.mp4"]


def in_dam(world: Any, campaign: Campaign) -> tuple[str, list[tuple[str, int]]]:
    """The campaign's status in the DAM and the (name, size) of each asset in its folder."""
    folder = world.dam_campaign(campaign.campaign_id)
    return folder["status"], sorted((a["name"], a["size"]) for a in folder["imported"])


def between_check_and_reset(monkeypatch: pytest.MonkeyPatch, change: Any) -> None:
    """Run ``change`` once, right after the next run's ``decide`` (in-process under dag.test)."""
    decide, pending = stages.decide_actions, [change]

    def decide_then_change(*args: Any, **kwargs: Any) -> Any:
        decided = decide(*args, **kwargs)
        while pending:
            pending.pop()()
        return decided

    monkeypatch.setattr(stages, "decide_actions", decide_then_change)


def test_same_named_files_in_subfolders_reach_the_dam_under_their_paths_once_each(make_world, uid):
    marked = {**SAME_NAMED, "READY.txt": 1}
    campaign = Campaign(f"{uid}-cuts", folder="assets", assets=marked)
    # The ready marker, left out at the check, is left out at the look again too: no change.
    world = make_world([campaign], settle_minutes=0, ready_marker="READY.txt")
    run = world.run()
    assert str(run.state) == "success"
    assert in_dam(world, campaign) == ("A2", [(name, 500) for name in IN_DAM])
    # Each DAM asset holds the content of the Box file its name says, as Box listed it.
    ledger = {a["name"]: a["sha1"] for a in world.state.get_imported_assets(campaign.campaign_id)}
    imported = world.dam_campaign(campaign.campaign_id)["imported"]
    assert {a["name"]: a["sha1"] for a in imported} == ledger
    assert len(set(ledger.values())) == 3
    imports = world.dam.counters()[IMPORT]
    assert imports == 3

    assert str(world.run_again(run).state) == "success"
    assert world.dam.counters()[IMPORT] == imports
    assert in_dam(world, campaign) == ("A2", [(name, 500) for name in IN_DAM])


def test_imports_that_landed_before_their_ledger_rows_are_found_by_path_and_size(
    make_world, uid, tracking_db_url
):
    """A try that died after the DAM took same-named files and before the ledger recorded them:
    the next try finds each in the folder under its path, and imports none again."""
    campaign = Campaign(f"{uid}-landed", folder="assets", assets=SAME_NAMED)
    world = make_world([campaign], settle_minutes=0)
    world.dam.control("PUT", f"campaigns/{campaign.campaign_id}/lock", json={"user": "jane"})
    assert str(world.run().state) == "success"
    assert in_dam(world, campaign) == ("A1", [(name, 500) for name in IN_DAM])
    with psycopg.connect(tracking_db_url) as conn:
        conn.execute("DELETE FROM campaign_assets WHERE campaign_id = %s", [campaign.campaign_id])
    world.dam.control("PUT", f"campaigns/{campaign.campaign_id}/lock", json={"user": None})
    imports = world.dam.counters()[IMPORT]

    assert str(world.run().state) == "success"
    assert world.dam.counters()[IMPORT] == imports
    assert in_dam(world, campaign) == ("A2", [(name, 500) for name in IN_DAM])
    children = {
        a["name"]: a["asset_id"] for a in world.dam_campaign(campaign.campaign_id)["imported"]
    }
    ledger = world.state.get_imported_assets(campaign.campaign_id)
    assert sorted((a["name"], a["dam_asset_id"], a["dam_job_id"]) for a in ledger) == sorted(
        (name, asset_id, None) for name, asset_id in children.items()
    )


def add_one(world: Any, campaign: Campaign) -> None:
    world.add_assets(campaign, {"late.psd": 300})


def remove_one(world: Any, campaign: Campaign) -> None:
    world.box.control("DELETE", f"files/{campaign.box_folder_id}-ma-f1")


def replace_one(world: Any, campaign: Campaign) -> None:
    file_id, parent = f"{campaign.box_folder_id}-ma-f1", f"{campaign.box_folder_id}-ma"
    world.box.control("DELETE", f"files/{file_id}")
    spec = {"id": file_id, "name": "a.psd", "parent": parent, "size": 100, "seed": "new content"}
    world.box.control("POST", "files", json=spec)


def remove_the_folder(world: Any, campaign: Campaign) -> None:
    world.box.control("DELETE", f"folders/{campaign.box_folder_id}-ma")


@pytest.mark.parametrize(
    ("change", "now", "then_promoted"),
    [
        (add_one, "3 now", [("a.psd", 100), ("b.psd", 200), ("late.psd", 300)]),
        (remove_one, "1 now", [("b.psd", 200)]),
        (replace_one, "2 now", [("a.psd", 100), ("b.psd", 200)]),
        (remove_the_folder, "unreadable now: ", None),
    ],
    ids=["file-added", "file-removed", "file-replaced", "folder-removed"],
)
def test_a_folder_changed_between_check_and_reset_is_left_for_the_next_poll(
    make_world, uid, monkeypatch, capfd, change, now, then_promoted
):
    campaign = Campaign(f"{uid}-moving", folder="assets", assets={"a.psd": 100, "b.psd": 200})
    world = make_world([campaign], settle_minutes=0)
    between_check_and_reset(monkeypatch, lambda: change(world, campaign))
    capfd.readouterr()

    run = world.run()
    assert str(run.state) == "success"
    assert task_states(run)["reset"] == {0: "success"}
    assert (
        f"{campaign.number}: Master Assets changed since the check (2 files then, {now}"
        in "".join(capfd.readouterr())
    )
    assert in_dam(world, campaign) == ("A1", [])
    assert world.state.get_imported_assets(campaign.campaign_id) == []
    waiting = world.tracked(campaign.campaign_id)
    assert (waiting.status, waiting.promoted_to_a2_at) == ("A1", None)
    assert (waiting.state.consecutive_errors, waiting.state.permanently_failed) == (0, False)
    assert world.mail.messages == []

    assert str(world.run().state) == "success"
    if then_promoted is None:
        # The folder gone: the next poll's check judges it, the first strike.
        assert world.tracked(campaign.campaign_id).state.consecutive_errors == 1
        assert in_dam(world, campaign) == ("A1", [])
        return
    assert in_dam(world, campaign) == ("A2", then_promoted)
    assert world.tracked(campaign.campaign_id).status == "A2"
    assert world.mail.messages == []
