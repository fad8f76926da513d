"""a2_arrivals: an example of a DAG scheduled on the promotions of a1_to_a2 (the Asset
``campaigns/a2``); it logs and returns every campaign promoted since its last run."""

from __future__ import annotations

from airflow.sdk import dag, task

from campaigns.promotion_events import PROMOTED_TO_A2

DOC = """
### Campaigns arrived at A2 (example)

Runs when `a1_to_a2` has promoted campaigns: each promotion is one event of the Asset
`campaigns/a2` whose extra holds the campaign (`campaign_id`, `number`, `name`), the `run_id`
that promoted it and its `assets` (`name`, `size`, `sha1`, `box_file_id`, `dam_asset_id`,
`dam_job_id`). The task logs each one and returns them. Paused until you unpause it; copy it
as the start of your own.
"""


@dag(
    dag_id="a2_arrivals",
    schedule=[PROMOTED_TO_A2],
    catchup=False,
    tags=["campaigns", "example"],
    doc_md=DOC,
)
def a2_arrivals():
    @task
    def arrivals(triggering_asset_events=None) -> list[dict]:
        """Each campaign promoted by the events that triggered this run, as its event says."""
        import logging

        log = logging.getLogger(__name__)
        promoted = [event.extra for event in triggering_asset_events[PROMOTED_TO_A2]]
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
