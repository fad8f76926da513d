"""What the DAM check concludes from a live DAM's answers: pure functions over plain values.

`campaigns.check_dam` sends the requests (sign-in, one search page, one campaign folder and its
children, sign-out) and hands the answers here; each finding is ok, says which extra to set, or
says what could not be read and where.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from campaigns.connection_fields import DAM, ConnectionSettingError
from campaigns.hooks.dam.answers import DOMAIN_VALUE, dig, field_value, fields, short
from campaigns.hooks.dam.settings import DamSettings
from campaigns.hooks.dam.signin import NO_SIGN_OUT
from campaigns.hooks.wire import DOT_SEGMENTS

OK = "ok"
SET = "set this"
UNREAD = "could not read"
SIGN_IN_METHODS = {
    "session": "an OTMM session",
    "oauth2": "OAuth2",
    "otds": "OTDS single sign-on",
}
CAMPAIGN_FIELDS = (
    ("status_field", "status field"),
    ("number_field", "number field"),
    ("box_folder_field", "Box folder field"),
)
SEARCH = "POST search/text"
HITS = "search_result_resource.asset_list"
FOLDER_METADATA = "folder_resource.folder.metadata"


@dataclass(frozen=True)
class Answer:
    """One request to the DAM and what came back.

    `body` is the JSON of a 2xx answer. Otherwise `problem` says why there is none: a refusal
    (with its `status`), no answer at all (no status), or an answer not of the contract's shape
    (`unreadable`).
    """

    request: str
    body: Any = None
    status: int | None = None
    problem: str | None = None
    unreadable: bool = False


@dataclass(frozen=True)
class DamAnswers:
    """The check's requests, answered; None where a request was not sent."""

    sign_in: Answer
    search: Answer | None = None
    folder: Answer | None = None
    children: Answer | None = None
    sign_out: Answer | None = None


@dataclass(frozen=True)
class Finding:
    """One thing the check found: its verdict, what it saw, the extras to set, where it failed."""

    topic: str
    verdict: str
    text: str
    extras: tuple[str, ...] = ()
    where: str = ""

    def line(self) -> str:
        where = f" [at {self.where}]" if self.where else ""
        return f"{self.topic} ({self.verdict}): {self.text}{where}"


@dataclass(frozen=True)
class Report:
    """The findings of one check of a DAM connection; `signed_in` False when it got no further."""

    conn_id: str
    status: str
    findings: list[Finding] = field(default_factory=list)
    signed_in: bool = True

    @property
    def to_fix(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.verdict != OK]

    @property
    def exit_code(self) -> int:
        """0: nothing to fix; 1: something to set or unread; 2: could not sign in or reach it."""
        if not self.signed_in:
            return 2
        return 1 if self.to_fix else 0

    def text(self) -> str:
        """One line a finding, then the verdict of the whole."""
        return "\n".join([*(finding.line() for finding in self.findings), self.summary()])

    def short(self) -> str:
        """The verdict, the findings that need attention, the topics found fine."""
        fine = dict.fromkeys(finding.topic for finding in self.findings if finding.verdict == OK)
        lines = [self.summary("This DAM connection"), *(f.line() for f in self.to_fix)]
        return "\n".join([*lines, f"ok: {', '.join(fine)}"] if fine else lines)

    def as_json(self) -> str:
        return json.dumps(
            {
                "conn_id": self.conn_id,
                "status": self.status,
                "exit_code": self.exit_code,
                "findings": [asdict(finding) for finding in self.findings],
            },
            indent=2,
        )

    def summary(self, where: str = "") -> str:
        """The verdict of the whole, naming the connection (the Test button's is temporary)."""
        where = where or f"DAM connection {self.conn_id!r}"
        if not self.signed_in:
            return f"{where}: could not sign in to the DAM"
        if self.to_fix:
            return f"{where}: {len(self.to_fix)} finding(s) need attention"
        return f"{where}: nothing to fix"


class Unreadable(Exception):
    """A part of an answer not of the contract's shape; `where` is its key path."""

    def __init__(self, where: str, found: Any):
        super().__init__(f"{where} holds {short(found)}")
        self.where = where


def settings_problem(error: ConnectionSettingError) -> Finding:
    """A connection extra that is missing or unusable."""
    return Finding("connection", SET, str(error), extras=(error.extra,))


def unknown_extras(extra: dict[str, Any]) -> list[Finding]:
    """The connection's extras that no setting reads: typos or old names."""
    unknown = DAM.unknown(extra)
    if not unknown:
        return []
    known = ", ".join(item.name for item in DAM.extras)
    return [
        Finding(
            "extras",
            SET,
            f"{', '.join(map(repr, unknown))} ignored: no such extra (a typo?); "
            f"the extras are: {known}",
            extras=tuple(unknown),
        )
    ]


@dataclass(frozen=True)
class Sample:
    """The campaign the check reads: its folder's id, and its search hit when on the first page."""

    campaign_id: str
    hit: dict | None = None
    index: int = 0


def sample(search: Answer | None, campaign_id: str | None = None) -> Sample | None:
    """The campaign named (or else the first campaign folder found) with its hit, if any."""
    hits = dig(search.body, "search_result_resource", "asset_list") if search else None
    for index, hit in enumerate(hits if isinstance(hits, list) else ()):
        asset_id = dig(hit, "asset_id")
        if campaign_id is not None:
            found = asset_id == campaign_id
        else:
            found = _is_campaign(hit) and isinstance(asset_id, str) and bool(asset_id.strip())
        if found and asset_id not in DOT_SEGMENTS:
            return Sample(asset_id, hit, index)
    return None if campaign_id is None else Sample(campaign_id)


def findings(
    settings: DamSettings, status: str, answers: DamAnswers, campaign_id: str | None = None
) -> list[Finding]:
    """Every finding about the DAM behind `settings`, from its answers to the check.

    `campaign_id` names the campaign folder read, where the caller chose one.
    """
    found = [_sign_in(settings, answers.sign_in)]
    if answers.sign_in.problem is not None:
        return found
    found.append(_search(settings, status, answers.search))
    read = sample(answers.search, campaign_id)
    found.extend(_campaign(settings, status, read, answers.folder))
    found.append(_children(answers.children))
    found.append(_sign_out(settings, answers.sign_out))
    found.append(_imports(settings))
    return found


def _sign_in(settings: DamSettings, answer: Answer) -> Finding:
    method = SIGN_IN_METHODS[settings.auth]
    if settings.client_cert:
        method += " over mutual TLS (client_cert)"
    tried = f"{method} as {settings.login!r} at {settings.base_url}"
    if answer.problem is None:
        return Finding("sign-in", OK, f"signed in with {tried}")
    if answer.unreadable:
        return Finding("sign-in", UNREAD, f"{tried}: {answer.problem}", where=answer.request)
    extras = _sign_in_extras(settings, answer.status)
    return Finding(
        "sign-in",
        SET,
        f"{tried} failed: {answer.problem}; check {', '.join(extras)}",
        extras=extras,
    )


def _sign_in_extras(settings: DamSettings, status: int | None) -> tuple[str, ...]:
    """The connection's fields and extras a failed sign-in points at."""
    missing = status in (404, 405)
    if status is None:  # no answer: the DAM unreachable, or TLS failed
        otds = ("otds_url",) if settings.auth == "otds" else ()
        return ("host", *otds, "verify", "client_cert")
    if settings.auth == "oauth2":
        return (
            ("auth", "api_version")
            if missing
            else ("login", "password", "client_id", "client_secret")
        )
    if settings.auth == "otds":
        wrong = ("host", "otds_url") if missing else ("login", "password")
        return (*wrong, "otds_resource_id")
    return ("host", "api_version") if missing else ("login", "password", "auth")


def _search(settings: DamSettings, status: str, answer: Answer) -> Finding:
    used = (
        f"field {settings.status_field!r} {settings.search_operator_id} {status!r}, "
        f"search_config_id {settings.search_config_id or 'none'}"
    )
    if answer.status == 400:
        extras = _refused_search_extras(answer.problem)
        advice = " or ".join(_advice(name) for name in extras)
        return Finding(
            "search",
            SET,
            f"the status search ({used}) was refused: {answer.problem}; set {advice}",
            extras=extras,
        )
    if answer.problem is not None:
        return Finding("search", UNREAD, f"{answer.problem} ({used})", where=answer.request)
    try:
        result = _expect(answer.body, "search_result_resource", dict)
        hits = _expect(answer.body, HITS, list | None) or []
    except Unreadable as error:
        return Finding("search", UNREAD, f"{error} ({used})", where=_at(answer.request, error))
    campaigns = sum(1 for hit in hits if _is_campaign(hit))
    found = (
        f"answered ({used}): {len(hits)} hit(s) on the first page, {campaigns} campaign "
        f"folder(s), {len(hits) - campaigns} plain asset(s) (ignored)"
    )
    total = dig(result, "search_result", "total_hit_count")
    if type(total) is not int:
        return Finding(
            "search",
            UNREAD,
            f"{found}; no total_hit_count (holds {short(total)}): the poll pages by it",
            where=f"{answer.request}: search_result_resource.search_result.total_hit_count",
        )
    found += f"; total_hit_count {total}"
    if not campaigns:
        return Finding(
            "search",
            SET,
            f"{found}; no campaign at {status}: if the DAM has campaigns at {status}, "
            "status_field or search_operator_id is not the site's (otherwise check a status that "
            "has campaigns: python -m campaigns.check_dam --status <status>)",
            extras=("status_field", "search_operator_id"),
        )
    return Finding("search", OK, found)


def _refused_search_extras(problem: str) -> tuple[str, ...]:
    """The extras a refused search's message points at; both search extras when it names none."""
    lowered = problem.lower()
    named = tuple(
        name
        for name, word in (
            ("search_operator_id", "operator"),
            ("search_config_id", "config"),
            ("status_field", "field"),
        )
        if word in lowered
    )
    return named or ("search_operator_id", "search_config_id")


def _campaign(
    settings: DamSettings, status: str, read: Sample | None, folder: Answer
) -> list[Finding]:
    """The campaign folder read, then a finding per configured field: in the hit and folder."""
    if read is None:
        return [
            Finding(
                "campaign metadata",
                UNREAD,
                f"not checked: no campaign folder at {status} on the first search page "
                "(name one: python -m campaigns.check_dam --campaign-id <DAM id>)",
            )
        ]
    places: dict[str, tuple[dict[str, dict], str]] = {}
    if read.hit is not None:
        hit_path = f"{SEARCH}: {HITS}[{read.index}].metadata"
        places["the search hit"] = (fields(read.hit.get("metadata")), hit_path)
    folder_finding, in_folder = _folder(read, folder)
    if in_folder is not None:
        places["the folder"] = (in_folder, f"{folder.request}: {FOLDER_METADATA}")
    if not places:
        return [folder_finding]
    checked = [_field(settings, name, label, places) for name, label in CAMPAIGN_FIELDS]
    if read.hit is not None:
        held = field_value(places["the search hit"][0], settings.status_field)
        if held is not None and held != status:
            checked.append(
                Finding(
                    "search",
                    SET,
                    f"the hit's status is {short(held)}, not {status!r}: the search does not "
                    "match the status exactly; set search_operator_id",
                    extras=("search_operator_id",),
                )
            )
    return [folder_finding, *checked]


def _folder(read: Sample, folder: Answer) -> tuple[Finding, dict[str, dict] | None]:
    """The folder read (its finding) and its fields by id; None when it could not be read."""
    name = short(read.hit.get("name")) if read.hit is not None else "not among the hits"
    label = f"campaign {read.campaign_id!r} ({name})"
    if folder.problem is not None:
        problem = f"{label}: {folder.problem}"
        return Finding("campaign folder", UNREAD, problem, where=folder.request), None
    try:
        metadata = _expect(folder.body, FOLDER_METADATA, dict)
    except Unreadable as error:
        where = _at(folder.request, error)
        return Finding("campaign folder", UNREAD, f"{label}: {error}", where=where), None
    return Finding("campaign folder", OK, f"{label} read with its metadata"), fields(metadata)


def _field(
    settings: DamSettings, name: str, label: str, places: dict[str, tuple[dict[str, dict], str]]
) -> Finding:
    """Whether a configured field id is in the hit and the folder, and what it holds."""
    field_id = getattr(settings, name)
    holding = [place for place, (found, _) in places.items() if field_id in found]
    if not holding:
        present = sorted(set().union(*(found for found, _ in places.values())))
        there = ", ".join(map(repr, present)) if present else "no fields"
        where = (
            f"neither {' nor '.join(places)}, which hold"
            if len(places) > 1
            else (f"{next(iter(places))}, which holds")
        )
        return Finding(
            label,
            SET,
            f"{field_id!r} is in {where}: {there}; set {name} to the site's field id",
            extras=(name,),
        )
    value, readable = _value(places[holding[0]][0][field_id])
    lacking = [place for place in places if place not in holding]
    if not readable:
        return Finding(
            label,
            UNREAD,
            f"{field_id!r} holds {value}: the pipeline reads only text or a lookup's text",
            where=places[holding[0]][1],
        )
    if lacking:
        return Finding(
            label,
            UNREAD,
            f"{field_id!r} ({value}) is in {holding[0]} but not in {lacking[0]}, where the "
            "pipeline reads it too",
            where=places[lacking[0]][1],
        )
    return Finding(label, OK, f"{field_id!r} is in {' and '.join(places)}: {value}")


def _value(element: dict) -> tuple[str, bool]:
    """What a field holds, shown (text, or a lookup with its display value); False if neither."""
    value = dig(element, "value", "value")
    if isinstance(value, dict) and value.get("type") == DOMAIN_VALUE:
        held = short(dig(value, "field_value", "value"))
        return f"a lookup (DomainValue) {held}, shown as {short(value.get('display_value'))}", True
    if isinstance(value, dict) and value.get("type") == "string":
        return f"text {short(value.get('value'))}", True
    return short(dig(element, "value")), False


def _children(answer: Answer | None) -> Finding:
    if answer is None:
        return Finding("children", UNREAD, "not read: no campaign folder to read")
    if answer.problem is not None:
        return Finding("children", UNREAD, answer.problem, where=answer.request)
    try:
        listing = _expect(answer.body, "folder_children", dict)
        children = _expect(answer.body, "folder_children.asset_list", list | None) or []
    except Unreadable as error:
        return Finding("children", UNREAD, str(error), where=_at(answer.request, error))
    for index, child in enumerate(children):
        if not isinstance(child, dict) or not child.get("asset_id"):
            where = f"{answer.request}: folder_children.asset_list[{index}].asset_id"
            return Finding(
                "children", UNREAD, f"a child without its asset id: {short(child)}", where=where
            )
    total = listing.get("total_child_count")
    counted = (
        f"total_child_count {total}"
        if type(total) is int
        else "no total (the contract's shape: paged until a short page)"
    )
    return Finding("children", OK, f"answered: {len(children)} on the first page; {counted}")


def _sign_out(settings: DamSettings, answer: Answer | None) -> Finding:
    if answer is None:
        method = SIGN_IN_METHODS[settings.auth]
        return Finding("sign-out", OK, f"none needed: {method} holds no session to end")
    if answer.status in NO_SIGN_OUT:
        return Finding(
            "sign-out",
            OK,
            f"not offered ({answer.status}): fine, the session ends on the DAM's own timeout",
        )
    if answer.status == 401:
        return Finding("sign-out", OK, "offered; the session had expired already (401)")
    if answer.problem is not None:
        return Finding("sign-out", UNREAD, answer.problem, where=answer.request)
    return Finding("sign-out", OK, f"offered: signed out ({answer.status})")


def _imports(settings: DamSettings) -> Finding:
    if settings.import_template_id:
        given = f"import_template_id {settings.import_template_id!r}"
    else:
        policies = ", ".join(settings.security_policy_ids)
        given = (
            f"metadata_model_id {settings.metadata_model_id!r} and security_policy_ids {policies}"
        )
    return Finding(
        "imports",
        OK,
        f"{given} set; not verified: only an import would, and this check changes nothing",
    )


def _is_campaign(hit: Any) -> bool:
    return isinstance(hit, dict) and hit.get("data_type") == "CONTAINER"


def _expect(answer: Any, path: str, kind: Any) -> Any:
    """The value at the dotted key `path`, of type `kind`; Unreadable naming `path` if not."""
    found = dig(answer, *path.split("."))
    if not isinstance(found, kind):
        raise Unreadable(path, found)
    return found


def _at(request: str, error: Unreadable) -> str:
    return f"{request}: {error.where}"


def _advice(name: str) -> str:
    """An extra to set, with what the connection form says of it."""
    [item] = [item for item in DAM.extras if item.name == name]
    return f"{name} ({item.help})"
