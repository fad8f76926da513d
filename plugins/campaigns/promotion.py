"""One campaign's promotion, decided at ``decide``: look at its Master Assets again, import what
is missing into its DAM folder, move it to A2, stamp it in the tracking database.

Each step is safe to run again (a cleared or killed ``reset``): the asset ledger, keyed by Box
file id and content (sha1), says what is in the DAM already; an import that landed before its
ledger row was written is found among the folder's children by its DAM name and size.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from campaigns import metrics
from campaigns.errors import CampaignLocked, FolderError
from campaigns.settle import is_ready_marker
from campaigns.stages import PROMOTED_STATUS, WAITING_STATUS

if TYPE_CHECKING:
    from campaigns.hooks.box import BoxHook
    from campaigns.hooks.dam import DamHook
    from campaigns.hooks.retry_state import RetryStateHook
    from campaigns.settings import PipelineSettings

# How a subfolder's "/" is written in a DAM name: an upload's file name is a name, not a path.
PATH_SEPARATOR = " - "


class Result(StrEnum):
    """How one campaign's promotion ended this run."""

    PROMOTED = "promoted"
    CHANGED = "changed since the check"
    WAITING_FOR_LOCK = "waiting for the DAM lock"


@dataclass(frozen=True)
class Promotion:
    """The promotion of the campaigns of one ``reset`` batch, over its Box, DAM and tracking
    database hooks, logging to the task's log."""

    settings: PipelineSettings
    box: BoxHook
    dam: DamHook
    state: RetryStateHook
    log: logging.Logger

    def promote(self, campaign: dict[str, Any]) -> Result:
        """Promote one campaign decided for reset, the steps in order; how it ended."""
        tracked = self.state.get_a1_retry_status(campaign["campaign_id"])
        if tracked is not None and tracked.status == PROMOTED_STATUS:
            # Moved by an earlier try since this run found it at A1: a folder changed since then
            # must not take back its announcements (webhook, asset event) for the retry.
            self.log.info("%s: moved to %s already", campaign["number"], PROMOTED_STATUS)
            return Result.PROMOTED
        assets = self.look_again(campaign)
        if assets is None:
            return Result.CHANGED
        self.import_missing(campaign, assets)
        return self.move_and_stamp(campaign)

    def look_again(self, campaign: dict[str, Any]) -> list[dict[str, Any]] | None:
        """The campaign's Master Assets now (the ready marker left out, as the check does), or
        None (logged) when they differ from the check's.

        A passing Box outage raises for a retry; a folder error now is a change: no strike here,
        the next poll's check judges the folder.
        """
        then = campaign["assets"]
        try:
            found = self.box.check_campaign_folder(
                campaign["box_folder_id"],
                self.settings.master_assets_folder_names,
                campaign.get("master_assets_folder_id"),
            )
        except FolderError as error:
            self.log.info(
                "%s: Master Assets changed since the check (%d files then, unreadable now: %s); "
                "left for the next poll",
                campaign["number"],
                len(then),
                error.reason,
            )
            return None
        marker = self.settings.ready_marker
        now = [asdict(a) for a in found.assets if not is_ready_marker(a.name, marker)]
        if contents(now) != contents(then):
            self.log.info(
                "%s: Master Assets changed since the check (%d files then, %d now); "
                "left for the next poll",
                campaign["number"],
                len(then),
                len(now),
            )
            return None
        return now

    def import_missing(self, campaign: dict[str, Any], assets: Sequence[Mapping[str, Any]]) -> None:
        """Bring into the campaign's DAM folder each asset the ledger lacks, and record it."""
        dam, state, campaign_id = self.dam, self.state, campaign["campaign_id"]
        ledger = state.get_imported_assets(campaign_id)
        imported = {(row["box_file_id"], row["sha1"]) for row in ledger}
        landed = unrecorded_children(dam.list_folder_children(campaign_id), ledger)
        for asset in assets:
            if (asset["file_id"], asset["sha1"]) in imported:
                self.log.info("%s: %s imported already", campaign["number"], asset["path"])
                continue
            name = dam_name(asset["path"])
            found = landed.get((name, asset["size"]))
            if found:
                job_id, asset_id = None, found.pop(0)
            else:
                content = self.box.stream_file(asset["file_id"])
                taken = dam.import_asset(campaign_id, name, content, size=asset["size"])
                job_id, asset_id = taken.job_id, taken.asset_id
            if state.record_imported_asset(
                campaign_id,
                asset["file_id"],
                asset["sha1"],
                name,
                asset["size"],
                dam_asset_id=asset_id,
                dam_job_id=job_id,
            ):
                metrics.ASSETS_IMPORTED.send()
                metrics.BYTES_IMPORTED.send(asset["size"])
            self.log.info(
                "%s: %s imported as %r (%d bytes)",
                campaign["number"],
                asset["path"],
                name,
                asset["size"],
            )

    def move_and_stamp(self, campaign: dict[str, Any]) -> Result:
        """Move the campaign to A2 in the DAM and stamp it; a held lock leaves it at A1."""
        campaign_id = campaign["campaign_id"]
        try:
            self.dam.move_campaign(campaign_id, WAITING_STATUS, PROMOTED_STATUS)
        except CampaignLocked:
            # Someone is working on the folder: its imports stay in the ledger, no strike.
            self.state.mark_waiting_for_dam_lock(campaign_id)
            self.log.info(
                "%s %s: waiting for the DAM lock on its folder; tried again next poll",
                campaign["number"],
                campaign["name"],
            )
            return Result.WAITING_FOR_LOCK
        if self.state.mark_promoted(campaign_id, PROMOTED_STATUS):
            metrics.PROMOTIONS.send()
        self.log.info("%s %s moved to %s", campaign["number"], campaign["name"], PROMOTED_STATUS)
        return Result.PROMOTED


def dam_name(path: str) -> str:
    """An asset's name in the DAM: its path inside Master Assets, each "/" written " - "."""
    return path.replace("/", PATH_SEPARATOR)


def contents(assets: Iterable[Mapping[str, Any]]) -> Counter[tuple[str, str, int]]:
    """What a listing holds, as Box identifies it: each file's id, sha1 and size."""
    return Counter((asset["file_id"], asset["sha1"], asset["size"]) for asset in assets)


def unrecorded_children(
    children: Iterable[Mapping[str, Any]], ledger: Iterable[Mapping[str, Any]]
) -> dict[tuple[str | None, int | None], list[str]]:
    """The DAM folder's children no ledger row accounts for, their asset ids by (name, size).

    They are imports of an earlier try that died before writing their ledger row. A row holding
    an asset id accounts for that child; a row with only a job id for one child of its name and
    size (which one cannot be told, and need not be).
    """
    rows = list(ledger)
    known = {row["dam_asset_id"] for row in rows if row["dam_asset_id"]}
    by_job = Counter((row["name"], row["size_bytes"]) for row in rows if not row["dam_asset_id"])
    free: dict[tuple[str | None, int | None], list[str]] = defaultdict(list)
    for child in children:
        key = (child["name"], child["size"])
        if child["asset_id"] in known:
            continue
        if by_job[key]:
            by_job[key] -= 1
            continue
        free[key].append(child["asset_id"])
    return dict(free)
