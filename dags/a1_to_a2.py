"""a1_to_a2: move campaigns from DAM status A1 to A2 once their Box master assets arrive."""

from __future__ import annotations

import os
from datetime import timedelta

from airflow.sdk import DeadlineAlert, Param, SyncCallback, TaskGroup, dag, task
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule
from airflow.sdk.exceptions import AirflowSkipException

from campaigns.operators.actions import ACTION_OPERATORS
from campaigns.poll_deadline import PollDeadline
from campaigns.promotion_events import PROMOTED_TO_A2, PROMOTIONS
from campaigns.rules import POLL_MINUTES
from campaigns.settings import BOX_TASKS_AT_ONCE, trigger_form

DOC = """
### Campaigns from A1 to A2

Every 3 minutes: **fetch** the campaigns at A1 from the DAM, **select** those not permanently
failed and read Box's change feed to pick those to list (new, settling, erroring, changed or due
for their daily reconciliation; then the per-run cap, if set), **check** their Box *Master
Assets* folders (one mapped instance per campaign, or 32 even batches beyond 32 campaigns),
**decide** and record the poll once per campaign and run (a campaign whose empty folder did not
change keeps its outcome, without a Box call). Then each action runs over the campaigns sent to
it (a group in the grid: `to_<action>` picks them, the action is mapped over them); an action no
campaign took shows as skipped.

| action | when | effect |
| --- | --- | --- |
| skip | folder empty, or files still arriving (*settling*) | counts the poll, sends nothing |
| warn | empty once the poll count reaches the threshold (20) | one warning email per episode |
| retry | a genuine folder error (missing, no access) | "attempt X/3" email |
| fail | the 3rd genuine error in a row | permanently failed, final email |
| reset | assets present, settled | import, move to A2, clear the state (DAM lock held: next poll) |

**Clearing tasks is safe**: a poll is counted once per campaign and run, each email is sent
once (notification ledger), each asset imported once (asset ledger).
A Box or DAM outage fails the task for a retry and never counts against a campaign.
A run still going after `poll_deadline_minutes` emails the recipients once.
Each promotion is one event of the Asset `campaigns/a2` (the DAG `a2_arrivals` shows how to
schedule on it), emitted once however often `reset` is retried or cleared.

Settings: the Variable `a1_to_a2_settings` (JSON), overridden per run by this form's params.
Reset a permanently failed campaign with the DAG `a1_campaign_admin`.

Optional, off by default: **backoff** (a warned campaign still empty is checked every 2, 4, 8, ...
polls up to a cap), **auto-reset** of campaigns permanently failed N days ago (audited in
`manual_operations`), and a **webhook** (each warn, retry, fail and reset also POSTed as JSON,
once, through an HTTP connection).
"""

# Passing outages retry; a bug or bad configuration fails at once instead of retrying in vain.
RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(exception="campaigns.errors.TransientError", action=RetryAction.RETRY),
        RetryRule(exception="campaigns.settings.SettingsError", action=RetryAction.FAIL),
        RetryRule(exception="campaigns.errors.NotRetryable", action=RetryAction.FAIL),
    ]
)


# The settings' form fields, declared in campaigns.settings: empty keeps the Variable's value.
PARAMS = {key: Param(None, **field) for key, field in trigger_form().items()}

# A run still going past its poll_deadline_minutes (a per-run setting, so the reference holds it
# and the interval is zero) emails the recipients once, from the executor.
POLL_DEADLINE = DeadlineAlert(
    reference=PollDeadline(),
    interval=timedelta(0),
    callback=SyncCallback("campaigns.poll_deadline.alert_overdue_poll"),
    name="poll overdue",
)
# `airflow dags test` (dag.test()) of Airflow 3.3.2 cannot finish a successful run of a DAG with a
# deadline alert (apache/airflow#73428) and handles no deadlines anyway: bin/demo --quick turns
# the alert off for it.
WITH_POLL_DEADLINE = os.environ.get("A1_TO_A2_POLL_DEADLINE_ALERT") != "off"


@dag(
    dag_id="a1_to_a2",
    schedule=f"*/{POLL_MINUTES} * * * *",
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=60),
    tags=["campaigns", "dam", "box"],
    doc_md=DOC,
    params=PARAMS,
    deadline=POLL_DEADLINE if WITH_POLL_DEADLINE else None,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(seconds=20),
        "retry_exponential_backoff": True,
        "max_retry_delay": timedelta(minutes=5),
        "retry_policy": RETRY_POLICY,
    },
)
def a1_to_a2():
    @task(multiple_outputs=False)
    def fetch(params=None) -> dict:
        """Fetch the A1 campaigns from the DAM and record them."""
        from campaigns.stages import fetch_campaigns, run_settings

        run_settings(params)
        return fetch_campaigns()

    @task
    def select(fetched: dict, params=None, run_id=None, dag_run=None, ti=None) -> list:
        """Leave out failed and backing-off campaigns, pick those to list in Box, apply the cap;
        batches to check (XCom ``watch``: the campaigns decided unchanged, the feed's read)."""
        from campaigns.stages import refer, run_settings, select_campaigns

        settings = run_settings(params)
        to_check, watch = select_campaigns(
            fetched["campaigns"], settings, run_id, dag_run.run_after
        )
        ti.xcom_push(key="watch", value=watch)
        return refer("to check", to_check, ti.xcom_push)

    @task(
        map_index_template="{{ campaigns_in_batch }}", max_active_tis_per_dagrun=BOX_TASKS_AT_ONCE
    )
    def check(batch: dict, params=None, dag_run=None, ti=None) -> list:
        """Look at the Master Assets folder of this batch's campaigns in Box, as of the run."""
        from airflow.sdk import get_current_context

        from campaigns.stages import check_campaigns, pull_batch, run_settings

        get_current_context()["campaigns_in_batch"] = batch["label"]
        campaigns = pull_batch(batch, "select", ti)
        return check_campaigns(campaigns, run_settings(params), dag_run.run_after)

    @task(trigger_rule="all_done_min_one_success", multiple_outputs=False)
    def decide(checked: list, watch: dict, run_id=None, params=None, dag_run=None, ti=None) -> dict:
        """Record each campaign's poll once and group the campaigns by action."""
        from campaigns.stages import decide_actions, refer, run_settings

        results = [campaign for batch in checked if batch for campaign in batch]
        decided = decide_actions(results, watch, run_id, run_settings(params), dag_run.run_after)
        return {action: refer(action, batches, ti.xcom_push) for action, batches in decided.items()}

    @task(trigger_rule="all_done")
    def report(selected: list | None, decided: dict | None) -> dict:
        """Count the campaigns per action; fail the run if any selected campaign went unchecked."""
        from campaigns.stages import poll_report

        return poll_report(selected or [], decided or {})

    selected = select(fetch())
    decided = decide(check.expand(batch=selected), selected["watch"])
    report(selected, decided)

    # One group per action, shown as the action's row of the grid: its routing task and the
    # action keep their task ids. The ids sort between decide and report, so that the grid
    # (topological order, ties by id) reads fetch, select, check, decide, the actions, report.
    for action, operator in ACTION_OPERATORS.items():
        with TaskGroup(f"handle_{action}", group_display_name=action, prefix_group_id=False):

            @task(task_id=f"to_{action}")
            def campaigns_for(decisions: dict, action: str = action) -> list:
                """The batches of campaigns the decision sent to this action (references); none:
                skipped."""
                if not decisions[action]:
                    raise AirflowSkipException(f"No campaign for {action} in this poll")
                return decisions[action]

            # reset reads this run's promotion events, and adds one per campaign promoted.
            limits = (
                {
                    "max_active_tis_per_dagrun": BOX_TASKS_AT_ONCE,
                    "inlets": [PROMOTED_TO_A2],
                    "outlets": [PROMOTIONS],
                }
                if action == "reset"
                else {}
            )
            operator.partial(task_id=action, batches_from="decide", **limits).expand(
                batch=campaigns_for(decided)
            )


a1_to_a2()
