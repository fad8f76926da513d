"""Box's change feed read through the real boxsdk client, and the watch kept in the database."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from box_sdk_gen import BoxAPIError

from campaigns.box_watch import read_feed
from campaigns.errors import TransientError
from campaigns.hooks import box_feed
from campaigns.hooks.box import BoxHook
from campaigns.hooks.box_feed import StreamRefused, change_from, current_position, read_changes
from campaigns.hooks.retry_state import RetryStateHook
from campaigns.rules import CheckResult, Outcome, RetrySettings
from campaigns.watch import EventRead, Listed, Listing, WatchRecord
from sandbox.box.fixture import campaign_folder
from tests.integration._box_fixtures import start_box_fixture  # noqa: F401 (a fixture)

FEED = "GET /2.0/events"
RUN_AT = datetime(2026, 4, 28, 10, 0, tzinfo=UTC)


def add_files(box, parent: str, count: int) -> list[str]:
    ids = [f"{parent}-{uuid.uuid4().hex[:6]}" for _ in range(count)]
    for file_id in ids:
        box.control(
            "POST", "files", json={"id": file_id, "name": f"{file_id}.psd", "parent": parent}
        )
    return ids


def test_changes_are_read_page_by_page_until_box_has_no_more(start_box):
    box = start_box(campaign_folder("c1"))
    hook = BoxHook()
    position = current_position(hook)
    added = add_files(box, "c1-ma", 3)
    box.control("PUT", "events/delivery", json={"max_chunk": 1})

    read = read_changes(hook, position)

    assert [(c.item_type, c.item_id, c.parent_id) for c in read.changes] == [
        ("file", file_id, "c1-ma") for file_id in added
    ]
    # A page per event, then the empty one that says the end.
    assert box.counters()[FEED] == 1 + 3 + 1
    assert read_changes(hook, read.next_position).changes == ()


def test_a_read_stops_after_max_pages_and_the_next_goes_on_from_there(start_box, monkeypatch):
    box = start_box(campaign_folder("c1"))
    hook = BoxHook()
    position = current_position(hook)
    added = add_files(box, "c1-ma", 5)
    box.control("PUT", "events/delivery", json={"max_chunk": 1})
    monkeypatch.setattr(box_feed, "MAX_PAGES", 2)

    first = read_changes(hook, position)
    rest = read_changes(hook, first.next_position)

    last = read_changes(hook, rest.next_position)

    assert [c.item_id for c in first.changes] == added[:2]
    assert [c.item_id for c in rest.changes] == added[2:4]
    assert [c.item_id for c in last.changes] == added[4:]


def test_an_expired_position_is_refused(start_box):
    box = start_box(campaign_folder("c1"))
    hook = BoxHook()
    position = current_position(hook)
    add_files(box, "c1-ma", 1)
    box.control("POST", "events/expire")
    with pytest.raises(StreamRefused, match=rf"Box refused stream position {position} \(400: "):
        read_changes(hook, position)


def test_other_feed_errors_are_not_taken_for_a_refused_position(start_box):
    box = start_box(campaign_folder("c1"))
    hook = BoxHook()
    position = current_position(hook)
    box.fault(FEED, [403])
    with pytest.raises(BoxAPIError):
        read_changes(hook, position)
    box.fault(FEED, [503] * 10)
    with pytest.raises(TransientError, match="read of the change feed"):
        read_changes(hook, position)


EVENT_SOURCE = {"item_type": "file", "item_id": "7", "item_name": "a.psd", "parent": {"id": "5"}}
PATH = {"entries": [{"id": "0"}, {"id": "3"}]}
FOLDER = {"type": "folder", "id": "9", "parent": None, "path_collection": PATH}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"event_id": "e1", "source": EVENT_SOURCE}, ("e1", "file", "7", "5", ())),
        ({"event_id": "e2", "source": FOLDER}, ("e2", "folder", "9", None, ("0", "3"))),
        ({"event_id": "e3", "source": {"type": "user", "id": "11"}}, None),
        ({"event_id": "e4", "source": None}, None),
        ({"event_id": "e5"}, None),
        ({"event_id": "e6", "source": EVENT_SOURCE | {"item_name": ".DS_Store"}}, None),
        ({"event_id": "e7", "source": FOLDER | {"type": "file", "name": "Thumbs.db"}}, None),
        (
            {"event_id": "e8", "source": FOLDER | {"name": ".DS_Store"}},
            ("e8", "folder", "9", None, ("0", "3")),
        ),
    ],
)
def test_an_event_s_source_in_either_shape_gives_its_ids(event, expected):
    change = change_from(event)
    got = change and (
        change.event_id,
        change.item_type,
        change.item_id,
        change.parent_id,
        change.path_ids,
    )
    assert got == expected


def test_an_event_without_an_id_is_told_apart_from_others():
    first = change_from({"source": EVENT_SOURCE, "created_at": "2026-04-28T10:00:00+00:00"})
    second = change_from({"source": EVENT_SOURCE, "created_at": "2026-04-28T10:03:00+00:00"})
    assert first.event_id and first.event_id != second.event_id


@pytest.fixture
def campaign(tracking_db_url) -> str:
    campaign_id = f"feed-{uuid.uuid4().hex[:8]}"
    RetryStateHook().upsert_campaigns(
        [{"campaign_id": campaign_id, "status": "A1", "box_folder_id": "c1"}]
    )
    return campaign_id


def test_a_run_reads_the_feed_once_and_lists_everyone_without_a_position(start_box, campaign):
    box = start_box(campaign_folder("c1"))
    state, hook = RetryStateHook(), BoxHook()
    run_id = f"run-{uuid.uuid4().hex[:6]}"

    read = read_feed(state, hook, run_id)
    again = read_feed(state, hook, run_id)

    assert read.full_listing == "no position in Box's change feed yet"
    assert again == read
    assert box.counters()[FEED] == 1  # the run's own read is kept: a task run again reuses it


def poll(state: RetryStateHook, campaign_id: str, run_id: str, read: EventRead, complete: bool):
    listing = Listing("c1", frozenset({"c1", "c1-ma"}), Outcome.EMPTY, Listed.FULL)
    watch = WatchRecord({campaign_id: listing}, read, complete)
    state.record_polls(
        run_id, {campaign_id: CheckResult(Outcome.EMPTY)}, RetrySettings(), RUN_AT, watch=watch
    )


def test_the_stream_advances_only_once_every_listing_is_in_and_never_back(start_box, campaign):
    box = start_box(campaign_folder("c1"))
    state, hook = RetryStateHook(), BoxHook()
    first = read_feed(state, hook, f"first-{campaign}")
    poll(state, campaign, f"first-{campaign}", first, complete=False)
    assert state.event_stream(hook.stream_key) is None

    poll(state, campaign, f"first-{campaign}", first, complete=True)
    assert state.event_stream(hook.stream_key)[0] == first.to_position

    add_files(box, "c1-ma", 1)
    second = read_feed(state, hook, f"second-{campaign}")
    assert second.changed_ids == (campaign,)
    poll(state, campaign, f"second-{campaign}", second, complete=True)
    assert state.event_stream(hook.stream_key)[0] == second.to_position
    # The first run cleared and decided again later: the stream stays where the second put it.
    poll(state, campaign, f"first-{campaign}", first, complete=True)
    assert state.event_stream(hook.stream_key)[0] == second.to_position


def test_changes_found_for_a_campaign_not_listed_wait_for_its_next_poll(start_box, campaign):
    box = start_box(campaign_folder("c1"))
    state, hook = RetryStateHook(), BoxHook()
    first = read_feed(state, hook, f"first-{campaign}")
    poll(state, campaign, f"first-{campaign}", first, complete=True)
    add_files(box, "c1-ma", 1)
    second = read_feed(state, hook, f"second-{campaign}")
    # Backing off or capped out: this run lists nobody, the stream moves on.
    state.record_polls(
        f"second-{campaign}", {}, RetrySettings(), RUN_AT, watch=WatchRecord({}, second, True)
    )
    assert state.get_watched([campaign])[campaign].changed


def test_a_position_older_than_box_keeps_lists_everyone(start_box, campaign):
    start_box(campaign_folder("c1"))
    state, hook = RetryStateHook(), BoxHook()
    first = read_feed(state, hook, f"first-{campaign}")
    poll(state, campaign, f"first-{campaign}", first, complete=True)
    state.run(
        "UPDATE box_event_streams SET saved_at = %s WHERE stream_key = %s",
        parameters=(datetime.now(UTC) - timedelta(days=15), hook.stream_key),
    )
    read = read_feed(state, hook, f"second-{campaign}")
    assert read.full_listing.startswith("the change feed's position is from ")
    assert read.full_listing.endswith(", older than Box keeps")
