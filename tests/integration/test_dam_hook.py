"""DamHook against the DAM sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import io

import pytest
from _dam_fixtures import DamSandbox, TlsFiles, dam_hook, start_dam_server
from airflow.sdk._shared.secrets_masker import redact

from campaigns.errors import FolderError, StatusChangeRefused, TransientError
from campaigns.hooks.dam import Campaign, DamError, DamHook
from sandbox.dam.fixture import (
    BOX_FOLDER_FIELD,
    NUMBER_FIELD,
    STATUS_FIELD,
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
    """Starts DAM sandboxes, stopped after the test."""
    started: list[DamSandbox] = []

    def start(dam_part: dict, **uvicorn_options) -> DamSandbox:
        started.append(start_dam_server(dam_part, **uvicorn_options))
        return started[-1]

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def connect(monkeypatch, start_dam):
    """Makes DamHooks on sandbox URLs, closed after the test (before the servers stop)."""
    hooks: list[DamHook] = []

    def connect(url: str, **connection) -> DamHook:
        hooks.append(dam_hook(monkeypatch, url, **connection))
        return hooks[-1]

    yield connect
    for hook in hooks:
        hook.close()


@pytest.fixture
def sandbox(start_dam) -> DamSandbox:
    return start_dam(dam(_campaigns(120), [asset("plain-1")]))


def test_all_pages_with_one_sign_in(sandbox: DamSandbox, connect):
    hook = connect(sandbox.url, page_size=50)

    found = hook.get_campaigns("A1")

    assert [c.campaign_id for c in found.campaigns] == [f"c{n:03}" for n in range(120)]
    assert found.campaigns[7] == Campaign("c007", "C-c007", "Campaign c007", "A1", "9007")
    assert found.bad == []
    assert sandbox.count("POST", "sessions") == 1
    assert sandbox.count("POST", "search/text") == 3


def test_plain_assets_among_the_hits_are_dropped(sandbox: DamSandbox, connect):
    found = connect(sandbox.url, page_size=200).get_campaigns("A1")

    assert "plain-1" not in [c.campaign_id for c in found.campaigns]
    assert len(found.campaigns) == 120
    assert found.bad == []


def test_session_expiring_mid_poll_signs_in_again_once(sandbox: DamSandbox, connect):
    sandbox.expire_sessions(after_requests=1)

    found = connect(sandbox.url, page_size=50).get_campaigns("A1")

    assert len(found.campaigns) == 120
    assert sandbox.count("POST", "sessions") == 2
    assert sandbox.count("POST", "search/text") == 4


def test_sessions_ending_after_some_requests_are_renewed(start_dam, connect):
    running = start_dam(dam(_campaigns(120), session_max_requests=2))

    assert len(connect(running.url, page_size=50).get_campaigns("A1").campaigns) == 120
    assert running.count("POST", "sessions") == 2
    assert running.count("POST", "search/text") == 4


@pytest.mark.parametrize("api_version", ["v4", "v5"])
def test_older_api_versions(api_version, sandbox: DamSandbox, connect):
    hook = connect(sandbox.url, api_version=api_version, page_size=200)

    assert len(hook.get_campaigns("A1").campaigns) == 120


def test_oauth2_sign_in(sandbox: DamSandbox, connect):
    hook = connect(
        sandbox.url,
        auth="oauth2",
        client_id="a1-to-a2",
        client_secret="a1-to-a2-secret",
        page_size=200,
    )

    assert len(hook.get_campaigns("A1").campaigns) == 120
    assert sandbox.count("POST", "sessions/oauth2/token") == 1
    assert sandbox.count("POST", "sessions") == 0


def test_session_secrets_are_masked(sandbox: DamSandbox, connect):
    hook = connect(sandbox.url)
    hook.get_campaigns("B9")

    session_id = hook.session.headers["X-Requested-By"]
    cookie = hook.session.cookies["JSESSIONID"]
    assert session_id not in redact(f"session {session_id}")
    assert cookie not in redact(f"cookie {cookie}")


def test_wrong_password_is_not_retried_and_test_connection_says_why(sandbox: DamSandbox, connect):
    assert connect(sandbox.url).test_connection()[0] is True
    ok, message = connect(sandbox.url, password="wrong").test_connection()

    assert ok is False
    assert "Invalid user name or password" in message
    assert sandbox.count("POST", "sessions") == 2


def test_close_signs_out(sandbox: DamSandbox, connect):
    hook = connect(sandbox.url)
    hook.get_campaigns("B9")

    hook.close()

    assert sandbox.count("DELETE", "sessions") == 1


@pytest.mark.parametrize("certificate", ["client_p12", "client_pem"])
def test_client_certificate_over_mutual_tls(certificate, tmp_path, start_dam, connect):
    tls = TlsFiles(tmp_path)
    running = start_dam(dam(_campaigns(3)), **tls.server_options())
    hook = connect(
        running.url,
        verify=tls.ca,
        client_cert=getattr(tls, certificate),
        client_cert_password=TlsFiles.CLIENT_PASSWORD,
    )
    assert len(hook.get_campaigns("A1").campaigns) == 3

    without_certificate = connect(running.url, verify=tls.ca, max_attempts=1)
    with pytest.raises((DamError, TransientError)):
        without_certificate.get_campaigns("A1")


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_verification_is_off_only_when_asked(tmp_path, start_dam, connect, capsys):
    tls = TlsFiles(tmp_path)
    running = start_dam(dam(_campaigns(2)), **tls.server_options(require_client_cert=False))
    with pytest.raises(DamError, match=r"TLS with the DAM at https://127\.0\.0\.1"):
        connect(running.url).get_campaigns("A1")

    assert len(connect(running.url, verify="false").get_campaigns("A1").campaigns) == 2
    assert "TLS verification of the DAM at https://127.0.0.1" in capsys.readouterr().out


def test_unreadable_metadata_is_reported_per_campaign(start_dam, connect):
    campaigns = [
        campaign("no-number", missing=[NUMBER_FIELD]),
        campaign("null-status", metadata={STATUS_FIELD: None}),
        campaign("lookup", metadata={STATUS_FIELD: domain_value("A1", "A1 - Brief")}),
        campaign("numeric-number", metadata={NUMBER_FIELD: typed(4711, "integer")}),
        campaign("html", name='<b>Été</b> "launch" & 春 🚀', box_folder_id="77"),
        campaign("no-box", missing=[BOX_FOLDER_FIELD]),
        campaign("empty-box", box_folder_id=""),
        campaign("numeric-box", metadata={BOX_FOLDER_FIELD: typed(123456, "integer")}),
        campaign("no-name", name=""),
    ]
    found = connect(start_dam(dam(campaigns)).url).get_campaigns("A1")

    good = {c.campaign_id: c for c in found.campaigns}
    bad = {b.campaign_id: b.reason for b in found.bad}
    assert sorted(good) == ["empty-box", "html", "lookup", "no-box"]
    assert good["lookup"].status == "A1"
    assert good["html"].name == '<b>Été</b> "launch" & 春 🚀'
    assert good["html"].box_folder_id == "77"
    assert good["no-box"].box_folder_id is None
    assert good["empty-box"].box_folder_id is None
    assert bad["no-number"] == f"number field {NUMBER_FIELD!r} is missing or empty"
    assert bad["null-status"] == f"status field {STATUS_FIELD!r} is missing or empty"
    assert bad["numeric-number"] == f"number field {NUMBER_FIELD!r} holds int 4711, not text"
    assert bad["numeric-box"] == f"Box folder field {BOX_FOLDER_FIELD!r} holds int 123456, not text"
    assert bad["no-name"] == "the campaign name is missing or empty"


UNREADABLE_ANSWERS = {
    "sign-in": ("POST", "sessions", {"session_resource": {}}),
    "import": ("POST", "assets", {"job_handle": {"job_id": None}}),
    "folder children": (
        "GET",
        "folders/{folder_id}/children",
        {"folder_children": {"asset_list": [{"name": "x"}], "total_child_count": 1}},
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
def test_an_unreadable_answer_fails_once_naming_it(what, sandbox: DamSandbox, connect):
    """An answer of the right status but not of the API's shape: a DamError saying which answer,
    not retried (the DAM in front is not the one this hook speaks to), nothing changed."""
    method, route, body = UNREADABLE_ANSWERS[what]
    sandbox.add_faults(method, route, [200], body=body)

    with pytest.raises(DamError, match=f"the DAM's {what} answer is unreadable: "):
        CALLS[what](connect(sandbox.url))

    assert sandbox.count(method, route) == 1
    found = sandbox.campaign("c020")
    assert (found["status"], found["locked_by"], found["imported"]) == ("A1", None, [])


def test_move_campaign(sandbox: DamSandbox, connect):
    connect(sandbox.url).move_campaign("c001", "A1", "A2")

    moved = sandbox.campaign("c001")
    assert moved["status"] == "A2"
    assert moved["locked_by"] is None
    assert sandbox.count("PUT", "assets/state") == 2
    assert sandbox.count("PATCH", "folders/{folder_id}") == 1


def test_move_refused_when_someone_else_holds_the_lock(sandbox: DamSandbox, connect):
    sandbox.set_lock("c002", "jane.doe")

    with pytest.raises(StatusChangeRefused, match="locked by someone else"):
        connect(sandbox.url).move_campaign("c002", "A1", "A2")

    assert sandbox.campaign("c002")["status"] == "A1"
    assert sandbox.campaign("c002")["locked_by"] == "jane.doe"
    assert sandbox.count("PUT", "assets/state") == 2
    assert sandbox.count("PATCH", "folders/{folder_id}") == 0


def test_move_refused_when_no_longer_at_the_old_status(sandbox: DamSandbox, connect):
    sandbox.set_status("c003", "A3")

    with pytest.raises(StatusChangeRefused, match="is at A3, no longer at A1"):
        connect(sandbox.url).move_campaign("c003", "A1", "A2")

    assert sandbox.campaign("c003")["status"] == "A3"
    assert sandbox.campaign("c003")["locked_by"] is None


def test_move_of_a_campaign_already_moved_is_a_no_op(sandbox: DamSandbox, connect):
    sandbox.set_status("c004", "A2")

    connect(sandbox.url).move_campaign("c004", "A1", "A2")

    assert sandbox.campaign("c004")["status"] == "A2"
    assert sandbox.campaign("c004")["locked_by"] is None
    assert sandbox.count("PATCH", "folders/{folder_id}") == 0


def test_move_of_a_deleted_campaign_is_a_folder_error(sandbox: DamSandbox, connect):
    sandbox.remove("c005")

    with pytest.raises(FolderError, match="Campaign folder c005 not found in the DAM"):
        connect(sandbox.url).move_campaign("c005", "A1", "A2")


def test_forbidden_folder_is_a_folder_error(start_dam, connect):
    hook = connect(start_dam(dam([campaign("secret", forbidden=True)])).url)
    with pytest.raises(FolderError, match="No access to campaign folder secret in the DAM"):
        hook.list_folder_children("secret")


def test_rate_limit_with_retry_after_then_success(sandbox: DamSandbox, connect, capsys):
    sandbox.add_faults("POST", "search/text", [429, 429], retry_after=0.01)

    found = connect(sandbox.url, page_size=200, backoff=30).get_campaigns("A1")

    assert len(found.campaigns) == 120
    assert sandbox.count("POST", "search/text") == 3
    assert capsys.readouterr().out.count("answered 429: Too Many Requests; retrying in 0.01 s") == 2


def test_server_errors_until_retries_run_out(sandbox: DamSandbox, connect):
    sandbox.add_faults("POST", "search/text", [500], times=10)

    with pytest.raises(TransientError, match="failed 3 times; answered 500"):
        connect(sandbox.url).get_campaigns("A1")

    assert sandbox.count("POST", "search/text") == 3


def test_dropped_connection_is_retried(sandbox: DamSandbox, connect):
    sandbox.add_faults("POST", "search/text", [], drop=1)

    assert len(connect(sandbox.url, page_size=200).get_campaigns("A1").campaigns)
    assert sandbox.count("POST", "search/text") == 2


@pytest.mark.parametrize("known_size", [True, False])
def test_import_streams_a_few_megabytes(known_size, sandbox: DamSandbox, connect):
    chunks, sha1 = _content(5 * 1024 * 1024 + 17)
    size = sum(map(len, chunks))
    hook = connect(sandbox.url)

    job_id = hook.import_asset(
        "c010", "Key visual.tif", iter(chunks), size if known_size else None, {"a": "b"}
    )

    assert job_id
    (imported,) = sandbox.campaign("c010")["imported"]
    assert imported["name"] == "Key visual.tif"
    assert (imported["size"], imported["sha1"]) == (size, sha1)
    assert imported["metadata"] == {"a": "b"}
    (child,) = hook.list_folder_children("c010")
    assert (child["asset_id"], child["name"], child["size"]) == (
        imported["asset_id"],
        "Key visual.tif",
        size,
    )


def test_import_of_a_file_is_replayed_after_a_server_error(sandbox: DamSandbox, connect):
    chunks, sha1 = _content(3 * 1024 * 1024)
    sandbox.add_faults("POST", "assets", [503])

    connect(sandbox.url).import_asset("c011", "a.bin", io.BytesIO(b"".join(chunks)))

    (imported,) = sandbox.campaign("c011")["imported"]
    assert imported["sha1"] == sha1
    assert sandbox.count("POST", "assets") == 2


def test_import_of_a_stream_is_not_replayed(sandbox: DamSandbox, connect):
    chunks, _ = _content(64 * 1024)
    sandbox.add_faults("POST", "assets", [503])

    with pytest.raises(TransientError, match="cannot be replayed"):
        connect(sandbox.url).import_asset("c012", "a.bin", iter(chunks))

    assert sandbox.campaign("c012")["imported"] == []


def test_import_into_a_missing_folder_is_a_folder_error(sandbox: DamSandbox, connect):
    with pytest.raises(FolderError, match="Campaign folder gone not found in the DAM"):
        connect(sandbox.url).import_asset("gone", "a.bin", [b"abc"])


def test_listing_children_pages(sandbox: DamSandbox, connect):
    hook = connect(sandbox.url, page_size=2)
    for n in range(5):
        hook.import_asset("c013", f"file {n}.jpg", [b"x" * n])

    children = hook.list_folder_children("c013")

    assert [(c["name"], c["size"]) for c in children] == [(f"file {n}.jpg", n) for n in range(5)]
    assert sandbox.count("GET", "folders/{folder_id}/children") == 3


def test_ids_are_url_encoded_on_the_wire(start_dam, connect):
    running = start_dam(dam([campaign(WEIRD_ID), campaign("Spring")]))
    hook = connect(running.url)

    hook.move_campaign(WEIRD_ID, "A1", "A2")
    hook.import_asset(WEIRD_ID, "brief.pdf", [b"%PDF"])

    assert running.campaign(WEIRD_ID)["status"] == "A2"
    assert running.campaign("Spring")["status"] == "A1"
    assert [c["name"] for c in hook.list_folder_children(WEIRD_ID)] == ["brief.pdf"]
    assert running.count("GET", "folders/{folder_id}") == 1
