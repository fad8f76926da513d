"""The DAM sandbox's own contract, where DamHook does not reach: refusals and error bodies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from _dam_fixtures import DamSandbox, start_dam_server

from sandbox.dam.fixture import (
    DOMAIN_VALUE,
    MODEL_ID,
    OTDS_RESOURCE_ID,
    PASSWORD,
    STATUS_FIELD,
    USER,
    campaign,
    dam,
    with_variant,
)

REPO = Path(__file__).resolve().parents[2]
TEXT = {"type": "string", "value": "A2"}
LOOKUP = {"type": DOMAIN_VALUE, "field_value": {"type": "string", "value": "A2"}}


@pytest.fixture(scope="module")
def sandbox():
    running = start_dam_server(dam([campaign("c1"), campaign("c2", locked_by="jane.doe")]))
    yield running
    running.stop()


@pytest.fixture
def start():
    """Starts DAM sandboxes of a `dam(...)` part, stopped after the test."""
    started: list[DamSandbox] = []

    def start(dam_part: dict) -> DamSandbox:
        started.append(start_dam_server(dam_part))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def _signed_in(url: str) -> requests.Session:
    """A session signed in to the sandbox at `url`, as the DAM's own clients do it."""
    session = requests.Session()
    signed_in = session.post(
        f"{url}/otmmapi/v6/sessions", data={"username": USER, "password": PASSWORD}
    )
    session.headers["X-Requested-By"] = str(signed_in.json()["session_resource"]["session"]["id"])
    return session


@pytest.fixture
def api(sandbox) -> requests.Session:
    session = _signed_in(sandbox.url)
    yield session
    session.close()


def _exception_body(response: requests.Response, status: int) -> dict:
    assert response.status_code == status
    body = response.json()["exception_body"]
    assert body["http_response_code"] == status
    assert body["message"]
    return body


def _status_edit(value: dict) -> dict:
    edit = {"id": STATUS_FIELD, "value": {"value": value}}
    return {"edited_folder": {"data": {"metadata": [edit]}}}


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

    message = _exception_body(answer, 400)["message"]
    assert message == "Unsupported relational_operator_id ARTESIA.OPERATOR.CHAR.CONTAINS"


def test_status_edits_need_this_users_lock(sandbox, api):
    unlocked = api.patch(f"{sandbox.url}/otmmapi/v6/folders/c1", json=_status_edit(LOOKUP))
    locked_elsewhere = api.patch(f"{sandbox.url}/otmmapi/v6/folders/c2", json=_status_edit(LOOKUP))

    assert "must be locked" in _exception_body(unlocked, 409)["message"]
    assert "locked by jane.doe" in _exception_body(locked_elsewhere, 423)["message"]
    assert sandbox.campaign("c1")["status"] == sandbox.campaign("c2")["status"] == "A1"


def test_import_needs_multipart_and_all_its_parts(sandbox, api):
    url = f"{sandbox.url}/otmmapi/v6/assets"
    _exception_body(api.post(url, data={"parent_folder_id": "c1"}), 400)
    without_file = api.post(url, files={"parent_folder_id": (None, "c1")})

    assert "lacks its files part" in _exception_body(without_file, 400)["message"]


def test_there_is_no_sign_out_unless_the_site_has_one(start):
    strict, with_sign_out = start(dam()), start(dam(sign_out=True))
    kept, ended = _signed_in(strict.url), _signed_in(with_sign_out.url)

    refused = kept.delete(f"{strict.url}/otmmapi/v6/sessions")
    not_signed_in = requests.delete(f"{with_sign_out.url}/otmmapi/v6/sessions")
    signed_out = ended.delete(f"{with_sign_out.url}/otmmapi/v6/sessions")

    assert "no sign-out" in _exception_body(refused, 405)["message"]
    _exception_body(not_signed_in, 401)
    assert signed_out.status_code == 204
    assert (strict.open_sessions(), with_sign_out.open_sessions()) == (1, 0)


@pytest.mark.parametrize(
    ("status_kind", "reads", "refused", "takes"),
    [("lookup", DOMAIN_VALUE, TEXT, LOOKUP), ("text", "string", LOOKUP, TEXT)],
)
def test_a_status_field_takes_only_the_shape_it_reads(status_kind, reads, refused, takes, start):
    running = start(dam([campaign("c1")], status_kind=status_kind))
    api, folder = _signed_in(running.url), f"{running.url}/otmmapi/v6/folders/c1"
    read = api.get(folder).json()["folder_resource"]["folder"]["metadata"]
    (status,) = [
        field
        for group in read["metadata_element_list"]
        for field in group["metadata_element_list"]
        if field["id"] == STATUS_FIELD
    ]
    running.set_lock("c1", USER)

    wrong = api.patch(folder, json=_status_edit(refused))
    right = api.patch(folder, json=_status_edit(takes))

    assert status["value"]["value"]["type"] == reads
    assert f"Field {STATUS_FIELD} is a" in _exception_body(wrong, 400)["message"]
    assert right.status_code == 200
    assert running.campaign("c1")["status"] == "A2"


def test_a_lookup_value_without_its_field_value_is_refused(start):
    running = start(dam([campaign("c1", locked_by=USER)]))
    unreadable = {"type": DOMAIN_VALUE, "display_value": "A2"}

    answer = _signed_in(running.url).patch(
        f"{running.url}/otmmapi/v6/folders/c1", json=_status_edit(unreadable)
    )

    assert "Unreadable value of field" in _exception_body(answer, 400)["message"]


MANIFEST = {"upload_manifest": {"master_files": [{"file": {"file_name": "a.jpg"}}]}}


def _import(
    api: requests.Session, url: str, asset: dict, manifest: dict = MANIFEST, **fields: str
) -> requests.Response:
    parts = {
        "asset_representation": (None, json.dumps({"asset_resource": {"asset": asset}})),
        "parent_folder_id": (None, "c1"),
        "manifest": (None, json.dumps(manifest)),
        **{name: (None, value) for name, value in fields.items()},
        "files": ("a.jpg", b"jpeg", "image/jpeg"),
    }
    return api.post(f"{url}/otmmapi/v6/assets", files=parts)


POLICIES = [{"id": 1}]


@pytest.mark.parametrize(
    ("asset", "fields", "refusal"),
    [
        ({"security_policy_list": POLICIES}, {}, "names no metadata model (metadata_model_id)"),
        ({"metadata_model_id": MODEL_ID}, {}, "names no security policy (security_policy_list)"),
        ({}, {"import_template_id": "ACME.TEMPLATE.OTHER"}, "Unknown import template"),
    ],
    ids=["no model", "no policy", "unknown template"],
)
def test_imports_without_the_site_s_model_and_policies_are_refused(asset, fields, refusal, start):
    site = dam([campaign("c1")])
    strict, lenient = start(site), start(with_variant(site, "lenient"))

    refused = _import(_signed_in(strict.url), strict.url, asset, **fields)
    taken = _import(_signed_in(lenient.url), lenient.url, asset, **fields)

    assert refusal in _exception_body(refused, 400)["message"]
    assert strict.campaign("c1")["imported"] == []
    assert taken.status_code == 202
    assert len(lenient.campaign("c1")["imported"]) == 1


def test_an_unreadable_policy_list_is_refused(sandbox, api):
    asset = {"metadata_model_id": MODEL_ID, "security_policy_list": [7]}

    refused = _import(api, sandbox.url, asset)

    assert "Unreadable security_policy_list" in _exception_body(refused, 400)["message"]


def test_an_import_whose_manifest_names_no_file_takes_the_file_part_s_name(sandbox, api):
    asset = {"metadata_model_id": MODEL_ID, "security_policy_list": POLICIES}
    manifest = {"upload_manifest": {"master_files": []}}

    assert _import(api, sandbox.url, asset, manifest).status_code == 202

    imported = sandbox.campaign("c1")["imported"].pop()
    assert (imported["name"], imported["file_type"]) == ("a.jpg", None)


def test_children_answers_carry_no_total(start):
    running = start(dam([campaign("c1")]))
    api = _signed_in(running.url)
    _import(api, running.url, {"metadata_model_id": MODEL_ID, "security_policy_list": POLICIES})

    answer = api.get(f"{running.url}/otmmapi/v6/folders/c1/children").json()

    assert [child["name"] for child in answer["folder_children"]["asset_list"]] == ["a.jpg"]
    assert set(answer["folder_children"]) == {"asset_list"}


def _otds_ticket(url: str, **resource: str) -> str:
    credentials = {"userName": USER, "password": PASSWORD, "ticketType": "OTDSTICKET"}
    otds = f"{url}/otdsws/rest/authentication"
    ticket = requests.post(f"{otds}/credentials", json=credentials).json()["ticket"]
    if resource:
        body = {"ticket": ticket, "targetResourceId": resource["resource_id"]}
        ticket = requests.post(f"{otds}/resource/ticketforresource", json=body).json()["ticket"]
    return ticket


def test_otds_tickets_that_are_unknown_or_expired_are_refused(start):
    running = start(dam(otds={"resource_id": None}))
    expiring = start(dam(otds={"resource_id": None}, session_ttl_seconds=0))
    sessions = "otmmapi/v6/sessions"

    unknown = requests.get(f"{running.url}/{sessions}", headers={"OTDSToken": "no such ticket"})
    expired = requests.get(
        f"{expiring.url}/{sessions}", headers={"OTDSToken": _otds_ticket(expiring.url)}
    )

    assert "no valid OTDS ticket" in _exception_body(unknown, 401)["message"]
    assert "no valid OTDS ticket" in _exception_body(expired, 401)["message"]


def test_an_otds_session_needs_its_token_on_every_call(start):
    running = start(dam([campaign("c1")], otds={"resource_id": OTDS_RESOURCE_ID}))
    ticket = _otds_ticket(running.url, resource_id=OTDS_RESOURCE_ID)
    api = requests.Session()
    signed_in = api.get(f"{running.url}/otmmapi/v6/sessions", headers={"OTDSToken": ticket})
    api.headers["X-Requested-By"] = str(signed_in.json()["session_resource"]["session"]["id"])
    folder = f"{running.url}/otmmapi/v6/folders/c1"

    without_token = api.get(folder)
    with_token = api.get(folder, headers={"OTDSToken": ticket})

    assert "send its OTDSToken header" in _exception_body(without_token, 401)["message"]
    assert with_token.status_code == 200


def test_a_resource_ticket_needs_a_user_s_ticket(start):
    running = start(dam(otds={"resource_id": OTDS_RESOURCE_ID}))
    resource_ticket = _otds_ticket(running.url, resource_id=OTDS_RESOURCE_ID)

    again = requests.post(
        f"{running.url}/otdsws/rest/authentication/resource/ticketforresource",
        json={"ticket": resource_ticket, "targetResourceId": OTDS_RESOURCE_ID},
    )

    assert "not a valid user's ticket" in _exception_body(again, 401)["message"]


def test_a_site_without_otds_has_no_otds(start):
    running = start(dam())

    answer = requests.post(f"{running.url}/otdsws/rest/authentication/credentials", json={})

    _exception_body(answer, 404)


@pytest.mark.parametrize(
    "option", [{"status_kind": "domain"}, {"import_status": 201}], ids=["status", "import"]
)
def test_the_fixture_refuses_variants_it_does_not_know(option):
    with pytest.raises(ValueError, match="not"):
        dam(**option)


def test_serve_starts_the_dam_as_a_named_variant(tmp_path):
    """`python -m sandbox serve --dam-variant`: the fixture's campaigns, the variant's site."""
    fixture = tmp_path / "fixture.json"
    fixture.write_text(json.dumps({"dam": dam([campaign("c1")])}))
    command = [sys.executable, "-m", "sandbox", "serve", "--fixture", str(fixture)]
    with subprocess.Popen(
        [*command, "--dam-variant", "text_status"], cwd=REPO, stdout=subprocess.PIPE, text=True
    ) as served:
        try:
            urls = dict(served.stdout.readline().split() for _ in range(2))
            api = _signed_in(urls["dam"])
            folder = api.get(f"{urls['dam']}/otmmapi/v6/folders/c1").json()["folder_resource"]
        finally:
            served.terminate()
    groups = folder["folder"]["metadata"]["metadata_element_list"]
    values = {f["id"]: f["value"] for g in groups for f in g["metadata_element_list"]}
    assert values[STATUS_FIELD] == {"value": {"type": "string", "value": "A1"}}
