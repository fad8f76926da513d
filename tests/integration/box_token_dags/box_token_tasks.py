"""Two tasks, each a BoxHook of its own as every task has, listing a Master Assets folder."""

from __future__ import annotations

from airflow.sdk import DAG, task

from campaigns.hooks.box import BoxHook

CAMPAIGN = "123"
MASTER = "123-ma"


def _list_master_assets(clear: bool = False) -> None:
    hook = BoxHook()
    hook.check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)
    if clear:
        hook.client.auth.token_storage.clear()


with DAG("box_token_tasks", schedule=None, params={"clear": False}):

    @task
    def first() -> None:
        _list_master_assets()

    @task
    def second(params: dict | None = None) -> None:
        """Clears the token once done when the run's ``clear`` param says so."""
        _list_master_assets(clear=bool(params and params["clear"]))

    first() >> second()
