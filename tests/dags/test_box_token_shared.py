"""a1_to_a2's Box tasks share one access token, kept in an Airflow Variable, across runs."""

from __future__ import annotations

from tests.dags.world import Campaign, task_states

TOKEN_ROUTE = "POST /oauth2/token"


def test_every_box_task_of_every_run_shares_one_token(make_world, uid):
    empty = [Campaign(f"{uid}-empty-{n}") for n in range(3)]
    ready = Campaign(f"{uid}-ready", folder="assets", assets={"a.jpg": 100})
    world = make_world([*empty, ready], campaigns_per_task=1, settle_minutes=0)

    first = world.run()
    second = world.run()

    assert [str(run.state) for run in (first, second)] == ["success", "success"]
    states = task_states(first)
    assert len(states["check"]) == 4 and states["reset"] == {0: "success"}
    assert world.box.counters()[TOKEN_ROUTE] == 1
