"""DamHook: the DAM (OpenText Media Management) over its REST API, as the DAM contract describes."""

from __future__ import annotations

import itertools
import json
import os
import secrets
import tempfile
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from functools import cached_property, partial
from pathlib import Path
from typing import IO, Any

import requests
from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from requests.adapters import HTTPAdapter
from urllib3.fields import RequestField

from campaigns.errors import (
    BadCampaignData,
    CampaignError,
    FolderError,
    NotRetryable,
    StatusChangeRefused,
    TransientError,
)
from campaigns.hooks.wire import DOT_SEGMENTS, path_segment, verify_setting

DOMAIN_VALUE = "com.artesia.metadata.DomainValue"
FIELD_TYPE = "com.artesia.metadata.MetadataField"
FIELD_EXTRAS = ("status_field", "number_field", "box_folder_field")
CHUNK_SIZE = 1 << 20
FOLDER = "campaign folder"
# Longer ids, numbers and statuses are refused: PostgreSQL cannot index them.
MAX_IDENTIFIER_LENGTH = 255


class DamError(NotRetryable):
    """A DAM failure that is neither passing nor about one campaign's folder (TLS, refusals)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


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
    """The campaigns a status search found, and those whose metadata could not be read."""

    campaigns: list[Campaign]
    bad: list[BadCampaignData]


@dataclass(frozen=True)
class DamSettings:
    """The DAM connection, read once."""

    base_url: str
    login: str
    password: str = field(repr=False)
    auth: str
    client_id: str | None
    client_secret: str | None = field(repr=False)
    client_cert: str | None
    client_cert_password: str | None = field(repr=False)
    verify: bool | str
    api_version: str
    status_field: str
    number_field: str
    box_folder_field: str
    page_size: int
    timeout: float | tuple[float, float]
    max_attempts: int
    backoff: float

    @classmethod
    def from_connection(cls, conn: Any) -> DamSettings:
        extra = conn.extra_dejson
        missing = [name for name in FIELD_EXTRAS if not extra.get(name)]
        if missing:
            raise ValueError(f"DAM connection {conn.conn_id!r} lacks the extras {missing}")
        auth = extra.get("auth", "session")
        if auth not in ("session", "oauth2"):
            raise ValueError(f"DAM connection {conn.conn_id!r}: unknown auth {auth!r}")
        timeout = extra.get("timeout", (10, 120))
        return cls(
            base_url=_base_url(conn),
            login=conn.login or "",
            password=conn.password or "",
            auth=auth,
            client_id=extra.get("client_id"),
            client_secret=extra.get("client_secret"),
            client_cert=extra.get("client_cert"),
            client_cert_password=extra.get("client_cert_password"),
            verify=verify_setting(extra.get("verify", True)),
            api_version=extra.get("api_version", "v6"),
            status_field=extra["status_field"],
            number_field=extra["number_field"],
            box_folder_field=extra["box_folder_field"],
            page_size=int(extra.get("page_size", 100)),
            timeout=tuple(timeout) if isinstance(timeout, (list, tuple)) else float(timeout),
            max_attempts=int(extra.get("max_attempts", 5)),
            backoff=float(extra.get("backoff", 1.0)),
        )


class DamHook(BaseHook):
    """Finds campaigns by status, moves them to another status and imports assets into them."""

    conn_name_attr = "dam_conn_id"
    default_conn_name = "dam_default"
    conn_type = "http"
    hook_name = "OpenText Media Management"

    def __init__(self, dam_conn_id: str = default_conn_name, **kwargs: Any):
        super().__init__(**kwargs)
        self.dam_conn_id = dam_conn_id
        self._signed_in = False

    @cached_property
    def settings(self) -> DamSettings:
        return DamSettings.from_connection(self.get_connection(self.dam_conn_id))

    @cached_property
    def session(self) -> requests.Session:
        """The HTTP session, with the connection's TLS settings; not signed in yet."""
        session = requests.Session()
        if self.settings.verify is False:
            self.log.warning(
                "TLS verification of the DAM at %s is off (connection %s)",
                self.settings.base_url,
                self.dam_conn_id,
            )
        if self.settings.client_cert:
            cert_file, key_password = _client_certificate(
                self.settings.client_cert, self.settings.client_cert_password
            )
            weakref.finalize(session, os.unlink, cert_file)
            session.cert = cert_file
            session.mount("https://", _KeyPasswordAdapter(key_password))
        return session

    def get_campaigns(self, status: str) -> DamCampaigns:
        """Every campaign at `status`, over all pages; those with unreadable metadata in `bad`."""
        settings = self.settings
        condition = {
            "type": "com.artesia.search.SearchScalarCondition",
            "metadata_field_id": settings.status_field,
            "relational_operator_id": "ARTESIA.OPERATOR.CHAR.IS",
            "relational_operator_name": "is",
            "value": status,
        }
        form = {
            "load_type": "metadata",
            "level_of_detail": "slim",
            "limit": settings.page_size,
            "search_condition_list": json.dumps(
                {"search_condition_list": {"search_condition": [condition]}}
            ),
            "metadata_to_return": ",".join(
                [settings.status_field, settings.number_field, settings.box_folder_field]
            ),
        }

        def search_page(after: int) -> tuple[list[Any], int]:
            return _search_page(self._call("POST", "search/text", data={**form, "after": after}))

        campaigns, bad, seen = [], [], set()
        for hit in _paged(search_page):
            if isinstance(hit, dict) and hit.get("data_type") != "CONTAINER":
                continue
            try:
                campaign = self._campaign(hit)
            except BadCampaignData as problem:
                bad.append(problem)
                continue
            # Paging through a result set that changes meanwhile can repeat a hit: the first counts.
            if campaign.campaign_id not in seen:
                campaigns.append(campaign)
                seen.add(campaign.campaign_id)
        return DamCampaigns(campaigns, bad)

    def move_campaign(self, campaign_id: str, from_status: str, to_status: str) -> None:
        """Move a campaign from `from_status` to `to_status` under a lock; already there is fine."""
        locked = self._set_lock(campaign_id, "lock")
        try:
            self._change_status(campaign_id, from_status, to_status, locked)
        except BaseException:
            try:
                self._set_lock(campaign_id, "unlock")
            except CampaignError as error:
                self.log.warning("Could not unlock campaign %s: %s", campaign_id, error)
            raise
        self._set_lock(campaign_id, "unlock")

    def import_asset(
        self,
        folder_id: str,
        name: str,
        content: Iterable[bytes] | IO[bytes],
        size: int | None = None,
        metadata: dict | None = None,
    ) -> str:
        """Stream `content` into the DAM folder as an asset named `name`; returns the job id."""
        asset = {"asset_resource": {"asset": {"name": name, "metadata": metadata or {}}}}
        manifest = {"upload_manifest": {"master_files": [{"file": {"file_name": name}}]}}
        upload = _MultipartUpload(
            {
                "asset_representation": json.dumps(asset),
                "parent_folder_id": folder_id,
                "manifest": json.dumps(manifest),
            },
            name,
            content,
            size,
        )
        response = self._call(
            "POST",
            "assets",
            data=upload.body,
            headers={"Content-Type": upload.content_type},
            folder_id=folder_id,
        )
        return str(_read(response, "import", ("job_handle", "job_id"), str | int))

    def list_folder_children(self, folder_id: str) -> list[dict]:
        """The assets in a DAM folder, over all pages: asset id, name, data type and size."""

        def children_page(after: int) -> tuple[list[dict], int]:
            response = self._call(
                "GET",
                f"folders/{path_segment(folder_id, FOLDER)}/children",
                params={"load_type": "metadata", "after": after, "limit": self.settings.page_size},
                folder_id=folder_id,
            )
            answer = _json(response, "folder children")
            children = _dig(answer, "folder_children", "asset_list") or []
            total = _dig(answer, "folder_children", "total_child_count")
            if (
                not isinstance(children, list)
                or type(total) is not int
                or not all(isinstance(child, dict) and child.get("asset_id") for child in children)
            ):
                raise _unreadable("folder children", answer)
            return children, total

        return [
            {
                "asset_id": child["asset_id"],
                "name": child.get("name"),
                "data_type": child.get("data_type"),
                "size": (child.get("master_content_info") or {}).get("content_size"),
            }
            for child in _paged(children_page)
        ]

    def test_connection(self) -> tuple[bool, str]:
        try:
            self._sign_in()
        except Exception as error:
            return False, str(error)
        return True, f"Signed in to the DAM at {self.settings.base_url}"

    def __enter__(self) -> DamHook:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Sign out and release the HTTP session (a DAM counts open sessions against licences)."""
        if "session" not in self.__dict__:
            return
        if self._signed_in and self.settings.auth == "session":
            try:
                self._send("DELETE", "sessions")
            except CampaignError as error:
                self.log.warning("Could not sign out of the DAM: %s", error)
        self._signed_in = False
        self.__dict__.pop("session").close()

    def _campaign(self, asset: Any) -> Campaign:
        """The campaign a search hit or folder describes; BadCampaignData when unreadable."""
        if not isinstance(asset, dict):
            raise BadCampaignData("", f"a search hit holds {_short(asset)}, not an asset")
        fields = _fields(asset.get("metadata"))
        problems: list[str] = []

        def text(label: str, read: Callable[[], str | None], required: bool = True) -> str | None:
            try:
                value = read()
            except _UnreadableField as error:
                problems.append(f"{label} {error}")
                return None
            if value is None and required:
                problems.append(f"{label} is missing or empty")
            return value

        def field_text(field_id: str, label: str, required: bool = True) -> str | None:
            read = partial(_identifier, _field_value(fields, field_id))
            return text(f"{label} field {field_id!r}", read, required)

        status = field_text(self.settings.status_field, "status")
        number = field_text(self.settings.number_field, "number")
        box_folder_id = field_text(self.settings.box_folder_field, "Box folder", required=False)
        name = text("the campaign name", partial(_checked_text, asset.get("name")))
        raw_id = asset.get("asset_id")
        campaign_id = text("the asset id", partial(_identifier, raw_id))
        if campaign_id in DOT_SEGMENTS:
            problems.append(f"the asset id {campaign_id!r} cannot stand in a URL path")
        if problems:
            reported_id = campaign_id or ("" if raw_id is None else _short(raw_id))
            raise BadCampaignData(reported_id, "; ".join(problems))
        return Campaign(campaign_id, number, name, status, box_folder_id)

    def _change_status(
        self, campaign_id: str, from_status: str, to_status: str, locked: bool
    ) -> None:
        folder_path = f"folders/{path_segment(campaign_id, FOLDER)}"
        response = self._call(
            "GET", folder_path, params={"load_type": "metadata"}, folder_id=campaign_id
        )
        metadata = _dig(response.json(), "folder_resource", "folder", "metadata")
        try:
            status = _identifier(_field_value(_fields(metadata), self.settings.status_field))
        except _UnreadableField as error:
            raise StatusChangeRefused(f"campaign {campaign_id}: status {error}") from error
        if status == to_status:
            self.log.info("Campaign %s is already at %s", campaign_id, to_status)
            return
        if not locked:
            raise StatusChangeRefused(
                f"campaign {campaign_id} is locked by someone else in the DAM; it stays at {status}"
            )
        if status != from_status:
            raise StatusChangeRefused(
                f"campaign {campaign_id} is at {status or 'no status'}, no longer at {from_status}"
            )
        status_value = {"value": {"type": "string", "value": to_status}}
        edit = {"id": self.settings.status_field, "type": FIELD_TYPE, "value": status_value}
        self._call(
            "PATCH",
            folder_path,
            json={"edited_folder": {"data": {"metadata": [edit]}}},
            folder_id=campaign_id,
        )

    def _set_lock(self, campaign_id: str, action: str) -> bool:
        """Lock or unlock a campaign folder; False when someone else holds its lock."""
        selection = {
            "selection_context_param": {
                "selection_context": {
                    "asset_ids": [campaign_id],
                    "type": "com.artesia.asset.selection.AssetIdsSelectionContext",
                    "include_descendants": "NONE",
                }
            }
        }
        response = self._call(
            "PUT",
            "assets/state",
            data={"action": action, "selection_context": json.dumps(selection)},
            folder_id=campaign_id,
        )
        answer = _json(response, "status change")
        result = _dig(answer, "bulk_asset_result_representation", "bulk_asset_result")
        failed = _dig(result, "failed_object_list") or []
        if not isinstance(result, dict) or not isinstance(failed, list):
            raise _unreadable("status change", answer)
        return campaign_id not in failed

    def _call(
        self, method: str, path: str, *, folder_id: str | None = None, **request: Any
    ) -> requests.Response:
        """A signed-in DAM call, signing in again once if the session expired; errors mapped."""
        if not self._signed_in:
            self._sign_in()
        response = self._send(method, path, **request)
        if response.status_code == 401:
            self.log.info("The DAM session expired; signing in again")
            self._sign_in()
            response = self._send(method, path, **request)
        _raise_for_status(response, folder_id)
        return response

    def _sign_in(self) -> None:
        settings = self.settings
        self._signed_in = False
        self.session.cookies.clear()
        self.session.headers.pop("Authorization", None)
        self.session.headers.pop("X-Requested-By", None)
        if settings.auth == "oauth2":
            form = {
                "grant_type": "password",
                "username": settings.login,
                "password": settings.password,
                "client_id": settings.client_id,
                "client_secret": settings.client_secret,
            }
            response = self._send("POST", "sessions/oauth2/token", data=form)
            _raise_for_status(response)
            keys = ("token_info", "oauth_token", "accessToken")
            token = _read(response, "sign-in", keys, str)
            mask_secret(token)
            self.session.headers["Authorization"] = f"Bearer {token}"
        else:
            form = {"username": settings.login, "password": settings.password}
            response = self._send("POST", "sessions", data=form)
            _raise_for_status(response)
            keys = ("session_resource", "session", "id")
            session_id = str(_read(response, "sign-in", keys, str | int))
            mask_secret(session_id)
            if cookie := self.session.cookies.get("JSESSIONID"):
                mask_secret(cookie)
            self.session.headers["X-Requested-By"] = session_id
        self._signed_in = True

    def _send(
        self, method: str, path: str, *, data: Any = None, **request: Any
    ) -> requests.Response:
        """One DAM call, retried with backoff on 429, 5xx, timeouts and refused connections."""
        settings = self.settings
        url = f"{settings.base_url}/otmmapi/{settings.api_version}/{path}"
        attempt = 0
        while True:
            attempt += 1
            try:
                response = self.session.request(
                    method,
                    url,
                    data=data() if callable(data) else data,
                    timeout=settings.timeout,
                    # Given per request: a session's own `verify` loses to REQUESTS_CA_BUNDLE.
                    verify=settings.verify,
                    **request,
                )
            except requests.exceptions.SSLError as error:
                raise DamError(f"TLS with the DAM at {url} failed: {error}") from error
            except (requests.ConnectionError, requests.Timeout) as error:
                problem, wait = f"{type(error).__name__}: {error}", None
            else:
                if response.status_code != 429 and response.status_code < 500:
                    return response
                problem = f"answered {response.status_code}: {_dam_message(response)}"
                wait = _retry_after(response.headers.get("Retry-After"))
            if attempt >= settings.max_attempts:
                raise TransientError(f"DAM {method} {path} failed {attempt} times; {problem}")
            delay = settings.backoff * 2 ** (attempt - 1) if wait is None else wait
            self.log.warning("DAM %s %s %s; retrying in %.2f s", method, path, problem, delay)
            time.sleep(delay)


class _UnreadableField(ValueError):
    """A metadata field holding something other than text."""


class _KeyPasswordAdapter(HTTPAdapter):
    """Opens the client certificate's key with its password."""

    def __init__(self, key_password: str):
        self._key_password = key_password
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, key_password=self._key_password, **kwargs)


class _MultipartUpload:
    """An import's multipart body streamed from `content`; replayable only if the content is."""

    def __init__(
        self,
        fields: dict[str, str],
        file_name: str,
        content: Iterable[bytes] | IO[bytes],
        size: int | None,
    ):
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._head = b"".join(
            _part_head(boundary, name) + value.encode() + b"\r\n" for name, value in fields.items()
        ) + _part_head(boundary, "files", file_name)
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self._file_name = file_name
        self._content = content
        self._size = size
        self._start = content.tell() if _rewindable(content) else None
        self._sent = False

    def body(self) -> Iterable[bytes]:
        """A fresh body for one attempt: the content is rewound, or a retry is refused."""
        if self._sent:
            if self._start is not None:
                self._content.seek(self._start)
            elif isinstance(self._content, Iterator) or hasattr(self._content, "read"):
                raise TransientError(
                    f"the upload of {self._file_name!r} failed and its content stream cannot be "
                    "replayed; a retry of the task starts it again"
                )
        self._sent = True
        if hasattr(self._content, "read"):
            chunks = iter(partial(self._content.read, CHUNK_SIZE), b"")
        else:
            chunks = iter(self._content)
        parts = itertools.chain((self._head,), chunks, (self._tail,))
        if self._size is None:
            return parts
        return _Sized(parts, len(self._head) + self._size + len(self._tail))


class _Sized:
    """An iterable body whose length is known, so it goes out with a Content-Length."""

    def __init__(self, parts: Iterator[bytes], length: int):
        self._parts = parts
        self._length = length

    def __iter__(self) -> Iterator[bytes]:
        return self._parts

    def __len__(self) -> int:
        return self._length


def _part_head(boundary: str, name: str, file_name: str | None = None) -> bytes:
    part = RequestField(name=name, data=b"", filename=file_name)
    part.make_multipart(content_type="application/octet-stream" if file_name else None)
    return f"--{boundary}\r\n{part.render_headers()}".encode()


def _rewindable(content: Any) -> bool:
    return hasattr(content, "seek") and getattr(content, "seekable", lambda: False)()


def _paged(fetch_page: Callable[[int], tuple[list[dict], int]]) -> Iterator[dict]:
    """Every item of a paged listing; `fetch_page(after)` answers one page and the total."""
    after = 0
    while True:
        items, total = fetch_page(after)
        yield from items
        after += len(items)
        if not items or after >= total:
            return


def _search_page(response: requests.Response) -> tuple[list[Any], int]:
    """The hits of one search answer and the total; DamError when the answer is unreadable."""
    answer = _json(response, "search")
    result = _dig(answer, "search_result_resource")
    hits = _dig(result, "asset_list")
    total = _dig(result, "search_result", "total_hit_count")
    if not isinstance(result, dict) or not isinstance(hits, list | None) or type(total) is not int:
        raise _unreadable("search", answer)
    return hits or [], total


def _json(response: requests.Response, what: str) -> Any:
    """A DAM answer's JSON; DamError naming the answer (``what``) when it is not JSON."""
    try:
        return response.json()
    except (ValueError, RecursionError) as error:
        raise DamError(f"the DAM's {what} answer is not JSON: {response.text[:200]!r}") from error


def _unreadable(what: str, answer: Any) -> DamError:
    return DamError(f"the DAM's {what} answer is unreadable: {_short(answer, 200)}")


def _read(response: requests.Response, what: str, keys: tuple[str, ...], kind: Any) -> Any:
    """The value under ``keys`` in a DAM answer, of type ``kind``; DamError when it is not."""
    answer = _json(response, what)
    value = _dig(answer, *keys)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _unreadable(what, answer)
    return value


def _dig(value: Any, *keys: str) -> Any:
    """The value under `keys` in nested objects; None where one is missing or not an object."""
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _fields(metadata: Any) -> dict[str, dict]:
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


def _field_value(fields: dict[str, dict], field_id: str) -> Any:
    """A field's value as the wire holds it, a lookup's value read; None when missing."""
    raw = _dig(fields.get(field_id), "value")
    value = raw.get("value") if isinstance(raw, dict) else raw
    if isinstance(value, dict) and value.get("type") == DOMAIN_VALUE:
        value = value.get("field_value")
    return value.get("value") if isinstance(value, dict) else value


def _checked_text(value: Any) -> str | None:
    """`value` if it is text PostgreSQL can store; None when missing, null or blank."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise _UnreadableField(f"holds {type(value).__name__} {_short(value)}, not text")
    if "\x00" in value:
        raise _UnreadableField("holds a NUL character")
    try:
        value.encode()
    except UnicodeEncodeError as error:
        raise _UnreadableField("holds text that is not valid Unicode") from error
    return value if value.strip() else None


def _identifier(value: Any) -> str | None:
    """Text that identifies a campaign (an id, a number, a status): short enough to index."""
    text = _checked_text(value)
    if text is not None and len(text) > MAX_IDENTIFIER_LENGTH:
        raise _UnreadableField(f"is {len(text)} characters long, more than {MAX_IDENTIFIER_LENGTH}")
    return text


def _short(value: Any, limit: int = 80) -> str:
    """`repr(value)`, cut to `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _raise_for_status(response: requests.Response, folder_id: str | None = None) -> None:
    status = response.status_code
    if status < 400:
        return
    if folder_id is not None and status == 404:
        raise FolderError(f"Campaign folder {folder_id} not found in the DAM")
    if folder_id is not None and status == 403:
        raise FolderError(f"No access to campaign folder {folder_id} in the DAM")
    if status in (409, 423):
        raise StatusChangeRefused(f"the DAM refused the change: {_dam_message(response)}")
    raise DamError(f"the DAM answered {status}: {_dam_message(response)}", status)


def _dam_message(response: requests.Response) -> str:
    try:
        return str(response.json()["exception_body"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200] or response.reason


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _base_url(conn: Any) -> str:
    host = (conn.host or "").rstrip("/")
    if "://" in host:
        return host
    port = f":{conn.port}" if conn.port else ""
    return f"{conn.schema or 'https'}://{host}{port}"


def _client_certificate(path: str, password: str | None) -> tuple[str, str]:
    """The client certificate (PKCS#12 or PEM) as a private PEM file, its key under a new secret."""
    data = Path(path).read_bytes()
    secret = password.encode() if password else None
    if b"-----BEGIN" in data:
        key = serialization.load_pem_private_key(data, secret)
        certificates = x509.load_pem_x509_certificates(data)
    else:
        key, certificate, chain = pkcs12.load_key_and_certificates(data, secret)
        certificates = [certificate, *chain]
    key_password = secrets.token_urlsafe(32)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(key_password.encode()),
    ) + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certificates)
    handle, cert_file = tempfile.mkstemp(prefix="dam-client-cert-", suffix=".pem")
    with os.fdopen(handle, "wb") as file:
        file.write(pem)
    return cert_file, key_password
