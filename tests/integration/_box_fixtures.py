"""Box sandbox fixtures: a running server per test and the Airflow connection pointing at it."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping

import pytest
import requests

from sandbox.box.app import create_app
from sandbox.box.fixture import CLIENT_ID, CLIENT_SECRET, ENTERPRISE_ID, box_fixture
from sandbox.connections import box_connection
from sandbox.server import run_in_thread

ITEMS_ROUTE = "GET /2.0/folders/{folder_id}/items"
TOKEN_ROUTE = "POST /oauth2/token"


class BoxSandbox:
    """A running Box sandbox and its control API."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()

    def control(self, method: str, path: str, **kwargs: object) -> requests.Response:
        response = self.http.request(method, f"{self.url}/_sandbox/{path}", timeout=10, **kwargs)
        response.raise_for_status()
        return response

    def counters(self) -> dict[str, int]:
        return self.control("GET", "counters").json()

    def reset_counters(self) -> None:
        self.control("POST", "counters/reset")

    def fault(self, route: str, statuses: tuple[int, ...] = (), **script: object) -> None:
        self.control("POST", "faults", json={"route": route, "statuses": list(statuses), **script})

    def token(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "box_subject_type": "enterprise",
            "box_subject_id": ENTERPRISE_ID,
        }
        return self.http.post(f"{self.url}/oauth2/token", data=form, timeout=10).json()[
            "access_token"
        ]


@pytest.fixture(name="start_box")
def start_box_fixture(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., BoxSandbox]]:
    """Start a Box sandbox holding `parts` and point connection `box_default` at it."""
    running = []

    def start(
        *parts: Mapping, box: Mapping | None = None, password: str = CLIENT_SECRET, **extras: object
    ) -> BoxSandbox:
        server = run_in_thread(create_app({"box": box or box_fixture(*parts)}))
        running.append(server)
        connection = box_connection(server.url, **extras)
        connection["password"] = password
        monkeypatch.setenv("AIRFLOW_CONN_BOX_DEFAULT", json.dumps(connection))
        return BoxSandbox(server.url)

    yield start
    for server in running:
        server.stop()
