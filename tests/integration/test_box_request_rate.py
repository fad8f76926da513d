"""The Box request ceiling: requests of one hook, from any number of threads, are spaced out."""

import time
from concurrent.futures import ThreadPoolExecutor

from campaigns.hooks.box import BoxHook
from sandbox.box.fixture import campaign_folder
from tests.integration._box_fixtures import start_box_fixture  # noqa: F401 (a fixture)

ITEMS = "GET /2.0/folders/{folder_id}/items"


def test_requests_never_exceed_the_rate(start_box):
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
