"""Reading the DAM's answers: JSON checked for the shape the contract gives, campaigns parsed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

import requests

from campaigns.errors import BadCampaignData
from campaigns.hooks.dam.transport import DamError
from campaigns.hooks.wire import DOT_SEGMENTS

DOMAIN_VALUE = "com.artesia.metadata.DomainValue"
FIELD_TYPE = "com.artesia.metadata.MetadataField"
# Longer ids, numbers and statuses are refused: PostgreSQL cannot index them.
MAX_IDENTIFIER_LENGTH = 255


@dataclass(frozen=True)
class Campaign:
    """A campaign as the DAM holds it."""

    campaign_id: str
    number: str
    name: str
    status: str
    box_folder_id: str | None


@dataclass(frozen=True)
class DamCampaigns:
    """The campaigns a status search found, and those whose metadata could not be read.

    ``whole``: the search was read whole while it held still, so a campaign it lacks has left.
    """

    campaigns: list[Campaign]
    bad: list[BadCampaignData]
    whole: bool = True


class UnreadableField(ValueError):
    """A metadata field holding something other than text."""


def campaign_from(
    asset: Any, status_field: str, number_field: str, box_folder_field: str
) -> Campaign:
    """The campaign a search hit or folder describes; BadCampaignData when unreadable."""
    if not isinstance(asset, dict):
        raise BadCampaignData("", f"a search hit holds {short(asset)}, not an asset")
    found = fields(asset.get("metadata"))
    problems: list[str] = []

    def text(label: str, read: Callable[[], str | None], required: bool = True) -> str | None:
        try:
            value = read()
        except UnreadableField as error:
            problems.append(f"{label} {error}")
            return None
        if value is None and required:
            problems.append(f"{label} is missing or empty")
        return value

    def field_text(field_id: str, label: str, required: bool = True) -> str | None:
        read = partial(identifier, field_value(found, field_id))
        return text(f"{label} field {field_id!r}", read, required)

    status = field_text(status_field, "status")
    number = field_text(number_field, "number")
    box_folder_id = field_text(box_folder_field, "Box folder", required=False)
    name = text("the campaign name", partial(checked_text, asset.get("name")))
    raw_id = asset.get("asset_id")
    campaign_id = text("the asset id", partial(identifier, raw_id))
    if campaign_id in DOT_SEGMENTS:
        problems.append(f"the asset id {campaign_id!r} cannot stand in a URL path")
    if problems:
        reported_id = campaign_id or ("" if raw_id is None else short(raw_id))
        raise BadCampaignData(reported_id, "; ".join(problems))
    return Campaign(campaign_id, number, name, status, box_folder_id)


def paged(fetch_page: Callable[[int], tuple[list[Any], bool]]) -> Iterator[Any]:
    """Every item of a paged listing; `fetch_page(after)` answers a page and whether it is the
    last; an empty page is the last too."""
    after = 0
    while True:
        items, last = fetch_page(after)
        yield from items
        after += len(items)
        if not items or last:
            return


def search_read(search_page: Callable[[int], tuple[list[Any], int]]) -> tuple[list[Any], bool]:
    """Every hit of one paged search (`search_page(after)` answers a page's hits and the total),
    and whether it held still: the same total on every page and no hit repeated."""
    totals: list[int] = []

    def page(after: int) -> tuple[list[Any], bool]:
        hits, total = search_page(after)
        totals.append(total)
        return hits, after + len(hits) >= total

    hits = list(paged(page))
    ids = [dig(hit, "asset_id") for hit in hits]
    ids = [hit_id for hit_id in ids if isinstance(hit_id, str | int)]
    return hits, len(set(totals)) == 1 and len(set(ids)) == len(ids)


def union(reads: list[DamCampaigns]) -> DamCampaigns:
    """The campaigns found by any of `reads`, each as the latest read found it; not whole. The
    unusable ones are the latest read's."""
    latest = reads[-1]
    unusable = {problem.campaign_id for problem in latest.bad}
    found: dict[str, Campaign] = {}
    for read in reads:
        found.update((campaign.campaign_id, campaign) for campaign in read.campaigns)
    campaigns = [campaign for key, campaign in found.items() if key not in unusable]
    return DamCampaigns(campaigns, latest.bad, whole=False)


def search_page(response: requests.Response) -> tuple[list[Any], int]:
    """The hits of one search answer and the total; DamError when the answer is unreadable."""
    answer = json_of(response, "search")
    result = dig(answer, "search_result_resource")
    hits = dig(result, "asset_list")
    total = dig(result, "search_result", "total_hit_count")
    if not isinstance(result, dict) or not isinstance(hits, list | None) or type(total) is not int:
        raise unreadable("search", answer)
    return hits or [], total


def json_of(response: requests.Response, what: str) -> Any:
    """A DAM answer's JSON; DamError naming the answer (``what``) when it is not JSON."""
    try:
        return response.json()
    except (ValueError, RecursionError) as error:
        raise DamError(f"the DAM's {what} answer is not JSON: {response.text[:200]!r}") from error


def unreadable(what: str, answer: Any) -> DamError:
    return DamError(f"the DAM's {what} answer is unreadable: {short(answer, 200)}")


def read(response: requests.Response, what: str, keys: tuple[str, ...], kind: Any) -> Any:
    """The value under ``keys`` in a DAM answer, of type ``kind``; DamError when it is not."""
    answer = json_of(response, what)
    value = dig(answer, *keys)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise unreadable(what, answer)
    return value


def dig(value: Any, *keys: str) -> Any:
    """The value under `keys` in nested objects; None where one is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def fields(metadata: Any) -> dict[str, dict]:
    """The metadata's fields by id, from every field group; anything else in it is ignored."""
    found: dict[str, dict] = {}
    pending = [metadata]
    while pending:
        element = pending.pop()
        if not isinstance(element, dict):
            continue
        if "metadata_element_list" in element:
            children = element["metadata_element_list"]
            pending.extend(reversed(children) if isinstance(children, list) else ())
        elif isinstance(element.get("id"), str):
            found[element["id"]] = element
    return found


def children_page(response: requests.Response) -> list[dict]:
    """The children of one folder children answer; DamError when the answer is unreadable."""
    answer = json_of(response, "folder children")
    listing = dig(answer, "folder_children")
    children = dig(listing, "asset_list") or []
    if (
        not isinstance(listing, dict)
        or not isinstance(children, list)
        or not all(isinstance(child, dict) and child.get("asset_id") for child in children)
    ):
        raise unreadable("folder children", answer)
    return children


def new_child(children: list[dict], known: set[str], name: str, size: int | None) -> str | None:
    """The asset id of a child not among `known` named `name`, of `size` where both are known."""
    for child in children:
        sizes = (size, child["size"])
        if (
            child["asset_id"] not in known
            and child["name"] == name
            and (None in sizes or sizes[0] == sizes[1])
        ):
            return child["asset_id"]
    return None


def written_value(found: dict[str, dict], field_id: str, text: str) -> dict:
    """`text` as a field takes it: in the shape it has when read (a lookup's DomainValue)."""
    if dig(found.get(field_id), "value", "value", "type") == DOMAIN_VALUE:
        return {"type": DOMAIN_VALUE, "field_value": {"type": "string", "value": text}}
    return {"type": "string", "value": text}


def field_value(found: dict[str, dict], field_id: str) -> Any:
    """A field's value as the wire holds it, a lookup's value read; None when missing."""
    raw = dig(found.get(field_id), "value")
    value = raw.get("value") if isinstance(raw, dict) else raw
    if isinstance(value, dict) and value.get("type") == DOMAIN_VALUE:
        value = value.get("field_value")
    return value.get("value") if isinstance(value, dict) else value


def checked_text(value: Any) -> str | None:
    """`value` if it is text PostgreSQL can store; None when missing, null or blank."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise UnreadableField(f"holds {type(value).__name__} {short(value)}, not text")
    if "\x00" in value:
        raise UnreadableField("holds a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as error:
        raise UnreadableField("holds text that is not valid Unicode") from error
    return value if value.strip() else None


def identifier(value: Any) -> str | None:
    """Text that identifies a campaign (an id, a number, a status): short enough to index."""
    text = checked_text(value)
    if text is not None and len(text) > MAX_IDENTIFIER_LENGTH:
        raise UnreadableField(f"is {len(text)} characters long, more than {MAX_IDENTIFIER_LENGTH}")
    return text


def short(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
