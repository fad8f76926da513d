"""The metrics of real runs, received by a StatsD listener (a UDP socket of the test's own) through
Airflow's own Stats, configured as an operator would: ``[metrics]`` in the environment.

The task runner initializes Stats at the start of every task process (``task_runner.main``);
``dag.test()`` runs the tasks in this process, which imported Airflow (and chose its Stats backend)
before the test set ``[metrics]``: the fixture makes the task runner's call again, after the
settings. Expected values come from the scenario, the sandboxes' request counters and the mail
received, never from the metrics' code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from campaigns import metrics
from tests.conftest import throwaway_database
from tests.dags.world import Campaign
from tests.statsd_listener import PREFIX, Datagram, StatsdListener, initialize_stats

# Box's download of a file's content from its pre-signed URL: not an API call (box_calls).
PRE_SIGNED_DOWNLOAD = "GET /d/1/{download_token}/download"
DAY = 86_400


@pytest.fixture
def statsd() -> Iterator[StatsdListener]:
    """StatsD on, to a listener of the test's own, with tags in the names (InfluxDB style)."""
    listener = StatsdListener()
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AIRFLOW__METRICS__STATSD_ON", "True")
        env.setenv("AIRFLOW__METRICS__STATSD_HOST", "127.0.0.1")
        env.setenv("AIRFLOW__METRICS__STATSD_PORT", str(listener.port))
        env.setenv("AIRFLOW__METRICS__STATSD_PREFIX", PREFIX)
        env.setenv("AIRFLOW__METRICS__STATSD_INFLUXDB_ENABLED", "True")
        initialize_stats()
        yield listener
    initialize_stats()
    listener.close()


@pytest.fixture
def own_tracking_db() -> Iterator[None]:
    """A tracking database of the test's own: the state gauges count every campaign at A1."""
    with throwaway_database("tracking_db"):
        from campaigns.hooks.retry_state import RetryStateHook

        RetryStateHook().apply_migrations()
        yield


def gauges(datagrams: list[Datagram]) -> dict[str, float]:
    """Each gauge's last value, by its name under the pipeline's prefix."""
    return {short(d): d.value for d in datagrams if d.kind == "g"}


def counted(datagrams: list[Datagram], **tags: str) -> Counter[str]:
    """The counters' sums, by name under the pipeline's prefix, of the datagrams with ``tags``."""
    sums: Counter[str] = Counter()
    for d in datagrams:
        if d.kind == "c" and tags.items() <= d.tags.items():
            sums[short(d)] += int(d.value)
    return sums


def short(datagram: Datagram) -> str:
    return datagram.name.removeprefix(f"{PREFIX}.{metrics.PREFIX}.")


def calls(sandbox, leave_out: tuple[str, ...] = ()) -> int:
    """The requests a sandbox received since its counters were last reset; then reset them."""
    counters = sandbox.counters()
    sandbox.control("POST", "counters/reset")
    return sum(n for route, n in counters.items() if route not in leave_out)


def test_a_poll_s_metrics_reach_statsd_with_their_names_values_and_tags(
    statsd, own_tracking_db, make_world, uid
):
    empty = [Campaign(f"{uid}-empty-{n}") for n in range(2)]
    settling = Campaign(f"{uid}-settling")
    missing = Campaign(f"{uid}-missing", folder="no_master_assets")
    forbidden = Campaign(f"{uid}-forbidden", folder="forbidden")
    assets = {"key-visual.psd": 10_000, "logo.ai": 2_500}
    ready = Campaign(f"{uid}-ready", folder="assets", assets=assets)
    world = make_world([*empty, settling, missing, forbidden, ready], warning_threshold=2)
    # The forbidden folder's campaign fails at its first genuine error: its own limit is 1.
    world.state.upsert_campaigns(
        [{"campaign_id": forbidden.campaign_id, "number": forbidden.number, "status": "A1"}]
    )
    assert world.state.set_max_retries(forbidden.campaign_id, 1)

    first = world.run()
    assert str(first.state) == "success"
    received = statsd.take()
    # At A1 after the first poll: the two empty ones and the settling one (still empty) wait, the
    # missing folder is one error into its streak, the forbidden one failed; the ready one had
    # its assets (promoted after the poll was recorded).
    assert gauges(received) == {
        "campaigns.waiting": 3,
        "campaigns.settling": 0,
        "campaigns.warned": 0,
        "campaigns.error_streak": 1,
        "campaigns.failed": 1,
        "oldest_at_a1_seconds": pytest.approx(0, abs=3600),
    }
    assert world.dam_campaign(ready.campaign_id)["status"] == "A2"
    assert counted(received, kind="retry")["emails_sent"] == 1
    assert counted(received, kind="failed")["emails_sent"] == 1
    sums = counted(received)
    assert sums["emails_sent"] == len(world.mail.messages) == 2
    assert (sums["promotions"], sums["assets_imported"], sums["bytes_imported"]) == (
        1,
        len(assets),
        sum(assets.values()),
    )
    assert sums["box_calls"] == calls(world.box, leave_out=(PRE_SIGNED_DOWNLOAD,)) > 0
    assert sums["dam_calls"] == calls(world.dam) > 0

    # Before the second poll: files land for the settling campaign, and one empty campaign was
    # first seen three days ago.
    world.add_assets(settling, {"draft.psd": 1_000})
    with world.state.get_conn() as conn:
        conn.execute(
            "UPDATE campaign_status SET first_seen_at = now() - interval '3 days' "
            "WHERE campaign_id = %s",
            (empty[0].campaign_id,),
        )
    mails_before = len(world.mail.messages)
    second = world.run()
    assert str(second.state) == "success"
    received = statsd.take()
    # The two empty ones reach the warning threshold, the upload is 3 minutes old (settling),
    # the missing folder is two errors into its streak; the promoted one left A1.
    expected_gauges = {
        "campaigns.waiting": 2,
        "campaigns.settling": 1,
        "campaigns.warned": 2,
        "campaigns.error_streak": 1,
        "campaigns.failed": 1,
        "oldest_at_a1_seconds": pytest.approx(3 * DAY, abs=3600),
    }
    assert gauges(received) == expected_gauges
    assert counted(received, kind="warning")["emails_sent"] == 2
    assert counted(received, kind="retry")["emails_sent"] == 1
    sums = counted(received)
    assert sums["emails_sent"] == len(world.mail.messages) - mails_before == 3
    assert (sums["promotions"], sums["assets_imported"], sums["bytes_imported"]) == (0, 0, 0)
    assert sums["box_calls"] == calls(world.box, leave_out=(PRE_SIGNED_DOWNLOAD,)) > 0
    assert sums["dam_calls"] == calls(world.dam) > 0

    # The second poll cleared and run again: the same gauges; no email is sent again, so none is
    # counted; the calls it makes again are counted again.
    mails_before = len(world.mail.messages)
    assert str(world.run_again(second).state) == "success"
    received = statsd.take()
    assert gauges(received) == expected_gauges
    sums = counted(received)
    assert len(world.mail.messages) == mails_before
    assert (sums["emails_sent"], sums["promotions"], sums["assets_imported"]) == (0, 0, 0)
    assert sums["box_calls"] == calls(world.box, leave_out=(PRE_SIGNED_DOWNLOAD,)) > 0
    assert sums["dam_calls"] == calls(world.dam) > 0


def test_a_statsd_host_that_does_not_resolve_never_fails_a_task(
    statsd, make_world, uid, monkeypatch, caplog
):
    """Airflow's own path: it logs the host it cannot resolve and sends nothing."""
    monkeypatch.setenv("AIRFLOW__METRICS__STATSD_HOST", "statsd.invalid")
    initialize_stats()
    ready = Campaign(f"{uid}-ready", folder="assets", assets={"a.jpg": 100})
    world = make_world([ready, Campaign(f"{uid}-missing", folder="no_master_assets")])
    run = world.run()
    assert str(run.state) == "success"
    assert world.dam_campaign(ready.campaign_id)["status"] == "A2"
    assert len(world.mail.messages) == 1
    assert "Could not configure StatsClient" in caplog.text
    assert statsd.take() == []
