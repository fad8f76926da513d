"""Builders for the `"dam"` part of a sandbox fixture: pure functions returning plain dicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

STATUS_FIELD = "ACME.FIELD.CAMPAIGN STATUS"
NUMBER_FIELD = "ACME.FIELD.CAMPAIGN NUMBER"
BOX_FOLDER_FIELD = "ACME.FIELD.BOX FOLDER ID"
DOMAIN_VALUE = "com.artesia.metadata.DomainValue"
# What the site gives imported assets: the pipeline's connection names them.
MODEL_ID = "ACME.MODEL.MASTER ASSET"
SECURITY_POLICY_IDS = ("1", "42")

USER = "svc"
PASSWORD = "svc-password"
CLIENT_ID = "a1-to-a2"
CLIENT_SECRET = "a1-to-a2-secret"


def dam(
    campaigns: Iterable[dict] = (),
    assets: Iterable[dict] = (),
    *,
    users: Mapping[str, str] | None = None,
    oauth_clients: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
    session_ttl_seconds: float | None = None,
    session_max_requests: int | None = None,
) -> dict:
    """The value of a fixture's `"dam"` key; every argument is optional."""
    return {
        "fields": {
            "status": STATUS_FIELD,
            "number": NUMBER_FIELD,
            "box_folder": BOX_FOLDER_FIELD,
            **(fields or {}),
        },
        "users": dict(users or {USER: PASSWORD}),
        "oauth_clients": dict(oauth_clients or {CLIENT_ID: CLIENT_SECRET}),
        "session_ttl_seconds": session_ttl_seconds,
        "session_max_requests": session_max_requests,
        "campaigns": list(campaigns),
        "assets": list(assets),
    }


def campaign(
    campaign_id: str,
    name: str | None = None,
    *,
    status: str = "A1",
    number: str | None = None,
    box_folder_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
    missing: Iterable[str] = (),
    locked_by: str | None = None,
    forbidden: bool = False,
) -> dict:
    """A campaign folder; `metadata` maps field ids to raw wire values, `missing` drops fields."""
    return {
        "id": campaign_id,
        "name": f"Campaign {campaign_id}" if name is None else name,
        "status": status,
        "number": f"C-{campaign_id}" if number is None else number,
        "box_folder_id": box_folder_id,
        "metadata": dict(metadata or {}),
        "missing": list(missing),
        "locked_by": locked_by,
        "forbidden": forbidden,
    }


def asset(asset_id: str, name: str | None = None, *, status: str = "A1") -> dict:
    """A plain (non-container) asset that a status search also finds."""
    return {"id": asset_id, "name": name or f"Asset {asset_id}.jpg", "status": status}


def typed(value: Any, type_name: str = "string") -> dict:
    """A field's raw wire value holding `value` tagged as `type_name`."""
    return {"value": {"type": type_name, "value": value}}


def domain_value(value: str, display_value: str | None = None) -> dict:
    """A lookup field's raw wire value."""
    return {
        "value": {
            "type": DOMAIN_VALUE,
            "field_value": {"type": "string", "value": value},
            "display_value": display_value or value,
        }
    }
