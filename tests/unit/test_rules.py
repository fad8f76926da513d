"""The decision rules, case by case and over random sequences of check outcomes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.rules import (
    Action,
    CheckResult,
    Outcome,
    PermanentlyFailed,
    RetrySettings,
    RetryState,
    decide,
    reset_state,
)

ASSETS = CheckResult(Outcome.ASSETS)
EMPTY = CheckResult(Outcome.EMPTY)
SETTLING = CheckResult(Outcome.SETTLING)
MISSING = CheckResult(Outcome.FOLDER_ERROR, "Assets folder not found (tried Master Assets)")
DEFAULTS = RetrySettings()


def run(checks, state=None, rules=DEFAULTS, moved=True):
    """Apply a sequence of checks from a fresh (or given) state; the decisions in order.

    With ``moved`` each reset moves the campaign (its promotion applies ``reset_state``); without,
    someone holding its folder's lock in the DAM keeps it at A1.
    """
    state = state or RetryState()
    decisions = []
    for check in checks:
        decision = decide(check, state, rules)
        decisions.append(decision)
        state = decision.state
        if moved and decision.action is Action.RESET:
            state = reset_state(state)
    return decisions


def test_empty_folder_skips_and_counts_the_poll():
    decision = decide(EMPTY, RetryState(), DEFAULTS)
    assert decision.action is Action.SKIP
    assert decision.state.poll_count == 1
    assert not decision.state.permanently_failed


def test_warning_once_at_poll_twenty_then_silence():
    actions = [d.action for d in run([EMPTY] * 25)]
    assert actions[:19] == [Action.SKIP] * 19
    assert actions[19] is Action.WARN
    assert actions[20:] == [Action.SKIP] * 5


def test_warning_when_the_threshold_poll_was_missed():
    # The seed warned only when the count *equalled* 20; a campaign already past it is warned now.
    state = RetryState(poll_count=24)
    decision = decide(EMPTY, state, DEFAULTS)
    assert decision.action is Action.WARN
    assert decision.state.warning_sent


def test_warning_after_the_threshold_is_lowered():
    state = RetryState(poll_count=12)
    assert decide(EMPTY, state, RetrySettings(warning_threshold=10)).action is Action.WARN


def test_empty_folders_never_fail_a_campaign():
    decisions = run([EMPTY] * 500)
    assert all(not d.state.permanently_failed for d in decisions)
    assert decisions[-1].state.poll_count == 500


def test_three_genuine_errors_in_a_row_fail():
    decisions = run([MISSING] * 3)
    assert [d.action for d in decisions] == [Action.RETRY, Action.RETRY, Action.FAIL]
    assert [d.attempt for d in decisions] == [1, 2, 3]
    final = decisions[-1].state
    assert final.permanently_failed
    assert final.failure_reason == "Assets folder not found (tried Master Assets)"
    assert decisions[-1].reason == final.failure_reason


def test_empty_polls_before_an_error_do_not_count_as_strikes():
    # The seed shared one counter: five empty polls then one error failed the campaign at once.
    decisions = run([EMPTY] * 5 + [MISSING])
    assert decisions[-1].action is Action.RETRY
    assert decisions[-1].attempt == 1
    assert decisions[-1].state.poll_count == 6


def test_a_poll_that_finds_the_folder_ends_the_streak():
    decisions = run([MISSING, MISSING, EMPTY, MISSING, MISSING, EMPTY, MISSING])
    assert Action.FAIL not in [d.action for d in decisions]
    assert decisions[-1].attempt == 1
    assert decisions[2].state.failure_reason is None


def test_assets_found_while_the_dam_lock_is_held_end_the_streak_too():
    decisions = run([MISSING, MISSING, ASSETS, MISSING, MISSING], moved=False)
    assert [d.action for d in decisions] == [Action.RETRY] * 2 + [Action.RESET] + [Action.RETRY] * 2
    assert decisions[2].state.failure_reason is None
    assert decisions[-1].attempt == 2


def test_campaign_limit_overrides_the_global_one():
    state = RetryState(max_retries=5)
    decisions = run([MISSING] * 5, state)
    assert [d.action for d in decisions] == [Action.RETRY] * 4 + [Action.FAIL]
    assert run([MISSING], RetryState(max_retries=1))[0].action is Action.FAIL


def test_assets_decide_a_reset_that_clears_the_counters_only_once_the_campaign_moved():
    stuck = RetryState(
        poll_count=30,
        consecutive_errors=2,
        warning_sent=True,
        failure_reason="No access",
        max_retries=4,
        episode=3,
        backoff_polls=8,
    )
    decision = decide(ASSETS, stuck, DEFAULTS)
    assert decision.action is Action.RESET
    assert decision.state == RetryState(
        poll_count=31, warning_sent=True, max_retries=4, episode=3, backoff_polls=0
    )
    assert reset_state(decision.state) == RetryState(max_retries=4, episode=4)


def test_stuck_again_after_promotion_is_warned_again():
    decisions = run([EMPTY] * 20 + [ASSETS] + [EMPTY] * 20)
    warned = [i for i, d in enumerate(decisions) if d.action is Action.WARN]
    assert warned == [19, 40]
    assert [d.state.episode for d in decisions] == [1] * 21 + [2] * 20


def test_waiting_for_the_dam_lock_for_many_polls_stays_one_episode_warned_once():
    decisions = run([EMPTY] * 20 + [ASSETS] * 30 + [EMPTY] * 25, moved=False)
    assert [d.action for d in decisions[20:50]] == [Action.RESET] * 30
    warned = [i for i, d in enumerate(decisions) if d.action is Action.WARN]
    assert warned == [19]
    assert {d.state.episode for d in decisions} == {1}
    assert [d.state.poll_count for d in decisions] == list(range(1, 76))


def test_a_settling_folder_is_skipped_silently_and_counted():
    decision = decide(SETTLING, RetryState(), DEFAULTS)
    assert decision.action is Action.SKIP
    assert decision.state.poll_count == 1


def test_a_settling_folder_never_brings_the_warning_even_past_the_threshold():
    decisions = run([SETTLING] * 25)
    assert {d.action for d in decisions} == {Action.SKIP}
    assert not decisions[-1].state.warning_sent
    # Once it has settled, the campaign is promoted as if it had been found full at once.
    assert run([SETTLING] * 25 + [ASSETS])[-1].action is Action.RESET


def test_a_settling_folder_ends_the_error_streak_and_the_backoff():
    state = RetryState(poll_count=30, consecutive_errors=2, failure_reason="x", warning_sent=True)
    decision = decide(SETTLING, replace(state, backoff_polls=8), DEFAULTS)
    assert decision.state == replace(
        state, poll_count=31, consecutive_errors=0, failure_reason=None, backoff_polls=0
    )
    assert run([MISSING, MISSING, SETTLING, MISSING])[-1].action is Action.RETRY


def test_permanently_failed_campaign_is_not_polled():
    with pytest.raises(PermanentlyFailed):
        decide(EMPTY, RetryState(permanently_failed=True), DEFAULTS)


def test_folder_error_needs_a_reason():
    with pytest.raises(ValueError):
        CheckResult(Outcome.FOLDER_ERROR)


def test_settings_refuse_thresholds_below_one():
    with pytest.raises(ValueError):
        RetrySettings(warning_threshold=0)
    with pytest.raises(ValueError):
        RetrySettings(max_consecutive_errors=0)


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("errors", [0, 1, 2])
@pytest.mark.parametrize("polls", [0, 18, 19, 20, 21])
@pytest.mark.parametrize("warned", [False, True])
def test_every_state_and_outcome(outcome, errors, polls, warned):
    """The whole table: each outcome from each interesting state, against the rules as written."""
    check = MISSING if outcome is Outcome.FOLDER_ERROR else CheckResult(outcome)
    state = RetryState(poll_count=polls, consecutive_errors=errors, warning_sent=warned)
    decision = decide(check, state, DEFAULTS)
    if outcome is Outcome.ASSETS:
        expected = Action.RESET
    elif outcome is Outcome.EMPTY:
        expected = Action.WARN if polls + 1 >= 20 and not warned else Action.SKIP
    elif outcome is Outcome.SETTLING:
        expected = Action.SKIP
    else:
        expected = Action.FAIL if errors + 1 >= 3 else Action.RETRY
    assert decision.action is expected
    assert decision.state.poll_count == polls + 1
    assert decision.state.warning_sent == (warned or expected is Action.WARN)
    assert decision.state.episode == state.episode
    found = outcome is not Outcome.FOLDER_ERROR
    assert decision.state.consecutive_errors == (0 if found else errors + 1)
    assert decision.state.permanently_failed == (expected is Action.FAIL)


outcomes = st.sampled_from(
    [ASSETS, EMPTY, SETTLING, MISSING, CheckResult(Outcome.FOLDER_ERROR, "No access")]
)
limits = st.builds(
    RetrySettings,
    warning_threshold=st.integers(1, 30),
    max_consecutive_errors=st.integers(1, 6),
)


@settings(max_examples=400, deadline=None)
@given(
    history=st.lists(st.tuples(outcomes, st.booleans()), max_size=120),
    rules=limits,
    own_limit=st.none() | st.integers(1, 6),
)
def test_invariants_over_random_histories(history, rules, own_limit):
    """Each check comes with whether a reset it decides moves the campaign (or the lock holds)."""
    state = RetryState(max_retries=own_limit)
    limit = own_limit or rules.max_consecutive_errors
    warnings_this_episode = 0
    streak = 0
    for check, moved in history:
        if state.permanently_failed:
            break
        decision = decide(check, state, rules)
        new = decision.state
        assert new.episode == state.episode, "only a move starts a new episode"
        if check.outcome is Outcome.ASSETS:
            assert decision.action is Action.RESET
            assert new == replace(
                state,
                poll_count=state.poll_count + 1,
                consecutive_errors=0,
                failure_reason=None,
                backoff_polls=0,
            )
            streak = 0
        elif check.outcome is Outcome.EMPTY:
            streak = 0
            assert not new.permanently_failed, "an empty folder never fails a campaign"
            assert decision.action in (Action.SKIP, Action.WARN)
        elif check.outcome is Outcome.SETTLING:
            streak = 0
            assert decision.action is Action.SKIP, "files arriving: no email, no strike"
            assert new == replace(
                state,
                poll_count=state.poll_count + 1,
                consecutive_errors=0,
                failure_reason=None,
                backoff_polls=0,
            )
        else:
            streak += 1
            assert new.consecutive_errors == streak
            assert decision.action is (Action.FAIL if streak == limit else Action.RETRY)
            assert new.permanently_failed == (streak >= limit)
        if decision.action is Action.WARN:
            warnings_this_episode += 1
            assert new.poll_count >= rules.warning_threshold
        assert warnings_this_episode <= 1, "never more than one warning per episode"
        assert new.poll_count == state.poll_count + 1
        state = new
        if moved and decision.action is Action.RESET:
            state = reset_state(new)
            warnings_this_episode = 0


@settings(max_examples=200, deadline=None)
@given(empties=st.integers(0, 60), threshold=st.integers(1, 40))
def test_a_stuck_episode_is_always_warned_once_it_reaches_the_threshold(empties, threshold):
    rules = RetrySettings(warning_threshold=threshold)
    decisions = run([EMPTY] * empties, rules=rules)
    warned = [d for d in decisions if d.action is Action.WARN]
    assert len(warned) == (1 if empties >= threshold else 0)
