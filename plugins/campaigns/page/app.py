"""The campaigns page's FastAPI app, mounted by Airflow's API server; every route needs a login.

Airflow does not authenticate a plugin's app by itself: each route depends on Airflow's own
``requires_access_dag``, which reads the caller's JWT (the Authorization header, or the ``_token``
cookie of a browser signed in to the Airflow UI) and answers 401 without one. The reset button
triggers ``a1_campaign_admin`` from the browser through Airflow's REST API, as the signed-in user.
"""

# No `from __future__ import annotations`: FastAPI reads the routes' annotations, which name
# what create_app imports, so they must be evaluated where the routes are defined.
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from campaigns.admin import RESET_CAMPAIGN
from campaigns.hooks.retry_state import RetryStateHook
from campaigns.page.overview import campaigns_overview
from campaigns.stages import run_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

PIPELINE_DAG_ID = "a1_to_a2"
ADMIN_DAG_ID = "a1_campaign_admin"
STATIC = Path(__file__).with_name("static")
# Names come from the DAM: no script but the page's own may run, whatever a name holds.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
}


def create_app() -> "FastAPI":
    """The page (``/``), its script and its data (``/api/campaigns``)."""
    # Imported here: Airflow's plugin loader runs every file under plugins/ in every process,
    # each task's included, and these modules belong to the API server.
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import GetUserDep, requires_access_dag
    from fastapi import Depends, FastAPI, HTTPException, Query, Request
    from fastapi.responses import FileResponse

    may_read = requires_access_dag("GET", param_dag_id=PIPELINE_DAG_ID)
    may_reset = requires_access_dag("POST", DagAccessEntity.RUN, param_dag_id=ADMIN_DAG_ID)
    app = FastAPI(
        title="Campaigns at A1",
        dependencies=[Depends(may_read)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    def static(name: str, media_type: str) -> FileResponse:
        return FileResponse(STATIC / name, media_type=media_type, headers=SECURITY_HEADERS)

    @app.get("/")
    def page() -> FileResponse:
        """The page; it loads its data from ``api/campaigns``."""
        return static("campaigns.html", "text/html")

    @app.get("/campaigns.js")
    def script() -> FileResponse:
        """The page's script."""
        return static("campaigns.js", "text/javascript")

    @app.get("/api/campaigns")
    def campaigns(
        request: Request,
        user: GetUserDep,
        failed: Annotated[bool, Query(description="Only permanently failed campaigns")] = False,
        warned: Annotated[bool, Query(description="Only campaigns warned about")] = False,
        search: Annotated[str | None, Query(description="Text in DAM id, number or name")] = None,
    ) -> dict[str, Any]:
        """The page's data; ``reset.allowed``: whether this user may trigger the admin DAG."""
        try:
            may_reset(request, user)
            allowed = True
        except HTTPException:
            allowed = False
        overview = campaigns_overview(
            RetryStateHook(),
            run_settings(None).max_consecutive_errors,
            failed=failed,
            warned=warned,
            search=search,
        )
        reset = {"dag_id": ADMIN_DAG_ID, "action": RESET_CAMPAIGN, "allowed": allowed}
        return {"user": user.get_name(), "reset": reset, **overview}

    return app
