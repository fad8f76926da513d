"""Backing off warned campaigns whose folder stays empty: case by case and at random."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules import (
    POLL_INTERVAL,
    Action,
    CheckResult,
    Outcome,
    RetrySettings,
    RetryState,
    decide,
    due_at,
    is_due,
    next_backoff,
    reset_state,
)

ASSETS = CheckResult(Outcome.ASSETS)
EMPTY = CheckResult(Outcome.EMPTY)
MISSING = CheckResult(Outcome.FOLDER_ERROR, "Assets folder not found (tried Master Assets)")
BACKOFF = RetrySettings(warning_threshold=3, empty_backoff_max_polls=16)
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def run(checks, state=None, rules=BACKOFF):
    state = state or RetryState()
    decisions = []
    for check in checks:
        decisions.append(decide(check, state, rules))
        state = decisions[-1].state
    return decisions


def checked_polls(outcome_at, polls, rules=BACKOFF):
    """Poll numbers (from 1, one every POLL_INTERVAL) at which the campaign is checked.

    ``outcome_at(poll)`` is what its folder shows at that poll; a poll it is not due at is
    not checked at all, as the select stage leaves it out. A reset moves the campaign at once.
    """
    state, next_check, checked = RetryState(), None, []
    for poll in range(1, polls + 1):
        now = T0 + poll * POLL_INTERVAL
        if not is_due(next_check, now):
            continue
        decision = decide(outcome_at(poll), state, rules)
        state, next_check = decision.state, due_at(now, decision.state.backoff_polls)
        if decision.action is Action.RESET:
            state = reset_state(state)
        checked.append(poll)
    return checked


@pytest.mark.parametrize("cap", range(1, 41))
def test_the_wait_doubles_from_two_polls_up_to_the_cap(cap):
    waits, wait = [], 0
    for _ in range(10):
        wait = next_backoff(wait, cap)
        waits.append(wait)
    assert waits == [min(2**k, cap) for k in range(1, 11)]


def test_no_backoff_before_the_warning_then_two_four_eight_sixteen():
    decisions = run([EMPTY] * 8)
    assert [d.action for d in decisions] == [Action.SKIP] * 2 + [Action.WARN] + [Action.SKIP] * 5
    assert [d.state.backoff_polls for d in decisions] == [0, 0, 2, 4, 8, 16, 16, 16]


def test_off_by_default_and_turning_it_off_ends_a_backoff():
    off = RetrySettings(warning_threshold=3)
    assert [d.state.backoff_polls for d in run([EMPTY] * 8, rules=off)] == [0] * 8
    backing_off = RetryState(poll_count=9, warning_sent=True, backoff_polls=8)
    decision = decide(EMPTY, backing_off, off)
    assert (decision.action, decision.state.backoff_polls) == (Action.SKIP, 0)


@pytest.mark.parametrize("check", [ASSETS, MISSING], ids=["assets", "folder-error"])
def test_any_other_outcome_ends_the_backoff(check):
    backing_off = RetryState(poll_count=9, warning_sent=True, backoff_polls=8)
    assert decide(check, backing_off, BACKOFF).state.backoff_polls == 0


def test_an_empty_check_after_a_folder_error_backs_off_again_from_two():
    decisions = run([EMPTY] * 4 + [MISSING] + [EMPTY] * 2)
    assert [d.state.backoff_polls for d in decisions] == [0, 0, 2, 4, 0, 2, 4]


def test_the_cap_bounds_the_wait():
    capped = RetrySettings(warning_threshold=1, empty_backoff_max_polls=5)
    assert [d.state.backoff_polls for d in run([EMPTY] * 5, rules=capped)] == [2, 4, 5, 5, 5]
    every_poll = RetrySettings(warning_threshold=1, empty_backoff_max_polls=1)
    assert [d.state.backoff_polls for d in run([EMPTY] * 3, rules=every_poll)] == [1, 1, 1]


def test_the_cap_must_be_at_least_one_poll():
    with pytest.raises(ValueError, match="at least 1 poll"):
        RetrySettings(empty_backoff_max_polls=0)


def test_due_times_fall_on_the_poll_grid():
    assert due_at(T0, 0) is None
    assert due_at(T0, 2) == T0 + timedelta(minutes=6)
    assert due_at(T0, 16) == T0 + timedelta(minutes=48)
    assert is_due(None, T0)
    assert not is_due(T0 + POLL_INTERVAL, T0)
    assert is_due(T0, T0)
    assert is_due(T0, T0 + timedelta(seconds=1))


def test_a_campaign_that_stays_empty_is_checked_at_polls_spaced_two_four_eight_sixteen():
    checked = checked_polls(lambda poll: EMPTY, 100)
    assert checked == [1, 2, 3, 5, 9, 17, 33, 49, 65, 81, 97]


def test_without_the_backoff_every_poll_is_a_check():
    assert checked_polls(lambda poll: EMPTY, 30, RetrySettings(warning_threshold=3)) == list(
        range(1, 31)
    )


def test_assets_arriving_are_found_at_the_next_due_check_and_the_schedule_starts_over():
    def folder(poll):
        # Assets uploaded at poll 11; back at A1 with an empty folder from poll 18 on.
        return ASSETS if 11 <= poll <= 17 else EMPTY

    checked = checked_polls(folder, 40)
    # Due at 17 (after 2, 4, 8 polls): found there; then every poll until warned again.
    assert checked == [1, 2, 3, 5, 9, 17, 18, 19, 20, 22, 26, 34]


warned_states = st.builds(
    RetryState,
    poll_count=st.integers(0, 60),
    consecutive_errors=st.integers(0, 2),
    warning_sent=st.booleans(),
    backoff_polls=st.integers(0, 40),
)
outcomes = st.sampled_from([ASSETS, EMPTY, MISSING])


@settings(max_examples=400, deadline=None)
@given(
    checks=st.lists(outcomes, max_size=80),
    threshold=st.integers(1, 25),
    cap=st.none() | st.integers(1, 40),
)
def test_invariants_over_random_histories(checks, threshold, cap):
    rules = RetrySettings(warning_threshold=threshold, empty_backoff_max_polls=cap)
    state = RetryState()
    for check in checks:
        if state.permanently_failed:
            break
        decision = decide(check, state, rules)
        wait = decision.state.backoff_polls
        if cap is None or check is not EMPTY or not decision.state.warning_sent:
            assert wait == 0
        else:
            assert wait == min(max(2, state.backoff_polls * 2), cap)
            assert 1 <= wait <= cap
        state = decision.state


@settings(max_examples=300, deadline=None)
@given(state=warned_states, check=outcomes, cap=st.integers(1, 40))
def test_the_backoff_never_changes_the_action(state, check, cap):
    """With or without the backoff, a check is decided alike; only the wait differs."""
    off = RetrySettings(warning_threshold=3)
    on = RetrySettings(warning_threshold=3, empty_backoff_max_polls=cap)
    with_backoff, without = decide(check, state, on), decide(check, state, off)
    assert with_backoff.action is without.action
    assert with_backoff.state.poll_count == without.state.poll_count
    assert with_backoff.state.warning_sent == without.state.warning_sent
    assert without.state.backoff_polls == 0
