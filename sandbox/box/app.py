"""The Box sandbox: the slice of the Box API that boxsdk calls for folders, files and tokens."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Annotated, Literal

import jwt
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response, StreamingResponse
from pydantic import AwareDatetime, BaseModel, Field
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException

from sandbox.box.content import generated_chunks, generated_sha1
from sandbox.box.events import EventLog, StreamPositionError, control_routes
from sandbox.box.fixture import ROOT_FOLDER_ID
from sandbox.faults import CONTROL_PREFIX, install_faults

DEFAULT_ITEMS_LIMIT = 100
MAX_ITEMS_LIMIT = 1000
DEFAULT_EVENTS_LIMIT = 100
MAX_EVENTS_LIMIT = 500
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
FIXTURE_TIME = "2026-01-05T09:00:00+00:00"
OWNER = {"type": "user", "id": "11446498", "name": "Sandbox Admin", "login": "admin@example.com"}
ITEMS_ORDER = [{"by": "type", "direction": "ASC"}, {"by": "name", "direction": "ASC"}]
ERROR_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "access_denied_insufficient_permissions",
    404: "not_found",
    405: "method_not_allowed",
    409: "item_name_in_use",
    429: "rate_limit_exceeded",
    500: "internal_server_error",
    502: "unavailable",
    503: "unavailable",
}
BASE_FIELDS = ("type", "id", "etag")


class BoxError(Exception):
    """An error answer with Box's `ClientError` body."""

    def __init__(
        self,
        status: int,
        message: str | None = None,
        context_info: dict | None = None,
        code: str | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.context_info = context_info
        self.code = code


class _Unauthorized(Exception):
    """No valid bearer token: Box answers 401 with an empty body."""


def error_body(
    status: int,
    message: str | None = None,
    context_info: dict | None = None,
    code: str | None = None,
) -> dict:
    """Box's `ClientError` body for `status`, with the status's usual code unless given one."""
    body = {
        "type": "error",
        "status": status,
        "code": code
        or ERROR_CODES.get(status, HTTPStatus(status).phrase.lower().replace(" ", "_")),
        "message": message or HTTPStatus(status).phrase,
        "help_url": "https://developer.box.com/guides/api-calls/permissions-and-errors/common-errors/",
        "request_id": secrets.token_hex(8),
    }
    if context_info is not None:
        body["context_info"] = context_info
    return body


@dataclass
class Folder:
    id: str
    name: str
    parent: str | None
    forbidden: bool = False
    created_at: str = FIXTURE_TIME
    modified_at: str = FIXTURE_TIME
    content_modified_at: str = FIXTURE_TIME


@dataclass
class File:
    """A file; `created_at`/`modified_at` are Box's dates, `content_modified_at` the uploader's."""

    id: str
    name: str
    parent: str
    size: int
    seed: str
    created_at: str = FIXTURE_TIME
    modified_at: str = FIXTURE_TIME
    content_modified_at: str = FIXTURE_TIME
    version: int = 1

    @property
    def sha1(self) -> str:
        return generated_sha1(self.seed, self.size)


@dataclass
class BoxState:
    """Everything the sandbox holds: folders, files, clients, issued tokens, uploads."""

    folders: dict[str, Folder]
    files: dict[str, File]
    clients: dict[str, dict]
    token_ttl: float
    tokens: dict[str, float] = field(default_factory=dict)  # access token -> expiry (monotonic)
    downloads: dict[str, str] = field(default_factory=dict)  # download token -> file id
    uploads: list[dict] = field(default_factory=list)
    events: EventLog = field(default_factory=EventLog)
    last_id: int = 9_000_000_000
    # What "now" is for the sandbox's dates (ISO text); None: the real time.
    clock: str | None = None

    @classmethod
    def from_fixture(cls, box: dict) -> BoxState:
        folders = {ROOT_FOLDER_ID: Folder(ROOT_FOLDER_ID, "All Files", None)}
        for record in box.get("folders", ()):
            folders[record["id"]] = Folder(
                record["id"], record["name"], record["parent"], record.get("forbidden", False)
            )
        files = {record["id"]: _file_from(record) for record in box.get("files", ())}
        state = cls(
            folders=folders,
            files=files,
            clients={client["client_id"]: client for client in box.get("clients", ())},
            token_ttl=box.get("token_ttl", 3600),
        )
        for token in box.get("developer_tokens", ()):
            state.tokens[token] = float("inf")
        return state

    def now(self) -> str:
        """The sandbox's time: its clock if set, else the real time."""
        return self.clock or datetime.now(UTC).isoformat(timespec="seconds")

    def new_id(self) -> str:
        self.last_id += 1
        while str(self.last_id) in self.folders or str(self.last_id) in self.files:
            self.last_id += 1
        return str(self.last_id)

    def issue_token(self) -> dict:
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_ttl
        return {
            "access_token": token,
            "expires_in": int(self.token_ttl),
            "token_type": "bearer",
            "restricted_to": [],
        }

    def folder(self, folder_id: str) -> Folder:
        """The folder, or a 404/403 answer the way Box gives it."""
        found = self.folders.get(folder_id)
        if found is None:
            raise _not_found("folder", folder_id)
        self.check_access(found)
        return found

    def file(self, file_id: str) -> File:
        found = self.files.get(file_id)
        if found is None or found.parent not in self.folders:
            raise _not_found("file", file_id)
        self.check_access(self.folders[found.parent])
        return found

    def check_access(self, folder: Folder) -> None:
        for ancestor in [folder, *self.ancestors(folder)]:
            if ancestor.forbidden:
                raise BoxError(403, "Access denied - insufficient permission")

    def ancestors(self, item: Folder | File) -> list[Folder]:
        """Folders from the root down to the item's parent."""
        chain = []
        parent_id = item.parent
        while parent_id is not None and parent_id in self.folders:
            chain.append(self.folders[parent_id])
            parent_id = self.folders[parent_id].parent
        return chain[::-1]

    def children(self, folder_id: str) -> list[Folder | File]:
        """A folder's items in Box's default order: folders first, then by name."""
        items: list[Folder | File] = [f for f in self.folders.values() if f.parent == folder_id]
        items += [f for f in self.files.values() if f.parent == folder_id]
        return sorted(items, key=_sort_key)

    def delete_folder(self, folder_id: str) -> None:
        for child in self.children(folder_id):
            if isinstance(child, Folder):
                self.delete_folder(child.id)
            else:
                del self.files[child.id]
        del self.folders[folder_id]


def _file_from(record: dict, now: str = FIXTURE_TIME) -> File:
    """A file from a fixture or control-API record; undated parts default to ``now``."""
    created_at = record.get("created_at") or now
    modified_at = record.get("modified_at") or created_at
    return File(
        record["id"],
        record["name"],
        record["parent"],
        record["size"],
        record.get("seed") or record["id"],
        created_at,
        modified_at,
        record.get("content_modified_at") or created_at,
    )


def _not_found(kind: str, item_id: str) -> BoxError:
    message = f"Invalid value '{item_id}'. '{kind}' with value '{item_id}' not found"
    reason = {"reason": "invalid_parameter", "name": kind, "message": message}
    return BoxError(404, "Not Found", {"errors": [reason]})


def _sort_key(item: Folder | File) -> tuple[int, str, str]:
    return (0 if isinstance(item, Folder) else 1, item.name.casefold(), item.id)


def _encode_marker(item: Folder | File) -> str:
    return base64.urlsafe_b64encode(json.dumps(_sort_key(item)).encode()).decode()


def _decode_marker(marker: str) -> tuple[int, str, str]:
    try:
        kind, name, item_id = json.loads(base64.urlsafe_b64decode(marker.encode()))
    except ValueError as error:
        raise BoxError(400, "Invalid marker") from error
    return kind, name, item_id


class Representations:
    """Box's JSON representations of the sandbox's folders and files."""

    def __init__(self, state: BoxState):
        self.state = state

    def folder_mini(self, folder: Folder) -> dict:
        return {
            "type": "folder",
            "id": folder.id,
            "sequence_id": "0",
            "etag": "0",
            "name": folder.name,
        }

    def file_mini(self, file: File) -> dict:
        return {
            "type": "file",
            "id": file.id,
            "file_version": {
                "type": "file_version",
                "id": f"v{file.id}-{file.version}",
                "sha1": file.sha1,
            },
            "sequence_id": "0",
            "etag": "0",
            "sha1": file.sha1,
            "name": file.name,
        }

    def item_mini(self, item: Folder | File) -> dict:
        return self.folder_mini(item) if isinstance(item, Folder) else self.file_mini(item)

    def item_full(self, item: Folder | File) -> dict:
        return self.folder_full(item) if isinstance(item, Folder) else self.file_full(item)

    def event_source(self, item: Folder | File) -> dict:
        """The item as an event's `EventSource`; the root's parent is null."""
        parent = self.state.folders.get(item.parent) if item.parent is not None else None
        return {
            "item_type": "folder" if isinstance(item, Folder) else "file",
            "item_id": item.id,
            "item_name": item.name,
            "parent": None if parent is None else self.folder_mini(parent),
            "owned_by": OWNER,
        }

    def common(self, item: Folder | File) -> dict:
        ancestors = self.state.ancestors(item)
        common = {
            "created_at": item.created_at,
            "modified_at": item.modified_at,
            "description": "",
            "path_collection": {
                "total_count": len(ancestors),
                "entries": [self.folder_mini(ancestor) for ancestor in ancestors],
            },
            "created_by": OWNER,
            "modified_by": OWNER,
            "owned_by": OWNER,
            "trashed_at": None,
            "purged_at": None,
            "content_created_at": item.content_modified_at,
            "content_modified_at": item.content_modified_at,
            "item_status": "active",
            "is_externally_owned": False,
            "has_collaborations": False,
        }
        # The spec cannot express a null parent (nullable beside a $ref): the root omits it.
        if ancestors:
            common["parent"] = self.folder_mini(ancestors[-1])
        return common

    def folder_full(self, folder: Folder) -> dict:
        items = self.state.children(folder.id)
        return {
            **self.folder_mini(folder),
            **self.common(folder),
            "size": sum(self.size(item) for item in items),
            "folder_upload_email": None,
            "item_collection": {
                "total_count": len(items),
                "entries": [self.item_mini(item) for item in items[:DEFAULT_ITEMS_LIMIT]],
                "offset": 0,
                "limit": DEFAULT_ITEMS_LIMIT,
                "order": ITEMS_ORDER,
            },
        }

    def file_full(self, file: File) -> dict:
        return {
            **self.file_mini(file),
            **self.common(file),
            "size": file.size,
            "version_number": str(file.version),
            "comment_count": 0,
            "extension": file.name.rpartition(".")[2] if "." in file.name else "",
            "is_package": False,
        }

    def size(self, item: Folder | File) -> int:
        if isinstance(item, File):
            return item.size
        return sum(self.size(child) for child in self.state.children(item.id))


def _with_fields(full: dict, fields: str | None) -> dict:
    """Only the base fields and those asked for, as Box answers a `fields` query."""
    if not fields:
        return full
    wanted = [name.strip() for name in fields.split(",")]
    return {key: value for key, value in full.items() if key in BASE_FIELDS or key in wanted}


class ItemSpec(BaseModel):
    id: str | None = None
    name: str
    parent: str = ROOT_FOLDER_ID


class FolderSpec(ItemSpec):
    forbidden: bool = False


class FileSpec(ItemSpec):
    size: int = Field(default=1024, ge=0)
    seed: str | None = None
    created_at: AwareDatetime | None = None
    modified_at: AwareDatetime | None = None
    content_modified_at: AwareDatetime | None = None


class FolderChange(BaseModel):
    """A rename and/or a move."""

    name: str | None = None
    parent: str | None = None


class FileChange(FolderChange):
    """A move, a rename or a new version (new content: `seed` and/or `size`) of a file."""

    size: int | None = Field(default=None, ge=0)
    seed: str | None = None


class Clock(BaseModel):
    now: AwareDatetime | None = None


class Forbidden(BaseModel):
    forbidden: bool = True


def create_app(fixture: dict) -> FastAPI:
    """The Box sandbox app, holding the folders and files of `fixture["box"]`."""
    state = BoxState.from_fixture(fixture.get("box", {}))
    show = Representations(state)
    app = FastAPI(title="Box sandbox")
    app.state.box = state
    app.include_router(control_routes(state.events))

    def log_event(event_type: str, item: Folder | File) -> None:
        """Log the change to `item`, which the event shows as it is now."""
        state.events.record(event_type, show.event_source(item), OWNER, state.now())

    @app.exception_handler(BoxError)
    async def box_error(request: Request, error: BoxError) -> JSONResponse:
        body = error_body(error.status, error.message, error.context_info, error.code)
        return JSONResponse(body, status_code=error.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        return JSONResponse(error_body(error.status_code), status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(400, str(error.errors()[0]["msg"])), status_code=400)

    def bearer(request: Request) -> None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or state.tokens.get(token, 0) < time.monotonic():
            raise _Unauthorized

    @app.exception_handler(_Unauthorized)
    async def unauthorized(request: Request, error: _Unauthorized) -> Response:
        challenge = (
            'Bearer realm="Service", error="invalid_token", '
            'error_description="The access token provided is invalid."'
        )
        return Response(status_code=401, headers={"WWW-Authenticate": challenge})

    authorized = [Depends(bearer)]

    @app.post("/oauth2/token")
    async def token(request: Request) -> JSONResponse:
        form = await request.form()
        client = state.clients.get(str(form.get("client_id")))
        if client is None or client["client_secret"] != form.get("client_secret"):
            return _oauth_error("invalid_client", "The client credentials are invalid")
        grant_type = form.get("grant_type")
        if grant_type == "client_credentials":
            subject_type, subject_id = form.get("box_subject_type"), form.get("box_subject_id")
        elif grant_type == JWT_GRANT:
            claims = _jwt_claims(str(form.get("assertion")), client)
            if claims is None:
                return _oauth_error("invalid_grant", "Signature verification error")
            subject_type, subject_id = claims.get("box_sub_type"), claims.get("sub")
        else:
            return _oauth_error("unsupported_grant_type", "Grant type is not supported")
        if subject_type not in ("enterprise", "user") or (
            subject_type == "enterprise" and subject_id != client.get("enterprise_id", subject_id)
        ):
            return _oauth_error("invalid_grant", "Grant credentials are invalid")
        return JSONResponse(state.issue_token())

    @app.get("/2.0/users/me", dependencies=authorized)
    async def get_user_me() -> dict:
        return {
            **OWNER,
            "created_at": FIXTURE_TIME,
            "modified_at": FIXTURE_TIME,
            "language": "en",
            "timezone": "Europe/Rome",
            "space_amount": 10**15,
            "space_used": sum(file.size for file in state.files.values()),
            "max_upload_size": 5 * 2**30,
            "status": "active",
        }

    @app.get("/2.0/folders/{folder_id}", dependencies=authorized)
    async def get_folder(folder_id: str, fields: str | None = None) -> dict:
        return _with_fields(show.folder_full(state.folder(folder_id)), fields)

    @app.get("/2.0/folders/{folder_id}/items", dependencies=authorized)
    async def get_folder_items(
        folder_id: str,
        fields: str | None = None,
        usemarker: bool = False,
        marker: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1)] = DEFAULT_ITEMS_LIMIT,
    ) -> dict:
        limit = min(limit, MAX_ITEMS_LIMIT)
        items = state.children(state.folder(folder_id).id)

        def entries(page: list[Folder | File]) -> list[dict]:
            if fields:
                return [_with_fields(show.item_full(item), fields) for item in page]
            return [show.item_mini(item) for item in page]

        if not usemarker:
            return {
                "total_count": len(items),
                "entries": entries(items[offset : offset + limit]),
                "offset": offset,
                "limit": limit,
                "order": ITEMS_ORDER,
            }
        if marker:
            after = _decode_marker(marker)
            items = [item for item in items if _sort_key(item) > after]
        page = items[:limit]
        return {
            "entries": entries(page),
            "limit": limit,
            "next_marker": _encode_marker(page[-1]) if len(items) > limit else None,
        }

    @app.get("/2.0/events", dependencies=authorized)
    async def get_events(
        stream_type: Literal["all", "changes", "admin_logs", "admin_logs_streaming"] = "all",
        stream_position: str | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_EVENTS_LIMIT)] = DEFAULT_EVENTS_LIMIT,
    ) -> dict:
        """The user's change feed (`all` and `changes` alike); the sandbox's user is no admin."""
        if stream_type in ("admin_logs", "admin_logs_streaming"):
            raise BoxError(403, "Access denied - insufficient permission")
        try:
            return state.events.read(stream_position, limit)
        except StreamPositionError as error:
            code = "invalid_stream_position" if error.expired else None
            raise BoxError(400, str(error), code=code) from error

    @app.get("/2.0/files/{file_id}", dependencies=authorized)
    async def get_file(file_id: str, fields: str | None = None) -> dict:
        return _with_fields(show.file_full(state.file(file_id)), fields)

    @app.get("/2.0/files/{file_id}/content", dependencies=authorized)
    async def download_file(file_id: str, request: Request) -> RedirectResponse:
        download_token = secrets.token_urlsafe(16)
        state.downloads[download_token] = state.file(file_id).id
        url = request.url_for("download", download_token=download_token)
        return RedirectResponse(str(url), status_code=302)

    @app.get("/d/1/{download_token}/download", name="download")
    async def download(download_token: str) -> StreamingResponse:
        file_id = state.downloads.get(download_token)
        if file_id is None or file_id not in state.files:
            raise BoxError(404)
        file = state.files[file_id]

        async def content() -> AsyncIterator[bytes]:
            for chunk in generated_chunks(file.seed, file.size):
                yield chunk

        headers = {"Content-Length": str(file.size)}
        return StreamingResponse(content(), media_type="application/octet-stream", headers=headers)

    @app.post("/api/2.0/files/content", status_code=201, dependencies=authorized)
    async def upload_file(request: Request) -> dict:
        attributes, size, sha1 = await _read_upload(request)
        parent = state.folder(str(attributes.get("parent", {}).get("id")))
        name = attributes.get("name")
        if not name:
            raise BoxError(400, "'name' is required in attributes")
        for sibling in state.children(parent.id):
            if sibling.name == name:
                raise BoxError(
                    409,
                    "Item with the same name already exists",
                    {"conflicts": show.item_mini(sibling)},
                )
        file_id = state.new_id()
        file = _file_from(
            {"id": file_id, "name": name, "parent": parent.id, "size": size}, state.now()
        )
        state.files[file_id] = file
        state.uploads.append(
            {"id": file_id, "name": name, "parent": parent.id, "size": size, "sha1": sha1}
        )
        log_event("ITEM_UPLOAD", file)
        return {"total_count": 1, "entries": [show.file_full(file)]}

    @app.post(f"{CONTROL_PREFIX}folders", status_code=201)
    async def add_folder(spec: FolderSpec) -> dict:
        _check_new(state, spec)
        now = state.now()
        folder = Folder(spec.id or state.new_id(), spec.name, spec.parent, spec.forbidden, now, now)
        state.folders[folder.id] = folder
        log_event("ITEM_CREATE", folder)
        return show.folder_mini(folder)

    @app.post(f"{CONTROL_PREFIX}files", status_code=201)
    async def add_file(spec: FileSpec) -> dict:
        _check_new(state, spec)
        record = {
            key: value.isoformat(timespec="seconds") if isinstance(value, datetime) else value
            for key, value in spec.model_dump(exclude_none=True).items()
        } | {"id": spec.id or state.new_id()}
        file = _file_from(record, state.now())
        state.files[file.id] = file
        log_event("ITEM_UPLOAD", file)
        return show.file_mini(file)

    @app.patch(f"{CONTROL_PREFIX}files/{{file_id}}")
    async def change_file(file_id: str, change: FileChange) -> dict:
        """Move, rename or give a new version to a file: Box dates the change (`modified_at`)."""
        file = state.files.get(file_id)
        if file is None:
            raise _not_found("file", file_id)
        if change.parent is not None and change.parent not in state.folders:
            raise _not_found("folder", change.parent)
        event_types = _rename_and_move(file, change)
        if change.seed is not None or change.size is not None:
            file.seed = change.seed or file.seed
            file.size = file.size if change.size is None else change.size
            file.version += 1
            event_types.append("ITEM_UPLOAD")
        file.modified_at = state.now()
        for event_type in event_types:
            log_event(event_type, file)
        return show.file_mini(file)

    @app.patch(f"{CONTROL_PREFIX}folders/{{folder_id}}")
    async def change_folder(folder_id: str, change: FolderChange) -> dict:
        """Rename or move a folder: Box dates the change (`modified_at`)."""
        folder = state.folders.get(folder_id)
        if folder is None:
            raise _not_found("folder", folder_id)
        if change.parent is not None:
            target = state.folders.get(change.parent)
            if target is None:
                raise _not_found("folder", change.parent)
            if folder_id in [target.id, *(ancestor.id for ancestor in state.ancestors(target))]:
                raise BoxError(400, "A folder cannot be moved into itself or its subfolders")
        event_types = _rename_and_move(folder, change)
        folder.modified_at = state.now()
        for event_type in event_types:
            log_event(event_type, folder)
        return show.folder_mini(folder)

    @app.put(f"{CONTROL_PREFIX}clock", status_code=204)
    async def set_clock(clock: Clock) -> None:
        """Set what "now" is for the dates of later changes; null: the real time again."""
        state.clock = None if clock.now is None else clock.now.isoformat(timespec="seconds")

    @app.delete(f"{CONTROL_PREFIX}folders/{{folder_id}}", status_code=204)
    async def delete_folder(folder_id: str) -> None:
        if folder_id not in state.folders:
            raise _not_found("folder", folder_id)
        log_event("ITEM_TRASH", state.folders[folder_id])
        state.delete_folder(folder_id)

    @app.delete(f"{CONTROL_PREFIX}files/{{file_id}}", status_code=204)
    async def delete_file(file_id: str) -> None:
        file = state.files.get(file_id)
        if file is None:
            raise _not_found("file", file_id)
        log_event("ITEM_TRASH", file)
        del state.files[file_id]

    @app.put(f"{CONTROL_PREFIX}folders/{{folder_id}}/forbidden", status_code=204)
    async def set_forbidden(folder_id: str, forbidden: Forbidden) -> None:
        """Take the service account's access to the folder away, or give it back."""
        folder = state.folders.get(folder_id)
        if folder is None:
            raise _not_found("folder", folder_id)
        if folder.forbidden != forbidden.forbidden:
            folder.forbidden = forbidden.forbidden
            log_event(
                "COLLAB_REMOVE_COLLABORATOR" if folder.forbidden else "COLLAB_ADD_COLLABORATOR",
                folder,
            )

    @app.get(f"{CONTROL_PREFIX}uploads")
    async def uploads() -> list[dict]:
        return state.uploads

    @app.post(f"{CONTROL_PREFIX}tokens/expire", status_code=204)
    async def expire_tokens() -> None:
        now = time.monotonic()
        for token, expiry in state.tokens.items():
            if expiry != float("inf"):
                state.tokens[token] = now

    install_faults(app, error_body)
    return app


def _oauth_error(error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=400)


def _jwt_claims(assertion: str, client: dict) -> dict | None:
    """The assertion's claims, checked against the client's public key when the fixture has one."""
    try:
        if "public_key" in client:
            return jwt.decode(
                assertion,
                client["public_key"],
                algorithms=["RS256", "RS384", "RS512"],
                audience="https://api.box.com/oauth2/token",
                issuer=client["client_id"],
            )
        return jwt.decode(assertion, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None


def _rename_and_move(item: Folder | File, change: FolderChange) -> list[str]:
    """Give the item its new name and parent; the types of the events of what changed."""
    event_types = []
    if change.name and change.name != item.name:
        item.name = change.name
        event_types.append("ITEM_RENAME")
    if change.parent and change.parent != item.parent:
        item.parent = change.parent
        event_types.append("ITEM_MOVE")
    return event_types


def _check_new(state: BoxState, spec: ItemSpec) -> None:
    if spec.parent not in state.folders:
        raise _not_found("folder", spec.parent)
    if spec.id is not None and (spec.id in state.folders or spec.id in state.files):
        raise BoxError(409, f"Item {spec.id} already exists")


async def _read_upload(request: Request) -> tuple[dict, int, str]:
    """Parse the multipart upload as it streams in: the attributes, and the file's size and sha1."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise BoxError(400, "Expected a multipart/form-data body")
    upload = _UploadParts()
    parser = MultipartParser(params[b"boundary"], upload.callbacks())
    async for chunk in request.stream():
        parser.write(chunk)
    parser.finalize()
    if upload.size is None:
        raise BoxError(400, "The 'file' part is missing")
    try:
        attributes = json.loads(upload.attributes)
    except ValueError as error:
        raise BoxError(400, "The 'attributes' part is not valid JSON") from error
    return attributes, upload.size, upload.sha1.hexdigest()


class _UploadParts:
    """Callbacks for python-multipart's streaming parser, keeping only what the sandbox needs."""

    def __init__(self) -> None:
        self.attributes = bytearray()
        self.size: int | None = None
        self.sha1 = hashlib.sha1()
        self.part_name = b""
        self.header_field = bytearray()
        self.header_value = bytearray()

    def callbacks(self) -> dict:
        return {
            "on_part_begin": self.on_part_begin,
            "on_header_field": lambda data, start, end: self.header_field.extend(data[start:end]),
            "on_header_value": lambda data, start, end: self.header_value.extend(data[start:end]),
            "on_header_end": self.on_header_end,
            "on_part_data": self.on_part_data,
        }

    def on_part_begin(self) -> None:
        self.part_name = b""

    def on_header_end(self) -> None:
        if bytes(self.header_field).lower() == b"content-disposition":
            _, params = parse_options_header(bytes(self.header_value))
            self.part_name = params.get(b"name", b"")
            if self.part_name == b"file":
                self.size = 0
        self.header_field.clear()
        self.header_value.clear()

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part_name == b"attributes":
            self.attributes.extend(data[start:end])
        elif self.part_name == b"file":
            self.sha1.update(data[start:end])
            self.size += end - start
