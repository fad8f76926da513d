"""The DAM sandbox's state in memory: campaign folders, plain assets, sessions, locks, imports."""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from typing import Any

from sandbox.dam.fixture import SITE_OPTIONS, asset, campaign, dam, domain_value, typed

FIELD_TYPE = "com.artesia.metadata.MetadataField"
LAST_UPDATED = "2026-04-28T10:12:00Z"
ATTRIBUTES = {"status": "status", "number": "number", "box_folder": "box_folder_id"}


@dataclass
class ImportedAsset:
    """An asset imported into a campaign folder, with what its import named."""

    asset_id: str
    name: str
    size: int
    sha1: str
    metadata: dict
    file_type: str | None = None
    metadata_model_id: str | None = None
    security_policy_ids: list[str] = field(default_factory=list)
    import_template_id: str | None = None


@dataclass
class CampaignFolder:
    id: str
    name: str
    status: str
    number: str | None
    box_folder_id: str | None
    metadata: dict[str, Any]
    missing: list[str]
    locked_by: str | None
    forbidden: bool
    imported: list[ImportedAsset] = field(default_factory=list)

    def as_control_view(self) -> dict:
        view = asdict(self)
        del view["metadata"], view["missing"]
        return view


@dataclass(frozen=True)
class SearchShift:
    """A campaign moved to `status` right after the search page numbered `due` is served."""

    due: int
    campaign_id: str
    status: str


@dataclass
class Session:
    session_id: int
    user: str
    started: float = field(default_factory=time.monotonic)
    requests: int = 0
    # Opened with an OTDS ticket: later calls must send it as OTDSToken.
    otds_ticket: str | None = None


@dataclass
class OtdsTicket:
    user: str
    resource_id: str | None = None  # None: a user's ticket, not one for a resource
    issued: float = field(default_factory=time.monotonic)


class DamState:
    """Everything the DAM sandbox knows, built from a fixture's `"dam"` part."""

    def __init__(self, fixture: dict):
        config = {**dam(), **fixture.get("dam", {})}
        self.fields: dict[str, str] = {**dam()["fields"], **config["fields"]}
        self.users: dict[str, str] = config["users"]
        self.oauth_clients: dict[str, str] = config["oauth_clients"]
        self.session_ttl_seconds: float | None = config["session_ttl_seconds"]
        self.session_max_requests: int | None = config["session_max_requests"]
        # The site variant: see `sandbox.dam.fixture.dam`.
        self.site: dict[str, Any] = {option: config[option] for option in SITE_OPTIONS}
        self.campaigns: dict[str, CampaignFolder] = {}
        for entry in config["campaigns"]:
            self.add_campaign(entry)
        self.assets = {
            entry["id"]: asset(**_renamed_id(entry, "asset_id")) for entry in config["assets"]
        }
        self.sessions: dict[str, Session] = {}
        self.otds_tickets: dict[str, OtdsTicket] = {}
        self.expire_countdown: int | None = None
        # Served verbatim, one a search, before the fixture's own answers: bad input for the hook.
        self.search_answers: deque[Any] = deque()
        # "METHOD raw path" of every API request, as the client encoded it.
        self.received: deque[str] = deque(maxlen=10_000)
        # Seconds every import is answered after it is recorded (0: at once).
        self.import_delay_seconds = 0.0
        # Search pages served so far, and the moves due after some of them.
        self.search_pages_served = 0
        self.search_shifts: list[SearchShift] = []

    def add_campaign(self, entry: dict) -> CampaignFolder:
        folder = CampaignFolder(**campaign(**_renamed_id(entry, "campaign_id")))
        self.campaigns[folder.id] = folder
        return folder

    # Sessions

    def open_session(self, user: str, otds_ticket: str | None = None) -> tuple[str, Session]:
        """A new session for `user` and the secret (cookie or token) that names it."""
        session_id = secrets.randbelow(900_000_000) + 100_000_000
        session = Session(session_id=session_id, user=user, otds_ticket=otds_ticket)
        secret = secrets.token_urlsafe(24)
        self.sessions[secret] = session
        return secret, session

    def issue_ticket(self, user: str, resource_id: str | None = None) -> str:
        """A new OTDS ticket for `user`, or for `user` at the resource `resource_id`."""
        ticket = f"*OTDSSSO*{secrets.token_urlsafe(32)}"
        self.otds_tickets[ticket] = OtdsTicket(user, resource_id)
        return ticket

    def ticket(self, ticket: str | None) -> OtdsTicket | None:
        """The live OTDS ticket `ticket`; tickets expire as sessions do."""
        found = self.otds_tickets.get(ticket or "")
        ttl = self.session_ttl_seconds
        if found is not None and ttl is not None and time.monotonic() - found.issued > ttl:
            del self.otds_tickets[ticket]
            return None
        return found

    def session_for(self, secret: str | None, requested_by: str | None = None) -> Session | None:
        """The live session named by `secret` (and its `X-Requested-By` id); counts the call."""
        session = self.sessions.get(secret or "")
        if session is None or (
            requested_by is not None and requested_by != str(session.session_id)
        ):
            return None
        session.requests += 1
        ttl, max_requests = self.session_ttl_seconds, self.session_max_requests
        if (ttl is not None and time.monotonic() - session.started > ttl) or (
            max_requests is not None and session.requests > max_requests
        ):
            del self.sessions[secret]
            return None
        if self.expire_countdown is not None:
            self.expire_countdown -= 1
            if self.expire_countdown <= 0:
                self.expire_sessions()
        return session

    def expire_sessions(self, after_requests: int = 0) -> None:
        """End every open session now, or right after the next `after_requests` signed-in calls."""
        if after_requests > 0:
            self.expire_countdown = after_requests
        else:
            self.sessions.clear()
            self.otds_tickets.clear()
            self.expire_countdown = None

    # Search and metadata

    def move(self, folder: CampaignFolder, status: str) -> None:
        """Put a campaign at `status`, as someone editing it in the DAM would."""
        folder.status = status
        folder.metadata.pop(self.fields["status"], None)

    def shift_search(self, after_page: int, campaign_id: str, status: str) -> None:
        """Move a campaign to `status` right after the `after_page`-th search page from now."""
        due = self.search_pages_served + after_page
        self.search_shifts.append(SearchShift(due, campaign_id, status))

    def search_page_served(self) -> None:
        """Count a search page served and make the moves due after it."""
        self.search_pages_served += 1
        for shift in [s for s in self.search_shifts if s.due == self.search_pages_served]:
            self.search_shifts.remove(shift)
            self.move(self.campaigns[shift.campaign_id], shift.status)

    def search(
        self, field_id: str, value: str, contains: bool, only: set[str] | None = None
    ) -> list[dict]:
        """Wire representations of the campaigns and plain assets whose field holds `value`
        (or, with `contains`, holds it as part of its text)."""
        attribute = self.attribute_of(field_id)
        if attribute is None:
            return []

        def matches(held: str | None) -> bool:
            return held == value or (contains and held is not None and value in held)

        found = [c for c in self.campaigns.values() if matches(getattr(c, attribute))]
        plain = [a for a in self.assets.values() if attribute == "status" and matches(a["status"])]
        return [self.folder_json(c, only) for c in found] + [self.asset_json(a) for a in plain]

    def attribute_of(self, field_id: str) -> str | None:
        """The campaign attribute a configured field id stands for, if any."""
        for key, known in self.fields.items():
            if known == field_id:
                return ATTRIBUTES[key]
        return None

    def status_value(self, status: str) -> dict:
        """A status as the site's status field reads: a lookup's DomainValue, or text."""
        if self.site["status_kind"] == "lookup":
            return domain_value(status, f"{status} (lookup)")
        return typed(status)

    def folder_json(self, folder: CampaignFolder, only: set[str] | None = None) -> dict:
        values: dict[str, Any] = {
            self.fields["status"]: self.status_value(folder.status),
            self.fields["number"]: typed(folder.number),
            self.fields["box_folder"]: typed(folder.box_folder_id),
            **folder.metadata,
        }
        for field_id in folder.missing:
            values.pop(field_id, None)
        if only is not None:
            values = {k: v for k, v in values.items() if k in only}
        box_field = self.fields["box_folder"]
        groups = [
            ("ACME.CATEGORY.CAMPAIGN", {k: v for k, v in values.items() if k != box_field}),
            ("ACME.CATEGORY.BOX", {k: v for k, v in values.items() if k == box_field}),
        ]
        return {
            "asset_id": folder.id,
            "name": folder.name,
            "data_type": "CONTAINER",
            "date_last_updated": LAST_UPDATED,
            "metadata": {
                "metadata_element_list": [
                    {
                        "id": group_id,
                        "type": "com.artesia.metadata.MetadataCategory",
                        "metadata_element_list": [
                            _field(field_id, raw) for field_id, raw in fields.items()
                        ],
                    }
                    for group_id, fields in groups
                    if fields
                ]
            },
        }

    def asset_json(self, plain: dict) -> dict:
        return {
            "asset_id": plain["id"],
            "name": plain["name"],
            "data_type": "ASSET",
            "date_last_updated": LAST_UPDATED,
            "metadata": {
                "metadata_element_list": [
                    {
                        "id": "ACME.CATEGORY.CAMPAIGN",
                        "type": "com.artesia.metadata.MetadataCategory",
                        "metadata_element_list": [
                            _field(self.fields["status"], self.status_value(plain["status"]))
                        ],
                    }
                ]
            },
        }


def _renamed_id(entry: dict, name: str) -> dict:
    """A fixture entry as the keyword arguments of its builder."""
    arguments = dict(entry)
    arguments[name] = arguments.pop("id")
    return arguments


def _field(field_id: str, raw: Any) -> dict:
    return {
        "id": field_id,
        "name": field_id.rsplit(".", 1)[-1].title(),
        "type": FIELD_TYPE,
        "value": raw,
    }
