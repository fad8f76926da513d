"""Registers the campaigns page (``campaigns.page``) with Airflow: its app and its menu entry."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/campaigns"


class CampaignsPagePlugin(AirflowPlugin):
    """The campaigns at A1 with their retry state, under "Campaigns" in the UI's navigation."""

    name = "campaigns_page"
    # Relative to the UI's <base href>, so it follows [api] base_url; shown in an iframe.
    external_views = [  # noqa: RUF012 (the attribute AirflowPlugin reads)
        {
            "name": "Campaigns",
            "href": f"{URL_PREFIX.lstrip('/')}/",
            "destination": "nav",
            "url_route": "campaigns",
        }
    ]

    @cached_property
    def fastapi_apps(self) -> list[dict[str, Any]]:
        """The page's app, built only where Airflow asks for it: in the API server."""
        from campaigns.page.app import create_app

        return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Campaigns page"}]
