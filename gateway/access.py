"""Who is calling, in which space, and the ASGI guards in front of the MCP endpoint.

`SpaceGuard` answers 403 unless the user belongs to the space `x-mana-space` names;
`BodyLimit` answers 413 for a request body over the gateway's limit before anything reads it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import structlog
from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser, BearerAuthBackend
from starlette.authentication import AuthCredentials
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.metrics import GatewayMetrics
from planner import SPACE_HEADER, ToolContext
from toolkits import PERSONAL_ALIAS, Store, membership, personal_space_id, resolve_space_id

log = structlog.get_logger("gateway")

MEMBERSHIP_TTL_S = 5.0
MAX_TRACKED = 10_000
SPACE_SCOPE_KEY = "mana.space"
"""Where `SpaceGuard` leaves the space it admitted in the ASGI scope, for the MCP handlers."""


@dataclass(frozen=True)
class Caller:
    """Who sent one MCP request, in which space, over which session."""

    user_id: str
    space_id: str
    session_id: str | None

    def context(self, request_id: object) -> ToolContext:
        """The ToolContext of one call: run id is the session (or a fresh random request id)."""
        run_id = self.session_id or f"req-{os.urandom(8).hex()}"
        return ToolContext(
            user_id=self.user_id,
            space_id=self.space_id,
            run_id=run_id,
            invoker="mcp",
            call_id=f"{run_id}:{request_id}",
        )


class SpaceAccess:
    """Membership checks for `x-mana-space`; positive answers are cached for a few seconds.

    Only the front door relies on the cache: every tool call checks membership again inside
    its own store transaction (`Store.scoped`), so a revoked member is refused there at once.
    """

    def __init__(
        self,
        store: Store,
        ttl_s: float = MEMBERSHIP_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self.clock = clock
        self._ok: dict[tuple[str, str], float] = {}

    async def allows(self, user_id: str, space_id: str) -> bool:
        """True when the user belongs to the space (their personal space always)."""
        if space_id == personal_space_id(user_id):
            return True
        key = (user_id, space_id)
        seen = self._ok.get(key)
        now = self.clock()
        if seen is not None and now - seen < self.ttl_s:
            return True
        async with self.store.transaction() as conn:
            member = await membership(conn, user_id, space_id)
        if member is None:
            self._ok.pop(key, None)
            return False
        if len(self._ok) >= MAX_TRACKED:
            self._ok.clear()
        self._ok[key] = now
        return True


def requested_space(user_id: str, headers: Headers | Mapping[str, str]) -> str:
    """The space a request names in `x-mana-space`, default the user's personal space."""
    named = (headers.get(SPACE_HEADER) or "").strip() or PERSONAL_ALIAS
    return resolve_space_id(user_id, named)


def admitted_space(user_id: str, scope: Scope, headers: Headers | Mapping[str, str]) -> str:
    """The space `SpaceGuard` admitted this request to (resolved once), else the named one."""
    space = scope.get(SPACE_SCOPE_KEY)
    return space if isinstance(space, str) else requested_space(user_id, headers)


def authenticated_subject(scope: Scope) -> str | None:
    """The token subject of an authenticated request, else None."""
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser) and user.access_token.subject:
        return user.access_token.subject
    return None


class BearerBackend(BearerAuthBackend):
    """The SDK's bearer backend, reading the `authorization` header directly: the SDK's scans
    and decodes every header name of every request to find it (ASGI names are lower case)."""

    async def authenticate(
        self, conn: HTTPConnection
    ) -> tuple[AuthCredentials, AuthenticatedUser] | None:
        """The caller of a request with a valid, unexpired bearer token, else None."""
        header = conn.headers.get("authorization")
        if not header or header[:7].lower() != "bearer ":
            return None
        access = await self.token_verifier.verify_token(header[7:])
        if access is None or (access.expires_at and access.expires_at < int(time.time())):
            return None
        return AuthCredentials(access.scopes), AuthenticatedUser(access)


class SpaceGuard:
    """ASGI guard in front of the MCP app: 403 unless the user belongs to `x-mana-space`."""

    def __init__(self, app: ASGIApp, access: SpaceAccess, metrics: GatewayMetrics) -> None:
        self.app = app
        self.access = access
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        subject = authenticated_subject(scope)
        if scope["type"] == "http" and subject is not None:
            space = requested_space(subject, Headers(scope=scope))
            scope[SPACE_SCOPE_KEY] = space
            if not await self.access.allows(subject, space):
                self.metrics.space_denials.inc()
                log.info("gateway.space_denied", user=subject, space=space)
                response = JSONResponse(
                    {
                        "error": "forbidden",
                        "error_description": f"user {subject!r} is not a member of space {space!r}",
                    },
                    status_code=403,
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class BodyTooLarge(Exception):
    """Raised inside `BodyLimit`'s receive when a streamed body passes the limit."""


class BodyLimit:
    """ASGI guard: 413 for a request body over `max_bytes` (declared or streamed).

    A declared Content-Length over the limit is refused before the body is read; a body the
    server frames by a declared length within the limit passes untouched; a chunked body (with
    or without a Content-Length, which Transfer-Encoding overrides) is counted as it arrives and
    refused as soon as it passes the limit.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, metrics: GatewayMetrics) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None and declared.isdigit():
            if int(declared) > self.max_bytes:
                await self._refuse(scope, receive, send)
                return
            if "transfer-encoding" not in headers:  # framed by that length: nothing to count
                await self.app(scope, receive, send)
                return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.metrics.oversized_requests.inc()
        log.info("gateway.request_too_large", limit=self.max_bytes)
        response = JSONResponse(
            {
                "error": "request_too_large",
                "error_description": f"request body over {self.max_bytes} bytes",
            },
            status_code=413,
        )
        await response(scope, receive, send)
