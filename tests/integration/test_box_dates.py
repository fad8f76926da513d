"""Box's own dates of a file (created_at, modified_at), from the sandbox through boxsdk."""

from __future__ import annotations

import pytest
import requests

from campaigns.hooks.box import BoxHook
from sandbox.box.content import generated_sha1
from sandbox.box.fixture import UPLOADED_LONG_AGO, campaign_folder, folder
from sandbox.box.spec import validate
from tests.integration._box_fixtures import BoxSandbox, start_box_fixture  # noqa: F401

CAMPAIGN = "123"
MASTER = "123-ma"
AN_HOUR_AGO = "2026-03-02T09:00:00+00:00"
NOW = "2026-03-02T10:00:00+00:00"


@pytest.fixture
def box(start_box) -> BoxSandbox:
    return start_box(
        campaign_folder(CAMPAIGN, assets={"kv.psd": 100}), {"folders": [folder("9", "Elsewhere")]}
    )


def assets(folder_id: str = MASTER) -> dict[str, object]:
    return {asset.name: asset for asset in BoxHook().list_master_assets(folder_id)}


def full_file(box: BoxSandbox, file_id: str) -> dict:
    """The file as Box answers GET /files/{id}, checked against the official spec."""
    response = requests.get(
        f"{box.url}/2.0/files/{file_id}",
        headers={"Authorization": f"Bearer {box.token()}"},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    validate("File--Full", response.json())
    return response.json()


def test_files_of_the_fixture_were_uploaded_long_ago(box):
    assert assets()["kv.psd"].changed_at == UPLOADED_LONG_AGO


def test_a_file_is_dated_by_box_never_by_the_uploaders_clock(box):
    box.control(
        "POST",
        "files",
        json={
            "id": "f-late",
            "name": "late.jpg",
            "parent": MASTER,
            "created_at": AN_HOUR_AGO,
            "content_modified_at": "2030-01-01T00:00:00+00:00",
        },
    )
    assert assets()["late.jpg"].changed_at == AN_HOUR_AGO
    answer = full_file(box, "f-late")
    assert (answer["created_at"], answer["modified_at"]) == (AN_HOUR_AGO, AN_HOUR_AGO)
    assert answer["content_modified_at"] == "2030-01-01T00:00:00+00:00"


def test_a_file_created_without_a_date_is_dated_by_the_sandbox_clock(box):
    box.control("PUT", "clock", json={"now": NOW})
    box.control("POST", "files", json={"id": "f-new", "name": "new.jpg", "parent": MASTER})
    assert assets()["new.jpg"].changed_at == NOW


@pytest.mark.parametrize(
    ("change", "name", "folder_id"),
    [
        ({"name": "renamed.psd"}, "renamed.psd", MASTER),
        ({"seed": "new content"}, "kv.psd", MASTER),
        ({"parent": "9"}, "kv.psd", "9"),
    ],
)
def test_a_rename_a_new_version_or_a_move_is_dated_when_it_happens(box, change, name, folder_id):
    box.control("PUT", "clock", json={"now": NOW})
    box.control("PATCH", f"files/{MASTER}-f1", json=change)
    changed = assets(folder_id)[name]
    assert changed.changed_at == NOW
    answer = full_file(box, f"{MASTER}-f1")
    assert (answer["created_at"], answer["modified_at"]) == (UPLOADED_LONG_AGO, NOW)
    new_version = "seed" in change
    assert changed.sha1 == generated_sha1("new content" if new_version else f"{MASTER}-f1", 100)
    assert answer["version_number"] == ("2" if new_version else "1")


def test_the_clock_set_back_to_real_time(box):
    box.control("PUT", "clock", json={"now": NOW})
    box.control("PUT", "clock", json={"now": None})
    box.control("POST", "files", json={"id": "f-now", "name": "now.jpg", "parent": MASTER})
    assert assets()["now.jpg"].changed_at > NOW


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("PATCH", "files/nope", {"name": "x"}, 404),
        ("PATCH", f"files/{MASTER}-f1", {"parent": "nope"}, 404),
        ("PUT", "clock", {"now": "yesterday"}, 400),
        ("PUT", "clock", {"now": "2026-03-02T10:00:00"}, 400),  # no time zone
        ("POST", "files", {"name": "x", "parent": MASTER, "created_at": "soon"}, 400),
    ],
)
def test_bad_control_requests_are_refused(box, method, path, body, status):
    response = requests.request(method, f"{box.url}/_sandbox/{path}", json=body, timeout=10)
    assert response.status_code == status
