"""BoxHook with the real boxsdk client over real HTTP against the Box sandbox."""

from __future__ import annotations

import hashlib
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from urllib3.connection import HTTPSConnection

from campaigns.connection_fields import ConnectionSettingError
from campaigns.errors import FolderError, NotRetryable, TransientError
from campaigns.hooks.box import (
    DOWNLOAD_CHUNK_SIZE,
    BoxAuthError,
    BoxHook,
    BoxTLSError,
    MasterAsset,
)
from campaigns.hooks.box_rate import SharedRate
from sandbox.box.content import generated_sha1
from sandbox.box.fixture import (
    CLIENT_ID,
    CLIENT_SECRET,
    ENTERPRISE_ID,
    UPLOADED_LONG_AGO,
    box_fixture,
    campaign_folder,
    file,
    folder,
)
from tests.integration._box_fixtures import (  # noqa: F401 (a fixture)
    ITEMS_ROUTE,
    TOKEN_ROUTE,
    start_box_fixture,
)

CAMPAIGN = "123"
MASTER = "123-ma"
CONTENT_ROUTE = "GET /2.0/files/{file_id}/content"
DOWNLOAD_ROUTE = "GET /d/1/{download_token}/download"
MIB = 1 << 20


def test_master_assets_folder_found_beyond_the_first_page(start_box):
    drafts = [folder(f"draft-{n}", f"Draft {n:04d}", CAMPAIGN) for n in range(1200)]
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), {"folders": drafts})

    assert BoxHook().find_master_assets_folder(CAMPAIGN) == MASTER
    assert box.counters()[ITEMS_ROUTE] == 2


def test_lists_more_than_a_thousand_files_page_by_page(start_box):
    assets = {f"shot-{n:04d}.jpg": n for n in range(2500)}
    box = start_box(campaign_folder(CAMPAIGN, assets=assets))

    listed = BoxHook().list_master_assets(MASTER)

    assert sorted(asset.path for asset in listed) == sorted(assets)
    assert {asset.path: asset.size for asset in listed} == assets
    assert box.counters()[ITEMS_ROUTE] == 3


@pytest.mark.parametrize("name", ["master assets", "  MASTER Assets  ", "Master Assets"])
def test_master_assets_name_ignores_case_and_surrounding_spaces(start_box, name):
    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"], master_assets_name=name))

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])

    assert check.master_assets_folder_id == MASTER
    assert [asset.path for asset in check.assets] == ["a.jpg"]


def test_other_accepted_names_are_tried(start_box):
    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"], master_assets_name="Finals"))

    assert BoxHook().find_master_assets_folder(CAMPAIGN, ["Master Assets", "finals"]) == MASTER


def test_missing_master_assets_folder_is_a_folder_error(start_box):
    start_box(
        campaign_folder(CAMPAIGN, master_assets_name=None),
        {"files": [file("f1", "Master Assets", CAMPAIGN)]},  # a file of that name does not count
    )

    with pytest.raises(FolderError) as raised:
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])
    assert raised.value.reason == (
        "Assets folder not found (tried 'Master Assets'; "
        "the campaign folder holds 'Master Assets' (file))"
    )

    with pytest.raises(FolderError) as raised:
        BoxHook().find_master_assets_folder(CAMPAIGN, ["Master Assets", "Finals"])
    assert raised.value.reason == (
        "Assets folder not found (tried 'Master Assets', 'Finals'; "
        "the campaign folder holds 'Master Assets' (file))"
    )


@pytest.mark.parametrize("campaign_folder_id", [None, ""])
def test_no_linked_box_folder_is_a_folder_error(start_box, campaign_folder_id):
    box = start_box()

    with pytest.raises(FolderError) as raised:
        BoxHook().check_campaign_folder(campaign_folder_id, ["Master Assets"], MASTER)
    assert raised.value.reason == "No Box folder linked in the DAM"
    assert box.counters() == {}


def test_campaign_folder_deleted_while_the_server_runs(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    hook = BoxHook()
    check = hook.check_campaign_folder(CAMPAIGN, ["Master Assets"])

    box.control("DELETE", f"folders/{CAMPAIGN}")

    with pytest.raises(FolderError) as raised:
        hook.check_campaign_folder(CAMPAIGN, ["Master Assets"], check.master_assets_folder_id)
    assert raised.value.reason == f"Campaign folder {CAMPAIGN} not found in Box"


def test_forbidden_campaign_folder_is_a_folder_error(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    box.control("PUT", f"folders/{CAMPAIGN}/forbidden", json={"forbidden": True})

    with pytest.raises(FolderError) as raised:
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])
    assert raised.value.reason == f"No access to campaign folder {CAMPAIGN} in Box"


def test_folder_holding_only_system_files_is_empty(start_box):
    system_files = [".DS_Store", "Thumbs.db", "DESKTOP.INI", "._cut.mp4", "sub/.ds_store"]
    start_box(campaign_folder(CAMPAIGN, assets=system_files))

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])

    assert (check.master_assets_folder_id, check.assets) == (MASTER, ())
    assert check.folder_ids[:2] == (CAMPAIGN, MASTER)
    assert len(check.folder_ids) == 3  # and the subfolder "sub"


def test_files_only_in_nested_subfolders_are_found_with_their_paths(start_box):
    assets = {"video/cuts/final.mp4": 300, "print/poster.pdf": 200, "print/.DS_Store": 1}
    start_box(campaign_folder(CAMPAIGN, assets=assets))

    listed = BoxHook().list_master_assets(MASTER)

    assert sorted(listed, key=lambda asset: asset.path) == [
        MasterAsset(
            "123-ma-f2",
            "poster.pdf",
            "print/poster.pdf",
            200,
            generated_sha1("123-ma-f2", 200),
            UPLOADED_LONG_AGO,
        ),
        MasterAsset(
            "123-ma-f1",
            "final.mp4",
            "video/cuts/final.mp4",
            300,
            generated_sha1("123-ma-f1", 300),
            UPLOADED_LONG_AGO,
        ),
    ]


def test_rate_limit_with_retry_after_is_waited_out(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg", "b.jpg"]))
    box.fault(ITEMS_ROUTE, (429, 429), retry_after=0.01)

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])

    assert [asset.path for asset in check.assets] == ["a.jpg", "b.jpg"]
    assert box.counters()[ITEMS_ROUTE] == 2 + 2  # two answered 429, then the lookup and the list


def test_server_errors_until_retries_run_out_are_transient(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), max_attempts=3)
    box.fault(ITEMS_ROUTE, (500, 503, 502))

    with pytest.raises(TransientError) as raised:
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])

    assert not isinstance(raised.value, FolderError)
    assert "502" in str(raised.value) and f"/2.0/folders/{CAMPAIGN}/items" in str(raised.value)
    assert box.counters()[ITEMS_ROUTE] == 3


def test_dropped_connection_is_retried(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    box.fault(ITEMS_ROUTE, drop=1)

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)

    assert [asset.path for asset in check.assets] == ["a.jpg"]
    assert box.counters()[ITEMS_ROUTE] == 2


def test_connection_dropped_on_every_attempt_is_transient(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), max_attempts=3)
    box.fault(ITEMS_ROUTE, drop=3)

    with pytest.raises(TransientError):
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)
    assert box.counters()[ITEMS_ROUTE] == 3


def test_read_timeout_is_transient(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), timeout=0.2, max_attempts=2)
    box.control("POST", "latency", json={"ms": 1000})

    with pytest.raises(TransientError):
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)


def test_cached_master_assets_folder_costs_one_request_per_check(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg", "b.jpg"]))
    hook = BoxHook()
    hook.check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)
    box.reset_counters()

    for _ in range(3):
        check = hook.check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)
        assert [asset.path for asset in check.assets] == ["a.jpg", "b.jpg"]

    assert box.counters() == {ITEMS_ROUTE: 3}


def test_cached_master_assets_folder_deleted_falls_back_to_the_lookup(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    box.control("DELETE", f"folders/{MASTER}")
    new_id = box.control("POST", "folders", json={"name": "Master Assets", "parent": CAMPAIGN})
    new_id = new_id.json()["id"]
    box.control("POST", "files", json={"name": "late.jpg", "parent": new_id, "size": 10})

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)

    assert check.master_assets_folder_id == new_id
    assert [asset.path for asset in check.assets] == ["late.jpg"]
    assert box.counters()[ITEMS_ROUTE] == 3  # the cached id (404), the lookup, the listing


def test_stream_file_yields_the_exact_bytes_in_chunks_of_a_mebibyte(start_box):
    size = 3 * MIB + 12345
    box = start_box(campaign_folder(CAMPAIGN, assets={"film.mov": size}))
    hook = BoxHook()
    [asset] = hook.list_master_assets(MASTER)

    digest, lengths = hashlib.sha1(), []
    for chunk in hook.stream_file(asset.file_id):
        digest.update(chunk)
        lengths.append(len(chunk))

    assert digest.hexdigest() == asset.sha1 == generated_sha1(asset.file_id, size)
    assert lengths == [MIB, MIB, MIB, 12345] and DOWNLOAD_CHUNK_SIZE == MIB
    assert box.counters()[CONTENT_ROUTE] == box.counters()[DOWNLOAD_ROUTE] == 1


def test_a_download_answered_503_or_dropped_is_tried_again(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets={"film.mov": MIB + 1}))
    hook = BoxHook()
    [asset] = hook.list_master_assets(MASTER)
    box.fault(DOWNLOAD_ROUTE, (503,), drop=1)

    content = b"".join(hook.stream_file(asset.file_id))

    assert hashlib.sha1(content).hexdigest() == asset.sha1
    assert box.counters()[DOWNLOAD_ROUTE] == 3  # dropped, 503, then the content


def test_a_download_dropped_every_try_is_transient_and_hides_its_url(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets={"film.mov": 10}), max_attempts=3)
    hook = BoxHook()
    [asset] = hook.list_master_assets(MASTER)
    box.fault(DOWNLOAD_ROUTE, drop=3)

    with pytest.raises(TransientError) as raised:
        list(hook.stream_file(asset.file_id))

    assert str(raised.value).startswith(
        f"Box did not answer the download of file {asset.file_id}: "
    )
    assert "/d/1/" not in str(raised.value)
    assert box.counters()[DOWNLOAD_ROUTE] == 3


def test_a_download_failing_every_try_is_transient_and_hides_its_url(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets={"film.mov": 10}), max_attempts=3)
    hook = BoxHook()
    [asset] = hook.list_master_assets(MASTER)
    box.fault(DOWNLOAD_ROUTE, (500, 502, 503))

    with pytest.raises(TransientError) as raised:
        list(hook.stream_file(asset.file_id))

    assert str(raised.value) == f"Box answered 503 to the download of file {asset.file_id}"
    assert box.counters()[DOWNLOAD_ROUTE] == 3


def test_a_download_failing_tls_is_tried_once_and_not_transient(start_box, monkeypatch):
    start_box(campaign_folder(CAMPAIGN, assets={"film.mov": 10}), max_attempts=3)
    hook = BoxHook()
    [asset] = hook.list_master_assets(MASTER)
    # TLS spoken to the sandbox's plain HTTP port fails the handshake.
    url = hook.client.downloads.get_download_file_url(asset.file_id).replace("http:", "https:")
    monkeypatch.setattr(hook.client.downloads, "get_download_file_url", lambda file_id: url)
    handshakes = []
    connect = HTTPSConnection.connect
    monkeypatch.setattr(HTTPSConnection, "connect", lambda c: handshakes.append(c) or connect(c))

    with pytest.raises(BoxTLSError) as raised:
        list(hook.stream_file(asset.file_id))

    assert str(raised.value).startswith(
        f"TLS with Box failed for the download of file {asset.file_id}: "
    )
    assert "/d/1/" not in str(raised.value)
    assert len(handshakes) == 1


def test_a_download_takes_one_slot_of_the_box_rate(start_box, monkeypatch):
    """The download URL is a Box request; reading it (a pre-signed URL) is not."""
    start_box(campaign_folder(CAMPAIGN, assets={"film.mov": 10}))
    slots = []
    monkeypatch.setattr(SharedRate, "take", lambda rate: slots.append(rate))
    hook = BoxHook(requests_per_minute=60)
    [asset] = hook.list_master_assets(MASTER)
    taken = len(slots)

    assert len(b"".join(hook.stream_file(asset.file_id))) == 10
    assert len(slots) - taken == 1


def test_stream_of_a_missing_file_is_a_folder_error(start_box):
    start_box(campaign_folder(CAMPAIGN))

    with pytest.raises(FolderError) as raised:
        list(BoxHook().stream_file("nope"))
    assert raised.value.reason == "File nope not found in Box"


def test_ccg_token_comes_from_the_sandbox_and_is_refreshed_when_expired(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))
    hook = BoxHook()

    hook.check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)
    assert box.counters()[TOKEN_ROUTE] == 1

    box.control("POST", "tokens/expire")
    check = hook.check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)

    assert [asset.path for asset in check.assets] == ["a.jpg"]
    assert box.counters()[TOKEN_ROUTE] == 2


def test_wrong_client_secret_is_a_clear_error(start_box):
    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), password="not-the-secret")

    with pytest.raises(BoxAuthError, match=r"box_default.*client credentials are invalid"):
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)


def test_test_connection(start_box):
    start_box()
    assert BoxHook().test_connection() == (
        True,
        "Connected to Box as Sandbox Admin (admin@example.com)",
    )

    start_box(password="not-the-secret")
    ok, message = BoxHook().test_connection()
    assert not ok and "client credentials are invalid" in message


def test_developer_token(start_box):
    box = box_fixture(campaign_folder(CAMPAIGN, assets=["a.jpg"]), developer_tokens=["dev-token"])
    sandbox = start_box(box=box, auth="developer_token", developer_token="dev-token")

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)

    assert [asset.path for asset in check.assets] == ["a.jpg"]
    assert TOKEN_ROUTE not in sandbox.counters()


def jwt_app(passphrase: bytes = b"passphrase") -> tuple[dict, dict]:
    """A JWT app as the sandbox knows it (its client) and its configuration JSON, as Box's."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_key = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_key = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    client = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "enterprise_id": ENTERPRISE_ID,
        "public_key": public_key.decode(),
    }
    jwt_config = {
        "boxAppSettings": {
            "clientID": CLIENT_ID,
            "clientSecret": CLIENT_SECRET,
            "appAuth": {
                "publicKeyID": "key-1",
                "privateKey": private_key.decode(),
                "passphrase": "passphrase",
            },
        },
        "enterpriseID": ENTERPRISE_ID,
    }
    return client, jwt_config


def test_jwt_app_config(start_box):
    client, jwt_config = jwt_app()
    box = box_fixture(campaign_folder(CAMPAIGN, assets=["a.jpg"]), clients=[client])
    sandbox = start_box(box=box, jwt_config=json.dumps(jwt_config))

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)

    assert [asset.path for asset in check.assets] == ["a.jpg"]
    assert sandbox.counters()[TOKEN_ROUTE] == 1


def test_ccg_as_a_user_instead_of_the_enterprise(start_box):
    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), enterprise_id=None, user_id="11446498")

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)

    assert [asset.path for asset in check.assets] == ["a.jpg"]


def test_connect_and_read_timeouts_apart(start_box):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), timeout="5, 0.2", max_attempts=1)
    box.control("POST", "latency", json={"ms": 1000})

    with pytest.raises(TransientError, match="Read timed out"):
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"], MASTER)


def _without(config: dict, *path: str) -> dict:
    config = json.loads(json.dumps(config))
    *parents, last = path
    inner = config
    for key in parents:
        inner = inner[key]
    del inner[last]
    return config


_, GOOD_JWT = jwt_app()
_, OTHER_PASSPHRASE_JWT = jwt_app(passphrase=b"another one")
PRIVATE_KEY = ("boxAppSettings", "appAuth", "privateKey")


@pytest.mark.parametrize(
    ("extras", "password", "extra", "problem"),
    [
        (
            {"auth": "oauth"},
            CLIENT_SECRET,
            "auth",
            "is 'oauth': it must be one of ccg, jwt, developer_token",
        ),
        (
            {"enterprise_id": None},
            CLIENT_SECRET,
            "enterprise_id",
            "is missing (auth is ccg, no user_id): the enterprise the CCG service account "
            "belongs to (or give user_id)",
        ),
        (
            {"auth": "ccg", "enterprise_id": "  "},
            CLIENT_SECRET,
            "enterprise_id",
            "is missing (auth is ccg, no user_id): the enterprise the CCG service account "
            "belongs to (or give user_id)",
        ),
        (
            {"auth": "jwt"},
            CLIENT_SECRET,
            "jwt_config",
            "is missing (auth is jwt): the JWT app's configuration JSON, as Box's developer "
            "console downloads it",
        ),
        (
            {"jwt_config": '{"boxAppSettings": '},
            CLIENT_SECRET,
            "jwt_config",
            "is a secret (not shown): not JSON (Expecting value: line 1 column 20 (char 19))",
        ),
        (
            {"jwt_config": json.dumps(_without(GOOD_JWT, *PRIVATE_KEY))},
            CLIENT_SECRET,
            "jwt_config",
            "has no boxAppSettings.appAuth.privateKey",
        ),
        (
            {"jwt_config": _without(GOOD_JWT, "boxAppSettings", "clientID")},
            CLIENT_SECRET,
            "jwt_config",
            "has no boxAppSettings.clientID",
        ),
        (
            {"jwt_config": {**GOOD_JWT, "boxAppSettings": "app"}},
            CLIENT_SECRET,
            "jwt_config",
            "has no boxAppSettings.clientID",
        ),
        (
            {"jwt_config": _without(GOOD_JWT, "enterpriseID")},
            CLIENT_SECRET,
            "jwt_config",
            "has neither enterpriseID nor userID",
        ),
        (
            {"jwt_config": OTHER_PASSPHRASE_JWT},
            CLIENT_SECRET,
            "jwt_config",
            "has a privateKey that is no PEM key its passphrase opens",
        ),
        (
            {"auth": "developer_token"},
            "",
            "developer_token",
            "is missing (auth is developer_token, no password): a developer token (tests only: "
            "it expires after an hour); else the password",
        ),
        ({"max_attempts": 0}, CLIENT_SECRET, "max_attempts", "is 0: it must be at least 1"),
        (
            {"retry_base_interval": "soon"},
            CLIENT_SECRET,
            "retry_base_interval",
            "is 'soon': not a number",
        ),
        (
            {"timeout": "0"},
            CLIENT_SECRET,
            "timeout",
            "is '0': a timeout must be more than 0 seconds",
        ),
        ({"verify": ["/ca.pem"]}, CLIENT_SECRET, "verify", "is ['/ca.pem']: not text"),
    ],
)
def test_a_connection_setting_it_cannot_use_fails_naming_the_extra_before_any_request(
    start_box, extras, password, extra, problem
):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]), password=password, **extras)
    hook = BoxHook()

    with pytest.raises(ConnectionSettingError) as raised:
        hook.sign_in()

    assert isinstance(raised.value, NotRetryable)
    assert str(raised.value) == f"Box connection 'box_default': extra {extra!r} {problem}"
    assert (raised.value.conn_id, raised.value.extra) == ("box_default", extra)
    assert hook.test_connection() == (False, str(raised.value))
    assert box.counters() == {}


@pytest.mark.parametrize(
    "name",
    [
        "Master\u00a0Assets",  # a non-breaking space, as some keyboards type it
        "Master\u202fAssets",  # a narrow no-break space
        "Master\u200b Assets",  # a zero-width space pasted from a document
        "\ufeffMaster Assets\u2060",
        "  MASTER   assets\t",
        "Ｍａｓｔｅｒ　Ａｓｓｅｔｓ",  # full-width letters and an ideographic space
    ],
)
def test_master_assets_folder_named_as_people_type_it_is_found(start_box, name):
    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"], master_assets_name=name))

    check = BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])

    assert check.master_assets_folder_id == MASTER
    assert [asset.path for asset in check.assets] == ["a.jpg"]


@pytest.mark.parametrize(
    ("folder_name", "configured"),
    [
        ("Cre\u0301ations", "Créations"),  # Finder's decomposed accent, the setting composed
        ("Créations", "Cre\u0301ations"),
        ("Master Assets", " master\u00a0ASSETS\u200b"),  # the setting typed oddly
    ],
)
def test_configured_names_are_read_the_same_way(start_box, folder_name, configured):
    start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"], master_assets_name=folder_name))

    assert BoxHook().find_master_assets_folder(CAMPAIGN, ["Finals", configured]) == MASTER


@pytest.mark.parametrize("typed_id", [" 123 ", "123\u00a0", "\u200b123", "１２３", "1 2 3"])
def test_campaign_folder_id_as_typed_into_the_dam_is_the_id(start_box, typed_id):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))

    check = BoxHook().check_campaign_folder(typed_id, ["Master Assets"])

    assert check == BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])
    assert [asset.path for asset in check.assets] == ["a.jpg"]
    assert box.counters()[ITEMS_ROUTE] == 4  # the lookup and the listing, twice


@pytest.mark.parametrize("typed_id", ["  ", "\u200b", "\u00a0\ufeff"])
def test_an_id_of_spaces_and_invisible_characters_is_no_linked_folder(start_box, typed_id):
    box = start_box(campaign_folder(CAMPAIGN, assets=["a.jpg"]))

    with pytest.raises(FolderError) as raised:
        BoxHook().check_campaign_folder(typed_id, ["Master Assets"])
    assert raised.value.reason == "No Box folder linked in the DAM"
    assert box.counters() == {}


def test_not_found_shows_the_names_there_with_odd_characters_escaped(start_box):
    start_box(
        campaign_folder(CAMPAIGN, master_assets_name="Master\u00a0Asset"),
        {"folders": [folder("briefs", "Briefs", CAMPAIGN)]},
        {"files": [file("notes", "notes\u200b.txt", CAMPAIGN)]},
    )

    with pytest.raises(FolderError) as raised:
        BoxHook().check_campaign_folder(CAMPAIGN, ["Master Assets"])
    assert raised.value.reason == (
        "Assets folder not found (tried 'Master Assets'; the campaign folder holds "
        "'Briefs', 'Master\\u00a0Asset', 'notes\\u200b.txt' (file))"
    )


def test_not_found_in_an_empty_campaign_folder_says_it_is_empty(start_box):
    start_box(campaign_folder(CAMPAIGN, master_assets_name=None))

    with pytest.raises(FolderError) as raised:
        BoxHook().find_master_assets_folder(CAMPAIGN, ["Master Assets", "Finals"])
    assert raised.value.reason == (
        "Assets folder not found (tried 'Master Assets', 'Finals'; the campaign folder is empty)"
    )


def test_not_found_names_the_first_ten_items_and_counts_the_rest(start_box):
    drafts = [folder(f"draft-{n}", f"Draft {n:02d}", CAMPAIGN) for n in range(12)]
    notes = [file(f"note-{n}", f"note {n}.txt", CAMPAIGN) for n in range(3)]
    start_box(
        campaign_folder(CAMPAIGN, master_assets_name=None), {"folders": drafts, "files": notes}
    )

    with pytest.raises(FolderError) as raised:
        BoxHook().find_master_assets_folder(CAMPAIGN, ["Master Assets"])

    drafts_shown = ", ".join(f"'Draft {n:02d}'" for n in range(10))
    assert raised.value.reason == (
        "Assets folder not found (tried 'Master Assets'; the campaign folder holds "
        f"{drafts_shown}, and 5 more)"
    )


def test_a_long_name_is_shown_cut(start_box):
    start_box(campaign_folder(CAMPAIGN, master_assets_name="Master Assets " + "x" * 100))

    with pytest.raises(FolderError) as raised:
        BoxHook().find_master_assets_folder(CAMPAIGN, ["Master Assets"])
    assert raised.value.reason == (
        "Assets folder not found (tried 'Master Assets'; the campaign folder holds "
        f"'Master Assets {'x' * 66}'...)"
    )
