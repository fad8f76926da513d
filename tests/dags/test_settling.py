"""Settled uploads for real: a campaign is promoted once its Master Assets have stopped changing.

The runs are three minutes apart (their ``run_after``); Box dates each file added between two
runs at the earlier run's time, so a file added after run n is 3 minutes old at run n + 1.
"""

from __future__ import annotations

from campaigns.page.overview import campaigns_overview
from tests.dags.world import Campaign


def upload(world, campaign: Campaign, *names: str, size: int = 1_000) -> None:
    """Files landing in the campaign's Master Assets folder (ids: the campaign's and the name)."""
    for name in names:
        world.box.control(
            "POST",
            "files",
            json={
                "id": f"{campaign.box_folder_id}-{name}",
                "name": name,
                "parent": f"{campaign.box_folder_id}-ma",
                "size": size,
            },
        )


def imported(world, campaign: Campaign) -> list[str]:
    return sorted(asset["name"] for asset in world.dam_campaign(campaign.campaign_id)["imported"])


def settling_shown(world, campaign: Campaign, run) -> str | None:
    """What the campaigns page says of the campaign's uploads, as of the run's time."""
    overview = campaigns_overview(world.state, 3, search=campaign.campaign_id, now=run.run_after)
    [row] = overview["campaigns"]
    return row["settling"]


def test_a_batch_uploaded_over_several_polls_reaches_the_dam_whole_once_settled(make_world, uid):
    campaign = Campaign(f"{uid}-batch")
    world = make_world([campaign])
    world.run()
    upload(world, campaign, "a.psd", "b.psd")
    first = world.run()  # the two files are 3 minutes old: settling
    assert world.tracked(campaign.campaign_id).status == "A1"
    assert settling_shown(world, campaign, first) == "2 files, last change 3 minutes ago"
    upload(world, campaign, "c.psd", "d.psd")
    second = world.run()  # two more arrived: the wait starts again
    tracked = world.tracked(campaign.campaign_id)
    assert (tracked.status, tracked.state.poll_count) == ("A1", 3)
    assert settling_shown(world, campaign, second) == "4 files, last change 3 minutes ago"
    assert world.dam_campaign(campaign.campaign_id)["status"] == "A1"

    world.run()  # quiet for 6 minutes: promoted with all four
    assert world.tracked(campaign.campaign_id).status == "A2"
    assert world.dam_campaign(campaign.campaign_id)["status"] == "A2"
    assert imported(world, campaign) == ["a.psd", "b.psd", "c.psd", "d.psd"]
    assert world.mail.messages == []


def test_files_uploaded_long_before_the_first_look_are_promoted_at_once(make_world, uid):
    campaign = Campaign(f"{uid}-old", folder="assets", assets={"kv.psd": 10, "logo.ai": 2})
    world = make_world([campaign])
    world.run()
    assert world.tracked(campaign.campaign_id).status == "A2"
    assert imported(world, campaign) == ["kv.psd", "logo.ai"]


def test_a_ready_marker_promotes_at_once_and_is_not_imported(make_world, uid):
    campaign = Campaign(f"{uid}-ready")
    world = make_world([campaign], ready_marker="READY.txt")
    world.run()
    upload(world, campaign, "a.psd", "b.psd")
    world.run()
    assert world.tracked(campaign.campaign_id).status == "A1"  # settling: no marker yet
    upload(world, campaign, "ready.TXT")
    world.run()
    assert world.dam_campaign(campaign.campaign_id)["status"] == "A2"
    assert imported(world, campaign) == ["a.psd", "b.psd"]


def test_a_file_replaced_while_settling_restarts_the_wait(make_world, uid):
    campaign = Campaign(f"{uid}-replaced")
    world = make_world([campaign])
    world.run()
    upload(world, campaign, "a.psd")
    world.run()  # 3 minutes old
    world.box.control(
        "PATCH", f"files/{campaign.box_folder_id}-a.psd", json={"seed": "v2", "size": 2_000}
    )
    world.run()  # 6 minutes since the upload, but 3 since the new version: still settling
    assert world.tracked(campaign.campaign_id).status == "A1"
    world.run()
    assert world.dam_campaign(campaign.campaign_id)["status"] == "A2"
    assert [
        (a["name"], a["size"]) for a in world.dam_campaign(campaign.campaign_id)["imported"]
    ] == [("a.psd", 2_000)]


def test_settle_minutes_zero_keeps_the_old_immediate_behaviour(make_world, uid):
    campaign = Campaign(f"{uid}-now")
    world = make_world([campaign])
    world.run()
    upload(world, campaign, "a.psd", "b.psd")
    world.run(settle_minutes=0)
    assert world.dam_campaign(campaign.campaign_id)["status"] == "A2"
    assert imported(world, campaign) == ["a.psd", "b.psd"]
