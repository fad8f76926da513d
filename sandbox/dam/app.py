"""The DAM sandbox: the OTMM REST subset of the DAM contract, served from a fixture dict."""

import asyncio
import hashlib
import json
import uuid
from http import HTTPStatus
from typing import Annotated, Any
from urllib.parse import unquote

from fastapi import APIRouter, Body, Depends, FastAPI, Form, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from sandbox.dam.fixture import DOMAIN_VALUE, MODEL_ID, SECURITY_POLICY_IDS
from sandbox.dam.state import CampaignFolder, DamState, ImportedAsset, Session
from sandbox.faults import install_faults

API_VERSIONS = ("v4", "v5", "v6")
COOKIE = "JSESSIONID"
SCALAR_CONDITION = "com.artesia.search.SearchScalarCondition"
MAX_FIELD_BYTES = 1 << 20


class DamFault(Exception):
    """An error the sandbox answers with an `exception_body`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def error_body(status: int, message: str | None = None) -> dict:
    """The DAM's error body for `status`."""
    phrase = HTTPStatus(status).phrase
    return {
        "exception_body": {
            "message": message or phrase,
            "http_response_code": status,
            "error_code": f"SANDBOX.{phrase.upper().replace(' ', '_')}",
            "debug_message": message or phrase,
        }
    }


def create_app(fixture: dict) -> FastAPI:
    """A DAM sandbox holding the fixture's `"dam"` part."""
    state = DamState(fixture)
    app = FastAPI(title="DAM sandbox")
    app.state.dam = state
    app.include_router(_api_routes(state))
    app.include_router(_control_routes(state))
    if state.site["otds"] is not None:
        app.include_router(_otds_routes(state))

    @app.exception_handler(DamFault)
    async def dam_fault(request: Request, fault: DamFault) -> JSONResponse:
        return JSONResponse(error_body(fault.status, fault.message), status_code=fault.status)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        body = error_body(error.status_code, str(error.detail))
        return JSONResponse(body, status_code=error.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(400, str(error.errors())), status_code=400)

    install_faults(app, error_body)
    _route_on_raw_path(app, state)
    return app


def _route_on_raw_path(app: FastAPI, state: DamState) -> None:
    """Route on the path as sent, so an id holding an encoded "/" stays one path segment."""
    build_stack = app.build_middleware_stack

    def build_stack_on_raw_path() -> ASGIApp:
        stack = build_stack()

        async def raw_path_app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope.get("raw_path"):
                if not scope["path"].startswith("/_sandbox/"):
                    state.received.append(
                        f"{scope['method']} {scope['raw_path'].decode('latin-1')}"
                    )
                scope = {**scope, "path": scope["raw_path"].decode("utf-8", "replace")}
            await stack(scope, receive, send)

        return raw_path_app

    app.build_middleware_stack = build_stack_on_raw_path


def _api_routes(state: DamState) -> APIRouter:
    async def known_version(version: str) -> None:
        if version not in API_VERSIONS:
            raise DamFault(404, f"Unknown API version {version}")

    async def signed_in(request: Request) -> Session:
        secret, requested_by = _credentials(request)
        session = state.session_for(secret, requested_by)
        if session is None:
            raise DamFault(401, "The session has expired or is not valid; sign in again")
        if session.otds_ticket is not None and request.headers.get("otdstoken") != (
            session.otds_ticket
        ):
            raise DamFault(401, "This session signed in with OTDS: send its OTDSToken header")
        return session

    def campaign_folder(quoted_id: str) -> CampaignFolder:
        folder_id = unquote(quoted_id)
        folder = state.campaigns.get(folder_id)
        if folder is None:
            raise DamFault(404, f"Folder {folder_id} was not found")
        if folder.forbidden:
            raise DamFault(403, f"No permission to folder {folder.id}")
        return folder

    router = APIRouter(prefix="/otmmapi/{version}", dependencies=[Depends(known_version)])
    SignedIn = Annotated[Session, Depends(signed_in)]

    def session_resource(user: str, response: Response, otds_ticket: str | None = None) -> dict:
        secret, session = state.open_session(user, otds_ticket)
        response.set_cookie(COOKIE, secret, path="/otmmapi", httponly=True)
        return {
            "session_resource": {
                "session": {
                    "id": session.session_id,
                    "message_digest": hashlib.sha256(secret.encode()).hexdigest(),
                    "login_name": user,
                    "user_id": str(list(state.users).index(user) + 1001),
                }
            }
        }

    @router.post("/sessions")
    async def sign_in(
        username: Annotated[str, Form()], password: Annotated[str, Form()], response: Response
    ) -> dict:
        if state.users.get(username) != password:
            raise DamFault(401, "Invalid user name or password")
        return session_resource(username, response)

    @router.get("/sessions")
    async def otds_sign_in(request: Request, response: Response) -> dict:
        token = request.headers.get("otdstoken")
        ticket = state.ticket(token)
        if ticket is None:
            raise DamFault(401, "The OTDSToken header holds no valid OTDS ticket; sign in again")
        wanted = (state.site["otds"] or {}).get("resource_id")
        if ticket.resource_id != wanted:
            raise DamFault(
                401, f"OTMM takes only a resource ticket for {wanted}, not a user's ticket"
            )
        return session_resource(ticket.user, response, token)

    @router.delete("/sessions", status_code=204)
    async def sign_out(request: Request) -> None:
        if not state.site["sign_out"]:
            raise DamFault(405, "Method Not Allowed: this site has no sign-out")
        await signed_in(request)
        state.sessions.pop(_credentials(request)[0] or "", None)

    @router.post("/sessions/oauth2/token")
    async def oauth2_token(
        grant_type: Annotated[str, Form()],
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        client_id: Annotated[str, Form()],
        client_secret: Annotated[str, Form()],
    ) -> dict:
        if grant_type != "password":
            raise DamFault(400, f"Unsupported grant type {grant_type}")
        if state.oauth_clients.get(client_id) != client_secret:
            raise DamFault(401, "Invalid client credentials")
        if state.users.get(username) != password:
            raise DamFault(401, "Invalid user name or password")
        token, _ = state.open_session(username)
        lifetime = state.session_ttl_seconds or 3600
        return {
            "token_info": {
                "oauth_token": {"accessToken": token, "tokenType": "bearer", "expiresIn": lifetime}
            }
        }

    @router.post("/search/text")
    async def search(
        request: Request,
        session: SignedIn,
        search_condition_list: Annotated[str, Form()],
        load_type: Annotated[str, Form()] = "metadata",
        level_of_detail: Annotated[str, Form()] = "slim",
        after: Annotated[int, Form(ge=0)] = 0,
        limit: Annotated[int, Form(ge=1)] = 100,
        metadata_to_return: Annotated[str | None, Form()] = None,
        search_config_id: Annotated[str | None, Form()] = None,
    ) -> Any:
        if state.search_answers:
            secret = _credentials(request)[0] or ""
            return state.search_answers.popleft().response(session.session_id, secret)
        needed_config = state.site["search_config_id"]
        if needed_config is not None and search_config_id != needed_config:
            raise DamFault(
                400,
                f"This site's searches need search_config_id {needed_config}, "
                f"not {search_config_id}",
            )
        field_id, operator, value = _scalar_condition(search_condition_list)
        if operator != state.site["search_operator_id"]:
            raise DamFault(400, f"Unsupported relational_operator_id {operator}")
        only = set(metadata_to_return.split(",")) if metadata_to_return else None
        hits = state.search(field_id, value, operator.endswith(".CONTAINS"), only)
        page = hits[after : after + limit]
        state.search_page_served()
        return {
            "search_result_resource": {
                "search_result": {
                    "hit_count": len(page),
                    "total_hit_count": len(hits),
                    "offset": after,
                },
                "asset_list": page,
            }
        }

    @router.get("/folders/{folder_id}")
    async def folder(folder_id: str, session: SignedIn, load_type: str = "metadata") -> dict:
        return {"folder_resource": {"folder": state.folder_json(campaign_folder(folder_id))}}

    @router.get("/folders/{folder_id}/children")
    async def children(folder_id: str, session: SignedIn, after: int = 0, limit: int = 100) -> dict:
        imported = campaign_folder(folder_id).imported
        return {
            "folder_children": {
                "asset_list": [_imported_json(i) for i in imported[after : after + limit]]
            }
        }

    @router.patch("/folders/{folder_id}")
    async def update_folder(
        folder_id: str, session: SignedIn, edited: Annotated[dict, Body()]
    ) -> dict:
        folder = campaign_folder(folder_id)
        if folder.locked_by not in (None, session.user):
            raise DamFault(423, f"Folder {folder.id} is locked by {folder.locked_by}")
        if folder.locked_by is None:
            raise DamFault(409, f"Folder {folder.id} must be locked before it is edited")
        for field_id, value in _edited_fields(edited).items():
            attribute = state.attribute_of(field_id)
            if attribute is None:
                raise DamFault(400, f"Unknown metadata field {field_id}")
            lookup = attribute == "status" and state.site["status_kind"] == "lookup"
            setattr(folder, attribute, _edited_text(field_id, value, lookup))
            folder.metadata.pop(field_id, None)
            folder.missing = [missing for missing in folder.missing if missing != field_id]
        return {"folder_resource": {"folder": state.folder_json(folder)}}

    @router.put("/assets/state")
    async def lock_state(
        session: SignedIn,
        action: Annotated[str, Form()],
        selection_context: Annotated[str, Form()],
    ) -> dict:
        if action not in ("lock", "unlock"):
            raise DamFault(400, f"Unknown action {action}")
        done, failed = [], []
        for asset_id in _selected_ids(selection_context):
            folder = state.campaigns.get(asset_id)
            if folder is None or folder.forbidden or folder.locked_by not in (None, session.user):
                failed.append(asset_id)
                continue
            folder.locked_by = session.user if action == "lock" else None
            done.append(asset_id)
        return {
            "bulk_asset_result_representation": {
                "bulk_asset_result": {"successful_object_list": done, "failed_object_list": failed}
            }
        }

    @router.post("/assets")
    async def import_asset(request: Request, session: SignedIn) -> JSONResponse:
        content_type, options = parse_options_header(request.headers.get("content-type"))
        if content_type != b"multipart/form-data" or b"boundary" not in options:
            raise DamFault(400, "An import is a multipart/form-data request")
        body = _ImportBody(options[b"boundary"])
        async for chunk in request.stream():
            body.write(chunk)
        body.finish()
        representation = _json_field(body.fields, "asset_representation")
        asset = representation.get("asset_resource", {}).get("asset", {})
        folder = campaign_folder(body.text("parent_folder_id"))
        master_file = _master_file(_json_field(body.fields, "manifest"))
        template = body.fields.get("import_template_id", b"").decode() or None
        policies = _policy_ids(asset.get("security_policy_list"))
        if state.site["imports_need_model"]:
            _check_import_model(asset.get("metadata_model_id"), policies, template, state)
        folder.imported.append(
            ImportedAsset(
                asset_id=uuid.uuid4().hex,
                name=master_file.get("file_name") or body.file_name,
                size=body.size,
                sha1=body.sha1.hexdigest(),
                metadata=asset.get("metadata") or {},
                file_type=master_file.get("file_type"),
                metadata_model_id=asset.get("metadata_model_id"),
                security_policy_ids=policies,
                import_template_id=template,
            )
        )
        # Recorded, then answered late: a client that dies meanwhile never hears of its import.
        await asyncio.sleep(state.import_delay_seconds)
        job = {"job_handle": {"job_id": str(uuid.uuid4().int % 10**9)}}
        return JSONResponse(job, status_code=state.site["import_status"])

    return router


class OtdsCredentials(BaseModel):
    """OTDS's sign-in body, in its own field names."""

    userName: str
    password: str
    ticketType: str = "OTDSTICKET"


class OtdsResourceTicket(BaseModel):
    ticket: str
    targetResourceId: str


def _otds_routes(state: DamState) -> APIRouter:
    """OpenText Directory Services: a user's ticket, and a ticket for the OTMM resource."""
    router = APIRouter(prefix="/otdsws/rest/authentication", tags=["otds"])

    @router.post("/credentials")
    async def credentials(given: OtdsCredentials) -> dict:
        if state.users.get(given.userName) != given.password:
            raise DamFault(401, "Invalid user name or password")
        ticket = state.issue_ticket(given.userName)
        return {"ticket": ticket, "userId": given.userName, "resourceID": None, "token": None}

    @router.post("/resource/ticketforresource")
    async def ticket_for_resource(given: OtdsResourceTicket) -> dict:
        ticket = state.ticket(given.ticket)
        if ticket is None or ticket.resource_id is not None:
            raise DamFault(401, "The ticket is not a valid user's ticket; sign in again")
        if given.targetResourceId != state.site["otds"]["resource_id"]:
            raise DamFault(404, f"No resource {given.targetResourceId} in OTDS")
        resource_ticket = state.issue_ticket(ticket.user, given.targetResourceId)
        return {"ticket": resource_ticket, "resourceID": given.targetResourceId}

    return router


class StatusChange(BaseModel):
    status: str


class LockHolder(BaseModel):
    user: str | None


class SessionExpiry(BaseModel):
    after_requests: int = 0


class ImportDelay(BaseModel):
    seconds: float = Field(ge=0)


class SearchShift(BaseModel):
    """A campaign moved to `status` right after the `after_page`-th search page from now."""

    after_page: int = Field(ge=1)
    campaign_id: str
    status: str


class SearchAnswer(BaseModel):
    """A search answer served as given: `body` as JSON (surrogates escaped), or `text` as is.

    `{session_id}` and `{secret}` in it become the caller's (its cookie or OAuth token), as a
    server that names its caller in an error message would.
    """

    status: int = 200
    body: Any = None
    text: str | None = None

    def response(self, session_id: int, secret: str) -> Response:
        media_type = "application/json" if self.text is None else "text/html"
        content = json.dumps(self.body) if self.text is None else self.text
        content = content.replace("{session_id}", str(session_id)).replace("{secret}", secret)
        return Response(content, self.status, media_type=media_type)


def _control_routes(state: DamState) -> APIRouter:
    router = APIRouter(prefix="/_sandbox", tags=["sandbox"])

    def campaign(quoted_id: str) -> CampaignFolder:
        campaign_id = unquote(quoted_id)
        if campaign_id not in state.campaigns:
            raise DamFault(404, f"No campaign {campaign_id}")
        return state.campaigns[campaign_id]

    @router.post("/campaigns", status_code=201)
    async def add_campaign(entry: Annotated[dict, Body()]) -> dict:
        return state.add_campaign(entry).as_control_view()

    @router.get("/campaigns/{campaign_id}")
    async def read_campaign(campaign_id: str) -> dict:
        return campaign(campaign_id).as_control_view()

    @router.delete("/campaigns/{campaign_id}", status_code=204)
    async def remove_campaign(campaign_id: str) -> None:
        del state.campaigns[campaign(campaign_id).id]

    @router.put("/campaigns/{campaign_id}/status")
    async def set_status(campaign_id: str, change: StatusChange) -> dict:
        folder = campaign(campaign_id)
        state.move(folder, change.status)
        return folder.as_control_view()

    @router.put("/campaigns/{campaign_id}/lock")
    async def set_lock(campaign_id: str, holder: LockHolder) -> dict:
        folder = campaign(campaign_id)
        folder.locked_by = holder.user
        return folder.as_control_view()

    @router.get("/sessions")
    async def open_sessions() -> dict[str, int]:
        return {"open": len(state.sessions)}

    @router.post("/sessions/expire", status_code=204)
    async def expire_sessions(expiry: SessionExpiry) -> None:
        state.expire_sessions(expiry.after_requests)

    @router.put("/imports/delay", status_code=204)
    async def delay_imports(delay: ImportDelay) -> None:
        state.import_delay_seconds = delay.seconds

    @router.post("/search-shifts", status_code=204)
    async def add_search_shifts(shifts: list[SearchShift]) -> None:
        """Someone else moving campaigns while a search pages: each shift moves its campaign
        right after the `after_page`-th page the sandbox's campaigns answer, counted from now
        (a queued search answer is no page of theirs); 404 for an unknown campaign."""
        unknown = [s.campaign_id for s in shifts if s.campaign_id not in state.campaigns]
        if unknown:
            raise DamFault(404, f"No campaign {', '.join(unknown)}")
        for shift in shifts:
            state.shift_search(shift.after_page, shift.campaign_id, shift.status)

    @router.post("/search-answers", status_code=204)
    async def add_search_answers(answers: list[SearchAnswer]) -> None:
        state.search_answers.extend(answers)

    @router.delete("/search-answers", status_code=204)
    async def clear_search_answers() -> None:
        state.search_answers.clear()

    @router.get("/requests")
    async def received_requests() -> list[str]:
        return list(state.received)

    @router.delete("/requests", status_code=204)
    async def forget_requests() -> None:
        state.received.clear()

    return router


def _credentials(request: Request) -> tuple[str | None, str | None]:
    """The secret naming the caller's session, and the session id it must echo (cookie only)."""
    authorization = request.headers.get("authorization", "")
    if authorization.startswith("Bearer "):
        return authorization.removeprefix("Bearer "), None
    return request.cookies.get(COOKIE), request.headers.get("x-requested-by", "")


def _scalar_condition(search_condition_list: str) -> tuple[str, str, str]:
    """The one condition's field id, operator id and value."""
    try:
        conditions = json.loads(search_condition_list)["search_condition_list"]["search_condition"]
        (condition,) = conditions
        if condition["type"] != SCALAR_CONDITION:
            raise DamFault(400, f"Unsupported condition type {condition['type']}")
        return (
            condition["metadata_field_id"],
            condition["relational_operator_id"],
            condition["value"],
        )
    except (ValueError, KeyError, TypeError) as error:
        raise DamFault(400, f"Unreadable search_condition_list: {error!r}") from error


def _edited_fields(edited: dict) -> dict[str, Any]:
    """The edited fields' values by field id, each as sent (`value.value`)."""
    try:
        elements = edited["edited_folder"]["data"]["metadata"]
        return {element["id"]: element["value"]["value"] for element in elements}
    except (KeyError, TypeError) as error:
        raise DamFault(400, f"Unreadable edited_folder: {error!r}") from error


def _edited_text(field_id: str, value: Any, lookup: bool) -> Any:
    """The text an edit writes; 400 unless it has the field's shape (a lookup's DomainValue)."""
    shape = DOMAIN_VALUE if lookup else "string"
    if not isinstance(value, dict) or value.get("type") != shape:
        kind = "a lookup field: it takes a DomainValue" if lookup else "a text field"
        raise DamFault(400, f"Field {field_id} is {kind}, not {json.dumps(value)}")
    held = value.get("field_value") if lookup else value
    if not isinstance(held, dict) or "value" not in held:
        raise DamFault(400, f"Unreadable value of field {field_id}: {json.dumps(value)}")
    return held["value"]


def _master_file(manifest: dict) -> dict:
    """The manifest's one master file: its file name and MIME type, where given."""
    try:
        return manifest["upload_manifest"]["master_files"][0]["file"]
    except (KeyError, IndexError, TypeError):
        return {}


def _policy_ids(policies: Any) -> list[str]:
    try:
        return [str(policy["id"]) for policy in policies or ()]
    except (KeyError, TypeError) as error:
        raise DamFault(400, f"Unreadable security_policy_list: {error!r}") from error


def _check_import_model(
    model_id: Any, policies: list[str], template: str | None, state: DamState
) -> None:
    """400 unless the import names the site's model and known policies, or a known template."""
    if template is not None:
        if template not in state.site["import_templates"]:
            raise DamFault(400, f"Unknown import template {template} (import_template_id)")
        return
    if model_id is None:
        raise DamFault(400, "The import names no metadata model (metadata_model_id)")
    if model_id != MODEL_ID:
        raise DamFault(400, f"Unknown metadata model {model_id} (metadata_model_id)")
    if not policies:
        raise DamFault(400, "The import names no security policy (security_policy_list)")
    unknown = [policy for policy in policies if policy not in SECURITY_POLICY_IDS]
    if unknown:
        raise DamFault(400, f"Unknown security policy {', '.join(unknown)} (security_policy_list)")


def _selected_ids(selection_context: str) -> list[str]:
    try:
        context = json.loads(selection_context)["selection_context_param"]["selection_context"]
        return list(context["asset_ids"])
    except (ValueError, KeyError, TypeError) as error:
        raise DamFault(400, f"Unreadable selection_context: {error!r}") from error


def _json_field(fields: dict[str, bytes], name: str) -> dict:
    if name not in fields:
        raise DamFault(400, f"The import lacks its {name} part")
    try:
        return json.loads(fields[name])
    except ValueError as error:
        raise DamFault(400, f"The {name} part is not JSON: {error}") from error


def _imported_json(imported: ImportedAsset) -> dict:
    return {
        "asset_id": imported.asset_id,
        "name": imported.name,
        "data_type": "ASSET",
        "master_content_info": {"name": imported.name, "content_size": imported.size},
        "metadata": imported.metadata,
    }


class _ImportBody:
    """An import's multipart body, read as it streams in: small parts kept, the file only hashed."""

    def __init__(self, boundary: bytes):
        self.fields: dict[str, bytes] = {}
        self.file_name: str | None = None
        self.size = 0
        self.sha1 = hashlib.sha1()
        self._header_name = bytearray()
        self._header_value = bytearray()
        self._headers: dict[bytes, bytes] = {}
        self._part: str | None = None
        self._part_value = bytearray()
        self._parser = MultipartParser(
            boundary,
            callbacks={
                "on_part_begin": self._headers.clear,
                "on_header_field": self._header_field,
                "on_header_value": self._header_value_data,
                "on_header_end": self._header_end,
                "on_headers_finished": self._headers_finished,
                "on_part_data": self._data,
                "on_part_end": self._part_end,
            },
        )

    def write(self, chunk: bytes) -> None:
        self._parser.write(chunk)

    def finish(self) -> None:
        self._parser.finalize()
        if self.file_name is None:
            raise DamFault(400, "The import lacks its files part")

    def text(self, name: str) -> str:
        if name not in self.fields:
            raise DamFault(400, f"The import lacks its {name} part")
        return self.fields[name].decode()

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _header_value_data(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _header_end(self) -> None:
        self._headers[bytes(self._header_name).lower()] = bytes(self._header_value)
        self._header_name.clear()
        self._header_value.clear()

    def _headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition"))
        self._part = options.get(b"name", b"").decode()
        self._part_value.clear()
        if self._part == "files":
            self.file_name = options.get(b"filename", b"").decode()

    def _data(self, data: bytes, start: int, end: int) -> None:
        if self._part == "files":
            self.sha1.update(data[start:end])
            self.size += end - start
            return
        self._part_value += data[start:end]
        if len(self._part_value) > MAX_FIELD_BYTES:
            raise DamFault(413, f"The {self._part} part is larger than {MAX_FIELD_BYTES} bytes")

    def _part_end(self) -> None:
        if self._part != "files":
            self.fields[self._part] = bytes(self._part_value)
