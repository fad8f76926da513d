"""DamHook against the DAM sandbox over real HTTP, in every site variant the contract names."""

from __future__ import annotations

import hashlib
import io
import json
import re
import socket

import pytest
import requests
from _dam_fixtures import DamSandbox, TlsFiles, dam_hook, start_dam_server
from airflow.sdk._shared.secrets_masker import redact

from campaigns.errors import BadCampaignData, FolderError, StatusChangeRefused, TransientError
from campaigns.hooks.dam import AssetImport, Campaign, DamCampaigns, DamError, DamHook, answers
from sandbox.dam.fixture import (
    BOX_FOLDER_FIELD,
    CONTAINS_OPERATOR,
    IMPORT_TEMPLATE_ID,
    MODEL_ID,
    NUMBER_FIELD,
    OTDS_RESOURCE_ID,
    SECURITY_POLICY_IDS,
    STATUS_FIELD,
    VARIANTS,
    asset,
    campaign,
    dam,
    domain_value,
    typed,
)

WEIRD_ID = "Spring/launch? #1 été 春"


def _campaigns(count: int) -> list[dict]:
    return [campaign(f"c{n:03}", box_folder_id=str(9000 + n)) for n in range(count)]


def _content(size: int, chunk: int = 256 * 1024):
    """`size` deterministic bytes in chunks, and their sha1."""
    block = hashlib.sha256(b"dam import").digest() * (chunk // 32)
    chunks = [block[: min(chunk, size - start)] for start in range(0, size, chunk)]
    return chunks, hashlib.sha1(b"".join(chunks)).hexdigest()


@pytest.fixture
def start_dam():
    """Starts DAM sandboxes (a `dam(...)` part, its variant's connection extras), stopped after."""
    started: list[DamSandbox] = []

    def start(dam_part: dict, extras: dict | None = None, **uvicorn_options) -> DamSandbox:
        started.append(start_dam_server(dam_part, extras, **uvicorn_options))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture(params=list(VARIANTS))
def start_site(request, start_dam):
    """Starts a DAM sandbox as each site variant in turn, holding the campaigns given."""
    variant = VARIANTS[request.param]

    def start(campaigns=(), assets=(), *, server: dict | None = None, **options) -> DamSandbox:
        site = dam(campaigns, assets, **options, **variant["site"])
        return start_dam(site, variant["extras"], **(server or {}))

    return start


@pytest.fixture
def connect(monkeypatch, start_dam):
    """Makes DamHooks on a sandbox with its variant's extras, closed before the servers stop."""
    hooks: list[DamHook] = []

    def connect(running: DamSandbox, **connection) -> DamHook:
        hooks.append(dam_hook(monkeypatch, running.url, **{**running.extras, **connection}))
        return hooks[-1]

    yield connect
    for hook in hooks:
        hook.close()


@pytest.fixture
def sandbox(start_site) -> DamSandbox:
    """120 campaigns and a plain asset, in each site variant."""
    return start_site(_campaigns(120), [asset("plain-1")])


@pytest.fixture
def strict(start_dam) -> DamSandbox:
    """120 campaigns and a plain asset on the strict site: for what no variant changes."""
    return start_dam(dam(_campaigns(120), [asset("plain-1")]))


# Every variant


def test_all_pages_with_one_sign_in(sandbox: DamSandbox, connect):
    hook = connect(sandbox, page_size=50)

    found = hook.get_campaigns("A1")

    assert [c.campaign_id for c in found.campaigns] == [f"c{n:03}" for n in range(120)]
    assert found.campaigns[7] == Campaign("c007", "C-c007", "Campaign c007", "A1", "9007")
    assert found.bad == []
    assert sandbox.sign_ins() == 1
    assert sandbox.count("POST", "search/text") == 3


def test_plain_assets_among_the_hits_are_dropped(sandbox: DamSandbox, connect):
    found = connect(sandbox, page_size=200).get_campaigns("A1")

    assert "plain-1" not in [c.campaign_id for c in found.campaigns]
    assert len(found.campaigns) == 120
    assert found.bad == []


def test_session_expiring_mid_poll_signs_in_again_once(sandbox: DamSandbox, connect):
    sandbox.expire_sessions(after_requests=1)

    found = connect(sandbox, page_size=50).get_campaigns("A1")

    assert len(found.campaigns) == 120
    assert sandbox.sign_ins() == 2
    assert sandbox.count("POST", "search/text") == 4


def test_sessions_ending_after_some_requests_are_renewed(start_site, connect):
    running = start_site(_campaigns(120), session_max_requests=2)

    assert len(connect(running, page_size=50).get_campaigns("A1").campaigns) == 120
    assert running.sign_ins() == 2
    assert running.count("POST", "search/text") == 4


@pytest.mark.parametrize("api_version", ["v4", "v5"])
def test_older_api_versions(api_version, sandbox: DamSandbox, connect):
    hook = connect(sandbox, api_version=api_version, page_size=200)

    assert len(hook.get_campaigns("A1").campaigns) == 120


def test_session_secrets_are_masked(sandbox: DamSandbox, connect):
    hook = connect(sandbox)
    hook.get_campaigns("B9")

    headers = hook.session.headers
    secrets = [headers["X-Requested-By"], hook.session.cookies["JSESSIONID"]]
    if sandbox.extras.get("auth") == "otds":
        secrets.append(headers["OTDSToken"])
    for secret in secrets:
        assert redact(f"value {secret}") == "value ***"


def test_close_signs_out_where_the_site_can_and_never_warns(sandbox: DamSandbox, connect, capsys):
    """A site without sign-out answers 405: the session stays open until it expires, and that
    is noted, not warned about."""
    hook = connect(sandbox)
    hook.get_campaigns("B9")

    hook.close()

    signs_out = sandbox.dam["sign_out"]
    assert sandbox.count("DELETE", "sessions") == 1
    assert sandbox.open_sessions() == (0 if signs_out else 1)
    out = capsys.readouterr().out
    assert "Could not sign out" not in out
    noted = re.search(r"\[info\s*\] The DAM has no sign-out \(it answered 405\)", out)
    assert bool(noted) is not signs_out


@pytest.mark.parametrize("certificate", ["client_p12", "client_pem"])
def test_client_certificate_over_mutual_tls(certificate, tmp_path, start_site, connect):
    tls = TlsFiles(tmp_path)
    running = start_site(_campaigns(3), server=tls.server_options())
    hook = connect(
        running,
        verify=tls.ca,
        client_cert=getattr(tls, certificate),
        client_cert_password=TlsFiles.CLIENT_PASSWORD,
    )
    assert len(hook.get_campaigns("A1").campaigns) == 3

    without_certificate = connect(running, verify=tls.ca, max_attempts=1)
    with pytest.raises((DamError, TransientError)):
        without_certificate.get_campaigns("A1")


def test_move_campaign(sandbox: DamSandbox, connect):
    """The status is written in the shape the field reads: the site refuses any other."""
    connect(sandbox).move_campaign("c001", "A1", "A2")

    moved = sandbox.campaign("c001")
    assert moved["status"] == "A2"
    assert moved["locked_by"] is None
    assert sandbox.count("PUT", "assets/state") == 2
    assert sandbox.count("PATCH", "folders/{folder_id}") == 1


@pytest.mark.parametrize("known_size", [True, False])
def test_import_streams_a_few_megabytes(known_size, sandbox: DamSandbox, connect):
    chunks, sha1 = _content(5 * 1024 * 1024 + 17)
    size = sum(map(len, chunks))
    hook = connect(sandbox)

    taken = hook.import_asset(
        "c010", "Key visual.tif", iter(chunks), size if known_size else None, {"a": "b"}
    )

    assert taken.job_id and taken.asset_id is None
    (imported,) = sandbox.campaign("c010")["imported"]
    assert imported["name"] == "Key visual.tif"
    assert imported["file_type"] == "image/tiff"
    assert (imported["size"], imported["sha1"]) == (size, sha1)
    assert imported["metadata"] == {"a": "b"}
    if sandbox.extras.get("import_template_id"):
        expected = (None, [], IMPORT_TEMPLATE_ID)
    else:
        expected = (MODEL_ID, list(SECURITY_POLICY_IDS), None)
    named = ("metadata_model_id", "security_policy_ids", "import_template_id")
    assert tuple(imported[key] for key in named) == expected
    (child,) = hook.list_folder_children("c010")
    assert (child["asset_id"], child["name"], child["size"]) == (
        imported["asset_id"],
        "Key visual.tif",
        size,
    )


# Sign-in


@pytest.mark.parametrize("resource_id", [None, OTDS_RESOURCE_ID])
def test_otds_sign_in_with_and_without_a_resource_ticket(resource_id, start_dam, connect):
    """A user's ticket, a resource ticket where the site needs one, then the OTMM session; every
    later call sends OTDSToken (the sandbox refuses calls without it)."""
    running = start_dam(dam(_campaigns(3), otds={"resource_id": resource_id}))
    hook = connect(running, auth="otds", otds_resource_id=resource_id)

    assert len(hook.get_campaigns("A1").campaigns) == 3
    hook.move_campaign("c001", "A1", "A2")

    assert running.otds_count("credentials") == 1
    assert running.otds_count("resource/ticketforresource") == (1 if resource_id else 0)
    assert running.count("GET", "sessions") == 1
    assert running.campaign("c001")["status"] == "A2"


@pytest.mark.parametrize(
    ("connection", "refusal"),
    [
        ({"password": "wrong"}, r"OTDS at .*/credentials answered 401: Invalid user name"),
        ({}, f"the DAM answered 401: OTMM takes only a resource ticket for {OTDS_RESOURCE_ID}"),
        ({"otds_resource_id": "elsewhere"}, "ticketforresource answered 404: No resource"),
    ],
    ids=["wrong password", "no resource ticket", "unknown resource"],
)
def test_otds_refusals_say_who_refused_and_are_not_retried(connection, refusal, start_dam, connect):
    running = start_dam(dam(_campaigns(1), otds={"resource_id": OTDS_RESOURCE_ID}))

    with pytest.raises(DamError, match=refusal):
        connect(running, auth="otds", **connection).get_campaigns("A1")

    assert running.otds_count("credentials") == 1
    assert running.count("POST", "search/text") == 0


def test_oauth2_sign_in_and_no_sign_out(strict: DamSandbox, connect):
    """An OAuth2 token opens no DAM session: there is none to sign out of."""
    hook = connect(
        strict,
        auth="oauth2",
        client_id="a1-to-a2",
        client_secret="a1-to-a2-secret",
        page_size=200,
    )

    assert len(hook.get_campaigns("A1").campaigns) == 120
    hook.close()

    assert strict.count("POST", "sessions/oauth2/token") == 1
    assert strict.count("POST", "sessions") == 0
    assert strict.count("DELETE", "sessions") == 0


def test_wrong_password_is_refused_once(strict: DamSandbox, connect):
    with pytest.raises(DamError, match="the DAM answered 401: Invalid user name or password"):
        connect(strict, password="wrong").get_campaigns("A1")

    assert strict.count("POST", "sessions") == 1


def test_sign_out_of_an_expired_session_is_only_noted(start_dam, connect, capsys):
    running = start_dam(dam(_campaigns(1), sign_out=True))
    hook = connect(running)
    hook.get_campaigns("A1")
    running.expire_sessions()

    hook.close()

    out = capsys.readouterr().out
    assert re.search(r"\[info\s*\] The DAM session had expired before the sign-out", out)
    assert "Could not sign out" not in out


@pytest.mark.parametrize(
    ("statuses", "logged"),
    [([400], "it answered 400: Bad Request"), ([503] * 3, "DAM DELETE sessions failed 3 times")],
)
def test_a_failed_sign_out_is_a_warning_not_an_error(statuses, logged, strict, connect, capsys):
    hook = connect(strict)
    hook.get_campaigns("B9")
    strict.add_faults("DELETE", "sessions", statuses)

    hook.close()

    assert f"Could not sign out of the DAM: {logged}" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_verification_is_off_only_when_asked(tmp_path, start_dam, connect, capsys):
    tls = TlsFiles(tmp_path)
    running = start_dam(dam(_campaigns(2)), **tls.server_options(require_client_cert=False))
    with pytest.raises(DamError, match=r"TLS with the DAM at https://127\.0\.0\.1"):
        connect(running).get_campaigns("A1")

    assert len(connect(running, verify="false").get_campaigns("A1").campaigns) == 2
    assert "TLS verification of the DAM at https://127.0.0.1" in capsys.readouterr().out


# Search


def test_unreadable_metadata_is_reported_per_campaign(start_dam, connect):
    campaigns = [
        campaign("no-number", missing=[NUMBER_FIELD]),
        campaign("null-status", metadata={STATUS_FIELD: None}),
        campaign("text-status", metadata={STATUS_FIELD: typed("A1")}),
        campaign("numeric-number", metadata={NUMBER_FIELD: typed(4711, "integer")}),
        campaign("html", name='<b>Été</b> "launch" & 春 🚀', box_folder_id="77"),
        campaign("no-box", missing=[BOX_FOLDER_FIELD]),
        campaign("empty-box", box_folder_id=""),
        campaign("numeric-box", metadata={BOX_FOLDER_FIELD: typed(123456, "integer")}),
        campaign("no-name", name=""),
    ]
    found = connect(start_dam(dam(campaigns))).get_campaigns("A1")

    good = {c.campaign_id: c for c in found.campaigns}
    bad = {b.campaign_id: b.reason for b in found.bad}
    assert sorted(good) == ["empty-box", "html", "no-box", "text-status"]
    assert good["text-status"].status == "A1"
    assert good["html"].name == '<b>Été</b> "launch" & 春 🚀'
    assert good["html"].box_folder_id == "77"
    assert good["no-box"].box_folder_id is None
    assert good["empty-box"].box_folder_id is None
    assert bad["no-number"] == f"number field {NUMBER_FIELD!r} is missing or empty"
    assert bad["null-status"] == f"status field {STATUS_FIELD!r} is missing or empty"
    assert bad["numeric-number"] == f"number field {NUMBER_FIELD!r} holds int 4711, not text"
    assert bad["numeric-box"] == f"Box folder field {BOX_FOLDER_FIELD!r} holds int 123456, not text"
    assert bad["no-name"] == "the campaign name is missing or empty"


@pytest.mark.parametrize(
    ("connection", "refusal"),
    [
        ({}, "need search_config_id 3, not None"),
        ({"search_config_id": "3"}, "Unsupported relational_operator_id ARTESIA.OPERATOR.CHAR.IS"),
    ],
)
def test_a_search_the_site_refuses_shows_why(connection, refusal, start_dam, connect):
    """The operator and search configuration are the connection's: a site wanting others says
    which, once (a 400 is not retried)."""
    site = dam(_campaigns(2), search_config_id="3", search_operator_id=CONTAINS_OPERATOR)
    running = start_dam(site)

    with pytest.raises(DamError, match=f"the DAM answered 400: .*{refusal}"):
        connect(running, **connection).get_campaigns("A1")

    assert running.count("POST", "search/text") == 1


def test_the_connection_s_search_operator_and_configuration_are_sent(start_dam, connect):
    at_a10 = campaign("c-a10", status="A10", box_folder_id="9999")
    site = dam([*_campaigns(2), at_a10], search_config_id="3", search_operator_id=CONTAINS_OPERATOR)
    running = start_dam(site)
    hook = connect(running, search_config_id="3", search_operator_id=CONTAINS_OPERATOR)

    # CONTAINS finds A10 for A1 too: only the campaigns at A1 itself are kept.
    assert [c.campaign_id for c in hook.get_campaigns("A1").campaigns] == ["c000", "c001"]
    (condition,) = json.loads(hook.search_form("A1")["search_condition_list"])[
        "search_condition_list"
    ]["search_condition"]
    assert condition["relational_operator_id"] == CONTAINS_OPERATOR
    assert condition["relational_operator_name"] == "contains"


UNREADABLE_ANSWERS = {
    "sign-in": ("POST", "sessions", {"session_resource": {}}),
    "import": ("POST", "assets", {"job_handle": {"job_id": None}}),
    "folder children": (
        "GET",
        "folders/{folder_id}/children",
        {"folder_children": {"asset_list": [{"name": "x"}]}},
    ),
    "status change": ("PUT", "assets/state", "<html>a proxy's page</html>"),
}
CALLS = {
    "sign-in": lambda hook: hook.get_campaigns("A1"),
    "import": lambda hook: hook.import_asset("c020", "a.bin", [b"abc"]),
    "folder children": lambda hook: hook.list_folder_children("c020"),
    "status change": lambda hook: hook.move_campaign("c020", "A1", "A2"),
}


@pytest.mark.parametrize("what", UNREADABLE_ANSWERS)
def test_an_unreadable_answer_fails_once_naming_it(what, strict: DamSandbox, connect):
    """An answer of the right status but not of the API's shape: a DamError saying which answer,
    not retried (the DAM in front is not the one this hook speaks to), nothing changed."""
    method, route, body = UNREADABLE_ANSWERS[what]
    strict.add_faults(method, route, [200], body=body)

    with pytest.raises(DamError, match=f"the DAM's {what} answer is unreadable: "):
        CALLS[what](connect(strict))

    assert strict.count(method, route) == 1
    found = strict.campaign("c020")
    assert (found["status"], found["locked_by"], found["imported"]) == ("A1", None, [])


def test_a_children_answer_without_its_listing_is_unreadable(strict: DamSandbox, connect):
    strict.add_faults("GET", "folders/{folder_id}/children", [200], body={"asset_list": []})

    with pytest.raises(DamError, match="the DAM's folder children answer is unreadable"):
        connect(strict).list_folder_children("c020")


# Status changes


def test_move_refused_when_someone_else_holds_the_lock(strict: DamSandbox, connect):
    strict.set_lock("c002", "jane.doe")

    with pytest.raises(StatusChangeRefused, match="locked by someone else"):
        connect(strict).move_campaign("c002", "A1", "A2")

    assert strict.campaign("c002")["status"] == "A1"
    assert strict.campaign("c002")["locked_by"] == "jane.doe"
    # Only the lock attempt: another's lock is not ours to release.
    assert strict.count("PUT", "assets/state") == 1
    assert strict.count("PATCH", "folders/{folder_id}") == 0


def test_move_refused_when_no_longer_at_the_old_status(strict: DamSandbox, connect):
    strict.set_status("c003", "A3")

    with pytest.raises(StatusChangeRefused, match="is at A3, no longer at A1"):
        connect(strict).move_campaign("c003", "A1", "A2")

    assert strict.campaign("c003")["status"] == "A3"
    assert strict.campaign("c003")["locked_by"] is None


def test_move_of_a_campaign_already_moved_is_a_no_op(strict: DamSandbox, connect):
    strict.set_status("c004", "A2")

    connect(strict).move_campaign("c004", "A1", "A2")

    assert strict.campaign("c004")["status"] == "A2"
    assert strict.campaign("c004")["locked_by"] is None
    assert strict.count("PATCH", "folders/{folder_id}") == 0


def test_move_of_a_deleted_campaign_is_a_folder_error(strict: DamSandbox, connect):
    strict.remove("c005")

    with pytest.raises(FolderError, match="Campaign folder c005 not found in the DAM"):
        connect(strict).move_campaign("c005", "A1", "A2")


@pytest.mark.parametrize(
    ("status_kind", "read_as", "refusal"),
    [
        ("lookup", typed("A1"), "is a lookup field: it takes a DomainValue"),
        ("text", domain_value("A1"), "is a text field"),
    ],
)
def test_a_status_is_written_in_the_shape_it_was_read(
    status_kind, read_as, refusal, start_dam, connect
):
    """The hook writes what it read: a site whose field reads otherwise than it takes refuses the
    edit (400), the message shows why, and the campaign is unlocked and unchanged."""
    running = start_dam(
        dam([campaign("odd", metadata={STATUS_FIELD: read_as})], status_kind=status_kind)
    )

    with pytest.raises(DamError, match=f"answered 400: Field {STATUS_FIELD} {refusal}"):
        connect(running).move_campaign("odd", "A1", "A2")

    assert (running.campaign("odd")["status"], running.campaign("odd")["locked_by"]) == (
        "A1",
        None,
    )
    assert running.count("PATCH", "folders/{folder_id}") == 1


def test_forbidden_folder_is_a_folder_error(start_dam, connect):
    hook = connect(start_dam(dam([campaign("secret", forbidden=True)])))
    with pytest.raises(FolderError, match="No access to campaign folder secret in the DAM"):
        hook.list_folder_children("secret")


# Retries


def test_rate_limit_with_retry_after_then_success(strict: DamSandbox, connect, capsys):
    strict.add_faults("POST", "search/text", [429, 429], retry_after=0.01)

    found = connect(strict, page_size=200, backoff=30).get_campaigns("A1")

    assert len(found.campaigns) == 120
    assert strict.count("POST", "search/text") == 3
    assert capsys.readouterr().out.count("answered 429: Too Many Requests; retrying in 0.01 s") == 2


def test_server_errors_until_retries_run_out(strict: DamSandbox, connect):
    strict.add_faults("POST", "search/text", [500], times=10)

    with pytest.raises(TransientError, match="failed 3 times; answered 500"):
        connect(strict).get_campaigns("A1")

    assert strict.count("POST", "search/text") == 3


def test_dropped_connection_is_retried(strict: DamSandbox, connect):
    strict.add_faults("POST", "search/text", [], drop=1)

    assert len(connect(strict, page_size=200).get_campaigns("A1").campaigns)
    assert strict.count("POST", "search/text") == 2


# Imports


@pytest.mark.parametrize("import_status", [200, 202])
def test_an_import_answered_200_or_202_is_taken(import_status, start_dam, connect):
    running = start_dam(dam(_campaigns(1), import_status=import_status))

    taken = connect(running).import_asset("c000", "brief.pdf", [b"%PDF"])

    (imported,) = running.campaign("c000")["imported"]
    assert taken.job_id and taken.asset_id is None
    assert (imported["name"], imported["file_type"]) == ("brief.pdf", "application/pdf")


def test_an_import_of_a_file_type_nobody_knows_is_octet_stream(strict: DamSandbox, connect):
    connect(strict).import_asset("c000", "master.x-unheard-of", [b"?"])

    (imported,) = strict.campaign("c000")["imported"]
    assert imported["file_type"] == "application/octet-stream"


@pytest.mark.parametrize(
    ("connection", "refusal"),
    [
        ({"metadata_model_id": "ACME.MODEL.OTHER"}, "Unknown metadata model ACME.MODEL.OTHER"),
        ({"security_policy_ids": "1, 7"}, r"Unknown security policy 7 \(security_policy_list\)"),
        ({"import_template_id": "ACME.TEMPLATE.OTHER"}, "Unknown import template ACME.TEMPLATE"),
    ],
    ids=["model", "policy", "template"],
)
def test_an_import_the_site_refuses_shows_why_once(connection, refusal, strict, connect):
    with pytest.raises(DamError, match=f"the DAM answered 400: {refusal}"):
        connect(strict, **connection).import_asset("c000", "a.jpg", [b"jpeg"])

    assert strict.count("POST", "assets") == 1
    assert strict.campaign("c000")["imported"] == []


def test_import_of_a_file_is_replayed_after_a_server_error(strict: DamSandbox, connect):
    """A 5xx may come after the DAM took the import: the folder is looked at first."""
    chunks, sha1 = _content(3 * 1024 * 1024)
    strict.add_faults("POST", "assets", [503])

    connect(strict).import_asset("c011", "a.bin", io.BytesIO(b"".join(chunks)))

    (imported,) = strict.campaign("c011")["imported"]
    assert imported["sha1"] == sha1
    assert strict.count("POST", "assets") == 2
    assert strict.count("GET", "folders/{folder_id}/children") == 1 + 3


def test_import_of_a_stream_is_not_replayed(strict: DamSandbox, connect):
    chunks, _ = _content(64 * 1024)
    strict.add_faults("POST", "assets", [503])

    with pytest.raises(TransientError, match="cannot be replayed"):
        connect(strict).import_asset("c012", "a.bin", iter(chunks))

    assert strict.campaign("c012")["imported"] == []


def test_an_import_rate_limited_is_sent_again_without_looking(strict: DamSandbox, connect):
    """A 429 says the DAM took nothing."""
    strict.add_faults("POST", "assets", [429], retry_after=0.01)

    connect(strict).import_asset("c000", "a.jpg", [b"jpeg"])

    assert len(strict.campaign("c000")["imported"]) == 1
    assert strict.count("POST", "assets") == 2
    assert strict.count("GET", "folders/{folder_id}/children") == 1


def test_a_lost_import_answer_is_found_in_the_folder_not_sent_again(strict, connect, capsys):
    """The DAM records the import and answers after the read timeout: the hook finds the new
    asset (not the older one of the same name) and takes it; the DAM holds it once."""
    hook = connect(strict, timeout="5, 1")
    earlier = hook.import_asset("c000", "hero.jpg", [b"old"], size=3)
    strict.delay_imports(3)

    taken = hook.import_asset("c000", "hero.jpg", [b"new!"], size=4)

    older, newer = strict.campaign("c000")["imported"]
    assert earlier.job_id and older["size"] == 3
    assert taken == AssetImport(asset_id=newer["asset_id"])
    assert newer["size"] == 4
    assert strict.count("POST", "assets") == 2
    assert f"landed as asset {newer['asset_id']}" in capsys.readouterr().out


def test_an_import_that_did_not_land_is_sent_again_and_lands_once(strict, connect, capsys):
    """The connection dropped before the DAM read the import: the folder is looked at the
    declared number of times, then the import is sent again."""
    strict.add_faults("POST", "assets", [], drop=1)

    taken = connect(strict, lost_import_looks=2).import_asset("c000", "a.jpg", [b"jpeg"])

    (imported,) = strict.campaign("c000")["imported"]
    assert taken.job_id and taken.asset_id is None
    assert imported["sha1"] == hashlib.sha1(b"jpeg").hexdigest()
    assert strict.count("POST", "assets") == 2
    assert strict.count("GET", "folders/{folder_id}/children") == 1 + 2
    assert "The import of 'a.jpg' is not in campaign folder c000" in capsys.readouterr().out


def test_an_import_lost_every_time_gives_up_after_the_attempts(strict, connect):
    strict.add_faults("POST", "assets", [], drop=3)

    with pytest.raises(TransientError, match="failed 3 times and is not in the folder"):
        connect(strict, lost_import_looks=1).import_asset("c000", "a.jpg", [b"jpeg"])

    assert strict.count("POST", "assets") == 3
    assert strict.campaign("c000")["imported"] == []


def test_a_lost_import_is_a_new_child_of_its_name_and_size():
    children = [
        {"asset_id": "old", "name": "hero.jpg", "size": 4},
        {"asset_id": "other-size", "name": "hero.jpg", "size": 5},
        {"asset_id": "other-name", "name": "logo.ai", "size": 4},
        {"asset_id": "new", "name": "hero.jpg", "size": 4},
        {"asset_id": "unsized", "name": "hero.jpg", "size": None},
    ]

    assert answers.new_child(children, {"old"}, "hero.jpg", 4) == "new"
    assert answers.new_child(children[:3], {"old"}, "hero.jpg", 4) is None
    assert answers.new_child(children[:3], {"old"}, "hero.jpg", None) == "other-size"
    assert answers.new_child(children[4:], set(), "hero.jpg", 4) == "unsized"


def test_a_request_that_never_connected_is_sent_again_at_once(monkeypatch, capsys):
    """Refused connections cannot have reached the DAM: retried as any call, never looked for."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    hook = dam_hook(monkeypatch, f"http://127.0.0.1:{port}")

    with pytest.raises(TransientError, match="POST assets failed 3 times; ConnectionError"):
        hook.transport.send("POST", "assets", data=b"x", resend=False)

    assert capsys.readouterr().out.count("retrying in") == 2


def test_import_into_a_missing_folder_is_a_folder_error(strict: DamSandbox, connect):
    with pytest.raises(FolderError, match="Campaign folder gone not found in the DAM"):
        connect(strict).import_asset("gone", "a.bin", [b"abc"])


# Folder children


@pytest.mark.parametrize(
    ("children", "page_size", "pages"),
    [(5, 2, 3), (4, 2, 3), (2, 5, 1), (0, 3, 1)],
    ids=["short last page", "exact multiple", "one page", "empty"],
)
def test_children_are_paged_without_a_total(children, page_size, pages, strict, connect):
    """The answer has no total: a page shorter than the page size, or empty, is the last."""
    hook = connect(strict, page_size=page_size)
    for n in range(children):
        hook.import_asset("c013", f"file {n}.jpg", [b"x" * n])
    strict.reset_counters()

    listed = hook.list_folder_children("c013")

    assert [(c["name"], c["size"]) for c in listed] == [
        (f"file {n}.jpg", n) for n in range(children)
    ]
    assert strict.count("GET", "folders/{folder_id}/children") == pages


def test_ids_are_url_encoded_on_the_wire(start_dam, connect):
    running = start_dam(dam([campaign(WEIRD_ID), campaign("Spring")]))
    hook = connect(running)

    hook.move_campaign(WEIRD_ID, "A1", "A2")
    hook.import_asset(WEIRD_ID, "brief.pdf", [b"%PDF"])

    assert running.campaign(WEIRD_ID)["status"] == "A2"
    assert running.campaign("Spring")["status"] == "A1"
    assert [c["name"] for c in hook.list_folder_children(WEIRD_ID)] == ["brief.pdf"]
    assert running.count("GET", "folders/{folder_id}") == 1


# A search that shifts while it pages


def shift_search(sandbox: DamSandbox, *shifts: tuple[int, str, str]) -> requests.Response:
    """Script moves of campaigns: (after which search page from now, campaign id, status)."""
    body = [{"after_page": n, "campaign_id": c, "status": s} for n, c, s in shifts]
    return requests.post(f"{sandbox.url}/_sandbox/search-shifts", json=body, timeout=10)


def _ids(found) -> list[str]:
    return [c.campaign_id for c in found.campaigns]


def test_a_campaign_moved_out_of_a1_between_pages_costs_no_other(start_dam, connect):
    """c003 leaves after page 1, so page 2 starts one later: read again, c010 is not skipped."""
    running = start_dam(dam(_campaigns(25)))
    shift_search(running, (1, "c003", "A2")).raise_for_status()

    found = connect(running, page_size=10).get_campaigns("A1")

    assert _ids(found) == [f"c{n:03}" for n in range(25) if n != 3]
    assert found.whole is True
    assert running.campaign("c003")["status"] == "A2"
    assert running.count("POST", "search/text") == 3 + 3


def test_a_campaign_moved_into_a1_between_pages_is_found(start_dam, connect):
    """c005 arrives after page 1, so page 2 repeats c009: read again, c005 is among them."""
    campaigns = _campaigns(26)
    campaigns[5] = campaign("c005", status="A2", box_folder_id="9005")
    running = start_dam(dam(campaigns))
    shift_search(running, (1, "c005", "A1")).raise_for_status()

    found = connect(running, page_size=10).get_campaigns("A1")

    assert _ids(found) == [f"c{n:03}" for n in range(26)]
    assert found.whole is True
    assert running.count("POST", "search/text") == 3 + 3


def test_a_search_shifting_on_every_read_gives_the_union_not_whole(start_dam, connect, capsys):
    """c000 leaves and comes back after every page: after the rereads the extra allows, every
    campaign any read found, once (c010 only the second read found), flagged not whole."""
    running = start_dam(dam(_campaigns(25)))
    toggles = [(page, "c000", "A2" if page % 2 else "A1") for page in range(1, 40)]
    shift_search(running, *toggles).raise_for_status()

    found = connect(running, page_size=10, search_rereads=2).get_campaigns("A1")

    assert sorted(_ids(found)) == [f"c{n:03}" for n in range(25)]
    assert len(_ids(found)) == 25
    assert _ids(found)[-1] == "c010"
    assert found.whole is False
    assert running.count("POST", "search/text") == 3 * 3
    out = capsys.readouterr().out
    assert "changed during each of 3 reads: taking every campaign any read found" in out


def test_a_search_that_holds_still_is_read_once(start_dam, connect):
    running = start_dam(dam(_campaigns(25)))

    found = connect(running, page_size=10).get_campaigns("A1")

    assert len(found.campaigns) == 25
    assert found.whole is True
    assert running.count("POST", "search/text") == 3


def test_the_union_takes_each_campaign_as_the_latest_read_found_it():
    """A campaign unusable in the latest read is reported, not polled with older metadata."""
    first = DamCampaigns(
        [Campaign("a", "C-a", "Old name", "A1", None), Campaign("b", "C-b", "B", "A1", None)],
        [],
    )
    latest = DamCampaigns(
        [Campaign("a", "C-a", "New name", "A1", "1")], [BadCampaignData("b", "number missing")]
    )

    merged = answers.union([first, latest])

    assert merged.campaigns == [Campaign("a", "C-a", "New name", "A1", "1")]
    assert merged.bad == latest.bad
    assert merged.whole is False


def test_a_shift_of_an_unknown_campaign_is_refused_and_nothing_is_scripted(start_dam, connect):
    running = start_dam(dam(_campaigns(25)))

    refused = shift_search(running, (1, "c003", "A2"), (1, "nope", "A2"))

    assert refused.status_code == 404
    assert "No campaign nope" in refused.json()["exception_body"]["message"]
    assert len(connect(running, page_size=10).get_campaigns("A1").campaigns) == 25
    assert running.campaign("c003")["status"] == "A1"
