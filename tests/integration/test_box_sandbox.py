"""The Box sandbox answers as the Box OpenAPI description says, and its control API works."""

from __future__ import annotations

import hashlib
import io
import json

import pytest
import requests
from box_sdk_gen import (
    BaseUrls,
    BoxClient,
    BoxDeveloperTokenAuth,
    NetworkSession,
    UploadFileAttributes,
    UploadFileAttributesParentField,
)

from sandbox.box.content import generated_sha1
from sandbox.box.fixture import CLIENT_ID, campaign_folder, folder
from sandbox.box.spec import validate
from tests.integration._box_fixtures import (  # noqa: F401 (a fixture)
    ITEMS_ROUTE,
    TOKEN_ROUTE,
    BoxSandbox,
    start_box_fixture,
)

CAMPAIGN = "123"
MASTER = "123-ma"


@pytest.fixture
def box(start_box) -> BoxSandbox:
    assets = {f"shot-{n:03d}.jpg": 1000 + n for n in range(250)}
    assets["video/cut.mp4"] = 5000
    return start_box(campaign_folder(CAMPAIGN, assets=assets), {"folders": [folder("9", "Other")]})


@pytest.fixture
def api(box: BoxSandbox) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {box.token()}"
    return session


def answer(response: requests.Response, status: int, schema: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    validate(schema, body)
    return body


def test_token_answers(box):
    form = {"grant_type": "client_credentials", "client_id": CLIENT_ID}
    denied = requests.post(f"{box.url}/oauth2/token", data={**form, "client_secret": "wrong"})
    assert answer(denied, 400, "OAuth2Error")["error"] == "invalid_client"

    wrong_enterprise = {**form, "client_secret": "sandbox-secret", "box_subject_id": "1"}
    wrong_enterprise["box_subject_type"] = "enterprise"
    denied = requests.post(f"{box.url}/oauth2/token", data=wrong_enterprise)
    assert answer(denied, 400, "OAuth2Error")["error"] == "invalid_grant"

    granted = requests.post(
        f"{box.url}/oauth2/token", data={**wrong_enterprise, "box_subject_id": "1000"}
    )
    token = answer(granted, 200, "AccessToken")
    assert token["token_type"] == "bearer" and token["expires_in"] > 0


def test_api_routes_need_a_bearer_token(box):
    for path in ["/2.0/folders/0", f"/2.0/folders/{CAMPAIGN}/items", "/2.0/users/me"]:
        response = requests.get(f"{box.url}{path}", headers={"Authorization": "Bearer nope"})
        assert response.status_code == 401
        assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_folder_answers(box, api):
    root = answer(api.get(f"{box.url}/2.0/folders/0"), 200, "Folder--Full")
    assert root["name"] == "All Files" and root["item_collection"]["total_count"] == 2

    master = answer(api.get(f"{box.url}/2.0/folders/{MASTER}"), 200, "Folder--Full")
    assert [entry["name"] for entry in master["path_collection"]["entries"]] == [
        "All Files",
        f"Campaign {CAMPAIGN}",
    ]
    assert master["parent"]["id"] == CAMPAIGN
    assert len(master["item_collection"]["entries"]) == 100
    assert master["item_collection"]["total_count"] == 251

    some = answer(api.get(f"{box.url}/2.0/folders/{MASTER}?fields=name"), 200, "Folder--Full")
    assert some == {"type": "folder", "id": MASTER, "etag": "0", "name": "Master Assets"}


def test_items_with_offset_paging(box, api):
    names, offset = [], 0
    while True:
        url = f"{box.url}/2.0/folders/{MASTER}/items?offset={offset}&limit=100"
        page = answer(api.get(url), 200, "Items")
        assert page["total_count"] == 251 and page["offset"] == offset and page["limit"] == 100
        names += [entry["name"] for entry in page["entries"]]
        offset += page["limit"]
        if offset >= page["total_count"]:
            break
    assert names[0] == "video" and len(names) == len(set(names)) == 251


def test_items_with_marker_paging_and_fields(box, api):
    entries, marker, pages = [], None, 0
    while True:
        params = {"usemarker": "true", "limit": 100, "fields": "name,size,sha1"}
        if marker:
            params["marker"] = marker
        page = answer(api.get(f"{box.url}/2.0/folders/{MASTER}/items", params=params), 200, "Items")
        assert "total_count" not in page and "offset" not in page
        entries += page["entries"]
        pages += 1
        marker = page["next_marker"]
        if not marker:
            break
    assert pages == 3 and len({entry["id"] for entry in entries}) == 251
    shot = next(entry for entry in entries if entry["name"] == "shot-007.jpg")
    assert shot == {
        "type": "file",
        "id": shot["id"],
        "etag": "0",
        "name": "shot-007.jpg",
        "size": 1007,
        "sha1": generated_sha1(shot["id"], 1007),
    }


def test_items_limit_is_capped_at_a_thousand(box, api):
    page = answer(api.get(f"{box.url}/2.0/folders/{MASTER}/items?limit=5000"), 200, "Items")
    assert page["limit"] == 1000 and len(page["entries"]) == 251


def test_file_and_user_answers(box, api):
    file = answer(api.get(f"{box.url}/2.0/files/{MASTER}-f1"), 200, "File--Full")
    assert file["name"] == "shot-000.jpg" and file["size"] == 1000
    assert file["sha1"] == generated_sha1(f"{MASTER}-f1", 1000)
    assert file["extension"] == "jpg" and file["parent"]["id"] == MASTER

    me = answer(api.get(f"{box.url}/2.0/users/me"), 200, "User--Full")
    assert me["login"] == "admin@example.com"


def test_error_answers(box, api):
    missing = answer(api.get(f"{box.url}/2.0/folders/nope/items"), 404, "ClientError")
    assert missing["code"] == "not_found" and missing["request_id"]
    answer(api.get(f"{box.url}/2.0/files/nope"), 404, "ClientError")
    bad_marker = api.get(f"{box.url}/2.0/folders/{MASTER}/items?usemarker=true&marker=%%%")
    answer(bad_marker, 400, "ClientError")
    answer(api.get(f"{box.url}/2.0/nothing-here"), 404, "ClientError")

    box.control("PUT", f"folders/{CAMPAIGN}/forbidden", json={"forbidden": True})
    for path in [f"folders/{CAMPAIGN}", f"folders/{MASTER}/items", f"files/{MASTER}-f1"]:
        denied = answer(api.get(f"{box.url}/2.0/{path}"), 403, "ClientError")
        assert denied["code"] == "access_denied_insufficient_permissions"


def test_scripted_faults_answer_with_box_error_bodies(box, api):
    box.fault(ITEMS_ROUTE, (429,), retry_after=2)
    box.fault("*", (503,))
    url = f"{box.url}/2.0/folders/{MASTER}/items"

    limited = api.get(url)
    assert answer(limited, 429, "ClientError")["code"] == "rate_limit_exceeded"
    assert ("Retry-After", "2") in limited.raw.headers.items()  # spelled as Box spells it
    assert answer(api.get(f"{box.url}/2.0/users/me"), 503, "ClientError")["status"] == 503
    answer(api.get(url), 200, "Items")

    assert box.counters() == {TOKEN_ROUTE: 1, ITEMS_ROUTE: 2, "GET /2.0/users/me": 1}


def test_dropped_connections_latency_and_clearing(box, api):
    box.fault(ITEMS_ROUTE, drop=1, times=2)
    url = f"{box.url}/2.0/folders/{MASTER}/items"
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            api.get(url)
    answer(api.get(url), 200, "Items")

    box.control("POST", "latency", json={"ms": 1})
    box.fault(ITEMS_ROUTE, (500,))
    box.control("DELETE", "faults")
    answer(api.get(url), 200, "Items")
    box.reset_counters()
    assert box.counters() == {}


def test_download_redirects_to_the_generated_content(box, api):
    content = api.get(f"{box.url}/2.0/files/{MASTER}-f251/content", allow_redirects=False)
    assert content.status_code == 302

    download = requests.get(content.headers["Location"])
    assert download.status_code == 200 and int(download.headers["Content-Length"]) == 5000
    assert hashlib.sha1(download.content).hexdigest() == generated_sha1(f"{MASTER}-f251", 5000)


def test_upload_through_boxsdk_is_recorded_and_listed(box, api):
    client = BoxClient(
        BoxDeveloperTokenAuth(api.headers["Authorization"].removeprefix("Bearer ")),
        network_session=NetworkSession(
            base_urls=BaseUrls(base_url=box.url, upload_url=f"{box.url}/api")
        ),
    )
    body = b"poster " * 300_000
    attributes = UploadFileAttributes(
        name="poster.pdf", parent=UploadFileAttributesParentField(id=MASTER)
    )

    uploaded = client.uploads.upload_file(attributes, io.BytesIO(body)).entries[0]

    assert box.control("GET", "uploads").json() == [
        {
            "id": uploaded.id,
            "name": "poster.pdf",
            "parent": MASTER,
            "size": len(body),
            "sha1": hashlib.sha1(body).hexdigest(),
        }
    ]
    listed = api.get(f"{box.url}/2.0/files/{uploaded.id}")
    assert answer(listed, 200, "File--Full")["size"] == len(body)

    conflict = upload(box, api, "poster.pdf", MASTER, b"again")
    assert answer(conflict, 409, "ClientError")["code"] == "item_name_in_use"


def test_upload_answer_validates(box, api):
    files = answer(upload(box, api, "new.txt", "9", b"hello"), 201, "Files")
    assert files["total_count"] == 1 and files["entries"][0]["parent"]["id"] == "9"

    answer(upload(box, api, "new.txt", "nope", b"hello"), 404, "ClientError")


def upload(box: BoxSandbox, api: requests.Session, name: str, parent: str, content: bytes):
    """A multipart upload the way Box expects it: attributes first, then the file."""
    attributes = json.dumps({"name": name, "parent": {"id": parent}})
    files = {"attributes": (None, attributes), "file": (name, content)}
    return api.post(f"{box.url}/api/2.0/files/content", files=files)


def test_control_routes_add_and_delete_items(box, api):
    added = box.control("POST", "folders", json={"name": "Extra", "parent": CAMPAIGN}).json()
    box.control("POST", "files", json={"id": "f-x", "name": "x.jpg", "parent": added["id"]})
    listed = answer(api.get(f"{box.url}/2.0/folders/{added['id']}/items"), 200, "Items")
    assert [entry["id"] for entry in listed["entries"]] == ["f-x"]

    box.control("DELETE", "files/f-x")
    assert api.get(f"{box.url}/2.0/files/f-x").status_code == 404
    box.control("DELETE", f"folders/{CAMPAIGN}")
    for path in [f"folders/{CAMPAIGN}", f"folders/{MASTER}", f"files/{MASTER}-f1"]:
        assert api.get(f"{box.url}/2.0/{path}").status_code == 404
    assert requests.delete(f"{box.url}/_sandbox/folders/{CAMPAIGN}").status_code == 404
