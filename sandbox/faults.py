"""Request counters and scripted faults shared by the sandbox servers.

`install_faults(app, error_body)` counts every request per route key (the method and the route's
path template, e.g. ``"GET /2.0/folders/{folder_id}/items"``) and answers scripted faults before
the app sees the request. Control routes, not counted:

- ``GET /_sandbox/counters`` -> ``{route key: n}``; ``POST /_sandbox/counters/reset``
- ``POST /_sandbox/faults`` ``{"route": key or "*", "statuses": [429, 500], "retry_after": s,
  "drop": n, "hang": n, "body": {...}, "times": n}``: ``drop`` closed connections, then ``hang``
  requests left unanswered until the client gives up (its timeout), then one answer per status,
  the whole script ``times`` times; each matching request consumes one entry (a script for the
  request's own path, e.g. ``"GET /2.0/folders/123/items"``, before the route's, before
  ``"*"``), then requests pass through again. A status answers with the script's ``body`` (any
  JSON) if it has one, else ``error_body(status)``, and ``Retry-After`` when given.
- ``POST /_sandbox/latency`` ``{"ms": 100}`` delays every other request.
- ``DELETE /_sandbox/faults`` clears faults and latency.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, Field
from starlette.routing import Match
from starlette.types import ASGIApp, Receive, Scope, Send

CONTROL_PREFIX = "/_sandbox/"
ANY_ROUTE = "*"

ErrorBody = Callable[[int], dict]


class FaultScript(BaseModel):
    route: str = ANY_ROUTE
    statuses: list[int] = Field(default_factory=list)
    retry_after: float | None = None
    drop: int = Field(default=0, ge=0)
    hang: int = Field(default=0, ge=0)
    body: Any = None
    times: int = Field(default=1, ge=1)


class Latency(BaseModel):
    ms: int = Field(ge=0)


@dataclass(frozen=True)
class _Fault:
    status: int | None  # None closes the connection without an answer
    retry_after: float | None = None
    hang: bool = False  # no answer at all: the client times out
    body: Any = None  # what a status answers instead of the error body


@dataclass
class _FaultState:
    counters: Counter[str] = field(default_factory=Counter)
    scripts: dict[str, deque[_Fault]] = field(default_factory=dict)
    latency_ms: int = 0

    def add(self, script: FaultScript) -> None:
        faults = [
            *[_Fault(None)] * script.drop,
            *[_Fault(None, hang=True)] * script.hang,
            *[_Fault(status, script.retry_after, body=script.body) for status in script.statuses],
        ]
        self.scripts.setdefault(script.route, deque()).extend(faults * script.times)

    def next_fault(self, path_key: str, route_key: str) -> _Fault | None:
        for key in (path_key, route_key, ANY_ROUTE):
            if self.scripts.get(key):
                return self.scripts[key].popleft()
        return None


def install_faults(app: FastAPI, error_body: ErrorBody) -> None:
    """Add request counting, scripted faults and latency to `app`, with their control routes."""
    state = _FaultState()
    app.include_router(_control_routes(state))
    build_stack = app.build_middleware_stack

    # Outermost, so a dropped connection can reach the server's transport.
    def build_stack_with_faults() -> ASGIApp:
        return _FaultMiddleware(build_stack(), app, state, error_body)

    app.build_middleware_stack = build_stack_with_faults


def _control_routes(state: _FaultState) -> APIRouter:
    router = APIRouter(prefix=CONTROL_PREFIX.rstrip("/"), tags=["sandbox"])

    @router.get("/counters")
    async def counters() -> dict[str, int]:
        return dict(state.counters)

    @router.post("/counters/reset", status_code=204)
    async def reset_counters() -> None:
        state.counters.clear()

    @router.post("/faults", status_code=204)
    async def add_faults(script: FaultScript) -> None:
        state.add(script)

    @router.post("/latency", status_code=204)
    async def set_latency(latency: Latency) -> None:
        state.latency_ms = latency.ms

    @router.delete("/faults", status_code=204)
    async def clear_faults() -> None:
        state.scripts.clear()
        state.latency_ms = 0

    return router


class _FaultMiddleware:
    def __init__(self, app: ASGIApp, routed: FastAPI, state: _FaultState, error_body: ErrorBody):
        self.app = app
        self.routed = routed
        self.state = state
        self.error_body = error_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        route_key = self.route_key(scope)
        self.state.counters[route_key] += 1
        if self.state.latency_ms:
            await asyncio.sleep(self.state.latency_ms / 1000)
        fault = self.state.next_fault(f"{scope['method']} {scope['path']}", route_key)
        if fault is None:
            await self.app(scope, receive, send)
        elif fault.hang:
            await _disconnected(receive)
        elif fault.status is None:
            await _drop_connection(receive, send)
        else:
            await self.answer(fault, send)

    def route_key(self, scope: Scope) -> str:
        for route in self.routed.router.routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return f"{scope['method']} {route.path}"
        return f"{scope['method']} {scope['path']}"

    async def answer(self, fault: _Fault, send: Send) -> None:
        answer = self.error_body(fault.status) if fault.body is None else fault.body
        body = json.dumps(answer).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        if fault.retry_after is not None:
            headers.append((b"Retry-After", f"{fault.retry_after:g}".encode()))
        await send({"type": "http.response.start", "status": fault.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})


async def _drop_connection(receive: Receive, send: Send) -> None:
    # uvicorn's `send` is a method of its request cycle, which holds the connection's transport.
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise RuntimeError("dropping a connection needs the sandbox to run under uvicorn")
    transport.close()
    await _disconnected(receive)


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
