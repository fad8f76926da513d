"""The Box request ceiling: requests of every hook and thread, in any task, are spaced out."""

import itertools
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from campaigns.hooks.box import BoxHook
from campaigns.hooks.box_rate import SharedRate
from sandbox.box.fixture import campaign_folder
from tests.integration._box_fixtures import start_box_fixture  # noqa: F401 (a fixture)

ITEMS = "GET /2.0/folders/{folder_id}/items"


def test_requests_never_exceed_the_rate(start_box, tracking_db_url):
    """Lower bound only: a loaded machine can make this slower, never faster, so it cannot flake."""
    folders = [campaign_folder(f"c{i}", assets=["a.jpg"]) for i in range(24)]
    box = start_box(*folders)
    hook = BoxHook(requests_per_minute=1200)  # one request every 50 ms
    hook.get_client()
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        checks = list(pool.map(lambda i: hook.list_master_assets(f"c{i}-ma"), range(24)))
    elapsed = time.monotonic() - started
    assert all(len(found) == 1 for found in checks)
    assert box.counters()[ITEMS] == 24
    # 24 requests (plus the token) evenly spaced at 50 ms: the last starts >= 23 * 50 ms in.
    assert elapsed >= 23 * 0.05


def test_no_ceiling_by_default(start_box):
    box = start_box(campaign_folder("c1", assets=["a.jpg"]))
    assert len(BoxHook().list_master_assets("c1-ma")) == 1
    assert box.counters()[ITEMS] == 1


def test_threads_share_one_token_after_sign_in(start_box):
    box = start_box(*[campaign_folder(f"c{i}", assets=["a.jpg"]) for i in range(16)])
    hook = BoxHook()
    hook.sign_in()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: hook.list_master_assets(f"c{i}-ma"), range(16)))
    counters = box.counters()
    assert counters["POST /oauth2/token"] == 1
    assert counters[ITEMS] == 16


def test_one_task_alone_may_use_the_whole_rate(tracking_db_url):
    """Back-to-back slots of one taker, as the database hands them out: one interval apart.

    Half a second each, so only a stall of that long between two requests could widen a gap.
    """
    rate = SharedRate(f"rate-{uuid.uuid4().hex[:8]}", 120)
    try:
        slots = [rate.take() for _ in range(4)]
    finally:
        rate.close()
    assert [b - a for a, b in itertools.pairwise(slots)] == [timedelta(milliseconds=500)] * 3


def test_two_tasks_share_one_rate(tracking_db_url):
    """Slots of two takers on four threads: never closer than the interval, whoever takes them."""
    key = f"rate-{uuid.uuid4().hex[:8]}"
    first, second = SharedRate(key, 6000), SharedRate(key, 6000)  # one every 10 ms
    try:
        with ThreadPoolExecutor(4) as pool:
            slots = sorted(pool.map(lambda n: (first, second)[n % 2].take(), range(40)))
    finally:
        first.close()
        second.close()
    assert all(b - a >= timedelta(milliseconds=10) for a, b in itertools.pairwise(slots))


def test_a_hook_with_a_ceiling_takes_its_slots_from_the_tracking_database(
    start_box, tracking_db_url
):
    from campaigns.hooks.retry_state import RetryStateHook

    start_box(campaign_folder("c1", assets=["a.jpg"]))
    before = RetryStateHook().get_first(
        "SELECT next_at FROM box_request_slots WHERE rate_key = 'box_default'"
    )
    assert len(BoxHook(requests_per_minute=600).list_master_assets("c1-ma")) == 1
    (after,) = RetryStateHook().get_first(
        "SELECT next_at FROM box_request_slots WHERE rate_key = 'box_default'"
    )
    assert before is None or after > before[0]


def test_slots_are_taken_a_second_s_worth_at_a_time(tracking_db_url):
    from campaigns.hooks.retry_state import RetryStateHook

    key = f"rate-{uuid.uuid4().hex[:8]}"
    rate = SharedRate(key, 600)  # ten a second: one block
    try:
        slots = [rate.take() for _ in range(10)]
    finally:
        rate.close()
    (next_at,) = RetryStateHook().get_first(
        "SELECT next_at FROM box_request_slots WHERE rate_key = %s", parameters=(key,)
    )
    # One statement took all ten: the database's next slot is the block's end.
    assert next_at == slots[0] + timedelta(seconds=1)
    assert slots[-1] == slots[0] + timedelta(milliseconds=900)


def test_slots_left_behind_are_not_spent_in_a_burst(tracking_db_url):
    """Idle past a few slots of its block, a taker skips them instead of sending at once."""
    rate = SharedRate(f"rate-{uuid.uuid4().hex[:8]}", 600)
    try:
        first = rate.take()
        time.sleep(0.35)
        later = rate.take()
    finally:
        rate.close()
    assert later - first >= timedelta(milliseconds=200)
