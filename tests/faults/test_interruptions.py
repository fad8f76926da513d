"""Interrupted inside a transaction, under ``decide`` and under ``reset``: the tracking database
restarts, or the task process is killed (SIGKILL). Airflow retries; nothing counts twice."""

from __future__ import annotations

import pytest

from tests.faults.tally import expected
from tests.faults.world import KILL, RESTART, campaigns, emails_after

pytestmark = pytest.mark.slow

ASSETS = {"a.psd": 3_000, "b.psd": 2_000, "c.psd": 1_000}


@pytest.mark.parametrize("how", [RESTART, KILL])
def test_interrupted_while_recording_polls_and_while_reset_imports(world, uid, how):
    """``decide`` is cut off inside its transaction; ``reset`` after the DAM took an asset and
    before the asset ledger recorded it."""
    c = campaigns(uid, empty="empty", missing="no_master_assets", ready=ASSETS)
    with world.scenario(how, c.values()) as tally:
        with world.tracking.writes_held("campaign_polls"):
            run = world.trigger()
            world.waits_to_write("campaign_polls")
            world.interrupt(run, "decide", how)
            tally.faults += 1
        with world.tracking.writes_held("campaign_assets"):
            world.waits_to_write("campaign_assets")
            imported = world.dam.control("GET", f"campaigns/{c['ready'].campaign_id}")["imported"]
            assert len(imported) == 1
            world.interrupt(run, "reset", how)
            tally.faults += 1
        assert world.finished(run) == "success", world.describe(run)
        instances = world.instances(run)
        assert instances[("decide", -1)].try_number == 2
        assert instances[("reset", 0)].try_number == 2
        found = world.snapshot(c.values())
        assert found.dam[c["ready"].campaign_id] == ("A2", sorted(ASSETS.items()))
        assert sorted(found.assets[c["ready"].campaign_id]) == sorted(ASSETS.items())
        assert found.status[c["empty"].campaign_id][:3] == ("A1", 1, 0)
        assert found.status[c["missing"].campaign_id][:3] == ("A1", 1, 1)
        tally.audit(
            found,
            [run],
            expected(
                polls={campaign: [run] for campaign in c.values()},
                emails=emails_after(c, 1),
                assets={c["ready"]: ASSETS},
            ),
        )
        assert tally.losses == 0, tally
