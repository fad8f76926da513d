"""a1_campaign_admin: the operators' manual operations on the campaigns' retry state."""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from campaigns.admin import ACTIONS, RESET_CAMPAIGN

DOC = """
### Campaign admin

Trigger this DAG (the play button) and fill in the form; one run is one operation.

| action | needs | effect |
| --- | --- | --- |
| reset campaign | campaign | clears its counts, warning and failure; checked at the next poll |
| reset all permanently failed campaigns | - | the same for every permanently failed one |
| set the campaign's retry limit | campaign, limit | its own limit of folder errors in a row |
| clear the campaign's retry limit | campaign | back to the global `max_consecutive_errors` (3) |

**Campaign**: its DAM id or its campaign number (e.g. `CMP-1004`), as the failure email names it.
An unknown (never seen at A1) or ambiguous campaign, or a missing field, fails the run with the
reason in the task's log, and nothing is changed or recorded.

Every run that changes something writes an audit row to `manual_operations` in the tracking
database (a reset in the same transaction): who triggered it, the action, the campaigns touched,
the form's values and the run id (query `include/sql/queries/manual_operations.sql`). Clearing
the task repeats the operation. Resets by `a1_to_a2` itself (setting
`auto_reset_failed_after_days`) are audited there too, by `a1_to_a2 auto-reset`.
"""

PARAMS = {
    "action": Param(
        RESET_CAMPAIGN,
        type="string",
        enum=list(ACTIONS),
        values_display=ACTIONS,
        title="Action",
        description="What to do. Only 'reset all permanently failed campaigns' needs no campaign.",
    ),
    "campaign": Param(
        None,
        type=["null", "string"],
        title="Campaign",
        description="The campaign's DAM id or campaign number (e.g. CMP-1004).",
    ),
    "max_retries": Param(
        None,
        type=["null", "integer"],
        minimum=1,
        title="Retry limit",
        description="For 'set the campaign's retry limit': genuine folder errors in a row that "
        "fail the campaign.",
    ),
}


@dag(
    dag_id="a1_campaign_admin",
    schedule=None,
    catchup=False,
    tags=["campaigns", "admin"],
    doc_md=DOC,
    params=PARAMS,
    default_args={"retries": 0},
)
def a1_campaign_admin():
    @task
    def administer(params=None, dag_run=None, run_id=None) -> dict:
        """Carry out the form's operation and write its audit row; refuse unknown campaigns."""
        from airflow.sdk.exceptions import AirflowFailException

        from campaigns import admin
        from campaigns.hooks.retry_state import RetryStateHook

        try:
            return admin.administer(
                RetryStateHook(),
                params["action"],
                params["campaign"],
                params["max_retries"],
                performed_by=dag_run.triggering_user_name or "unknown",
                run_id=run_id,
            )
        except admin.Refused as refused:
            raise AirflowFailException(f"Refused: {refused}") from None

    administer()


a1_campaign_admin()
