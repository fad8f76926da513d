"""The Box sandbox's change feed, `GET /2.0/events`, read through boxsdk, checked by the spec."""

from __future__ import annotations

import io

import jsonschema
import pytest
import requests
from box_sdk_gen import (
    BaseUrls,
    BoxAPIError,
    BoxClient,
    BoxDeveloperTokenAuth,
    EventSource,
    NetworkSession,
    UploadFileAttributes,
    UploadFileAttributesParentField,
)
from box_sdk_gen.managers.events import GetEventsStreamType

from sandbox.box.fixture import campaign_folder, folder
from sandbox.box.spec import validate
from tests.integration._box_fixtures import BoxSandbox, start_box_fixture  # noqa: F401

CAMPAIGN = "123"
MASTER = "123-ma"
ASSET = f"{MASTER}-f1"
NOW = "2026-03-02T10:00:00+00:00"
EVENTS_ROUTE = "GET /2.0/events"


@pytest.fixture
def box(start_box) -> BoxSandbox:
    return start_box(
        campaign_folder(CAMPAIGN, assets={"kv.psd": 100}), {"folders": [folder("9", "Other")]}
    )


@pytest.fixture
def client(box: BoxSandbox) -> BoxClient:
    return BoxClient(
        BoxDeveloperTokenAuth(box.token()),
        network_session=NetworkSession(
            base_urls=BaseUrls(base_url=box.url, upload_url=f"{box.url}/api")
        ),
    )


def read(client: BoxClient, position: str | None = None, limit: int | None = 500) -> dict:
    """One answer of the `changes` feed, as Box sent it, valid against the spec."""
    events = client.events.get_events(
        stream_type=GetEventsStreamType.CHANGES, stream_position=position, limit=limit
    )
    answer = events.raw_data
    validate("Events", answer)
    assert answer["chunk_size"] == len(answer["entries"])
    assert answer["next_stream_position"].isdigit()
    return answer


def read_all(client: BoxClient, position: str) -> tuple[list[list[dict]], str]:
    """Every chunk after `position` until an empty one, and the position the empty one gives."""
    chunks = []
    while entries := (answer := read(client, position))["entries"]:
        chunks.append(entries)
        position = answer["next_stream_position"]
    return chunks, answer["next_stream_position"]


def refused(client: BoxClient, status: int, **query: object) -> dict:
    """The error body of a read Box refuses with `status`, valid against the spec."""
    with pytest.raises(BoxAPIError) as caught:
        client.events.get_events(**query)
    assert caught.value.response_info.status_code == status
    body = caught.value.response_info.body
    validate("ClientError", body)
    assert body["status"] == status
    return body


def now(client: BoxClient) -> str:
    answer = read(client, "now")
    assert answer["entries"] == []
    return answer["next_stream_position"]


def ids(entries: list[dict]) -> list[str]:
    return [entry["event_id"] for entry in entries]


def kept(box: BoxSandbox) -> list[dict]:
    return box.control("GET", "events").json()


def deliver(box: BoxSandbox, **delivery: object) -> dict:
    return box.control("PUT", "events/delivery", json=delivery).json()


def add_files(box: BoxSandbox, count: int) -> None:
    for number in range(count):
        box.control("POST", "files", json={"id": f"n{number}", "name": f"{number}.jpg"})


def folder_mini(folder_id: str, name: str) -> dict:
    return {"type": "folder", "id": folder_id, "sequence_id": "0", "etag": "0", "name": name}


def summary(event: dict) -> tuple:
    source = event["source"]
    parent = source["parent"] and source["parent"]["id"]
    return event["event_type"], source["item_type"], source["item_id"], source["item_name"], parent


def test_every_change_to_the_tree_is_an_event(box, client):
    box.control("PUT", "clock", json={"now": NOW})
    start = now(client)
    box.control("POST", "folders", json={"id": "fn", "name": "New", "parent": MASTER})
    box.control("POST", "files", json={"id": "x", "name": "x.jpg", "parent": "fn"})
    attributes = UploadFileAttributes(
        name="up.jpg", parent=UploadFileAttributesParentField(id=MASTER)
    )
    uploaded = client.uploads.upload_file(attributes, io.BytesIO(b"poster")).entries[0].id
    box.control("PATCH", "files/x", json={"name": "y.jpg"})
    box.control("PATCH", "files/x", json={"parent": MASTER})
    box.control("PATCH", "files/x", json={"seed": "v2"})
    box.control("PATCH", "files/x", json={"name": "z.jpg", "parent": "fn", "size": 5})
    box.control("PATCH", "files/x", json={"name": "z.jpg", "parent": "fn"})
    box.control("PATCH", "folders/fn", json={"name": "Renamed"})
    box.control("PATCH", "folders/fn", json={"parent": "9"})
    box.control("PATCH", "folders/fn", json={"name": "Moved", "parent": CAMPAIGN})
    for forbidden in (True, True, False):
        box.control("PUT", "folders/9/forbidden", json={"forbidden": forbidden})
    box.control("PUT", "folders/0/forbidden", json={"forbidden": True})
    box.control("DELETE", "files/x")
    box.control("DELETE", f"folders/{CAMPAIGN}")

    entries = read(client, start)["entries"]

    assert [summary(event) for event in entries] == [
        ("ITEM_CREATE", "folder", "fn", "New", MASTER),
        ("ITEM_UPLOAD", "file", "x", "x.jpg", "fn"),
        ("ITEM_UPLOAD", "file", uploaded, "up.jpg", MASTER),
        ("ITEM_RENAME", "file", "x", "y.jpg", "fn"),
        ("ITEM_MOVE", "file", "x", "y.jpg", MASTER),
        ("ITEM_UPLOAD", "file", "x", "y.jpg", MASTER),
        ("ITEM_RENAME", "file", "x", "z.jpg", "fn"),
        ("ITEM_MOVE", "file", "x", "z.jpg", "fn"),
        ("ITEM_UPLOAD", "file", "x", "z.jpg", "fn"),
        ("ITEM_RENAME", "folder", "fn", "Renamed", MASTER),
        ("ITEM_MOVE", "folder", "fn", "Renamed", "9"),
        ("ITEM_RENAME", "folder", "fn", "Moved", CAMPAIGN),
        ("ITEM_MOVE", "folder", "fn", "Moved", CAMPAIGN),
        ("COLLAB_REMOVE_COLLABORATOR", "folder", "9", "Other", "0"),
        ("COLLAB_ADD_COLLABORATOR", "folder", "9", "Other", "0"),
        ("COLLAB_REMOVE_COLLABORATOR", "folder", "0", "All Files", None),
        ("ITEM_TRASH", "file", "x", "z.jpg", "fn"),
        ("ITEM_TRASH", "folder", CAMPAIGN, f"Campaign {CAMPAIGN}", "0"),
    ]
    first = entries[0]
    assert first["type"] == "event" and first["created_at"] == first["recorded_at"] == NOW
    assert first["created_by"]["id"] == first["source"]["owned_by"]["id"] == "11446498"
    assert first["source"]["parent"] == folder_mini(MASTER, "Master Assets")
    assert len(set(ids(entries))) == len(entries)

    log = kept(box)
    assert [record["event"] for record in log] == entries
    positions = [record["position"] for record in log]
    assert positions == list(range(int(start) + 1, int(start) + 1 + len(entries)))
    assert str(positions[-1]) == now(client)


def test_boxsdk_reads_the_source_as_an_event_source(box, client):
    box.control("POST", "files", json={"id": "x", "name": "x.jpg", "parent": MASTER})
    event = client.events.get_events(stream_type=GetEventsStreamType.CHANGES).entries[0]
    assert isinstance(event.source, EventSource)
    assert (event.source.item_id, event.source.parent.id) == ("x", MASTER)


def test_the_spec_still_tells_a_source_of_no_known_shape(box, client):
    box.control("POST", "folders", json={"id": "fn", "name": "New"})
    answer = read(client)
    answer["entries"][0]["source"] = {"item_type": "folder", "item_id": "fn"}
    with pytest.raises(jsonschema.ValidationError):
        validate("Events", answer)


def test_refused_changes_log_nothing(box):
    http = requests.Session()

    def change(method: str, path: str, status: int, **body: object) -> None:
        response = http.request(method, f"{box.url}/_sandbox/{path}", json=body or None)
        assert response.status_code == status, response.text
        validate("ClientError", response.json())

    change("PATCH", "folders/nope", 404, name="x")
    change("PATCH", f"folders/{CAMPAIGN}", 404, parent="nope")
    change("PATCH", f"folders/{CAMPAIGN}", 400, parent=CAMPAIGN)
    change("PATCH", f"folders/{CAMPAIGN}", 400, parent=MASTER)
    change("PATCH", "folders/0", 400, parent="9")
    change("PATCH", "files/nope", 404, name="x")
    change("PATCH", f"files/{ASSET}", 404, parent="nope")
    change("DELETE", "files/nope", 404)
    change("DELETE", "folders/nope", 404)
    change("PUT", "folders/nope/forbidden", 404, forbidden=True)
    change("POST", "files", 404, name="x", parent="nope")
    assert kept(box) == []


def test_now_and_the_oldest_position_start_the_feed(box, client):
    base = now(client)
    assert len(base) >= 13
    empty = read(client)
    assert (empty["entries"], empty["next_stream_position"]) == ([], base)

    add_files(box, 3)
    end = now(client)
    assert int(end) == int(base) + 3
    for oldest in (None, "0"):
        answer = read(client, oldest)
        assert (answer["chunk_size"], answer["next_stream_position"]) == (3, end)
    blank = box.http.get(
        f"{box.url}/2.0/events",
        params={"stream_position": ""},
        headers={"Authorization": f"Bearer {box.token()}"},
    )
    validate("Events", blank.json())
    assert blank.json()["chunk_size"] == 3
    assert read(client, str(int(base) + 2))["entries"] == [kept(box)[2]["event"]]
    at_the_end = read(client, end)
    assert (at_the_end["entries"], at_the_end["next_stream_position"]) == ([], end)
    assert box.counters()[EVENTS_ROUTE] == 8


def test_limit_and_max_chunk_page_the_feed_until_an_empty_chunk(box, client):
    start = now(client)
    add_files(box, 7)
    assert read(client, start, limit=2)["chunk_size"] == 2
    assert read(client, start, limit=None)["chunk_size"] == 7

    assert deliver(box, max_chunk=3) == {
        "max_chunk": 3,
        "repeat": False,
        "reorder": False,
        "leave_out": [],
    }
    assert box.control("GET", "events/delivery").json()["max_chunk"] == 3
    chunks, end = read_all(client, start)
    assert [len(entries) for entries in chunks] == [3, 3, 1]
    assert [entry for entries in chunks for entry in entries] == [
        record["event"] for record in kept(box)
    ]
    assert end == now(client)
    assert read(client, start, limit=2)["chunk_size"] == 2
    assert read(client, start, limit=None)["chunk_size"] == 3


def test_repeat_delivers_each_event_again_first_in_the_next_read(box, client):
    start = now(client)
    add_files(box, 4)
    deliver(box, repeat=True, max_chunk=2)
    log = ids([record["event"] for record in kept(box)])

    chunks, end = read_all(client, start)
    assert [ids(entries) for entries in chunks] == [log[0:2], log[1:4]]

    box.control("POST", "files", json={"id": "late", "name": "late.jpg"})
    late = read(client, end)
    assert ids(late["entries"]) == [log[3], kept(box)[4]["event"]["event_id"]]
    assert read(client, late["next_stream_position"])["entries"] == []


def test_reorder_reverses_each_answer(box, client):
    start = now(client)
    add_files(box, 4)
    deliver(box, reorder=True, max_chunk=3)
    log = ids([record["event"] for record in kept(box)])

    chunks, _ = read_all(client, start)
    assert [ids(entries) for entries in chunks] == [log[2::-1], log[3:]]


def test_events_left_out_still_take_their_positions(box, client):
    start = now(client)
    add_files(box, 2)
    box.control("PATCH", "files/n0", json={"name": "renamed.jpg"})
    box.control("PATCH", "files/n1", json={"name": "renamed-1.jpg"})
    box.control("PATCH", "files/n0", json={"size": 7})
    deliver(box, leave_out=["n0"], max_chunk=1)
    log = [record["event"] for record in kept(box)]

    chunks, end = read_all(client, start)

    assert [ids(entries) for entries in chunks] == [[log[1]["event_id"]], [log[3]["event_id"]]]
    assert end == now(client) == str(int(start) + 5)
    first = read(client, start)
    assert first["next_stream_position"] == str(int(start) + 2)
    last = read(client, str(int(start) + 4))
    assert (last["entries"], last["next_stream_position"]) == ([], end)


def test_delivery_resets_to_its_defaults(box, client):
    deliver(box, max_chunk=1, repeat=True, reorder=True, leave_out=["x"])
    defaults = {"max_chunk": None, "repeat": False, "reorder": False, "leave_out": []}
    assert deliver(box, reorder=True) == {**defaults, "reorder": True}
    assert deliver(box) == defaults
    reset = box.http.put(f"{box.url}/_sandbox/events/delivery")
    assert reset.status_code == 200 and reset.json() == defaults

    invalid = box.http.put(f"{box.url}/_sandbox/events/delivery", json={"max_chunk": 0})
    assert invalid.status_code == 400
    validate("ClientError", invalid.json())
    assert box.control("GET", "events/delivery").json() == defaults


def test_expired_positions_are_refused_and_the_feed_starts_again(box, client):
    base = now(client)
    add_files(box, 3)
    middle = str(int(base) + 1)
    expiry = now(client)

    box.control("POST", "events/expire")

    for position in (base, middle, str(int(expiry) - 1), "5"):
        body = refused(client, 400, stream_position=position)
        assert body["code"] == "invalid_stream_position"
        assert body["message"] == "The stream position has expired"
    assert kept(box) == []
    assert now(client) == expiry
    empty = read(client)
    assert (empty["entries"], empty["next_stream_position"]) == ([], expiry)

    box.control("POST", "files", json={"id": "after", "name": "after.jpg"})
    for position in (None, "0", expiry):
        answer = read(client, position)
        assert [summary(event)[2] for event in answer["entries"]] == ["after"]
        assert answer["next_stream_position"] == str(int(expiry) + 1)
    assert [record["position"] for record in kept(box)] == [int(expiry) + 1]


def test_refused_reads(box, client):
    end = now(client)
    for limit in (501, 0):
        body = refused(client, 400, limit=limit)
        assert body["code"] == "bad_request"
    for stream_type in (GetEventsStreamType.ADMIN_LOGS, GetEventsStreamType.ADMIN_LOGS_STREAMING):
        body = refused(client, 403, stream_type=stream_type)
        assert body["code"] == "access_denied_insufficient_permissions"
    refused(client, 400, stream_type=GetEventsStreamType.SYNC)
    for position in ("soon", "-1", str(int(end) + 1)):
        body = refused(client, 400, stream_position=position)
        assert body["code"] == "bad_request"

    anonymous = requests.get(f"{box.url}/2.0/events", timeout=10)
    assert anonymous.status_code == 401
    assert read(client, limit=500)["chunk_size"] == 0
