"""The DAM sandbox's own contract, where DamHook does not reach: refusals and error bodies."""

from __future__ import annotations

import json

import pytest
import requests
from _dam_fixtures import start_dam_server

from sandbox.dam.fixture import PASSWORD, STATUS_FIELD, USER, campaign, dam


@pytest.fixture(scope="module")
def sandbox():
    running = start_dam_server(dam([campaign("c1"), campaign("c2", locked_by="jane.doe")]))
    yield running
    running.stop()


@pytest.fixture
def api(sandbox) -> requests.Session:
    """A session signed in to the sandbox, as the DAM's own clients do it."""
    session = requests.Session()
    signed_in = session.post(
        f"{sandbox.url}/otmmapi/v6/sessions", data={"username": USER, "password": PASSWORD}
    )
    session.headers["X-Requested-By"] = str(signed_in.json()["session_resource"]["session"]["id"])
    yield session
    session.close()


def _exception_body(response: requests.Response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()["exception_body"]
    assert body["http_response_code"] == status
    assert body["message"]
    return body


def _status_edit(status: str) -> dict:
    value = {"value": {"type": "string", "value": status}}
    return {"edited_folder": {"data": {"metadata": [{"id": STATUS_FIELD, "value": value}]}}}


def test_calls_without_x_requested_by_are_refused(sandbox, api):
    del api.headers["X-Requested-By"]

    _exception_body(api.get(f"{sandbox.url}/otmmapi/v6/folders/c1"), 401)


def test_unknown_api_version_and_route_answer_exception_bodies(sandbox, api):
    _exception_body(api.get(f"{sandbox.url}/otmmapi/v3/folders/c1"), 404)
    _exception_body(api.get(f"{sandbox.url}/otmmapi/v6/nothing/here"), 404)


def test_wrong_password_and_wrong_oauth2_client_are_refused(sandbox):
    url = f"{sandbox.url}/otmmapi/v6/sessions"
    _exception_body(requests.post(url, data={"username": USER, "password": "no"}), 401)
    form = {"grant_type": "password", "username": USER, "password": PASSWORD}
    refused = requests.post(
        f"{url}/oauth2/token", data={**form, "client_id": "a1-to-a2", "client_secret": "no"}
    )
    _exception_body(refused, 401)


def test_unsupported_search_condition_is_a_bad_request(sandbox, api):
    condition = {
        "type": "com.artesia.search.SearchScalarCondition",
        "metadata_field_id": STATUS_FIELD,
        "relational_operator_id": "ARTESIA.OPERATOR.CHAR.CONTAINS",
        "value": "A",
    }
    search = {"search_condition_list": {"search_condition": [condition]}}
    answer = api.post(
        f"{sandbox.url}/otmmapi/v6/search/text",
        data={"search_condition_list": json.dumps(search)},
    )

    assert "Unsupported operator" in _exception_body(answer, 400)["message"]


def test_status_edits_need_this_users_lock(sandbox, api):
    unlocked = api.patch(f"{sandbox.url}/otmmapi/v6/folders/c1", json=_status_edit("A2"))
    locked_elsewhere = api.patch(f"{sandbox.url}/otmmapi/v6/folders/c2", json=_status_edit("A2"))

    assert "must be locked" in _exception_body(unlocked, 409)["message"]
    assert "locked by jane.doe" in _exception_body(locked_elsewhere, 423)["message"]
    assert sandbox.campaign("c1")["status"] == sandbox.campaign("c2")["status"] == "A1"


def test_import_needs_multipart_and_all_its_parts(sandbox, api):
    url = f"{sandbox.url}/otmmapi/v6/assets"
    _exception_body(api.post(url, data={"parent_folder_id": "c1"}), 400)
    without_file = api.post(url, files={"parent_folder_id": (None, "c1")})

    assert "lacks its files part" in _exception_body(without_file, 400)["message"]
