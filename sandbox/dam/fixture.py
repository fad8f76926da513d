"""Builders for the `"dam"` part of a sandbox fixture: pure functions returning plain dicts.

`dam(...)` serves the strict site by default, as a real OTMM behaves: the status field is a
lookup (DomainValue), there is no sign-out (DELETE /sessions answers 405), imports need the
metadata model and security policies (or a known import template) and are answered 202.

`VARIANTS` names the site variants the DAM contract (shared/dam-api.md) lists. Each is
`{"site": {...}, "extras": {...}}`: `site` holds the `dam()` options that differ from the strict
site (`dam(**VARIANTS[name]["site"])`, or `with_variant(part, name)` for an existing fixture),
`extras` the connection extras the pipeline needs there, on top of
`sandbox.connections.dam_connection` (which, for auth otds, points `otds_url` at the sandbox
itself: it serves OTDS too).
"""

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
IMPORT_TEMPLATE_ID = "ACME.TEMPLATE.MASTER"
OTDS_RESOURCE_ID = "otmm-resource"
IS_OPERATOR = "ARTESIA.OPERATOR.CHAR.IS"
CONTAINS_OPERATOR = "ARTESIA.OPERATOR.CHAR.CONTAINS"

STATUS_KINDS = ("lookup", "text")
SITE_OPTIONS = (
    "status_kind",
    "sign_out",
    "otds",
    "imports_need_model",
    "import_templates",
    "search_operator_id",
    "search_config_id",
    "import_status",
)

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
    status_kind: str = "lookup",
    sign_out: bool = False,
    otds: Mapping[str, str | None] | None = None,
    imports_need_model: bool = True,
    import_templates: Iterable[str] = (IMPORT_TEMPLATE_ID,),
    search_operator_id: str = IS_OPERATOR,
    search_config_id: str | None = None,
    import_status: int = 202,
) -> dict:
    """The value of a fixture's `"dam"` key; every argument is optional (the strict site).

    `status_kind` "lookup" or "text": how the status field reads, and the only shape a status
    edit may write (the other answers 400). `otds` `{"resource_id": id or None}` serves OTDS sign-in
    too; with a resource id, OTMM takes only a resource ticket for it. `import_status`: 200 or 202.
    """
    if status_kind not in STATUS_KINDS:
        raise ValueError(f"status_kind is {status_kind!r}, not one of {STATUS_KINDS}")
    if import_status not in (200, 202):
        raise ValueError(f"import_status is {import_status}, not 200 or 202")
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
        "status_kind": status_kind,
        "sign_out": sign_out,
        "otds": None if otds is None else {"resource_id": otds.get("resource_id")},
        "imports_need_model": imports_need_model,
        "import_templates": list(import_templates),
        "search_operator_id": search_operator_id,
        "search_config_id": search_config_id,
        "import_status": import_status,
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


_OTDS = {"auth": "otds"}
_SEARCH_CONFIG = {"search_config_id": "3", "search_operator_id": CONTAINS_OPERATOR}
VARIANTS: dict[str, dict[str, dict[str, Any]]] = {
    "strict": {"site": {}, "extras": {}},
    "text_status": {"site": {"status_kind": "text"}, "extras": {}},
    "sign_out": {"site": {"sign_out": True}, "extras": {}},
    "otds": {"site": {"otds": {"resource_id": None}}, "extras": _OTDS},
    "otds_resource": {
        "site": {"otds": {"resource_id": OTDS_RESOURCE_ID}},
        "extras": {**_OTDS, "otds_resource_id": OTDS_RESOURCE_ID},
    },
    # The strict site; the connection names the template instead of the model and policies.
    "import_template": {
        "site": {},
        "extras": {
            "import_template_id": IMPORT_TEMPLATE_ID,
            "metadata_model_id": None,
            "security_policy_ids": None,
        },
    },
    "search_config": {"site": _SEARCH_CONFIG, "extras": _SEARCH_CONFIG},
    "lenient": {
        "site": {"status_kind": "text", "sign_out": True, "imports_need_model": False},
        "extras": {},
    },
}


def with_variant(part: Mapping[str, Any], name: str) -> dict:
    """A fixture's `"dam"` part served as the variant `name`: its site options replaced."""
    site = dam(**VARIANTS[name]["site"])
    return {**part, **{option: site[option] for option in SITE_OPTIONS}}
