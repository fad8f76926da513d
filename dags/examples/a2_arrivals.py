"""a2_arrivals: an example of a DAG scheduled on the promotions of a1_to_a2 (the Asset
``campaigns/a2``); it logs and returns each campaign promoted, once."""

from __future__ import annotations

from airflow.sdk import dag, task

from campaigns.promotion_events import PROMOTED_TO_A2

DOC = """
### Campaigns arrived at A2 (example)

Runs when `a1_to_a2` has promoted campaigns: each promotion is one event of the Asset
`campaigns/a2` whose extra holds the campaign (`campaign_id`, `number`, `name`), the `run_id`
that promoted it and its `assets` (`name`, `size`, `sha1`, `box_file_id`, `dam_asset_id`,
`dam_job_id`). The task logs each one and returns them; nothing else. New DAGs start paused
unless your Airflow says otherwise (the demo's does); copy it as the start of your own.

Read the events with `campaigns.promotion_events.arrivals`, not from `triggering_asset_events`
alone: Airflow 3.3.2 hands a run only the first of the events one `reset` instance registers
together (the others come with the next run); `arrivals` reads the rest, and skips them there.
"""


@dag(
    dag_id="a2_arrivals",
    schedule=[PROMOTED_TO_A2],
    catchup=False,
    tags=["campaigns", "example"],
    doc_md=DOC,
)
def a2_arrivals():
    @task(inlets=[PROMOTED_TO_A2])
    def arrivals(triggering_asset_events=None, inlet_events=None) -> list[dict]:
        """Each campaign promoted by the events this run owns, as its event says."""
        import logging

        from campaigns.promotion_events import arrivals

        log = logging.getLogger(__name__)
        promoted = arrivals(
            triggering_asset_events[PROMOTED_TO_A2],
            lambda since: inlet_events[PROMOTED_TO_A2].after(since),
        )
        for campaign in promoted:
            log.info(
                "%s %s arrived at A2 (run %s) with %d assets",
                campaign["number"],
                campaign["name"],
                campaign["run_id"],
                len(campaign["assets"]),
            )
        return promoted

    arrivals()


a2_arrivals()
