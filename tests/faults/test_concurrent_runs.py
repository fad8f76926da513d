"""A manual run triggered while the scheduled one is going: it waits its turn, nothing counts twice.

This world runs the scheduler with its cron on (the other scenarios trigger every run), so it is
an Airflow of its own; the file sorts first, so that it is done before the shared world starts.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from airflow_client.client.api.dag_run_api import DagRunApi

from tests.faults.tally import expected
from tests.faults.world import DAG_ID, FINISHED, campaigns, emails_after, running_world

pytestmark = pytest.mark.slow

ASSETS = {"kv.psd": 10_000}
# Scheduler loops, at a second each, during which the manual run must stay queued.
QUEUED_FOR_S = 5


def test_manual_run_during_the_scheduled_one_waits_its_turn(tallies, uid):
    c = campaigns(uid, empty="empty", missing="no_master_assets", ready=ASSETS)
    with (
        running_world(tallies, paused=True, AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE="True") as world,
        world.scenario("manual run during the scheduled one", c.values()) as tally,
    ):
        dag_runs = DagRunApi(world.api)

        def runs() -> dict[str, Any]:
            return {run.dag_run_id: run for run in dag_runs.get_dag_runs(DAG_ID).dag_runs}

        with world.tracking.writes_held("campaign_polls"):
            world.unpause()
            world.waits_to_write("campaign_polls")
            (scheduled,) = runs().values()
            assert scheduled.run_type.value == "scheduled"
            manual = world.trigger()
            tally.faults += 1
            deadline = time.monotonic() + QUEUED_FOR_S
            while time.monotonic() < deadline:
                assert world.run_state(manual) == "queued"  # max_active_runs=1
                time.sleep(1)
        assert world.finished(scheduled.dag_run_id) == "success"
        assert world.finished(manual) == "success", world.describe(manual)
        manual_started = dag_runs.get_dag_run(DAG_ID, manual).start_date
        assert manual_started >= dag_runs.get_dag_run(DAG_ID, scheduled.dag_run_id).end_date

        # The cron may have queued its next run meanwhile: that one polls too, then we count.
        world.retire(c.values())
        for run_id, run in runs().items():
            if run.state.value not in FINISHED:
                world.finished(run_id)
        found = world.snapshot(c.values())
        ran = runs()
        extra = {poll[0] for polls in found.polls.values() for poll in polls} - {
            scheduled.dag_run_id,
            manual,
        }
        assert {ran[run_id].run_type.value for run_id in extra} <= {"scheduled"}
        polled = sorted(
            [scheduled.dag_run_id, manual, *extra], key=lambda run_id: ran[run_id].start_date
        )
        assert found.dam[c["ready"].campaign_id] == ("A2", sorted(ASSETS.items()))
        tally.audit(
            found,
            polled,
            expected(
                polls={c["ready"]: polled[:1], c["empty"]: polled, c["missing"]: polled},
                emails=emails_after(c, len(polled)),
                assets={c["ready"]: ASSETS},
            ),
        )
        assert tally.losses == 0, tally
