"""RetryStateHook: every statement on the tracking tables, read from ``include/sql/``."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from airflow.providers.postgres.hooks.postgres import PostgresHook
from psycopg.rows import dict_row

from campaigns import sql
from campaigns.rules import (
    Action,
    CheckResult,
    Decision,
    Outcome,
    PermanentlyFailed,
    RetrySettings,
    RetryState,
    decide,
    due_at,
)
from campaigns.settle import Settling, Snapshot
from campaigns.watch import EventRead, Watched, WatchRecord, missed, still_proving

log = logging.getLogger(__name__)


class MigrationChanged(RuntimeError):
    """An applied migration file was edited afterwards: the schema no longer matches the files."""


@dataclass(frozen=True)
class TrackedCampaign:
    """A campaign as the tracking database knows it: identity, Box folders and retry state.

    ``waiting_for_dam_lock_since``: since when someone's lock on its DAM folder keeps it at A1.
    """

    campaign_id: str
    campaign_number: str | None
    campaign_name: str | None
    status: str | None
    box_folder_id: str | None
    master_assets_folder_id: str | None
    state: RetryState
    last_polled_at: datetime | None
    warning_sent_at: datetime | None
    promoted_to_a2_at: datetime | None
    next_check_at: datetime | None
    waiting_for_dam_lock_since: datetime | None


@dataclass(frozen=True)
class Notification:
    """A row of the notification ledger; ``sent_at`` is None until the send succeeded."""

    id: int
    campaign_id: str | None
    kind: str
    channel: str
    episode: int
    attempt: int
    run_id: str
    claimed_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True)
class ManualOperation:
    """An audit row of ``manual_operations``: who did what, with which values, in which run."""

    performed_by: str
    operation: str
    details: Mapping[str, Any] = field(default_factory=dict)
    run_id: str | None = None


class RetryStateHook(PostgresHook):
    """The campaigns' retry state in the tracking database (PostgreSQL)."""

    conn_name_attr = "postgres_conn_id"
    default_conn_name = "tracking_db"
    conn_type = "postgres"
    hook_name = "Campaign tracking database"

    @contextmanager
    def _cursor(self) -> Iterator[Any]:
        """One transaction on a fresh connection: committed on success, rolled back on error."""
        conn = self.get_conn()
        try:
            with conn.cursor(row_factory=dict_row) as cursor:
                yield cursor
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
        finally:
            conn.close()

    # Schema

    def apply_migrations(self) -> list[str]:
        """Apply the migrations not applied yet, each once and in its own transaction."""
        applied_now: list[str] = []
        conn = self.get_conn()
        conn.autocommit = True
        try:
            conn.execute(sql.load("migrate/lock"))
            try:
                conn.execute(sql.load("migrate/create_ledger"))
                applied = dict(conn.execute(sql.load("migrate/applied")).fetchall())
                for version, statements in sql.migrations():
                    checksum = hashlib.sha256(statements.encode()).hexdigest()
                    if version in applied:
                        if applied[version] != checksum:
                            raise MigrationChanged(f"migration {version} was edited after it ran")
                        continue
                    with conn.transaction():
                        conn.execute(statements)
                        conn.execute(
                            sql.load("migrate/record"), {"version": version, "checksum": checksum}
                        )
                    applied_now.append(version)
            finally:
                conn.execute(sql.load("migrate/unlock"))
        finally:
            conn.close()
        return applied_now

    # Campaigns and their state

    def upsert_campaigns(self, campaigns: Iterable[Mapping[str, str | None]]) -> None:
        """Record campaigns from the DAM (keys campaign_id, number, name, status, box_folder_id)."""
        rows = list(campaigns)
        if not rows:
            return
        with self._cursor() as cursor:
            cursor.execute(
                sql.load("retry_state/upsert_campaigns"),
                {
                    "campaign_ids": [row["campaign_id"] for row in rows],
                    "numbers": [row.get("number") for row in rows],
                    "names": [row.get("name") for row in rows],
                    "statuses": [row.get("status") for row in rows],
                    "box_folder_ids": [row.get("box_folder_id") for row in rows],
                },
            )

    def mark_left(self, status: str, left_status: str, seen_ids: Sequence[str]) -> list[str]:
        """Give ``left_status`` to the campaigns at ``status`` not seen; their numbers (or ids).

        Only for the ids of a complete search: a campaign missing from it has left ``status``.
        """
        with self._cursor() as cursor:
            cursor.execute(
                sql.load("retry_state/mark_left"),
                {"status": status, "left_status": left_status, "seen_ids": list(seen_ids)},
            )
            return sorted(row["campaign_number"] or row["campaign_id"] for row in cursor.fetchall())

    def get_campaigns(self, campaign_ids: Sequence[str]) -> dict[str, TrackedCampaign]:
        """The tracked campaigns among ``campaign_ids``, in one query."""
        with self._cursor() as cursor:
            cursor.execute(
                sql.load("retry_state/campaign_states"), {"campaign_ids": list(campaign_ids)}
            )
            return {row["campaign_id"]: _tracked(row) for row in cursor.fetchall()}

    def get_a1_retry_status(self, campaign_id: str) -> TrackedCampaign | None:
        """One campaign's retry state, or None if it was never seen."""
        return self.get_campaigns([campaign_id]).get(campaign_id)

    def campaign_gauges(self, status: str) -> dict[str, int]:
        """The campaigns at ``status`` per state the metrics gauge, and the oldest one's age."""
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/campaign_gauges"), {"status": status})
            return cursor.fetchone()

    def cache_master_assets_folders(self, folder_ids: Mapping[str, str]) -> None:
        """Remember each campaign's Master Assets folder id, so later polls list it directly."""
        if not folder_ids:
            return
        with self._cursor() as cursor:
            cursor.execute(
                sql.load("retry_state/cache_master_assets_folders"),
                {"campaign_ids": list(folder_ids), "folder_ids": list(folder_ids.values())},
            )

    # Polls

    def get_snapshots(self, campaign_ids: Sequence[str]) -> dict[str, Snapshot]:
        """The last look at each of these campaigns' Master Assets trees (none: never looked)."""
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/snapshots"), {"campaign_ids": list(campaign_ids)})
            return {
                row["campaign_id"]: Snapshot(
                    {file_id: (sha1, size) for file_id, (sha1, size) in row["files"].items()},
                    row["last_change_at"],
                )
                for row in cursor.fetchall()
            }

    def record_polls(
        self,
        run_id: str,
        checks: Mapping[str, CheckResult],
        settings: RetrySettings,
        checked_at: datetime | None = None,
        looks: Mapping[str, Settling] | None = None,
        watch: WatchRecord | None = None,
    ) -> dict[str, Decision]:
        """Decide and record each campaign's poll of this run, once per (campaign, run).

        A poll recorded already (the task ran again) comes back as it was decided, unchanged.
        Permanently failed campaigns are left out: they must be reset before they are polled.
        ``checked_at`` (the run's time, default now) is when a backoff counts from. ``looks``
        are the settle verdicts of this run's checks: their snapshots are kept with new polls
        only, so that a check run again compares with the same previous look; so are ``watch``'s
        listings, and its read advances the change feed's stream in the same transaction.
        """
        campaign_ids = sorted(checks)
        params = {"campaign_ids": campaign_ids, "run_id": run_id}
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/lock_campaigns"), params)
            cursor.execute(sql.load("retry_state/campaign_states"), params)
            tracked = {row["campaign_id"]: _tracked(row) for row in cursor.fetchall()}
            unknown = set(campaign_ids) - set(tracked)
            if unknown:
                raise KeyError(f"campaigns never recorded from the DAM: {sorted(unknown)}")
            cursor.execute(sql.load("retry_state/recorded_polls"), params)
            decisions = {
                row["campaign_id"]: _recorded_decision(row, tracked[row["campaign_id"]].state)
                for row in cursor.fetchall()
            }
            new: dict[str, Decision] = {}
            for campaign_id in campaign_ids:
                if campaign_id in decisions:
                    continue
                try:
                    new[campaign_id] = decide(
                        checks[campaign_id], tracked[campaign_id].state, settings
                    )
                except PermanentlyFailed:
                    continue
            if new:
                checked_at = checked_at or datetime.now(UTC)
                self._write_polls(cursor, run_id, checks, new, checked_at)
                kept = {c: look for c, look in (looks or {}).items() if c in new}
                _write_snapshots(cursor, kept, checked_at)
                if watch:
                    _write_watch(cursor, watch, new, checked_at)
            if watch and watch.read and watch.complete:
                _advance_stream(cursor, watch)
            decisions.update(new)
        return decisions

    @staticmethod
    def _write_polls(
        cursor: Any,
        run_id: str,
        checks: Mapping[str, CheckResult],
        new: Mapping[str, Decision],
        checked_at: datetime,
    ) -> None:
        ids = list(new)
        states = [new[c].state for c in ids]
        cursor.execute(
            sql.load("retry_state/insert_polls"),
            {
                "run_id": run_id,
                "campaign_ids": ids,
                "outcomes": [checks[c].outcome.value for c in ids],
                "reasons": [checks[c].reason for c in ids],
                "actions": [new[c].action.value for c in ids],
                "poll_counts": [s.poll_count for s in states],
                "consecutive_errors": [s.consecutive_errors for s in states],
                "attempts": [new[c].attempt for c in ids],
                "episodes": [s.episode for s in states],
            },
        )
        cursor.execute(
            sql.load("retry_state/update_states"),
            {
                "campaign_ids": ids,
                "actions": [new[c].action.value for c in ids],
                "poll_counts": [s.poll_count for s in states],
                "consecutive_errors": [s.consecutive_errors for s in states],
                "permanently_failed": [s.permanently_failed for s in states],
                "failure_reasons": [s.failure_reason for s in states],
                "warning_sent": [s.warning_sent for s in states],
                "episodes": [s.episode for s in states],
                "backoff_polls": [s.backoff_polls for s in states],
                "next_check_ats": [due_at(checked_at, s.backoff_polls) for s in states],
            },
        )

    def increment_a1_retry(
        self,
        campaign_id: str,
        run_id: str,
        reason: str | None = None,
        mark_failed_at_max: bool = True,
        settings: RetrySettings | None = None,
    ) -> Decision | None:
        """The seed's one-campaign form: a genuine error (mark_failed_at_max) or an empty poll."""
        check = (
            CheckResult(Outcome.FOLDER_ERROR, reason or "Master assets folder error")
            if mark_failed_at_max
            else CheckResult(Outcome.EMPTY)
        )
        decisions = self.record_polls(run_id, {campaign_id: check}, settings or RetrySettings())
        return decisions.get(campaign_id)

    def reset_a1_retry(self, campaign_id: str) -> bool:
        """Clear one campaign's retry state and start a new episode; False if it is unknown."""
        return bool(self.reset_campaigns([campaign_id]))

    def reset_campaigns(self, campaign_ids: Sequence[str], all_failed: bool = False) -> list[str]:
        """Reset the campaigns named (and with ``all_failed`` every failed one); the ids reset."""
        with self._cursor() as cursor:
            return _reset(cursor, campaign_ids, all_failed)

    def reset_recorded(
        self,
        operation: ManualOperation,
        campaign_ids: Sequence[str] = (),
        all_failed: bool = False,
        failed_for_days: int | None = None,
    ) -> tuple[list[str], int | None]:
        """Reset campaigns and write the audit row in one transaction: (ids reset, row id).

        ``failed_for_days`` adds the campaigns permanently failed at least that many days ago;
        a reset by ``failed_for_days`` alone that finds none writes no audit row (id None).
        """
        with self._cursor() as cursor:
            ids = list(campaign_ids)
            if failed_for_days is not None:
                cursor.execute(sql.load("retry_state/failed_for_days"), {"days": failed_for_days})
                ids += [row["campaign_id"] for row in cursor.fetchall()]
                if not ids and not all_failed:
                    return [], None
            reset = _reset(cursor, ids, all_failed)
            return reset, _record(cursor, operation, reset)

    def mark_promoted(self, campaign_id: str, status: str = "A2") -> bool:
        """Stamp the campaign's move to A2 and end its episode as a reset does, in one transaction.

        A repeated stamp (a cleared reset task) changes nothing: False.
        """
        with self._cursor() as cursor:
            params = {"campaign_id": campaign_id, "status": status}
            cursor.execute(sql.load("retry_state/mark_promoted"), params)
            if cursor.fetchone() is None:
                return False
            _reset(cursor, [campaign_id], all_failed=False)
            return True

    def mark_waiting_for_dam_lock(self, campaign_id: str) -> None:
        """Note that someone's lock on the campaign's DAM folder keeps it at A1 (since: the first
        time); its promotion or a poll deciding anything but a reset ends the wait."""
        with self._cursor() as cursor:
            params = {"campaign_id": campaign_id}
            cursor.execute(sql.load("retry_state/mark_waiting_for_dam_lock"), params)

    def set_max_retries(self, campaign_id: str, max_retries: int | None) -> bool:
        """Set (or with None clear) a campaign's own consecutive-error limit; False if unknown."""
        with self._cursor() as cursor:
            return _set_max_retries(cursor, campaign_id, max_retries)

    def set_max_retries_recorded(
        self, operation: ManualOperation, campaign_id: str, max_retries: int | None
    ) -> int | None:
        """Set (or clear) the limit and write the audit row in one transaction: the row's id,
        or None (nothing written) if the campaign is unknown."""
        with self._cursor() as cursor:
            if not _set_max_retries(cursor, campaign_id, max_retries):
                return None
            return _record(cursor, operation, [campaign_id])

    # Box's change feed

    def get_watched(self, campaign_ids: Sequence[str]) -> dict[str, Watched]:
        """What the last listing of each of these campaigns saw (none: never listed)."""
        with self._cursor() as cursor:
            return _watched(cursor, campaign_ids)

    def campaigns_in_folders(self, folder_ids: Iterable[str]) -> list[str]:
        """The campaigns whose last listing recorded any of these Box folders."""
        with self._cursor() as cursor:
            cursor.execute(
                sql.load("retry_state/campaigns_in_folders"), {"folder_ids": sorted(folder_ids)}
            )
            return [row["campaign_id"] for row in cursor.fetchall()]

    def event_stream(self, stream_key: str) -> tuple[str, datetime] | None:
        """Where the pipeline stands in this change feed, and since when; None: nowhere yet."""
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/event_stream"), {"stream_key": stream_key})
            row = cursor.fetchone()
        return None if row is None else (row["position"], row["saved_at"])

    def event_read(self, run_id: str, stream_key: str) -> EventRead | None:
        """The run's read of the change feed, if it made one."""
        with self._cursor() as cursor:
            return _event_read(cursor, run_id, stream_key)

    def last_event_ids(self, stream_key: str, run_id: str) -> list[str]:
        """The events of another run's latest read of this feed."""
        with self._cursor() as cursor:
            params = {"stream_key": stream_key, "run_id": run_id}
            cursor.execute(sql.load("retry_state/last_event_ids"), params)
            row = cursor.fetchone()
        return [] if row is None else row["event_ids"]

    def save_event_read(self, read: EventRead) -> EventRead:
        """Keep the run's read; the one kept already if the run made one (its task ran again)."""
        params = {
            key: list(value) if isinstance(value, tuple) else value
            for key, value in asdict(read).items()
            if key != "read_at"
        }
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/save_event_read"), params)
            return _event_read(cursor, read.run_id, read.stream_key)

    # Notifications

    def claim_notification(
        self,
        campaign_id: str | None,
        kind: str,
        run_id: str,
        episode: int,
        attempt: int = 0,
        channel: str = "email",
    ) -> Notification:
        """Claim a notification before sending it; an existing claim comes back as it is.

        ``campaign_id`` None: a notification of the whole run, one per kind, channel and run.
        """
        params = {
            "campaign_id": campaign_id,
            "kind": kind,
            "channel": channel,
            "episode": episode,
            "attempt": attempt,
            "run_id": run_id,
        }
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/claim_notification"), params)
            found = "notification" if campaign_id is not None else "run_notification"
            cursor.execute(sql.load(f"retry_state/{found}"), params)
            row = cursor.fetchone()
        return Notification(**{k: row[k] for k in Notification.__dataclass_fields__})

    def mark_notification_sent(self, notification_id: int) -> None:
        """Stamp a claimed notification as sent."""
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/stamp_notification"), {"id": notification_id})

    # Imported assets

    def get_imported_assets(self, campaign_id: str) -> list[dict[str, Any]]:
        """The master assets already brought into the DAM for this campaign, with their DAM
        names, sizes and the asset or job id the DAM gave."""
        with self._cursor() as cursor:
            cursor.execute(sql.load("retry_state/imported_assets"), {"campaign_id": campaign_id})
            return cursor.fetchall()

    def record_imported_asset(
        self,
        campaign_id: str,
        box_file_id: str,
        sha1: str,
        name: str,
        size_bytes: int | None = None,
        dam_asset_id: str | None = None,
        dam_job_id: str | None = None,
    ) -> bool:
        """Add an asset, identified by its Box file id and content (sha1), to the ledger; False
        if it was there already. ``name`` is its name in the DAM."""
        with self._cursor() as cursor:
            cursor.execute(
                sql.load("retry_state/record_imported_asset"),
                {
                    "campaign_id": campaign_id,
                    "box_file_id": box_file_id,
                    "sha1": sha1,
                    "name": name,
                    "size_bytes": size_bytes,
                    "dam_asset_id": dam_asset_id,
                    "dam_job_id": dam_job_id,
                },
            )
            return cursor.rowcount == 1

    # Operators' queries

    def run_query(self, name: str, **params: Any) -> list[dict[str, Any]]:
        """Run one of the operators' queries in ``include/sql/queries/``; its rows as dicts."""
        with self._cursor() as cursor:
            cursor.execute(sql.load(f"queries/{name}"), params)
            return cursor.fetchall() if cursor.description else []


def _write_snapshots(cursor: Any, looks: Mapping[str, Settling], looked_at: datetime) -> None:
    if not looks:
        return
    ids = list(looks)
    cursor.execute(
        sql.load("retry_state/write_snapshots"),
        {
            "campaign_ids": ids,
            "files": [json.dumps(dict(looks[c].snapshot.files)) for c in ids],
            "last_change_ats": [looks[c].snapshot.last_change_at for c in ids],
            "settled": [looks[c].settled for c in ids],
            "looked_at": looked_at,
        },
    )


def _watched(cursor: Any, campaign_ids: Iterable[str]) -> dict[str, Watched]:
    cursor.execute(sql.load("retry_state/watched"), {"campaign_ids": list(campaign_ids)})
    return {
        row["campaign_id"]: Watched(
            box_folder_id=row["box_folder_id"],
            folder_ids=frozenset(row["folder_ids"]),
            outcome=row["outcome"] and Outcome(row["outcome"]),
            episode=row["episode"],
            listed_at=row["listed_at"],
            changed=row["changed"],
            proving=row["proving"],
        )
        for row in cursor.fetchall()
    }


def _event_read(cursor: Any, run_id: str, stream_key: str) -> EventRead | None:
    cursor.execute(sql.load("retry_state/event_read"), {"run_id": run_id, "stream_key": stream_key})
    row = cursor.fetchone()
    if row is None:
        return None
    return EventRead(
        **{key: tuple(value) if isinstance(value, list) else value for key, value in row.items()}
    )


def _write_watch(
    cursor: Any, watch: WatchRecord, new: Mapping[str, Decision], listed_at: datetime
) -> None:
    """Keep the listings of this run's new polls, counting the changes the feed missed."""
    listings = {c: listing for c, listing in watch.listings.items() if c in new}
    if not listings:
        return
    before = _watched(cursor, listings)
    rows = []
    for campaign_id, listing in listings.items():
        was = before.get(campaign_id)
        rows.append(
            {
                "campaign_id": campaign_id,
                "box_folder_id": listing.box_folder_id,
                "folder_ids": sorted(listing.folder_ids),
                "outcome": listing.outcome.value,
                "episode": new[campaign_id].state.episode,
                "missed": missed(was, listing),
                "proving": still_proving(was, listing),
            }
        )
    cursor.execute(
        sql.load("retry_state/write_watch"), {"listings": json.dumps(rows), "listed_at": listed_at}
    )
    missed_ids = sorted(row["campaign_id"] for row in rows if row["missed"])
    if missed_ids:
        log.warning(
            "Box's change feed never announced the change a reconciliation found in the folders "
            "of %d campaigns (%s); they are listed every poll until it announces one. If many "
            "campaigns show this, the Box service account may not see their folders' events: it "
            "must own or collaborate on the campaign folders",
            len(missed_ids),
            ", ".join(missed_ids[:20]),
        )


def _advance_stream(cursor: Any, watch: WatchRecord) -> None:
    """Move the stream to the run's read; then flag what it found changed but did not list."""
    read = watch.read
    params = {
        "stream_key": read.stream_key,
        "from_position": read.from_position,
        "to_position": read.to_position,
        "read_at": read.read_at,
    }
    cursor.execute(sql.load("retry_state/advance_stream"), params)
    if cursor.fetchone() is None:
        return
    cursor.execute(
        sql.load("retry_state/mark_changed"),
        {
            "everyone": read.full_listing is not None,
            "changed_ids": list(read.changed_ids),
            "listed_ids": list(watch.listings),
        },
    )


def _reset(cursor: Any, campaign_ids: Sequence[str], all_failed: bool) -> list[str]:
    cursor.execute(
        sql.load("queries/reset_campaigns"),
        {"campaign_ids": list(campaign_ids), "all_failed": all_failed},
    )
    return sorted(row["campaign_id"] for row in cursor.fetchall())


def _set_max_retries(cursor: Any, campaign_id: str, max_retries: int | None) -> bool:
    if max_retries is not None and max_retries < 1:
        raise ValueError("a campaign's retry limit must be at least 1")
    cursor.execute(
        sql.load("retry_state/set_max_retries"),
        {"campaign_id": campaign_id, "max_retries": max_retries},
    )
    return cursor.fetchone() is not None


def _record(cursor: Any, operation: ManualOperation, campaign_ids: Sequence[str]) -> int:
    cursor.execute(
        sql.load("retry_state/record_manual_operation"),
        {
            "performed_by": operation.performed_by,
            "operation": operation.operation,
            "campaign_ids": list(campaign_ids),
            "details": json.dumps(dict(operation.details)),
            "run_id": operation.run_id,
        },
    )
    return cursor.fetchone()["id"]


def _state(row: Mapping[str, Any]) -> RetryState:
    return RetryState(
        poll_count=row["a1_retry_count"],
        consecutive_errors=row["a1_consecutive_errors"],
        warning_sent=row["a1_warning_sent_at"] is not None,
        permanently_failed=row["a1_permanently_failed"],
        failure_reason=row["a1_failure_reason"],
        max_retries=row["a1_max_retries"],
        episode=row["a1_episode"],
        backoff_polls=row["a1_backoff_polls"],
    )


def _tracked(row: Mapping[str, Any]) -> TrackedCampaign:
    return TrackedCampaign(
        campaign_id=row["campaign_id"],
        campaign_number=row["campaign_number"],
        campaign_name=row["campaign_name"],
        status=row["status"],
        box_folder_id=row["box_folder_id"],
        master_assets_folder_id=row["master_assets_folder_id"],
        state=_state(row),
        last_polled_at=row["a1_last_retry_at"],
        warning_sent_at=row["a1_warning_sent_at"],
        promoted_to_a2_at=row["promoted_to_a2_at"],
        next_check_at=row["a1_next_check_at"],
        waiting_for_dam_lock_since=row["a1_waiting_for_dam_lock_since"],
    )


def _recorded_decision(row: Mapping[str, Any], current: RetryState) -> Decision:
    """A poll decided by an earlier try of the same run, as it was decided."""
    state = replace(
        current,
        poll_count=row["poll_count"],
        consecutive_errors=row["consecutive_errors"],
        episode=row["episode"],
    )
    return Decision(
        action=Action(row["action"]),
        state=state,
        attempt=row["attempt"],
        reason=row["reason"],
    )
