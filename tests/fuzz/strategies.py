"""Hypothesis strategies for what the DAM may answer: search answers, hits and metadata models.

Every generated value knows what it should come to: a hit is built from per-field *kinds*
(good text, missing, null, wrong-typed, NUL, broken Unicode, too long, ...) and carries the
campaign it describes, or the labels of the fields that make it bad (see the DAM contract,
/work/shared/dam-api.md, "Metadata model").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from sandbox.dam.fixture import BOX_FOLDER_FIELD, NUMBER_FIELD, STATUS_FIELD, domain_value, typed

# Derandomized: CI tries the same examples on every run; no example database; no deadline
# (the machine is shared and slow).
REPRODUCIBLE = settings(derandomize=True, database=None, deadline=None)
# The hook refuses longer ids, numbers and statuses: PostgreSQL could not index them.
IDENTIFIER_LIMIT = 255
FIELD_TYPE = "com.artesia.metadata.MetadataField"
GROUP_TYPE = "com.artesia.metadata.MetadataCategory"

LABELS = {
    "status": f"status field {STATUS_FIELD!r}",
    "number": f"number field {NUMBER_FIELD!r}",
    "box": f"Box folder field {BOX_FOLDER_FIELD!r}",
    "name": "the campaign name",
    "id": "the asset id",
}
FIELD_IDS = {"status": STATUS_FIELD, "number": NUMBER_FIELD, "box": BOX_FOLDER_FIELD}

# Text that has broken templates, headers, paths and queries elsewhere.
TRICKY = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)"> & Co',
    "Spring\r\nBcc: attacker@example.com",
    "Summer\nX-Injected: yes",
    "Autumn\rSubject: spoofed",
    "line\u2028separator\u2029paragraph",
    "next\x85line",
    "tab\tvertical\x0bform\x0cfeed",
    "été 春 🚀 Ωμέγα ٱلعربية",
    "../../etc/passwd",
    "a/b/c",
    "what?x=1&y=2#frag",
    "100% %2F%2e%2E%00",
    "  leading and trailing  ",
    "'; DROP TABLE campaign_status; --",
    "{{ 7 * 7 }} {% raw %}",
    "\\x00 not a NUL, a backslash",
]

_TEXT = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
    min_size=1,
    max_size=40,
)
_HUGE = st.builds(
    lambda unit, count: unit * count, st.sampled_from([*TRICKY, "x"]), st.integers(500, 3000)
)


def _nonblank(text: str) -> bool:
    return bool(text.strip())


# Text PostgreSQL stores and the hook accepts: any Unicode but NUL and lone surrogates.
good_text = st.one_of(st.sampled_from(TRICKY), _TEXT).filter(_nonblank)
good_name = st.one_of(good_text, _HUGE)
good_identifier = good_text.filter(
    lambda text: len(text) <= IDENTIFIER_LIMIT and text not in (".", "..")
)

# Values the hook cannot use as text, with the wire form they take.
_wrong_typed = st.one_of(
    st.integers(),
    st.floats(allow_nan=False),
    st.booleans(),
    st.lists(st.integers(), min_size=1, max_size=3),
)
_nul_text = good_text.map(lambda text: f"{text}\x00{text}")
_surrogate_text = good_text.map(lambda text: f"{text}\ud800")
_blank = st.sampled_from(["", " ", "\t \r\n"])


@dataclass
class FieldValue:
    """A field as it should read: `text` when good (None: absent), `bad` when it must be refused."""

    wire: Any  # the field's "value", or MISSING to leave the field out
    text: str | None = None
    bad: bool = False


MISSING = object()


def _typed_text(text: str) -> st.SearchStrategy[Any]:
    """A good text value in one of the contract's wire forms."""
    return st.sampled_from([typed(text), domain_value(text, f"{text} - display")])


@st.composite
def required_field(
    draw: st.DrawFn, broken: bool, texts: st.SearchStrategy[str] = good_identifier
) -> FieldValue:
    """A required text field (status, number): good, or missing, null, blank, wrong, broken."""
    if not broken:
        text = draw(texts)
        return FieldValue(draw(_typed_text(text)), text)
    kind = draw(st.sampled_from(["absent", "wrong", "nul", "surrogate", "long"]))
    return FieldValue(draw(_bad_wire(kind)), bad=True)


@st.composite
def optional_field(draw: st.DrawFn, broken: bool) -> FieldValue:
    """The Box folder field: good, absent (no Box link: fine), or broken."""
    if broken:
        return FieldValue(
            draw(_bad_wire(draw(st.sampled_from(["wrong", "nul", "long"])))), bad=True
        )
    if draw(st.booleans()):
        return FieldValue(draw(_absent_wire()))
    text = draw(good_identifier)
    return FieldValue(draw(_typed_text(text)), text)


def _absent_wire() -> st.SearchStrategy[Any]:
    """A field that holds nothing: left out, null at any level, or blank text."""
    return st.one_of(
        st.just(MISSING),
        st.sampled_from([None, {"value": None}, typed(None), {"value": {"type": "string"}}]),
        _blank.map(typed),
        st.just({"value": {"type": "com.artesia.metadata.DomainValue", "field_value": None}}),
    )


def _bad_wire(kind: str) -> st.SearchStrategy[Any]:
    if kind == "absent":
        return _absent_wire()
    if kind == "wrong":
        return _wrong_typed.map(lambda value: typed(value, type(value).__name__))
    if kind == "nul":
        return _nul_text.map(typed)
    if kind == "surrogate":
        return _surrogate_text.map(typed)
    return st.integers(IDENTIFIER_LIMIT + 1, 5000).map(lambda length: typed("L" * length))


@st.composite
def top_level_value(
    draw: st.DrawFn, broken: bool, texts: st.SearchStrategy[str], limit: bool
) -> FieldValue:
    """An asset's `name` or `asset_id` (plain JSON, no typed wrapper)."""
    if not broken:
        text = draw(texts)
        return FieldValue(text, text)
    kinds = ["absent", "wrong", "nul", "surrogate"] + (["long", "dots"] if limit else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "absent":
        return FieldValue(draw(st.sampled_from([MISSING, None, "", "   "])), bad=True)
    if kind == "wrong":
        return FieldValue(draw(_wrong_typed), bad=True)
    if kind == "nul":
        return FieldValue(draw(_nul_text), bad=True)
    if kind == "surrogate":
        return FieldValue(draw(_surrogate_text), bad=True)
    if kind == "dots":
        return FieldValue(draw(st.sampled_from([".", ".."])), bad=True)
    return FieldValue("i" * (IDENTIFIER_LIMIT + draw(st.integers(1, 5000))), bad=True)


_junk = st.sampled_from([None, 7, "field", [], True])
_decoy = st.builds(
    lambda suffix, value: {"id": f"ACME.FIELD.OTHER {suffix}", "type": FIELD_TYPE, "value": value},
    st.integers(0, 3),
    st.one_of(_TEXT.map(typed), _wrong_typed, st.none()),
)


@st.composite
def metadata_model(draw: st.DrawFn, values: dict[str, FieldValue]) -> Any:
    """A metadata model holding `values` spread over (possibly nested) groups, with decoys."""
    elements: list[Any] = [
        {"id": FIELD_IDS[key], "name": key.title(), "type": FIELD_TYPE, "value": value.wire}
        for key, value in values.items()
        if value.wire is not MISSING
    ]
    elements += draw(st.lists(st.one_of(_decoy, _junk), max_size=3))
    elements = draw(st.permutations(elements))
    groups: list[Any] = []
    while elements:
        size = draw(st.integers(1, len(elements)))
        group = {"id": f"ACME.CATEGORY.{len(groups)}", "type": GROUP_TYPE}
        group["metadata_element_list"] = elements[:size]
        if draw(st.booleans()):  # a group within a group
            group = {
                "id": "ACME.CATEGORY.OUTER",
                "type": GROUP_TYPE,
                "metadata_element_list": [group],
            }
        groups.append(group)
        elements = elements[size:]
    groups += draw(st.lists(st.one_of(_junk, st.just({"metadata_element_list": None})), max_size=2))
    return {"metadata_element_list": draw(st.permutations(groups))}


@dataclass
class Hit:
    """One search hit and what the hook should make of it."""

    wire: Any
    kind: str  # "campaign", "bad" or "ignored"
    expected: dict[str, Any] = field(default_factory=dict)  # the Campaign's fields when good
    bad_labels: list[str] = field(default_factory=list)  # fields a bad hit's reason must name
    reported_id: str | None = None  # the id a bad hit is reported under, when it has a usable one


@st.composite
def campaign_hit(draw: st.DrawFn, index: int) -> Hit:
    """A CONTAINER hit: a campaign, good in half the cases, else with up to three bad parts."""
    parts = ["status", "number", "box", "name", "id", "metadata"]
    broken = draw(
        st.just(frozenset()) | st.frozensets(st.sampled_from(parts), min_size=1, max_size=3)
    )
    values = {
        "status": draw(required_field("status" in broken, st.just("A1") | good_identifier)),
        "number": draw(required_field("number" in broken)),
        "box": draw(optional_field("box" in broken)),
    }
    name = draw(top_level_value("name" in broken, good_name, limit=False))
    asset_id = draw(
        top_level_value(
            "id" in broken, good_identifier.map(lambda text: f"{text}~{index}"), limit=True
        )
    )
    metadata_kind = (
        draw(st.sampled_from(["none", "list", "text"])) if "metadata" in broken else "model"
    )
    wire: dict[str, Any] = {"data_type": "CONTAINER", "date_last_updated": "2026-04-28T10:12:00Z"}
    if metadata_kind == "model":
        wire["metadata"] = draw(metadata_model(values))
    else:
        wire["metadata"] = {"none": None, "list": [], "text": "metadata"}[metadata_kind]
        values = {key: FieldValue(MISSING, bad=key != "box") for key in values}
    if name.wire is not MISSING:
        wire["name"] = name.wire
    if asset_id.wire is not MISSING:
        wire["asset_id"] = asset_id.wire
    everything = {**values, "name": name, "id": asset_id}
    bad = [LABELS[key] for key, value in everything.items() if value.bad]
    if bad:
        return Hit(wire, "bad", bad_labels=bad, reported_id=asset_id.text)
    expected = {
        "campaign_id": asset_id.text,
        "number": values["number"].text,
        "name": name.text,
        "status": values["status"].text,
        "box_folder_id": values["box"].text,
    }
    return Hit(wire, "campaign", expected)


@st.composite
def other_hit(draw: st.DrawFn, index: int) -> Hit:
    """A hit that is no campaign: a plain asset (ignored) or not even an object (bad)."""
    if draw(st.booleans()):
        data_type = draw(st.sampled_from(["ASSET", "FILE", None, 7]))
        wire = {"asset_id": f"plain-{index}", "name": f"photo {index}.jpg", "data_type": data_type}
        return Hit(wire, "ignored")
    return Hit(draw(_junk), "bad", bad_labels=["a search hit"])


@st.composite
def search_hits(draw: st.DrawFn) -> list[Hit]:
    """The hits of one search, campaigns mostly; sometimes a campaign twice (paging overlap)."""
    count = draw(st.integers(0, 12))
    hits = [
        draw(campaign_hit(index) if draw(st.integers(0, 5)) else other_hit(index))
        for index in range(count)
    ]
    campaigns = [index for index, hit in enumerate(hits) if hit.kind == "campaign"]
    if campaigns and draw(st.booleans()):
        # The same campaign again, changed meanwhile: the first hit counts.
        first = draw(st.sampled_from(campaigns))
        again = {**hits[first].wire, "name": "changed between pages"}
        hits.insert(draw(st.integers(first + 1, len(hits))), Hit(again, "repeat"))
    return hits


def search_answer(page: list[Any], total: int, after: int) -> dict[str, Any]:
    """A well-formed search answer holding `page`."""
    return {
        "search_result_resource": {
            "search_result": {"hit_count": len(page), "total_hit_count": total, "offset": after},
            "asset_list": page,
        }
    }


@st.composite
def paged_answers(draw: st.DrawFn, hits: list[Hit]) -> list[dict[str, Any]]:
    """The hits as consecutive well-formed pages, as the sandbox will serve them, as answers."""
    wires = [hit.wire for hit in hits]
    answers, after = [], 0
    while after < len(wires) or not answers:
        size = draw(st.integers(1, 5))
        page = wires[after : after + size]
        answers.append({"status": 200, "body": search_answer(page, len(wires), after)})
        after += len(page)
    return answers


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)


@st.composite
def broken_answer(draw: st.DrawFn) -> dict[str, Any]:
    """A search answer whose envelope cannot be read: not JSON, or not the contract's shape."""
    hit = {"asset_id": "fine", "name": "Fine", "data_type": "CONTAINER", "metadata": None}
    envelopes = [
        st.builds(dict, text=st.sampled_from(["<html>Gateway</html>", "", "{not json", "[1,"])),
        _json.map(lambda body: {"body": body}),
        st.builds(
            lambda total: {"body": search_answer([hit], total, 0)},
            st.one_of(st.none(), st.floats(), st.booleans(), _TEXT, st.lists(st.integers())),
        ),
        st.builds(
            lambda hits: {
                "body": {
                    "search_result_resource": {
                        "search_result": {"total_hit_count": 1},
                        "asset_list": hits,
                    }
                }
            },
            st.one_of(st.integers(), _TEXT, st.dictionaries(_TEXT, _json, max_size=2)),
        ),
        st.builds(
            lambda resource: {"body": {"search_result_resource": resource}},
            st.one_of(st.none(), _TEXT, st.lists(st.integers()), st.just({"asset_list": [hit]})),
        ),
        st.builds(lambda depth: {"text": "[" * depth + "]" * depth}, st.integers(5_000, 20_000)),
    ]
    return {"status": 200, **draw(st.one_of(envelopes))}


# Folder ids that must travel as one path segment.
_PATH_CHARACTERS = ["/", "?", "#", "%", "%2F", ".", "..", "/../", " ", "&", "+", ";", "\\"]
path_ids = st.one_of(
    st.sampled_from(["a/b", "../x", "..", ".", "a?b=c", "a#b", "100%", "%2F", "é 春", "x/../y"]),
    st.builds(lambda *parts: "".join(parts), _TEXT, st.sampled_from(_PATH_CHARACTERS), _TEXT),
    _TEXT,
).filter(_nonblank)
