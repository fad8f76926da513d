"""BoxHook: a campaign's Box folder, its Master Assets and their content, through boxsdk."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

import requests
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret
from box_sdk_gen import (
    BaseUrls,
    BoxAPIError,
    BoxCCGAuth,
    BoxClient,
    BoxDeveloperTokenAuth,
    BoxJWTAuth,
    BoxNetworkClient,
    BoxRetryStrategy,
    BoxSDKError,
    CCGConfig,
    DefaultPrivateKeyDecryptor,
    JWTConfig,
    NetworkSession,
    TimeoutConfig,
)

from campaigns import metrics
from campaigns.connection_fields import BOX, ConnectionSettingError
from campaigns.errors import FolderError, NotRetryable, TransientError
from campaigns.hooks.box_rate import SharedRate
from campaigns.hooks.box_token import SharedTokenStorage
from campaigns.hooks.wire import path_segment
from campaigns.names import comparable, comparable_id, shown

if TYPE_CHECKING:
    from airflow.sdk import Connection
    from box_sdk_gen import Authentication

MASTER_ASSETS_NAMES = ("Master Assets",)
DEFAULT_BASE_URL = "https://api.box.com"
SYSTEM_FILES = frozenset({".ds_store", "thumbs.db", "desktop.ini"})
PAGE_SIZE = 1000
# Box's own dates, never content_created_at/content_modified_at (the uploader's machine sets those).
ASSET_FIELDS = ["name", "size", "sha1", "created_at", "modified_at"]
# A "not found" reason names this many of the campaign folder's items, each cut to this length.
SHOWN_ITEMS = 10
SHOWN_NAME_LENGTH = 80
DOWNLOAD_CHUNK_SIZE = 1 << 20
# What boxsdk reads from a JWT app's configuration JSON (as Box's developer console writes it).
JWT_CONFIG_KEYS = (
    ("boxAppSettings", "clientID"),
    ("boxAppSettings", "clientSecret"),
    ("boxAppSettings", "appAuth", "publicKeyID"),
    ("boxAppSettings", "appAuth", "privateKey"),
    ("boxAppSettings", "appAuth", "passphrase"),
)


@dataclass(frozen=True)
class MasterAsset:
    """A file under a campaign's Master Assets folder; `path` is relative to that folder.

    ``changed_at`` (ISO text) is the later of Box's own ``created_at`` and ``modified_at``: when
    the file arrived, moved or got a new version on Box, whatever the uploader's clock said.
    """

    file_id: str
    name: str
    path: str
    size: int
    sha1: str
    changed_at: str


@dataclass(frozen=True)
class FolderCheck:
    """What one look at a campaign's Box folder found; no assets means the folder is empty.

    ``folder_ids``: the campaign folder, the Master Assets folder and every subfolder under it,
    the folders whose changes the feed is watched for.
    """

    master_assets_folder_id: str
    assets: tuple[MasterAsset, ...]
    folder_ids: tuple[str, ...] = ()


class FolderNotFound(FolderError):
    """Box answered 404 for a folder or file."""


class BoxAuthError(NotRetryable):
    """Box refused the connection's credentials: fix the connection, no campaign is to blame."""


class BoxTLSError(NotRetryable):
    """Box's certificate could not be verified: fix the connection, no campaign is to blame."""


class BoxHook(BaseHook):
    """Reads campaign folders and streams Master Assets from Box."""

    conn_name_attr = "box_conn_id"
    default_conn_name = "box_default"
    conn_type = "box"
    hook_name = "Box"

    def __init__(
        self,
        box_conn_id: str = default_conn_name,
        requests_per_minute: float | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.box_conn_id = box_conn_id
        self.requests_per_minute = requests_per_minute

    @cached_property
    def connection(self) -> Connection:
        return self.get_connection(self.box_conn_id)

    @cached_property
    def settings(self) -> dict[str, Any]:
        """The connection's extras as `campaigns.connection_fields.BOX` declares them, checked."""
        return BOX.read(self.box_conn_id, self.connection.extra_dejson)

    @property
    def stream_key(self) -> str:
        """Names this connection's change feed: its id and Box endpoint."""
        return f"{self.box_conn_id} {self.settings['base_url'] or DEFAULT_BASE_URL}"

    def get_client(self) -> BoxClient:
        """The boxsdk client for the connection, built once per hook."""
        return self.client

    def sign_in(self) -> None:
        """Fetch the access token now, once, before threads share the client.

        boxsdk's token fetch is not locked: threads starting together would each fetch one.
        """
        with self.box_errors("sign-in"):
            self.client.auth.retrieve_token(network_session=self.client.network_session)

    @cached_property
    def client(self) -> BoxClient:
        return BoxClient(self._auth(), network_session=self._network_session())

    def _auth(self) -> Authentication:
        settings = self.settings
        method = settings["auth"] or _auth_method_implied_by(settings)
        if method == "ccg":
            if not (settings["enterprise_id"] or settings["user_id"]):
                raise BOX.missing(self.box_conn_id, "enterprise_id", "auth is ccg, no user_id")
            config = CCGConfig(
                client_id=self.connection.login,
                client_secret=self.connection.password,
                enterprise_id=settings["enterprise_id"],
                user_id=settings["user_id"],
                token_storage=SharedTokenStorage(
                    self.box_conn_id,
                    self.connection.login,
                    settings["enterprise_id"],
                    settings["user_id"],
                    settings["base_url"],
                ),
            )
            return BoxCCGAuth(config)
        if method == "jwt":
            config = _jwt_config(self.box_conn_id, settings["jwt_config"])
            config.token_storage = SharedTokenStorage(
                self.box_conn_id,
                config.client_id,
                config.enterprise_id,
                config.user_id,
                settings["base_url"],
            )
            return BoxJWTAuth(config)
        token = settings["developer_token"] or self.connection.password
        if not token:
            raise BOX.missing(
                self.box_conn_id, "developer_token", "auth is developer_token, no password"
            )
        mask_secret(token)
        return BoxDeveloperTokenAuth(token)

    def _network_session(self) -> NetworkSession:
        settings = self.settings
        urls = {
            keyword: settings[extra]
            for keyword, extra in (
                ("base_url", "base_url"),
                ("upload_url", "upload_url"),
                ("oauth_2_url", "oauth2_url"),
            )
            if settings[extra]
        }
        retries = BoxRetryStrategy(
            max_attempts=settings["max_attempts"],
            retry_base_interval=settings["retry_base_interval"],
            max_retries_on_exception=settings["max_attempts"] - 1,
        )
        timeout = settings["timeout"]
        connect, read = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        timeouts = TimeoutConfig(
            connection_timeout_ms=round(connect * 1000), read_timeout_ms=round(read * 1000)
        )
        verify = settings["verify"]
        if verify is False:
            self.log.warning(
                "TLS verification of Box at %s is off (connection %s)",
                urls.get("base_url", DEFAULT_BASE_URL),
                self.box_conn_id,
            )
        return NetworkSession(
            network_client=BoxNetworkClient(_PacedSession(self._rate(), verify)),
            base_urls=BaseUrls(**urls),
            retry_strategy=retries,
            timeout_config=timeouts,
        )

    def _rate(self) -> SharedRate | None:
        """The connection's request ceiling, shared with every task; None: no ceiling."""
        if not self.requests_per_minute:
            return None
        return SharedRate(self.box_conn_id, self.requests_per_minute)

    def find_master_assets_folder(
        self, campaign_folder_id: str, names: Sequence[str] = MASTER_ASSETS_NAMES
    ) -> str:
        """The id of the campaign's subfolder whose name reads like one of `names`."""
        wanted = {comparable(name) for name in names}
        held: list[tuple[str, str]] = []
        for item in self._folder_items(campaign_folder_id, "campaign folder", fields=["name"]):
            if item.type == "folder" and comparable(item.name) in wanted:
                return item.id
            held.append((item.type.value, item.name))
        raise FolderError(_assets_folder_not_found(names, held))

    def list_master_assets(self, folder_id: str) -> list[MasterAsset]:
        """Every file under the Master Assets folder, subfolders included, system files left out."""
        return self._master_assets_tree(folder_id)[0]

    def _master_assets_tree(self, folder_id: str) -> tuple[list[MasterAsset], list[str]]:
        """The files under the Master Assets folder and the ids of the folders listed for them."""
        assets = []
        folder_ids = []
        pending = [(folder_id, "", "Master Assets folder")]
        while pending:
            current_id, prefix, label = pending.pop()
            folder_ids.append(current_id)
            for item in self._folder_items(current_id, label, fields=ASSET_FIELDS):
                if item.type == "folder":
                    pending.append((item.id, f"{prefix}{item.name}/", "folder"))
                elif item.type == "file" and not is_system_file(item.name):
                    changed_at = max(item.created_at, item.modified_at)
                    assets.append(
                        MasterAsset(
                            item.id,
                            item.name,
                            prefix + item.name,
                            item.size,
                            item.sha_1,
                            changed_at.isoformat(),
                        )
                    )
        return assets, folder_ids

    def check_campaign_folder(
        self,
        campaign_folder_id: str | None,
        names: Sequence[str] = MASTER_ASSETS_NAMES,
        master_assets_folder_id: str | None = None,
    ) -> FolderCheck:
        """The campaign's Master Assets; the cached folder id saves the lookup while it exists.

        The campaign folder's id is read as typed into the DAM: spaces and invisible characters
        dropped, full-width digits as digits.
        """
        campaign_folder_id = comparable_id(campaign_folder_id or "")
        if not campaign_folder_id:
            raise FolderError("No Box folder linked in the DAM")
        if master_assets_folder_id:
            try:
                assets, folder_ids = self._master_assets_tree(master_assets_folder_id)
                return FolderCheck(
                    master_assets_folder_id, tuple(assets), (campaign_folder_id, *folder_ids)
                )
            except FolderNotFound:
                self.log.info(
                    "Master Assets folder %s is gone; looking it up again in campaign folder %s",
                    master_assets_folder_id,
                    campaign_folder_id,
                )
        folder_id = self.find_master_assets_folder(campaign_folder_id, names)
        assets, folder_ids = self._master_assets_tree(folder_id)
        return FolderCheck(folder_id, tuple(assets), (campaign_folder_id, *folder_ids))

    def stream_file(self, file_id: str) -> Iterator[bytes]:
        """The file's content in chunks of DOWNLOAD_CHUNK_SIZE, as it downloads.

        boxsdk asks for the download URL (auth, retries, errors), but its download stream reads
        1 KiB at a time: the URL is read here, retried as a Box request is (not on TLS errors).
        """
        from urllib3.util import Retry

        settings = self.settings
        retries = requests.adapters.HTTPAdapter(
            max_retries=Retry(
                total=settings["max_attempts"] - 1,
                other=0,
                backoff_factor=settings["retry_base_interval"],
                status_forcelist=[429, *range(500, 600)],
                raise_on_status=False,
            )
        )
        with self.box_errors(
            f"download of file {file_id}",
            not_found=f"File {file_id} not found in Box",
            forbidden=f"No access to file {file_id} in Box",
        ):
            url = self.client.downloads.get_download_file_url(path_segment(file_id, "file"))
            # Pre-signed, not an API call: like the redirect boxsdk would follow, it takes no
            # slot of the Box rate.
            with requests.Session() as session:
                session.mount("https://", retries)
                session.mount("http://", retries)
                try:
                    download = session.get(
                        url, stream=True, timeout=settings["timeout"], verify=settings["verify"]
                    )
                except requests.RequestException as error:
                    # requests' messages show the pre-signed URL, a secret: only the reason here.
                    reason = getattr(error.args[0], "reason", error) if error.args else error
                    if isinstance(error, requests.exceptions.SSLError):
                        raise BoxTLSError(
                            f"TLS with Box failed for the download of file {file_id}: {reason}"
                        ) from None
                    raise TransientError(
                        f"Box did not answer the download of file {file_id}: {reason}"
                    ) from None
                with download:
                    if not download.ok:
                        raise TransientError(
                            f"Box answered {download.status_code} to the download of file {file_id}"
                        )
                    yield from download.iter_content(DOWNLOAD_CHUNK_SIZE)

    def test_connection(self) -> tuple[bool, str]:
        """Sign in and ask Box who we are."""
        try:
            with self.box_errors("user lookup"):
                user = self.client.users.get_user_me()
        except Exception as error:
            return False, str(error)
        return True, f"Connected to Box as {user.name} ({user.login})"

    def _folder_items(self, folder_id: str, label: str, fields: list[str]) -> Iterator[Any]:
        """All items of a folder, page by page with markers."""
        marker = None
        while True:
            with self.box_errors(
                f"listing of {label} {folder_id}",
                not_found=f"{label[:1].upper()}{label[1:]} {folder_id} not found in Box",
                forbidden=f"No access to {label} {folder_id} in Box",
            ):
                # boxsdk puts ids into its URLs as they are; one from the DAM may hold "/".
                page = self.client.folders.get_folder_items(
                    path_segment(folder_id, label),
                    fields=fields,
                    usemarker=True,
                    marker=marker,
                    limit=PAGE_SIZE,
                )
            yield from page.entries or ()
            marker = page.next_marker
            if not marker:
                return

    @contextmanager
    def box_errors(
        self, action: str, not_found: str | None = None, forbidden: str | None = None
    ) -> Iterator[None]:
        """Map what Box answers once boxsdk's own retries are spent onto the campaign's errors."""
        try:
            yield
        except BoxAPIError as error:
            status = error.response_info.status_code
            request = f"{error.request_info.method} {error.request_info.url}"
            request_id = error.response_info.request_id
            if status == 429 or status >= 500:
                raise TransientError(
                    f"Box answered {status} to the {action} ({request}, request id {request_id})"
                ) from error
            if error.request_info.url.endswith("/oauth2/token"):
                reason = error.response_info.body.get("error_description") or status
                raise BoxAuthError(
                    f"Box refused the credentials of connection {self.box_conn_id}: {reason}"
                ) from error
            if status == 404 and not_found:
                raise FolderNotFound(not_found) from error
            if status == 403 and forbidden:
                raise FolderError(forbidden) from error
            raise
        except BoxSDKError as error:
            if isinstance(error.error, requests.RequestException):
                raise TransientError(f"Box did not answer the {action}: {error.error}") from error
            raise
        except requests.RequestException as error:
            raise TransientError(f"Box broke off the {action}: {error}") from error


def _assets_folder_not_found(names: Sequence[str], held: Sequence[tuple[str, str]]) -> str:
    """Why no folder matched: the names tried and the (type, name) items held, in Box's order."""
    tried = ", ".join(shown(name) for name in names)
    if not held:
        return f"Assets folder not found (tried {tried}; the campaign folder is empty)"
    listed = [_shown_item(kind, name) for kind, name in held[:SHOWN_ITEMS]]
    if len(held) > SHOWN_ITEMS:
        listed.append(f"and {len(held) - SHOWN_ITEMS} more")
    return f"Assets folder not found (tried {tried}; the campaign folder holds {', '.join(listed)})"


def _shown_item(kind: str, name: str) -> str:
    text = shown(name[:SHOWN_NAME_LENGTH]) + ("..." if len(name) > SHOWN_NAME_LENGTH else "")
    return text if kind == "folder" else f"{text} ({kind})"


def _auth_method_implied_by(settings: dict[str, Any]) -> str:
    if settings["jwt_config"] is not None:
        return "jwt"
    if settings["developer_token"] is not None:
        return "developer_token"
    return "ccg"


def _jwt_config(conn_id: str, config: dict[str, Any]) -> JWTConfig:
    """boxsdk's JWT configuration from the app's JSON, checked: whatever is wrong is named."""

    def wrong(problem: str) -> ConnectionSettingError:
        return ConnectionSettingError(BOX.service, conn_id, "jwt_config", problem)

    for path in JWT_CONFIG_KEYS:
        value: Any = config
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str) or not value:
            raise wrong(f"has no {'.'.join(path)}")
    if not (config.get("enterpriseID") or config.get("userID")):
        raise wrong("has neither enterpriseID nor userID")
    app_auth = config["boxAppSettings"]["appAuth"]
    try:
        DefaultPrivateKeyDecryptor().decrypt_private_key(
            app_auth["privateKey"], app_auth["passphrase"]
        )
    except (ValueError, TypeError) as error:
        raise wrong("has a privateKey that is no PEM key its passphrase opens") from error
    return JWTConfig.from_config_json_string(json.dumps(config))


class _PacedSession(requests.Session):
    """A requests session whose requests each wait for a slot of the shared rate, if any.

    boxsdk sends every call, retry and token request through it, from all threads of a hook.
    """

    def __init__(self, rate: SharedRate | None, verify: bool | str):
        super().__init__()
        self.verify = verify
        self._rate = rate

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        if self._rate is not None:
            self._rate.take()
        metrics.BOX_CALLS.send()
        # Given per request: a session's own `verify` loses to REQUESTS_CA_BUNDLE.
        kwargs.setdefault("verify", self.verify)
        try:
            return super().request(method, url, **kwargs)
        except requests.exceptions.SSLError as error:
            # Not a RequestException any more, so boxsdk does not retry what cannot pass.
            raise BoxTLSError(f"TLS with Box at {url} failed: {error}") from error


def is_system_file(name: str) -> bool:
    """A file the uploader's machine leaves behind (.DS_Store, Thumbs.db, ._ forks): no asset."""
    return name.casefold() in SYSTEM_FILES or name.startswith("._")
