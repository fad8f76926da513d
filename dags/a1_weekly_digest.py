"""a1_weekly_digest: one email a week about the campaigns stuck at A1 and the failed ones."""

from __future__ import annotations

from airflow.sdk import Param, dag, task

DOC = """
### Weekly digest of stuck campaigns

Mondays at 07:00 (UTC): one email to the pipeline's recipients (Variable `a1_to_a2_settings`,
`recipients` and `sender`) listing

- the campaigns at A1 without master assets for more than **Days at A1** days (default 7),
  with how long since the pipeline first saw them at A1;
- every permanently failed campaign, with how long since it failed and why.

When there is nothing to report no email is sent (the task says so in its log).
Trigger it by hand (the play button) to get the digest now, with another number of days.
Clearing the task sends the email again.
"""


@dag(
    dag_id="a1_weekly_digest",
    schedule="0 7 * * 1",
    catchup=False,
    max_active_runs=1,
    tags=["campaigns", "digest"],
    doc_md=DOC,
    params={
        "stuck_days": Param(
            7,
            type="integer",
            minimum=1,
            title="Days at A1",
            description="List the campaigns waiting at A1 for more than this many days.",
        )
    },
)
def a1_weekly_digest():
    @task
    def collect(params=None) -> dict:
        """The campaigns waiting too long at A1 and the permanently failed ones."""
        from campaigns.digest import stuck_report
        from campaigns.hooks.retry_state import RetryStateHook

        return stuck_report(RetryStateHook(), params["stuck_days"])

    @task
    def send(report: dict, params=None) -> bool:
        """Email the digest, unless there is nothing to report."""
        from campaigns.digest import send_digest
        from campaigns.stages import run_settings

        settings = run_settings(None)
        return send_digest(report, params["stuck_days"], settings.recipients, settings.sender)

    send(collect())


a1_weekly_digest()
