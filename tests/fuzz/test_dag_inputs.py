"""Hostile campaign names, numbers and ids through real runs of a1_to_a2 (few examples, slow).

Each example starts its own world (sandboxes, mail catcher) and runs the DAG once: four good
campaigns reach warn, retry, fail and reset, one or two with broken metadata are reported.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

import markupsafe
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from sandbox.dam import fixture as dam
from tests.dags.world import RECIPIENTS, Campaign
from tests.fuzz import strategies as gen
from tests.fuzz.tally import TRIED

# A run takes tens of seconds: few examples, and a failure is reported as found (no shrinking).
SLOW = settings(
    gen.REPRODUCIBLE,
    max_examples=4,
    phases=[Phase.explicit, Phase.generate],
    # `make_world` is a factory: every example starts a world of its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
HEADERS = ["content-type", "from", "message-id", "mime-version", "subject", "to"]
SUBJECTS = {
    "warn": "⚠️ Campaign in A1 with no assets yet - {name}",
    "retry": "⚠️ No Assets Found (Attempt 1/3) - Campaign {name}",
    "fail": "PERMANENTLY FAILED - Campaign {name} (No Assets After 1 Attempts)",
}
# What the subject line may not hold (control characters, line and paragraph separators).
HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
FOLDERS = {"warn": "empty", "retry": "no_master_assets", "fail": "forbidden", "reset": "assets"}


@dataclass
class HostileCampaign(Campaign):
    """A campaign whose number is its own (not derived from the id) and whose Box id is plain."""

    own_number: str = ""
    box_id: str = ""
    bad_labels: list[str] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.own_number

    @property
    def box_folder_id(self) -> str:
        return self.box_id


BAD_KINDS = ["nul name", "number not text", "no status", "long id", "dot id", "long number"]


@st.composite
def scenario(draw: st.DrawFn) -> dict[str, Any]:
    """Names, numbers and id parts of the four good campaigns, and the bad campaigns' kinds."""
    roles = {
        role: {
            "name": draw(gen.good_name),
            "number": draw(gen.good_identifier),
            "id": draw(gen.good_text),
        }
        for role in FOLDERS
    }
    bad = draw(st.lists(st.sampled_from(BAD_KINDS), min_size=1, max_size=2, unique=True))
    return {"roles": roles, "bad": bad}


def _campaigns(uid: str, drawn: dict[str, Any]) -> tuple[dict[str, HostileCampaign], list]:
    good = {
        role: HostileCampaign(
            f"{uid}-{role}-{texts['id']}",
            folder=FOLDERS[role],
            assets={"key visual <b>.psd": 2048} if role == "reset" else {},
            name=texts["name"],
            own_number=texts["number"],
            box_id=f"box-{uid}-{role}",
        )
        for role, texts in drawn["roles"].items()
    }
    bad = [_bad_campaign(uid, n, kind) for n, kind in enumerate(drawn["bad"])]
    return good, bad


def _bad_campaign(uid: str, n: int, kind: str) -> HostileCampaign:
    base: dict[str, Any] = {"own_number": f"C-{uid}-bad-{n}", "box_id": f"box-{uid}-bad-{n}"}
    campaign_id, name = f"{uid}-bad-{n}", f"Broken {n}"
    if kind == "nul name":
        name, base["bad_labels"] = "Broken\x00name", [gen.LABELS["name"]]
    elif kind == "number not text":
        base["metadata"] = {dam.NUMBER_FIELD: dam.typed(4711, "integer")}
        base["bad_labels"] = [gen.LABELS["number"]]
    elif kind == "no status":
        base["missing"] = (dam.STATUS_FIELD,)
        base["bad_labels"] = [gen.LABELS["status"]]
    elif kind == "long id":
        campaign_id = f"{uid}-{'x' * 300}"
        base["bad_labels"] = [gen.LABELS["id"]]
    elif kind == "dot id":
        campaign_id, base["bad_labels"] = "..", [gen.LABELS["id"]]
    else:
        base["own_number"], base["bad_labels"] = "9" * 400, [gen.LABELS["number"]]
    return HostileCampaign(campaign_id, name=name, **base)


REGRESSION = {
    "roles": {
        "warn": {"name": "Spring\r\nBcc: attacker@example.com", "number": "C/1?#", "id": "a/b"},
        "retry": {"name": "<script>alert('x')</script>", "number": "../..", "id": "x?y#z"},
        "fail": {"name": "next\x85line\u2028sep\x0bv\x1ffs é", "number": "100%", "id": "%2F.."},
        "reset": {"name": "春" * 3000, "number": "N° 1 <b>", "id": "é 春/../🚀"},
    },
    "bad": ["nul name", "dot id"],
}


@pytest.mark.slow
@SLOW
@given(drawn=scenario())
@example(drawn=REGRESSION)
def test_hostile_campaigns_through_a_real_run(make_suite_world, drawn: dict[str, Any]):
    uid = uuid.uuid4().hex[:6]
    good, bad = _campaigns(uid, drawn)
    world = make_suite_world([*good.values(), *bad], warning_threshold=1)
    fail = good["fail"]
    world.state.upsert_campaigns([{"campaign_id": fail.campaign_id, "number": fail.number}])
    assert world.state.set_max_retries(fail.campaign_id, 1)

    run = world.run()

    assert str(run.state) == "success"
    reported = _fetched(run)["bad"]
    assert len(reported) == len(bad)
    for campaign, problem in zip(bad, reported, strict=True):
        if len(campaign.campaign_id) <= gen.IDENTIFIER_LIMIT:
            assert problem["campaign_id"] == campaign.campaign_id
        assert all(label in problem["reason"] for label in campaign.bad_labels)
        assert world.tracked(campaign.campaign_id) is None

    assert world.tracked(good["warn"].campaign_id).warning_sent_at is not None
    assert world.tracked(good["retry"].campaign_id).state.consecutive_errors == 1
    assert world.tracked(good["fail"].campaign_id).state.permanently_failed
    reset = world.dam.control("GET", f"campaigns/{quote(good['reset'].campaign_id, safe='')}")
    assert reset["status"] == "A2"
    assert [(a["name"], a["size"]) for a in reset["imported"]] == [("key visual <b>.psd", 2048)]

    messages = world.mail.messages
    assert len(messages) == len(SUBJECTS)
    for role, subject in SUBJECTS.items():
        expected = HEADER_BREAKS.sub(" ", subject.format(name=good[role].name)).strip()
        (message,) = [m for m in messages if str(m["Subject"]) == expected]
        _check_email(message, good[role])

    TRIED["DAG runs with hostile campaigns"] += 1
    TRIED["bad campaigns in DAG runs"] += len(bad)
    TRIED["hostile names, numbers and ids in DAG runs"] += 3 * len(good)


def _fetched(run: Any) -> dict[str, Any]:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        row = session.query(XComModel).filter_by(run_id=run.run_id, task_id="fetch").one()
        return XComModel.deserialize_value(row)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _check_email(message: EmailMessage, campaign: HostileCampaign) -> None:
    """Exactly the expected headers, a one-line subject, the name escaped in the HTML."""
    assert sorted(name.lower() for name in message) == HEADERS
    assert not HEADER_BREAKS.search(str(message["Subject"]))
    assert message["To"] == ", ".join(RECIPIENTS)
    html = _lines(message.get_body(("html",)).get_content())
    plain = _lines(message.get_body(("plain",)).get_content())
    assert _lines(str(markupsafe.escape(campaign.name))) in html
    assert "<script" not in html.lower() and "<img" not in html.lower()
    assert _lines(campaign.name) in plain
    assert _lines(campaign.number) in plain


def test_a_name_holding_nel_still_makes_a_one_line_subject():
    """Found by the test above: NEL (U+0085) is a line break to Python's email headers."""
    _, received, _ = _sent_and_read("next\x85line")
    assert "\x85" not in str(received["Subject"])


@pytest.mark.parametrize(
    "name",
    [
        "déjà déjà déjà 2026 vu – – 🚀 Ωμέγα Été Ωμέγα 🚀 🚀",
        "Frühjahr  春 🚀 кампания =?utf-8?q?not_a_word?= " * 60,
        "é" * 3000,
    ],
    ids=["fifty accented", "thousands mixed", "thousands of one"],
)
def test_a_long_subject_keeps_its_spaces(name):
    """Found by the test above: names of about 50 characters with accents lost a space where
    Python's newer email API folds (between two encoded words, where RFC 2047 has readers drop
    it); every line of the message stays within SMTP's 998 characters."""
    email, received, wire = _sent_and_read(name)
    assert str(received["Subject"]) == email.subject
    assert max(map(len, wire.splitlines())) <= 998


def _sent_and_read(name: str) -> tuple[Any, EmailMessage, bytes]:
    """A retry email about `name` as notify.py builds it, as a mail client reads it, and as
    smtplib writes it (with the message's own policy)."""
    from campaigns import notify

    email = notify.render_email(
        "a1_to_a2_no_assets_retry",
        campaign_id="c-1",
        campaign_name=name,
        campaign_number="C-1",
        poll_count=1,
        attempt=1,
        max_attempts=3,
        reason="No access",
        run_url="http://localhost:8080/dags/a1_to_a2",
    )
    message = notify.build_message(email, "a1-to-a2@example.com", tuple(RECIPIENTS))
    wire = message.as_bytes()
    return email, message_from_bytes(wire, policy=policy.default), wire
