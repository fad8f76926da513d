"""The four stages of a poll: fetch, select, check, decide; each a plain function a task calls.

Values crossing from one stage to the next are plain dicts (they travel as XCom):
a *campaign* has ``campaign_id``, ``number``, ``name``, ``status``, ``box_folder_id`` and, once
selected, ``master_assets_folder_id``; a *check* adds ``outcome``, ``reason``, ``assets`` and
(the folder found) the settle verdict, ``settled`` and ``last_change_at`` (ISO text or None);
a *decided* campaign adds ``action``, ``poll_count``, ``attempt``, ``max_attempts``, ``episode``.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from datetime import datetime
from typing import Any

from campaigns.errors import FolderError
from campaigns.names import comparable_id
from campaigns.rules import Action, CheckResult, Outcome, is_due
from campaigns.settings import VARIABLE, PipelineSettings
from campaigns.settle import FileSeen, Settling, Snapshot, is_ready_marker, settle, settling_text

log = logging.getLogger(__name__)

WAITING_STATUS = "A1"
PROMOTED_STATUS = "A2"
# What the tracking table says of a campaign moved out of A1 in the DAM by hand.
LEFT_STATUS = "left A1"


def run_settings(params: dict[str, Any] | None) -> PipelineSettings:
    """The settings of this run: the Variable, then the run's params over it."""
    from airflow.sdk import Variable

    stored = Variable.get(VARIABLE, default=None, deserialize_json=True)
    return PipelineSettings.from_sources(stored, params)


def fetch_campaigns() -> dict[str, list[dict[str, Any]]]:
    """The campaigns at A1 in the DAM (all pages), recorded in the tracking database.

    Tracked campaigns at A1 that a whole search no longer returns are marked as having left it;
    after a search that shifted on every read, nobody is.
    """
    from campaigns.hooks.dam import DamHook
    from campaigns.hooks.retry_state import RetryStateHook

    with DamHook() as dam:
        found = dam.get_campaigns(WAITING_STATUS)
    campaigns = [asdict(campaign) for campaign in found.campaigns]
    state = RetryStateHook()
    state.upsert_campaigns(campaigns)
    seen = [c["campaign_id"] for c in campaigns] + [
        b.campaign_id for b in found.bad if b.campaign_id
    ]
    if found.whole:
        left = state.mark_left(WAITING_STATUS, LEFT_STATUS, seen)
        if left:
            log.info("%d campaigns left A1 in the DAM: %s", len(left), ", ".join(left[:20]))
    else:
        log.warning(
            "The DAM's search changed on every read: no campaign is marked %r this poll, and "
            "every campaign a read found is polled",
            LEFT_STATUS,
        )
    bad = [{"campaign_id": b.campaign_id, "reason": b.reason} for b in found.bad]
    for record in bad:
        log.warning("Campaign %r skipped, its DAM metadata is unusable: %s", *record.values())
    log.info(
        "%d campaigns at %s, %d with unusable metadata", len(campaigns), WAITING_STATUS, len(bad)
    )
    return {"campaigns": campaigns, "bad": bad}


def select_campaigns(
    campaigns: list[dict[str, Any]], settings: PipelineSettings, run_id: str, run_at: datetime
) -> tuple[list[list[dict[str, Any]]], dict[str, Any]]:
    """Drop permanently failed campaigns, then those backing off; pick those to list in Box, then
    apply the cap to them: their batches, and the poll's watch (the campaigns no Box event
    touched, decided as their last listing found them, and the run's feed read).

    With ``auto_reset_failed_after_days``, campaigns failed that long ago are reset first and
    polled in this run. The failed and backing-off ones go before the cap so that they never
    take a slot; under a cap the campaigns polled longest ago come first.
    """
    from campaigns.admin import auto_reset_failed
    from campaigns.box_watch import plan_listing
    from campaigns.hooks.retry_state import RetryStateHook

    state = RetryStateHook()
    if settings.auto_reset_failed_after_days:
        auto_reset_failed(state, settings.auto_reset_failed_after_days, run_id)
    tracked = state.get_campaigns([c["campaign_id"] for c in campaigns])
    active = [
        {**c, "master_assets_folder_id": tracked[c["campaign_id"]].master_assets_folder_id}
        for c in campaigns
        if not tracked[c["campaign_id"]].state.permanently_failed
    ]
    log.info("%d permanently failed campaigns left out", len(campaigns) - len(active))
    if settings.empty_backoff_after_warning:
        due = {
            c["campaign_id"]
            for c in active
            if is_due(tracked[c["campaign_id"]].next_check_at, run_at)
        }
        resting = sorted(c["number"] for c in active if c["campaign_id"] not in due)
        log.info(
            "%d warned campaigns, still empty, backing off until a later poll: %s",
            len(resting),
            ", ".join(resting[:20]) or "none",
        )
        active = [c for c in active if c["campaign_id"] in due]
    plan = plan_listing(active, settings, state, tracked, run_id, run_at)
    to_list = plan.to_list
    if settings.max_campaigns_per_run and len(to_list) > settings.max_campaigns_per_run:
        to_list.sort(key=lambda c: _polled_at_key(tracked[c["campaign_id"]].last_polled_at))
        to_list = to_list[: settings.max_campaigns_per_run]
        log.info("Capped at %d campaigns to list this run", settings.max_campaigns_per_run)
    watch = {
        "stream_key": plan.read and plan.read.stream_key,
        "listed": [c["campaign_id"] for c in to_list],
        "unchanged": plan.unchanged,
    }
    # One batch at least, even empty: decide must run after a check (it advances the feed).
    return batches(to_list, settings.batch_size(len(to_list))) or [[]], watch


def check_campaigns(
    campaigns: list[dict[str, Any]], settings: PipelineSettings, looked_at: datetime
) -> list[dict[str, Any]]:
    """Look at each campaign's Master Assets folder; a passing Box outage raises for a retry.

    Files present make *assets* once the tree has settled by ``looked_at`` (the run's time),
    compared with the last look the tracking database keeps; *settling* until then.
    """
    from campaigns.hooks.box import BoxHook
    from campaigns.hooks.retry_state import RetryStateHook

    if not campaigns:
        log.info("No campaign to list in Box this poll")
        return []
    previous = RetryStateHook().get_snapshots([c["campaign_id"] for c in campaigns])
    box = BoxHook(requests_per_minute=settings.box_requests_per_minute)
    box.sign_in()

    def check(campaign: dict[str, Any]) -> dict[str, Any]:
        try:
            found = box.check_campaign_folder(
                campaign["box_folder_id"],
                settings.master_assets_folder_names,
                campaign.get("master_assets_folder_id"),
            )
        except FolderError as error:
            return {
                **campaign,
                "outcome": Outcome.FOLDER_ERROR.value,
                "reason": error.reason,
                "folder_ids": [comparable_id(campaign["box_folder_id"] or "")],
            }
        assets = [a for a in found.assets if not is_ready_marker(a.name, settings.ready_marker)]
        verdict = settle(
            previous.get(campaign["campaign_id"]),
            [
                FileSeen(a.file_id, a.sha1, a.size, datetime.fromisoformat(a.changed_at))
                for a in assets
            ],
            looked_at,
            settings.settle_minutes,
            ready_marker_seen=len(assets) < len(found.assets),
        )
        if not assets:
            outcome = Outcome.EMPTY
        else:
            outcome = Outcome.ASSETS if verdict.settled else Outcome.SETTLING
        return {
            **campaign,
            "outcome": outcome.value,
            "reason": None,
            "master_assets_folder_id": found.master_assets_folder_id,
            "folder_ids": list(found.folder_ids),
            "assets": [asdict(asset) for asset in assets],
            "settled": verdict.settled,
            "last_change_at": _iso(verdict.last_change_at),
        }

    with ThreadPoolExecutor(min(settings.box_concurrency, len(campaigns) or 1)) as pool:
        checked = list(pool.map(check, campaigns))
    for result in checked:
        detail = _detail(result, looked_at)
        log.info(
            "%s (%s): %s%s%s",
            result["number"],
            result["campaign_id"],
            result["outcome"],
            f" - {detail}" if detail else "",
            f" (listed: {why})" if (why := result.get("listed_for")) else "",
        )
    return checked


def settle_verdict(checked: dict[str, Any]) -> Settling | None:
    """The settle verdict a check carries, with the snapshot to keep; None for a folder error or
    a campaign not listed (unchanged: its last look stands)."""
    if checked["outcome"] == Outcome.FOLDER_ERROR.value or checked.get("unchanged"):
        return None
    last_change_at = checked["last_change_at"] and datetime.fromisoformat(checked["last_change_at"])
    files = {a["file_id"]: (a["sha1"], a["size"]) for a in checked["assets"]}
    return Settling(checked["settled"], last_change_at, Snapshot(files, last_change_at))


def _detail(result: dict[str, Any], looked_at: datetime) -> str | None:
    """The log's detail of a check: a folder error's reason, or how a settling tree stands."""
    if result["outcome"] != Outcome.SETTLING.value:
        return result["reason"]
    verdict = settle_verdict(result)
    return settling_text(len(result["assets"]), verdict.quiet_for(looked_at))


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def decide_actions(
    checked: list[dict[str, Any]],
    watch: dict[str, Any],
    run_id: str,
    settings: PipelineSettings,
    run_at: datetime,
) -> dict[str, list[list[dict[str, Any]]]]:
    """Record each campaign's poll of this run once, group the campaigns by action and set the
    campaign state gauges (``campaigns.metrics``).

    ``watch`` is select's: the campaigns decided without a listing (unchanged) join those
    checked, and the run's read of Box's change feed advances once every listing is in.
    ``run_at`` (the run's time) is when a warned empty campaign's backoff counts from.
    """
    from campaigns.box_watch import unchanged_check, watch_record
    from campaigns.hooks.retry_state import RetryStateHook
    from campaigns.metrics import send_campaign_gauges

    state = RetryStateHook()
    record = watch_record(checked, watch["listed"], run_id, watch["stream_key"], state)
    if not record.complete:
        log.warning(
            "Not every campaign listed in Box was checked: Box's change feed is read again from "
            "the same position next poll"
        )
    checked = checked + [unchanged_check(c) for c in watch["unchanged"]]
    state.cache_master_assets_folders(
        {
            c["campaign_id"]: c["master_assets_folder_id"]
            for c in checked
            if c.get("master_assets_folder_id")
        }
    )
    checks = {c["campaign_id"]: CheckResult(Outcome(c["outcome"]), c["reason"]) for c in checked}
    looks = {c["campaign_id"]: look for c in checked if (look := settle_verdict(c))}
    decisions = state.record_polls(
        run_id, checks, settings.rules, checked_at=run_at, looks=looks, watch=record
    )
    by_action: dict[str, list[dict[str, Any]]] = {action.value: [] for action in Action}
    for campaign in checked:
        decision = decisions.get(campaign["campaign_id"])
        if decision is None:
            log.warning(
                "%s was marked permanently failed meanwhile; left alone", campaign["number"]
            )
            continue
        by_action[decision.action.value].append(
            {
                **campaign,
                "action": decision.action.value,
                "poll_count": decision.state.poll_count,
                "attempt": decision.attempt,
                "max_attempts": settings.rules.error_limit(decision.state),
                "reason": decision.reason or campaign["reason"],
                "episode": decision.state.episode,
            }
        )
    log.info("Actions: %s", ", ".join(f"{a} {len(c)}" for a, c in by_action.items()))
    send_campaign_gauges(state, WAITING_STATUS)
    return {
        action: batches(campaigns, settings.batch_size(len(campaigns)))
        for action, campaigns in by_action.items()
    }


def poll_report(
    selected: list[dict[str, Any]], decided: dict[str, list[dict[str, Any]]]
) -> dict[str, int]:
    """Campaigns per action; raises when a selected campaign got no decision (Box unreachable).

    Both are batch references (``refer``): select's to check, decide's per action.
    """
    counts = {
        action: sum(len(ref["campaigns"]) for ref in decided.get(action, []))
        for action in (a.value for a in Action)
    }
    handled = {
        campaign for refs in decided.values() for ref in refs for campaign in ref["campaigns"]
    }
    unchecked = sorted(
        number
        for ref in selected
        for campaign, number in ref["campaigns"].items()
        if campaign not in handled
    )
    log.info("This poll: %s", ", ".join(f"{action} {n}" for action, n in counts.items()))
    if unchecked:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(
            f"{len(unchecked)} campaigns could not be checked this poll (no strike given, "
            f"checked again next poll): {', '.join(unchecked[:20])}"
        )
    return counts


def batches(items: list[dict[str, Any]], size: int) -> list[list[dict[str, Any]]]:
    """Consecutive slices of ``size`` items."""
    return [items[i : i + size] for i in range(0, len(items), size)]


def refer(name: str, batches_: list[list[dict[str, Any]]], push: Any) -> list[dict[str, Any]]:
    """Each non-empty batch pushed as an XCom of its own (key ``<name> <n>``); what a mapped
    instance is given instead: that key, its grid label and its campaigns (id: number).

    An instance expanded over a plain task's list pulls the whole list: 32 instances over 5,000
    campaigns would each read them all, so each reads only its own batch (``pull_batch``).
    """
    refs = []
    for index, batch in enumerate(batches_):
        key = f"{name} {index}" if batch else None
        if key:
            push(key=key, value=batch)
        refs.append(
            {
                "key": key,
                "label": batch_label(batch),
                "campaigns": {c["campaign_id"]: c["number"] for c in batch},
            }
        )
    return refs


def pull_batch(ref: dict[str, Any], task_id: str, ti: Any) -> list[dict[str, Any]]:
    """The batch ``ref`` names, from ``task_id``'s XComs of this run."""
    if ref["key"] is None:
        return []
    batch = ti.xcom_pull(task_ids=task_id, key=ref["key"])
    if batch is None:
        from campaigns.errors import NotRetryable

        raise NotRetryable(
            f"the batch {ref['key']!r} ({ref['label']}) is not among the XComs of {task_id!r} "
            f"in this run: clear {task_id!r} and the tasks after it"
        )
    return batch


def batch_label(campaigns: list[dict[str, Any]]) -> str:
    """How a mapped instance is named in the grid: its campaign, or its first and how many more."""
    if not campaigns:
        return "no campaigns"
    first = f"{campaigns[0]['number']} {campaigns[0]['name']}"[:80]
    return first if len(campaigns) == 1 else f"{first} (+{len(campaigns) - 1} more)"


def _polled_at_key(polled_at: Any) -> tuple[int, Any]:
    return (0, 0) if polled_at is None else (1, polled_at)
