"""Generated DAM answers through DamHook and the DAM sandbox over real HTTP (many examples, fast).

The sandbox serves each generated answer verbatim (`POST /_sandbox/search-answers`) and records
the paths it receives (`GET /_sandbox/requests`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaigns.errors import FolderError
from campaigns.hooks.dam import DamError, DamHook
from sandbox.connections import dam_connection
from sandbox.dam.app import create_app
from sandbox.dam.fixture import campaign, dam, typed
from sandbox.server import run_in_thread
from tests.fuzz import strategies as gen
from tests.fuzz.tally import TRIED

CONN_ID = "dam_fuzz"
FAST = settings(
    gen.REPRODUCIBLE,
    max_examples=120,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
ENCODED_SEGMENT = re.compile(r"(?:[A-Za-z0-9_~.-]|%[0-9A-F]{2})+")


class Sandbox:
    """The DAM sandbox of this module, its control API and its in-memory state."""

    def __init__(self) -> None:
        self.server = run_in_thread(create_app({"dam": dam()}))
        self.state = self.server.server.config.app.state.dam
        self.http = requests.Session()

    def control(self, method: str, path: str, **request: Any) -> requests.Response:
        url = f"{self.server.url}/_sandbox/{path}"
        response = self.http.request(method, url, timeout=10, **request)
        response.raise_for_status()
        return response

    def serve(self, answers: list[dict[str, Any]]) -> None:
        """Queue answers for the next searches; JSON by hand, as requests refuses NaN."""
        self.control("DELETE", "search-answers")
        body = json.dumps(answers)
        self.control(
            "POST", "search-answers", data=body, headers={"Content-Type": "application/json"}
        )

    def received(self) -> list[str]:
        return self.control("GET", "requests").json()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = Sandbox()
    yield running
    running.server.stop()


@pytest.fixture(scope="module")
def hook(sandbox: Sandbox) -> Iterator[DamHook]:
    """One signed-in hook for every example, as one fetch task would hold it."""
    with pytest.MonkeyPatch.context() as patch:
        connection = dam_connection(sandbox.server.url, max_attempts=1)
        patch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
        hook = DamHook(CONN_ID)
        yield hook
        hook.close()


def _as_answers(hits: list[gen.Hit]) -> st.SearchStrategy[tuple[list[gen.Hit], list[dict]]]:
    return gen.paged_answers(hits).map(lambda answers: (hits, answers))


# Found by this test: a hit that is no object, and a NUL that PostgreSQL cannot store.
REGRESSION = [
    gen.Hit(None, "bad", bad_labels=["a search hit"]),
    gen.Hit(
        {"asset_id": "nul", "name": "a\x00b", "data_type": "CONTAINER", "metadata": None},
        "bad",
        bad_labels=[gen.LABELS["name"], gen.LABELS["status"], gen.LABELS["number"]],
        reported_id="nul",
    ),
]


@FAST
@given(search=gen.search_hits().flatmap(_as_answers))
@example(search=(REGRESSION, [{"body": gen.search_answer([h.wire for h in REGRESSION], 2, 0)}]))
def test_every_campaign_is_parsed_or_reported(sandbox: Sandbox, hook: DamHook, search: Any):
    hits, answers = search
    repeated = any(hit.kind == "repeat" for hit in hits)
    # A repeated hit says the search shifted: it is read again (here, the same each time).
    sandbox.serve(answers * (1 + hook.settings.search_rereads) if repeated else answers)

    found = hook.get_campaigns("A1")

    assert not sandbox.state.search_answers, "the hook stopped paging early"
    assert found.whole is not repeated
    # A hit at another status (CHAR.CONTAINS finds A10 for A1) is no campaign at A1.
    expected = [
        hit.expected for hit in hits if hit.kind == "campaign" and hit.expected["status"] == "A1"
    ]
    assert [vars(c) for c in found.campaigns] == expected
    bad = [hit for hit in hits if hit.kind == "bad"]
    assert len(found.bad) == len(bad)
    for problem, hit in zip(found.bad, bad, strict=True):
        if hit.reported_id is not None:
            assert problem.campaign_id == hit.reported_id
        for label in hit.bad_labels:
            assert label in problem.reason
        assert "\x00" not in problem.campaign_id + problem.reason
        problem.reason.encode()  # storable: no lone surrogate
    TRIED["DAM hits with bad metadata"] += len(bad)
    TRIED["repeated DAM hits"] += sum(hit.kind == "repeat" for hit in hits)


@FAST
@given(answer=gen.broken_answer())
@example(answer={"status": 200, "body": {"search_result_resource": []}})
@example(answer={"status": 200, "text": "[" * 50_000 + "]" * 50_000})
def test_an_unreadable_answer_is_a_clear_dam_error(sandbox: Sandbox, hook: DamHook, answer: Any):
    sandbox.serve([answer])

    with pytest.raises(DamError, match="the DAM's search answer is"):
        hook.get_campaigns("A1")
    TRIED["unreadable DAM search answers"] += 1


@FAST
@given(folder_id=gen.path_ids)
@example(folder_id="..")
@example(folder_id="x/../../sessions")
def test_ids_travel_url_encoded_as_one_path_segment(
    sandbox: Sandbox, hook: DamHook, folder_id: str
):
    sandbox.control("DELETE", "requests")
    sandbox.control("POST", "campaigns", json=campaign(folder_id))
    # A neighbour the id might reach if it were not encoded: its first part, or its parent.
    neighbour = folder_id.split("/")[0] or "root"
    sandbox.control("POST", "campaigns", json=campaign(neighbour, status="A1"))
    try:
        if folder_id in (".", ".."):
            with pytest.raises(FolderError, match="cannot stand in a URL path"):
                hook.move_campaign(folder_id, "A1", "A2")
            assert sandbox.state.campaigns[folder_id].status == "A1"
            TRIED["folder ids that cannot be addressed"] += 1
            return
        hook.move_campaign(folder_id, "A1", "A2")
        assert hook.list_folder_children(folder_id) == []
    finally:
        moved = sandbox.state.campaigns.pop(folder_id).status
        neighbour_status = sandbox.state.campaigns.pop(neighbour, None)
    assert moved == "A2"
    if neighbour != folder_id:
        assert neighbour_status.status == "A1"
    paths = [line.split(" ", 1)[1] for line in sandbox.received() if "/folders/" in line]
    assert len(paths) == 3  # GET and PATCH the folder, GET its children
    for path in paths:
        segment = path.split("/folders/", 1)[1].removesuffix("/children")
        assert ENCODED_SEGMENT.fullmatch(segment), path
        assert segment not in (".", "..")
        assert unquote(segment) == folder_id
    TRIED["folder ids with path characters"] += any(c in folder_id for c in "/?#%. ")


def test_a_field_holding_a_wrong_type_names_its_type(sandbox: Sandbox, hook: DamHook):
    """The reason says what the field held, cut short: the report stays readable."""
    model = {
        "metadata_element_list": [{"id": gen.FIELD_IDS["number"], "value": typed(list(range(500)))}]
    }
    hit = {"asset_id": "listy", "name": "Listy", "data_type": "CONTAINER", "metadata": model}
    sandbox.serve([{"body": gen.search_answer([hit], 1, 0)}])

    (problem,) = hook.get_campaigns("A1").bad

    assert f"{gen.LABELS['number']} holds list [0, 1, 2," in problem.reason
    assert len(problem.reason) < 300
