"""Folder names and ids as people type them: real DAG runs find the folder, or say what is there."""

from __future__ import annotations

from typing import Any

from sandbox.dam import fixture as dam_fixture
from tests.dags.world import Campaign


def box_folders(world: Any, campaign: Campaign, master_assets_name: str, *others: str) -> None:
    """The campaign's Box folder, holding a folder named `master_assets_name` (with one file)
    and folders named `others`."""
    parent = campaign.box_folder_id
    world.box.control("POST", "folders", json={"id": parent, "name": f"Campaign {parent}"})
    master_assets = {"id": f"{parent}-ma", "name": master_assets_name, "parent": parent}
    world.box.control("POST", "folders", json=master_assets)
    # Uploaded long before the run: the folder has settled.
    file = {
        "name": "key-visual.psd",
        "parent": f"{parent}-ma",
        "size": 4_000,
        "created_at": "2025-06-02T09:00:00+00:00",
    }
    world.box.control("POST", "files", json=file)
    for number, name in enumerate(others):
        world.box.control(
            "POST", "folders", json={"id": f"{parent}-{number}", "name": name, "parent": parent}
        )


def test_folders_and_ids_typed_oddly_are_found_and_promoted(make_world, uid):
    typed = {
        "nbsp": "Master\u00a0Assets",
        "zwsp": "Master\u200b Assets",
        "nfd": "Cre\u0301ations",  # as macOS Finder writes é
        "spacing": "  MASTER   assets\t",
        "id": "Master Assets",
    }
    campaigns = {kind: Campaign(f"{uid}-{kind}", folder="no_folder") for kind in typed}
    world = make_world(
        campaigns.values(), master_assets_folder_names=["Master Assets", "Créations"]
    )
    for kind, name in typed.items():
        box_folders(world, campaigns[kind], name)
    spaced = campaigns["id"]
    as_stored = dam_fixture.campaign(
        spaced.campaign_id, number=spaced.number, box_folder_id=f" {spaced.box_folder_id}\u200b "
    )
    world.dam.control("POST", "campaigns", json=as_stored)

    run = world.run()

    assert str(run.state) == "success"
    assert world.tracked(spaced.campaign_id).box_folder_id == as_stored["box_folder_id"]
    for campaign in campaigns.values():
        assert world.tracked(campaign.campaign_id).status == "A2", campaign.campaign_id
        dam = world.dam_campaign(campaign.campaign_id)
        assert dam["status"] == "A2"
        assert [(a["name"], a["size"]) for a in dam["imported"]] == [("key-visual.psd", 4_000)]
    assert world.mail.messages == []


def test_a_folder_truly_missing_is_reported_with_the_names_there_escaped(make_world, uid):
    campaign = Campaign(f"{uid}-typo", folder="no_folder", name="Autumn")
    world = make_world([campaign])
    box_folders(world, campaign, "Master\u00a0Asset", "Briefs")

    run = world.run()

    assert str(run.state) == "success"
    reason = (
        "Assets folder not found (tried 'Master Assets'; the campaign folder holds "
        "'Briefs', 'Master\\u00a0Asset')"
    )
    tracked = world.tracked(campaign.campaign_id)
    assert (tracked.status, tracked.state.failure_reason) == ("A1", reason)
    [email] = world.emails(campaign)
    assert str(email["Subject"]).strip() == "⚠️ No Assets Found (Attempt 1/3) - Campaign Autumn"
    assert reason in email.get_body(("plain",)).get_content()
