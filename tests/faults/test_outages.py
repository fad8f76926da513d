"""Outages under the real scheduler: the DAM, Box and the SMTP server go away, then come back."""

from __future__ import annotations

import pytest

from tests.faults.tally import expected
from tests.faults.world import campaigns, email, emails_after

pytestmark = pytest.mark.slow

ASSETS = {"kv.psd": 10_000, "logo.ai": 2_000}


def test_dam_unreachable_during_fetch_fails_the_run_and_changes_no_campaign(world, uid):
    c = campaigns(uid, empty="empty", missing="no_master_assets", late="empty")
    with world.scenario("DAM unreachable during the fetch", c.values()) as tally:
        first, state = world.poll()
        assert state == "success", world.describe(first)
        world.upload(c["late"], ASSETS)
        before = world.snapshot(c.values())

        world.dam.stop()
        tally.faults += 1
        down, state = world.poll()
        world.dam.start()
        assert state == "failed"
        states = world.states(down)
        fetch = world.instances(down)[("fetch", -1)]
        assert fetch.try_number == fetch.max_tries + 1 == 4
        # Only the report runs (all_done), with nothing to count.
        assert states == {key: "upstream_failed" for key in states} | {
            ("fetch", -1): "failed",
            ("report", -1): "success",
        }
        assert world.snapshot(c.values()) == before

        after, state = world.poll()
        assert state == "success", world.describe(after)
        found = world.snapshot(c.values())
        assert found.status[c["missing"].campaign_id][:4] == ("A1", 2, 2, False)
        assert found.status[c["empty"].campaign_id][:6] == ("A1", 2, 0, False, None, True)
        assert found.dam[c["late"].campaign_id] == ("A2", sorted(ASSETS.items()))
        tally.audit(
            found,
            [first, down, after],
            expected(
                polls={campaign: [first, after] for campaign in c.values()},
                emails=emails_after(c, 2),
                assets={c["late"]: ASSETS},
            ),
        )
        assert tally.losses == 0, tally


def test_box_timing_out_for_a_third_of_the_campaigns_gives_no_strike(world, uid):
    """Two campaigns of six get no answer from Box: one for a task try, one for the whole poll."""
    c = campaigns(
        uid,
        ready=ASSETS,
        empty="empty",
        missing="no_master_assets",
        locked="forbidden",
        slow="empty",
        stuck="no_master_assets",
    )
    per_campaign = {"campaigns_per_task": 1}
    with world.scenario("Box timing out for a third of the campaigns", c.values()) as tally:
        # boxsdk tries a request three times before the task fails; the task tries four times.
        world.box_hangs(c["slow"].box_folder_id, 3)
        world.box_hangs(c["stuck"].box_folder_id, 100)
        tally.faults += 2
        first = world.trigger(**per_campaign)
        assert world.finished(first) == "failed"
        world.heal()
        checks = [ti for (task, _), ti in world.instances(first).items() if task == "check"]
        (slow,) = [ti for ti in checks if c["slow"].name in ti.rendered_map_index]
        (stuck,) = [ti for ti in checks if c["stuck"].name in ti.rendered_map_index]
        assert (slow.state.value, slow.try_number) == ("success", 2)
        assert (stuck.state.value, stuck.try_number) == ("failed", 4)
        report = world.instances(first)[("report", -1)]
        assert report.state.value == "failed"
        found = world.snapshot(c.values())
        assert found.polls[c["stuck"].campaign_id] == []
        assert found.status[c["stuck"].campaign_id][:4] == ("A1", 0, 0, False)
        assert found.status[c["slow"].campaign_id][:4] == ("A1", 1, 0, False)

        second, state = world.poll(**per_campaign)
        assert state == "success", world.describe(second)
        found = world.snapshot(c.values())
        # The stuck campaign's genuine error is its first strike: the timeouts gave none.
        assert found.status[c["stuck"].campaign_id][:4] == ("A1", 1, 1, False)
        assert found.status[c["missing"].campaign_id][:4] == ("A1", 2, 2, False)
        everyone_else = [role for role in c if role not in ("ready", "stuck")]
        tally.audit(
            found,
            [first, second],
            expected(
                polls={c["ready"]: [first], c["stuck"]: [second]}
                | {c[role]: [first, second] for role in everyone_else},
                emails=[
                    email(c["empty"], "warning"),
                    email(c["slow"], "warning"),
                    email(c["missing"], "retry", 1),
                    email(c["missing"], "retry", 2),
                    email(c["locked"], "retry", 1),
                    email(c["locked"], "retry", 2),
                    email(c["stuck"], "retry", 1),
                ],
                assets={c["ready"]: ASSETS},
            ),
        )
        assert tally.losses == 0, tally


def test_smtp_server_down_for_two_polls_delivers_each_email_once_late(world, uid):
    c = campaigns(uid, empty="empty", missing="no_master_assets", ready=ASSETS)
    with world.scenario("SMTP server down for two polls", c.values()) as tally:
        world.mail.stop()
        tally.faults += 1
        # The first poll's retry email fails all four tries: the run fails.
        first, state = world.poll()
        assert state == "failed"
        assert world.states(first)[("retry", 0)] == "failed"
        # The second poll's emails fail until the server is back, then their retries send them.
        second = world.trigger()
        world.retried(second, "retry")
        assert world.snapshot(c.values()).emails == {}
        world.mail.start()
        assert world.finished(second) == "success", world.describe(second)

        world.clear_failed(first)
        assert world.finished(first) == "success", world.describe(first)
        found = world.snapshot(c.values())
        assert all(sent for rows in found.notifications.values() for *_, sent in rows)
        tally.audit(
            found,
            [first, second],
            expected(
                polls={
                    c["ready"]: [first],
                    c["empty"]: [first, second],
                    c["missing"]: [first, second],
                },
                emails=emails_after(c, 2),
                assets={c["ready"]: ASSETS},
            ),
        )
        assert tally.losses == 0, tally
