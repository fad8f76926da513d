"""a1_to_a2: move campaigns from DAM status A1 to A2 once their Box master assets arrive."""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Param, TaskGroup, dag, task
from airflow.sdk.definitions.retry_policy import ExceptionRetryPolicy, RetryAction, RetryRule
from airflow.sdk.exceptions import AirflowSkipException

from campaigns.operators.actions import ACTION_OPERATORS
from campaigns.rules import EMPTY_BACKOFF_MAX_POLLS, POLL_MINUTES
from campaigns.settings import BOX_TASKS_AT_ONCE, MAX_RECONCILE_HOURS, MIN_RECONCILE_HOURS
from campaigns.settle import SETTLE_MINUTES
from campaigns.watch import RECONCILE_HOURS, WATCH_MODES

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


def _setting(default_text: str, title: str, kind: str, **schema) -> Param:
    return Param(None, type=["null", kind], title=title, description=default_text, **schema)


PARAMS = {
    "warning_threshold": _setting(
        "Empty polls before the one-time warning. Empty: the Variable's value, or 20.",
        "Warning threshold",
        "integer",
        minimum=1,
    ),
    "max_consecutive_errors": _setting(
        "Genuine folder errors in a row that fail a campaign. Empty: the Variable's, or 3.",
        "Consecutive-error limit",
        "integer",
        minimum=1,
    ),
    "master_assets_folder_names": _setting(
        "Names of the assets folder in a campaign folder, as people read them (any case, "
        "space or accent form). Default: Master Assets.",
        "Master Assets folder names",
        "array",
        items={"type": "string"},
    ),
    "max_campaigns_per_run": _setting(
        "At most this many campaigns per run (least recently polled first). Empty: no cap.",
        "Campaigns per run",
        "integer",
        minimum=1,
    ),
    "campaigns_per_task": _setting(
        "Campaigns per mapped task instance. Empty: one each up to 32 campaigns, then 32 "
        "even batches.",
        "Campaigns per task",
        "integer",
        minimum=1,
    ),
    "recipients": _setting(
        "Who receives the warning, retry and failure emails.",
        "Recipients",
        "array",
        items={"type": "string"},
    ),
    "sender": _setting(
        "From address of the emails. Empty: the Variable's, or the SMTP connection's.",
        "Sender",
        "string",
    ),
    "box_concurrency": _setting(
        "Box folders checked at once within a task. Default 8.",
        "Box concurrency",
        "integer",
        minimum=1,
    ),
    "box_requests_per_minute": _setting(
        "Ceiling on Box requests a minute, shared by every task and run. Default 900.",
        "Box request rate",
        "integer",
        minimum=1,
    ),
    "empty_backoff_after_warning": _setting(
        "Once warned, check a campaign whose folder is still empty only every 2, 4, 8, ... polls "
        "(not counted in between). Empty: the Variable's value, or off.",
        "Back off after the warning",
        "boolean",
    ),
    "empty_backoff_max_polls": _setting(
        f"The longest wait of the backoff, in polls of {POLL_MINUTES} minutes. Empty: the "
        f"Variable's value, or {EMPTY_BACKOFF_MAX_POLLS}.",
        "Backoff cap (polls)",
        "integer",
        minimum=1,
    ),
    "auto_reset_failed_after_days": _setting(
        "Reset campaigns permanently failed this many days ago or longer, at each poll, with an "
        "audit row. Empty: the Variable's value, or never.",
        "Auto-reset failed after (days)",
        "integer",
        minimum=1,
    ),
    "webhook_conn_id": _setting(
        "HTTP connection to POST each warn, retry, fail and reset event to, as JSON, once. "
        "Empty: the Variable's value, or no webhook.",
        "Webhook connection",
        "string",
    ),
    "settle_minutes": _setting(
        "Promote only once the Master Assets files have not changed for this many minutes "
        f"(uploads land one file at a time). 0: at once. Empty: the Variable's, or "
        f"{SETTLE_MINUTES}.",
        "Settle minutes",
        "integer",
        minimum=0,
    ),
    "ready_marker": _setting(
        "A file name that, once in Master Assets, promotes at once (the file itself is not "
        "imported). Empty: the Variable's value, or none.",
        "Ready marker",
        "string",
    ),
    "box_watch": _setting(
        "events: list in Box only the campaigns whose folders Box's change feed says changed "
        "(plus new, settling, erroring and reconciled ones); list: every campaign every poll. "
        "Empty: the Variable's, or events.",
        "Box watch",
        "string",
        enum=[None, *WATCH_MODES],
    ),
    "reconcile_hours": _setting(
        "In events mode, list every campaign in full at least this often (spread over the "
        f"polls), to catch what the feed missed. Empty: the Variable's, or {RECONCILE_HOURS}.",
        "Reconcile every (hours)",
        "number",
        minimum=MIN_RECONCILE_HOURS,
        maximum=MAX_RECONCILE_HOURS,
    ),
}


@dag(
    dag_id="a1_to_a2",
    schedule=f"*/{POLL_MINUTES} * * * *",
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=timedelta(minutes=60),
    tags=["campaigns", "dam", "box"],
    doc_md=DOC,
    params=PARAMS,
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
        from campaigns.stages import run_settings, select_campaigns

        settings = run_settings(params)
        to_check, watch = select_campaigns(
            fetched["campaigns"], settings, run_id, dag_run.run_after
        )
        ti.xcom_push(key="watch", value=watch)
        return to_check

    @task(
        map_index_template="{{ campaigns_in_batch }}", max_active_tis_per_dagrun=BOX_TASKS_AT_ONCE
    )
    def check(batch: list, params=None, dag_run=None) -> list:
        """Look at the Master Assets folder of this batch's campaigns in Box, as of the run."""
        from airflow.sdk import get_current_context

        from campaigns.operators.actions import batch_label
        from campaigns.stages import check_campaigns, run_settings

        get_current_context()["campaigns_in_batch"] = batch_label(batch)
        return check_campaigns(batch, run_settings(params), dag_run.run_after)

    @task(trigger_rule="all_done_min_one_success", multiple_outputs=False)
    def decide(checked: list, watch: dict, run_id=None, params=None, dag_run=None) -> dict:
        """Record each campaign's poll once and group the campaigns by action."""
        from campaigns.stages import decide_actions, run_settings

        results = [campaign for batch in checked if batch for campaign in batch]
        return decide_actions(results, watch, run_id, run_settings(params), dag_run.run_after)

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
                """The batches of campaigns the decision sent to this action; none: skipped."""
                if not decisions[action]:
                    raise AirflowSkipException(f"No campaign for {action} in this poll")
                return decisions[action]

            limits = {"max_active_tis_per_dagrun": BOX_TASKS_AT_ONCE} if action == "reset" else {}
            operator.partial(task_id=action, **limits).expand(campaigns=campaigns_for(decided))


a1_to_a2()
