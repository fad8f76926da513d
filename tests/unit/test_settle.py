"""The settle rule: a Master Assets tree is promoted only once it has stopped changing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from campaigns.settle import FileSeen, Snapshot, is_ready_marker, settle, settling_text

NOW = datetime(2026, 4, 28, 10, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def _file(file_id: str, minutes_ago: float, sha1: str = "a", size: int = 10) -> FileSeen:
    return FileSeen(file_id, sha1, size, NOW - minutes_ago * MINUTE)


def test_a_tree_first_seen_with_files_uploaded_an_hour_ago_is_settled_at_once():
    verdict = settle(None, [_file("1", 60), _file("2", 61)], NOW, settle_minutes=6)
    assert verdict.settled
    assert verdict.last_change_at == NOW - 60 * MINUTE
    assert verdict.quiet_for(NOW) == 60 * MINUTE


def test_a_tree_seen_filling_up_waits_until_it_has_been_quiet_long_enough():
    first = settle(None, [_file("1", 2)], NOW, settle_minutes=6)
    assert not first.settled
    later = NOW + 3 * MINUTE
    second = settle(first.snapshot, [_file("1", 2), _file("2", -1)], later, 6)
    assert not second.settled
    assert second.last_change_at == NOW + MINUTE
    third = settle(second.snapshot, [_file("1", 2), _file("2", -1)], NOW + 7 * MINUTE, 6)
    assert third.settled


def test_the_wait_is_exactly_settle_minutes():
    assert not settle(None, [_file("1", 5.99)], NOW, 6).settled
    assert settle(None, [_file("1", 6)], NOW, 6).settled


def test_a_removed_file_counts_as_a_change_at_the_look_that_first_missed_it():
    before = settle(None, [_file("1", 60), _file("2", 60)], NOW - 3 * MINUTE, 6)
    assert before.settled
    after = settle(before.snapshot, [_file("1", 60)], NOW, 6)
    assert not after.settled
    assert after.last_change_at == NOW
    # The next look still knows of that change, though nothing dates it any more.
    next_look = settle(after.snapshot, [_file("1", 60)], NOW + 3 * MINUTE, 6)
    assert not next_look.settled
    assert next_look.last_change_at == NOW
    assert settle(next_look.snapshot, [_file("1", 60)], NOW + 6 * MINUTE, 6).settled


def test_content_that_changed_without_a_newer_date_counts_as_a_change_now():
    before = settle(None, [_file("1", 60, sha1="a")], NOW - 3 * MINUTE, 6)
    after = settle(before.snapshot, [_file("1", 60, sha1="b")], NOW, 6)
    assert not after.settled
    assert after.last_change_at == NOW
    resized = settle(before.snapshot, [_file("1", 60, size=11)], NOW, 6)
    assert resized.last_change_at == NOW


def test_a_file_new_since_the_last_look_but_dated_before_it_counts_as_a_change_now():
    before = settle(None, [_file("1", 4)], NOW - 3 * MINUTE, 6)
    assert not before.settled
    # Moved in from elsewhere with an older date: it arrived after the last look all the same.
    after = settle(before.snapshot, [_file("1", 4), _file("2", 30)], NOW, 6)
    assert after.last_change_at == NOW
    assert not after.settled


def test_a_replaced_file_is_dated_by_box():
    before = settle(None, [_file("1", 60, sha1="a")], NOW - 3 * MINUTE, 6)
    after = settle(before.snapshot, [_file("1", 1, sha1="b")], NOW, 6)
    assert not after.settled
    assert after.last_change_at == NOW - MINUTE


def test_the_ready_marker_promotes_at_once_and_zero_minutes_keeps_the_old_behaviour():
    assert settle(None, [_file("1", 0)], NOW, 6, ready_marker_seen=True).settled
    assert settle(None, [_file("1", 0)], NOW, 0).settled


def test_an_empty_tree_never_seen_changing():
    verdict = settle(None, [], NOW, 6)
    assert verdict.last_change_at is None
    assert verdict.quiet_for(NOW) is None
    assert verdict.snapshot == Snapshot({}, None)


def test_a_date_in_the_future_of_this_clock_waits():
    verdict = settle(None, [_file("1", -2)], NOW, 6)
    assert not verdict.settled
    assert verdict.quiet_for(NOW) == timedelta()


def test_what_an_operator_reads_of_a_settling_tree():
    assert (
        settling_text(4, 2 * MINUTE + timedelta(seconds=59)) == "4 files, last change 2 minutes ago"
    )
    assert settling_text(1, MINUTE) == "1 file, last change 1 minute ago"
    assert settling_text(2, timedelta(seconds=59)) == "2 files, last change less than a minute ago"
    assert settling_text(3, None) == "3 files"


def test_the_ready_marker_is_recognized_as_people_read_names():
    assert is_ready_marker("READY.txt", "ready.txt")
    assert is_ready_marker("READY\u00a0 .txt", "ready .txt")
    assert not is_ready_marker("READY.txt.jpg", "ready.txt")
    assert not is_ready_marker("READY.txt", None)


FILES = st.dictionaries(
    st.sampled_from("abcdef"),
    st.tuples(st.sampled_from("xyz"), st.integers(0, 3), st.integers(0, 120)),
    max_size=6,
)


def _seen(files: dict) -> list[FileSeen]:
    return [_file(i, ago, sha1, size) for i, (sha1, size, ago) in files.items()]


@given(FILES, FILES, st.integers(0, 30), st.integers(0, 20))
def test_never_settled_before_settle_minutes_after_the_last_known_change(
    first, second, settle_minutes, minutes_later
):
    now = NOW + minutes_later * MINUTE
    before = settle(None, _seen(first), NOW, settle_minutes)
    after = settle(before.snapshot, _seen(second), now, settle_minutes)
    dates = [f.changed_at for f in _seen(first) + _seen(second)]
    # The last change is never earlier than any date Box gave, nor than a known change.
    assert after.last_change_at is None or all(after.last_change_at >= d for d in dates)
    if after.settled and settle_minutes and after.last_change_at is not None:
        assert now - after.last_change_at >= settle_minutes * MINUTE
    unchanged = {i: v[:2] for i, v in first.items()} == {i: v[:2] for i, v in second.items()}
    if not unchanged:
        assert after.last_change_at is not None


@given(FILES, st.integers(0, 30))
def test_looking_again_at_an_unchanged_tree_changes_nothing(files, settle_minutes):
    first = settle(None, _seen(files), NOW, settle_minutes)
    again = settle(first.snapshot, _seen(files), NOW, settle_minutes)
    assert again == first
