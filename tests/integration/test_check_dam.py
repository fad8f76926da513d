"""`python -m campaigns.check_dam` and the DAM connection's Test button, against the DAM sandbox
served as every site variant, over real HTTP."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from _dam_fixtures import DamSandbox, TlsFiles, dam_hook, start_dam_server

from campaigns.check_dam import main
from campaigns.hooks.dam import DamHook
from sandbox.connections import dam_connection
from sandbox.dam.fixture import (
    BOX_FOLDER_FIELD,
    CLIENT_ID,
    CLIENT_SECRET,
    NUMBER_FIELD,
    STATUS_FIELD,
    VARIANTS,
    asset,
    campaign,
    dam,
    domain_value,
    typed,
)

ROOT = Path(__file__).parents[2]
API = "/otmmapi/v6"
CAMPAIGNS = [
    campaign("c1", box_folder_id="9001"),
    campaign("c2", status="A2", box_folder_id="9002"),
]
SESSION_SIGN_IN = [f"POST {API}/sessions"]
OTDS = "/otdsws/rest/authentication"
# What the check reads after signing in, in order: nothing that locks, edits or imports.
READS = [f"POST {API}/search/text", f"GET {API}/folders/c1", f"GET {API}/folders/c1/children"]
SIGN_OUT = [f"DELETE {API}/sessions"]
# The children request as a finding names it.
CHILDREN = "GET folders/c1/children?load_type=metadata&after=0&limit=100"
SITE_FIELDS = f"{BOX_FOLDER_FIELD!r}, {NUMBER_FIELD!r}, {STATUS_FIELD!r}"


@dataclass(frozen=True)
class Site:
    """What the check must say of a variant, and the requests it may send there."""

    sign_in: str
    sign_in_requests: list[str]
    status: str
    sign_out: str
    search: str
    imports: str


LOOKUP = "a lookup (DomainValue) 'A1', shown as 'A1 (lookup)'"
TEXT = "text 'A1'"
NO_SIGN_OUT = "not offered (405): fine, the session ends on the DAM's own timeout"
SIGNED_OUT = "offered: signed out (204)"
IS_SEARCH = f"field {STATUS_FIELD!r} ARTESIA.OPERATOR.CHAR.IS 'A1', search_config_id none"
MODEL = "metadata_model_id 'ACME.MODEL.MASTER ASSET' and security_policy_ids 1, 42 set"
SESSION = "an OTMM session"
OTDS_SIGN_IN = [f"POST {OTDS}/credentials", f"GET {API}/sessions"]
EXPECTED = {
    "strict": Site(SESSION, SESSION_SIGN_IN, LOOKUP, NO_SIGN_OUT, IS_SEARCH, MODEL),
    "text_status": Site(SESSION, SESSION_SIGN_IN, TEXT, NO_SIGN_OUT, IS_SEARCH, MODEL),
    "sign_out": Site(SESSION, SESSION_SIGN_IN, LOOKUP, SIGNED_OUT, IS_SEARCH, MODEL),
    "otds": Site("OTDS single sign-on", OTDS_SIGN_IN, LOOKUP, NO_SIGN_OUT, IS_SEARCH, MODEL),
    "otds_resource": Site(
        "OTDS single sign-on",
        [
            f"POST {OTDS}/credentials",
            f"POST {OTDS}/resource/ticketforresource",
            f"GET {API}/sessions",
        ],
        LOOKUP,
        NO_SIGN_OUT,
        IS_SEARCH,
        MODEL,
    ),
    "import_template": Site(
        SESSION,
        SESSION_SIGN_IN,
        LOOKUP,
        NO_SIGN_OUT,
        IS_SEARCH,
        "import_template_id 'ACME.TEMPLATE.MASTER' set",
    ),
    "search_config": Site(
        SESSION,
        SESSION_SIGN_IN,
        LOOKUP,
        NO_SIGN_OUT,
        f"field {STATUS_FIELD!r} ARTESIA.OPERATOR.CHAR.CONTAINS 'A1', search_config_id 3",
        MODEL,
    ),
    "lenient": Site(SESSION, SESSION_SIGN_IN, TEXT, SIGNED_OUT, IS_SEARCH, MODEL),
}


@pytest.fixture
def start_dam():
    """Starts DAM sandboxes (a `dam(...)` part, or a variant's site), stopped after the test."""
    started: list[DamSandbox] = []

    def start(
        campaigns: list[dict] = CAMPAIGNS, variant: str = "strict", **uvicorn_options
    ) -> DamSandbox:
        part = dam(campaigns, [asset("plain-1")], **VARIANTS[variant]["site"])
        started.append(start_dam_server(part, **uvicorn_options))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def check(monkeypatch):
    """Runs the command's main with `--json` on a connection to `url`: its exit code, findings."""

    def run(url: str, *args: str, variant: str = "strict", **extras) -> tuple[int, list[dict]]:
        dam_hook(monkeypatch, url, **{**VARIANTS[variant]["extras"], **extras})
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            code = main(["--json", *args])
        # In this process the hook's log lines go to stdout too, before the report (run as a
        # command, they go to stderr: test_the_command_runs_as_a_module).
        out = printed.getvalue()
        report = json.loads(out[re.search(r"^\{$", out, re.MULTILINE).start() :])
        assert report["exit_code"] == code
        return code, report["findings"]

    return run


def topic(findings: list[dict], name: str) -> dict:
    """The one finding about `name`."""
    [found] = [finding for finding in findings if finding["topic"] == name]
    return found


def sent(sandbox: DamSandbox) -> list[str]:
    """The API requests the sandbox received (method and path), then forgets them."""
    received = requests.get(f"{sandbox.url}/_sandbox/requests", timeout=10).json()
    requests.delete(f"{sandbox.url}/_sandbox/requests", timeout=10).raise_for_status()
    return received


def serve_search_answers(sandbox: DamSandbox, *answers: dict) -> None:
    url = f"{sandbox.url}/_sandbox/search-answers"
    requests.post(url, json=list(answers), timeout=10).raise_for_status()


def assert_unchanged(sandbox: DamSandbox) -> None:
    for campaign_id, status in (("c1", "A1"), ("c2", "A2")):
        found = sandbox.campaign(campaign_id)
        assert (found["status"], found["locked_by"], found["imported"]) == (status, None, [])


def test_every_variant_is_described():
    assert sorted(EXPECTED) == sorted(VARIANTS)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_each_site_variant_reads_clean(variant, start_dam, check):
    site = EXPECTED[variant]
    sandbox = start_dam(variant=variant)

    code, findings = check(sandbox.url, variant=variant)

    assert code == 0, findings
    assert {finding["verdict"] for finding in findings} == {"ok"}
    assert topic(findings, "sign-in")["text"] == (
        f"signed in with {site.sign_in} as 'svc' at {sandbox.url}"
    )
    assert topic(findings, "search")["text"] == (
        f"answered ({site.search}): 2 hit(s) on the first page, 1 campaign folder(s), "
        "1 plain asset(s) (ignored); total_hit_count 2"
    )
    assert topic(findings, "campaign folder")["text"] == (
        "campaign 'c1' ('Campaign c1') read with its metadata"
    )
    assert topic(findings, "status field")["text"] == (
        f"{STATUS_FIELD!r} is in the search hit and the folder: {site.status}"
    )
    assert topic(findings, "number field")["text"].endswith("the folder: text 'C-c1'")
    assert topic(findings, "Box folder field")["text"].endswith("the folder: text '9001'")
    assert topic(findings, "children")["text"] == (
        "answered: 0 on the first page; no total (the contract's shape: paged until a short page)"
    )
    assert topic(findings, "sign-out")["text"] == site.sign_out
    assert topic(findings, "imports")["text"] == (
        f"{site.imports}; not verified: only an import would, and this check changes nothing"
    )
    assert sent(sandbox) == [*site.sign_in_requests, *READS, *SIGN_OUT]

    ok, message = DamHook().test_connection()

    assert ok is True
    assert message.splitlines() == [
        "This DAM connection: nothing to fix",
        "ok: sign-in, search, campaign folder, status field, number field, Box folder field, "
        "children, sign-out, imports",
    ]
    assert sent(sandbox) == [*site.sign_in_requests, *READS, *SIGN_OUT]
    assert_unchanged(sandbox)


def test_oauth2_has_no_session_to_end(start_dam, check):
    sandbox = start_dam()

    code, findings = check(sandbox.url, **OAUTH2)

    assert code == 0
    assert topic(findings, "sign-in")["text"].startswith("signed in with OAuth2 as 'svc'")
    assert topic(findings, "sign-out")["text"] == "none needed: OAuth2 holds no session to end"
    assert sent(sandbox) == [f"POST {API}/sessions/oauth2/token", *READS]


def test_the_session_expired_before_the_sign_out(start_dam, check):
    sandbox = start_dam(variant="sign_out")
    sandbox.expire_sessions(after_requests=3)

    code, findings = check(sandbox.url)

    assert code == 0
    assert topic(findings, "sign-out")["text"] == ("offered; the session had expired already (401)")


def test_bad_password_exits_2_and_says_so(start_dam, check):
    sandbox = start_dam()

    code, findings = check(sandbox.url, password="wrong")

    assert code == 2
    [sign_in] = findings
    assert sign_in["verdict"] == "set this"
    assert "Invalid user name or password" in sign_in["text"]
    assert sign_in["extras"] == ["login", "password", "auth"]
    assert sent(sandbox) == SESSION_SIGN_IN


def test_bad_password_on_the_test_button(start_dam, monkeypatch):
    sandbox = start_dam()
    hook = dam_hook(monkeypatch, sandbox.url, password="wrong")

    ok, message = hook.test_connection()

    assert ok is False
    summary, sign_in = message.splitlines()
    assert summary == "This DAM connection: could not sign in to the DAM"
    assert sign_in.startswith("sign-in (set this): an OTMM session as 'svc'")
    assert "Invalid user name or password; check login, password, auth" in sign_in


def test_wrong_oauth2_client_points_at_the_client(start_dam, check):
    sandbox = start_dam()

    code, findings = check(sandbox.url, auth="oauth2", client_id=CLIENT_ID, client_secret="no")

    assert code == 2
    assert "Invalid client credentials" in topic(findings, "sign-in")["text"]
    assert topic(findings, "sign-in")["extras"] == [
        "login",
        "password",
        "client_id",
        "client_secret",
    ]


def test_otds_resource_the_site_does_not_know(start_dam, check):
    sandbox = start_dam(variant="otds_resource")

    code, findings = check(sandbox.url, variant="otds_resource", otds_resource_id="otmm-typo")

    assert code == 2
    sign_in = topic(findings, "sign-in")
    assert sign_in["text"].startswith(f"OTDS single sign-on as 'svc' at {sandbox.url} failed:")
    assert "answered 404: No resource otmm-typo in OTDS" in sign_in["text"]
    assert sign_in["extras"] == ["host", "otds_url", "otds_resource_id"]


def test_otds_site_needing_a_resource_ticket(start_dam, check):
    sandbox = start_dam(variant="otds_resource")

    code, findings = check(sandbox.url, variant="otds")

    assert code == 2
    sign_in = topic(findings, "sign-in")
    assert "OTMM takes only a resource ticket for otmm-resource" in sign_in["text"]
    assert sign_in["extras"] == ["login", "password", "otds_resource_id"]


def closed_port_url() -> str:
    """The URL of a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


OAUTH2 = {"auth": "oauth2", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
SIGN_IN_FAILURES = {
    "no OTMM at the host": ("/not-otmm", {}, None, "answered 404", ["host", "api_version"]),
    "no OAuth2 at the site": (
        "",
        OAUTH2,
        ("POST", "sessions/oauth2/token", [404]),
        "answered 404",
        ["auth", "api_version"],
    ),
    "OTDS unreachable": (
        "",
        {"auth": "otds"},
        None,
        "failed 3 times; ConnectionError",
        ["host", "otds_url", "verify", "client_cert"],
    ),
}


@pytest.mark.parametrize("case", SIGN_IN_FAILURES)
def test_a_failed_sign_in_names_what_to_check(case, start_dam, check):
    path, extras, fault, said, to_check = SIGN_IN_FAILURES[case]
    sandbox = start_dam(variant="otds")
    if fault is not None:
        sandbox.add_faults(*fault)
    if extras.get("auth") == "otds":
        extras = {**extras, "otds_url": closed_port_url()}

    code, findings = check(f"{sandbox.url}{path}", **extras)

    assert code == 2
    [sign_in] = findings
    assert said in sign_in["text"]
    assert sign_in["extras"] == to_check


def test_an_unreadable_sign_in_answer(start_dam, check):
    sandbox = start_dam()
    sandbox.add_faults("POST", "sessions", [200], body={"session_resource": {}})

    code, findings = check(sandbox.url)

    assert code == 2
    [sign_in] = findings
    assert sign_in["verdict"] == "could not read"
    assert "the DAM's sign-in answer is unreadable" in sign_in["text"]
    assert sign_in["where"] == "sign-in (session)"


def test_an_unreachable_dam_exits_2(check):
    code, findings = check(closed_port_url())

    assert code == 2
    sign_in = topic(findings, "sign-in")
    assert "failed 3 times; ConnectionError" in sign_in["text"]
    assert sign_in["extras"] == ["host", "verify", "client_cert"]


def test_an_untrusted_certificate_exits_2(tmp_path, start_dam, check):
    tls = TlsFiles(tmp_path)
    sandbox = start_dam(**tls.server_options(require_client_cert=False))

    code, findings = check(sandbox.url)

    assert code == 2
    sign_in = topic(findings, "sign-in")
    assert f"TLS with the DAM at {sandbox.url}/otmmapi/v6/sessions failed" in sign_in["text"]
    assert sign_in["extras"] == ["host", "verify", "client_cert"]


def test_a_missing_connection_exits_2(capsys):
    code = main(["--conn-id", "no_such_dam"])

    assert code == 2
    assert "The conn_id `no_such_dam` isn't defined" in capsys.readouterr().out


def test_a_connection_missing_an_extra_names_it_and_sends_nothing(start_dam, check):
    sandbox = start_dam()

    code, findings = check(sandbox.url, box_folder_field=None, box_folder_feild="x")

    assert code == 1
    connection = topic(findings, "connection")
    assert connection["verdict"] == "set this"
    assert connection["extras"] == ["box_folder_field"]
    assert "'box_folder_field' is missing" in connection["text"]
    assert topic(findings, "extras")["extras"] == ["box_folder_feild"]
    assert sent(sandbox) == []


def test_imports_without_model_or_template_are_named(start_dam, check):
    code, findings = check(start_dam().url, metadata_model_id=None)

    assert code == 1
    assert topic(findings, "connection")["extras"] == ["metadata_model_id"]


def test_unknown_extras_are_named_and_the_rest_is_checked(start_dam, check):
    code, findings = check(start_dam().url, staus_field="ACME.FIELD.STATUS")

    assert code == 1
    extras = topic(findings, "extras")
    assert extras["extras"] == ["staus_field"]
    assert extras["text"].startswith("'staus_field' ignored: no such extra (a typo?)")
    assert [f["verdict"] for f in findings if f["topic"] != "extras"] == ["ok"] * 9


def test_a_wrong_status_field_says_so_and_lists_the_fields_there(start_dam, check):
    sandbox = start_dam()

    code, findings = check(sandbox.url, "--campaign-id", "c1", status_field="ACME.FIELD.STATUS")

    assert code == 1
    search = topic(findings, "search")
    assert search["verdict"] == "set this"
    assert "0 hit(s) on the first page" in search["text"]
    assert "no campaign at A1" in search["text"]
    assert search["extras"] == ["status_field", "search_operator_id"]
    assert topic(findings, "campaign folder")["text"] == (
        "campaign 'c1' (not among the hits) read with its metadata"
    )
    status = topic(findings, "status field")
    assert status["verdict"] == "set this"
    assert status["text"] == (
        f"'ACME.FIELD.STATUS' is in the folder, which holds: {SITE_FIELDS}; "
        "set status_field to the site's field id"
    )
    assert status["extras"] == ["status_field"]
    assert sent(sandbox) == [*SESSION_SIGN_IN, *READS, *SIGN_OUT]


def test_a_wrong_number_field_lists_the_fields_of_hit_and_folder(start_dam, check):
    code, findings = check(start_dam().url, number_field="ACME.FIELD.NUMBER")

    assert code == 1
    number = topic(findings, "number field")
    assert number["text"] == (
        "'ACME.FIELD.NUMBER' is in neither the search hit nor the folder, which hold: "
        f"{SITE_FIELDS}; set number_field to the site's field id"
    )
    assert topic(findings, "status field")["verdict"] == "ok"


def test_no_campaign_at_the_status(start_dam, check):
    sandbox = start_dam([campaign("c2", status="A2")])

    code, findings = check(sandbox.url)

    assert code == 1
    assert topic(findings, "search")["verdict"] == "set this"
    assert topic(findings, "campaign metadata")["text"] == (
        "not checked: no campaign folder at A1 on the first search page "
        "(name one: python -m campaigns.check_dam --campaign-id <DAM id>)"
    )
    assert topic(findings, "children")["text"] == "not read: no campaign folder to read"
    assert sent(sandbox) == [*SESSION_SIGN_IN, f"POST {API}/search/text", *SIGN_OUT]
    ok, message = DamHook().test_connection()
    assert ok is False
    assert "no campaign at A1" in message

    code, findings = check(sandbox.url, "--status", "A2")

    assert code == 0
    assert topic(findings, "campaign folder")["text"].startswith("campaign 'c2'")


def test_a_campaign_id_the_dam_does_not_have(start_dam, check):
    code, findings = check(start_dam().url, "--campaign-id", "c404")

    assert code == 1
    folder = topic(findings, "campaign folder")
    assert folder["text"] == (
        "campaign 'c404' (not among the hits): the DAM answered 404: Folder c404 was not found"
    )
    assert folder["where"] == "GET folders/c404?load_type=metadata"
    assert topic(findings, "children")["where"] == CHILDREN.replace("c1", "c404")
    assert not [f for f in findings if f["topic"].endswith(" field")]


def test_a_campaign_id_no_url_can_carry_is_refused(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--campaign-id", ".."])

    assert exited.value.code == 2
    assert "cannot stand in a URL path" in capsys.readouterr().err


def test_a_refused_search_names_the_extra_it_needs(start_dam, check):
    sandbox = start_dam(variant="search_config")

    code, findings = check(sandbox.url)

    assert code == 1
    search = topic(findings, "search")
    assert search["extras"] == ["search_config_id"]
    assert "searches need search_config_id 3, not None" in search["text"]
    assert f"(field {STATUS_FIELD!r} ARTESIA.OPERATOR.CHAR.IS 'A1'" in search["text"]

    code, findings = check(sandbox.url, search_config_id="3")

    search = topic(findings, "search")
    assert search["extras"] == ["search_operator_id"]
    assert "Unsupported relational_operator_id ARTESIA.OPERATOR.CHAR.IS" in search["text"]
    assert "search_operator_id (the relational operator of the status search)" in search["text"]


def test_a_search_matching_more_than_the_status(start_dam, check):
    sandbox = start_dam([campaign("c10", status="A10"), *CAMPAIGNS], variant="search_config")

    code, findings = check(sandbox.url, variant="search_config")

    assert code == 1
    assert topic(findings, "campaign folder")["text"].startswith("campaign 'c10'")
    mismatch = [f for f in findings if f["topic"] == "search" and f["verdict"] == "set this"]
    assert [f["text"] for f in mismatch] == [
        "the hit's status is 'A10', not 'A1': the search does not match the status exactly; "
        "set search_operator_id"
    ]


def search_answer(answer: dict):
    """Serves `answer` to the next search (`{"body": json}` or `{"text": text}`)."""
    return lambda sandbox: serve_search_answers(sandbox, answer)


def folder_answer(route: str, body: object):
    """Serves `body` (JSON, status 200) to the next request to the folder `route`."""
    return lambda sandbox: sandbox.add_faults("GET", route, [200], body=body)


FOLDER = "GET folders/c1?load_type=metadata"
UNREADABLE_ANSWERS = {
    "search not JSON": (
        search_answer({"text": "<html>a proxy's login page</html>"}),
        "search",
        "POST search/text",
        "the DAM's search answer is not JSON",
    ),
    "search without its result": (
        search_answer({"body": {"search": []}}),
        "search",
        "POST search/text: search_result_resource",
        "search_result_resource holds None",
    ),
    "hits not a list": (
        search_answer({"body": {"search_result_resource": {"asset_list": "c1"}}}),
        "search",
        "POST search/text: search_result_resource.asset_list",
        "search_result_resource.asset_list holds 'c1'",
    ),
    "search without a total": (
        search_answer({"body": {"search_result_resource": {"search_result": {"hit_count": 0}}}}),
        "search",
        "POST search/text: search_result_resource.search_result.total_hit_count",
        "no total_hit_count (holds None): the poll pages by it",
    ),
    "folder without metadata": (
        folder_answer("folders/{folder_id}", {"folder_resource": {"folder": {}}}),
        "campaign folder",
        f"{FOLDER}: folder_resource.folder.metadata",
        "campaign 'c1' ('Campaign c1'): folder_resource.folder.metadata holds None",
    ),
    "children not a list": (
        folder_answer("folders/{folder_id}/children", {"folder_children": {"asset_list": 5}}),
        "children",
        f"{CHILDREN}: folder_children.asset_list",
        "folder_children.asset_list holds 5",
    ),
    "a child without an id": (
        folder_answer(
            "folders/{folder_id}/children",
            {"folder_children": {"asset_list": [{"asset_id": "a1"}, {"name": "x.jpg"}]}},
        ),
        "children",
        f"{CHILDREN}: folder_children.asset_list[1].asset_id",
        "a child without its asset id: {'name': 'x.jpg'}",
    ),
}


@pytest.mark.parametrize("case", UNREADABLE_ANSWERS)
def test_an_unreadable_answer_is_reported_where(case, start_dam, check):
    serve, what, where, said = UNREADABLE_ANSWERS[case]
    sandbox = start_dam()
    serve(sandbox)

    code, findings = check(sandbox.url)

    assert code == 1
    unread = topic(findings, what)
    assert unread["verdict"] == "could not read"
    assert unread["where"] == where
    assert said in unread["text"]
    assert topic(findings, "sign-out")["verdict"] == "ok"
    assert_unchanged(sandbox)


def test_the_fields_are_checked_in_the_hit_when_the_folder_is_unreadable(start_dam, check):
    sandbox = start_dam()
    folder_answer("folders/{folder_id}", {"folder_resource": {}})(sandbox)

    code, findings = check(sandbox.url)

    assert code == 1
    assert topic(findings, "status field")["text"] == (
        f"{STATUS_FIELD!r} is in the search hit: {LOOKUP}"
    )


FAILED_READS = {
    "search": ("POST", "search/text", [403], "the DAM answered 403: Forbidden", "POST search/text"),
    "sign-out": (
        "DELETE",
        "sessions",
        [500] * 3,
        "DAM DELETE sessions failed 3 times; answered 500",
        "DELETE sessions",
    ),
}


@pytest.mark.parametrize("what", FAILED_READS)
def test_a_read_the_dam_refuses_is_reported_where(what, start_dam, check):
    """Refusals that no extra explains (a 403 search, a sign-out failing with 500 each try)."""
    method, route, statuses, said, where = FAILED_READS[what]
    sandbox = start_dam(variant="sign_out")
    sandbox.add_faults(method, route, statuses)

    code, findings = check(sandbox.url)

    assert code == 1
    failed = topic(findings, what)
    assert failed["verdict"] == "could not read"
    assert failed["text"].startswith(said)
    assert failed["where"] == where


def test_a_field_in_the_folder_but_not_in_the_hit(start_dam, check):
    """The hit lacks the number field that the folder has; a hit no URL can carry is passed over."""
    sandbox = start_dam()
    category = {
        "id": "ACME.CATEGORY.CAMPAIGN",
        "metadata_element_list": [{"id": STATUS_FIELD, "value": domain_value("A1")}],
    }
    hit = {
        "asset_id": "c1",
        "name": "Campaign c1",
        "data_type": "CONTAINER",
        "metadata": {"metadata_element_list": [category]},
    }
    result = {"search_result": {"hit_count": 2, "total_hit_count": 2}}
    dots = {"asset_id": "..", "data_type": "CONTAINER"}
    serve_search_answers(
        sandbox, {"body": {"search_result_resource": {**result, "asset_list": [dots, hit]}}}
    )

    code, findings = check(sandbox.url)

    assert code == 1
    number = topic(findings, "number field")
    assert number["verdict"] == "could not read"
    assert number["text"] == (
        f"{NUMBER_FIELD!r} (text 'C-c1') is in the folder but not in the search hit, where the "
        "pipeline reads it too"
    )
    assert number["where"] == "POST search/text: search_result_resource.asset_list[1].metadata"
    assert topic(findings, "status field")["verdict"] == "ok"
    assert sent(sandbox) == [*SESSION_SIGN_IN, *READS, *SIGN_OUT]


REFUSED_SEARCHES = {
    "Unknown metadata field ACME.FIELD.STATUS": ["status_field"],
    "Bad request": ["search_operator_id", "search_config_id"],
}


@pytest.mark.parametrize("message", REFUSED_SEARCHES)
def test_a_refused_search_points_at_what_its_message_names(message, start_dam, check):
    sandbox = start_dam()
    body = {"exception_body": {"message": message, "http_response_code": 400}}
    sandbox.add_faults("POST", "search/text", [400], body=body)

    code, findings = check(sandbox.url)

    assert code == 1
    search = topic(findings, "search")
    assert search["verdict"] == "set this"
    assert f"was refused: the DAM answered 400: {message}; set " in search["text"]
    assert search["extras"] == REFUSED_SEARCHES[message]


def test_a_field_holding_something_other_than_text(start_dam, check):
    sandbox = start_dam([campaign("c1", metadata={NUMBER_FIELD: typed(4711, "integer")})])

    code, findings = check(sandbox.url)

    assert code == 1
    number = topic(findings, "number field")
    assert number["verdict"] == "could not read"
    assert number["text"] == (
        f"{NUMBER_FIELD!r} holds {{'value': {{'type': 'integer', 'value': 4711}}}}: "
        "the pipeline reads only text or a lookup's text"
    )
    assert number["where"] == "POST search/text: search_result_resource.asset_list[0].metadata"


def test_children_with_a_total(start_dam, check):
    sandbox = start_dam()
    listing = {"folder_children": {"asset_list": [], "total_child_count": 0}}
    sandbox.add_faults("GET", "folders/{folder_id}/children", [200], body=listing)

    code, findings = check(sandbox.url)

    assert code == 0
    assert topic(findings, "children")["text"] == (
        "answered: 0 on the first page; total_child_count 0"
    )


def test_a_campaign_named_among_the_hits(start_dam, check):
    sandbox = start_dam([campaign("c0"), *CAMPAIGNS])

    code, findings = check(sandbox.url, "--campaign-id", "c1")

    assert code == 0
    assert topic(findings, "campaign folder")["text"] == (
        "campaign 'c1' ('Campaign c1') read with its metadata"
    )
    assert sent(sandbox) == [*SESSION_SIGN_IN, *READS, *SIGN_OUT]


def test_mutual_tls_is_named_in_the_sign_in(tmp_path, start_dam, check):
    tls = TlsFiles(tmp_path)
    sandbox = start_dam(**tls.server_options())

    code, findings = check(
        sandbox.url,
        verify=tls.ca,
        client_cert=tls.client_p12,
        client_cert_password=TlsFiles.CLIENT_PASSWORD,
    )

    assert code == 0
    assert topic(findings, "sign-in")["text"] == (
        f"signed in with an OTMM session over mutual TLS (client_cert) as 'svc' at {sandbox.url}"
    )


def test_the_command_runs_as_a_module(start_dam):
    sandbox = start_dam(variant="lenient")
    connection = dam_connection(sandbox.url, **VARIANTS["lenient"]["extras"])
    environment = {
        **os.environ,
        "PYTHONPATH": "plugins",
        "AIRFLOW_CONN_DAM_DEFAULT": json.dumps(connection),
    }

    done = subprocess.run(
        [sys.executable, "-m", "campaigns.check_dam", "--status", "A1"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "DAM connection 'dam_default': nothing to fix"
    assert [line.split(":")[0] for line in lines[:-1]] == [
        f"{name} (ok)"
        for name in (
            "sign-in",
            "search",
            "campaign folder",
            "status field",
            "number field",
            "Box folder field",
            "children",
            "sign-out",
            "imports",
        )
    ]
    assert (
        f"status field (ok): {STATUS_FIELD!r} is in the search hit and the folder: text 'A1'"
        in (done.stdout)
    )
    assert sent(sandbox) == [*SESSION_SIGN_IN, *READS, *SIGN_OUT]
