"""The MCP gateway: the tool registry over Streamable HTTP, per user, under the policy gate.

Built from the SDK's parts: the low-level `Server` (list/call handlers that read the caller
from the authenticated HTTP request), its `StreamableHTTPSessionManager` (2026-07-28
single-exchange requests and legacy `Mcp-Session-Id` sessions side by side; a session only
answers the credential that opened it), `BearerAuthBackend` + `RequireAuthMiddleware` (401 with
`WWW-Authenticate` and the protected-resource metadata URL) and the RFC 9728 metadata route.
Around the MCP endpoint sits one guard of ours: `x-mana-space` must name a space the user
belongs to (403 otherwise).

A tools/call runs: resolve (admin tools do not exist here) -> validate input -> policy gate
(decides and records the invocation in the per-user rolling log) -> handler.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import anyio
import mcp.types as types
import structlog
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import (
    AuthenticatedUser,
    BearerAuthBackend,
    RequireAuthMiddleware,
)
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.auth import JwksCache, JwtRules, JwtVerifier, KeySource, LocalSigner, StaticKeys
from gateway.metrics import GatewayMetrics
from gateway.settings import MCP_PATH, SPACE_HEADER, GatewaySettings
from planner.dispatch import error_result, execute, validate
from planner.policy import PolicyDecision, PolicyGate, UserPolicySettings
from planner.tools import AnyToolSpec, ToolContext, ToolRegistry, ToolResult, mcp_annotations
from toolkits import default_registry
from toolkits.keyvault import KeyVault, LocalKeyVault
from toolkits.store import Store, open_store
from toolkits.tenancy import PERSONAL_ALIAS, membership, personal_space_id, resolve_space_id

log = structlog.get_logger("gateway")

SERVER_NAME = "mana-planner"
SERVER_VERSION = "0.1.0"
POLICY_META_KEY = "dev.mana-planner/policy"
"""`_meta` key of a call result that carries a non-allow policy verdict (flagged, would-deny)."""
MEMBERSHIP_TTL_S = 5.0
MAX_TRACKED = 10_000
INVALID_REQUEST = -32600


@dataclass(frozen=True)
class Caller:
    """Who sent one MCP request, in which space, over which session."""

    user_id: str
    space_id: str
    session_id: str | None

    def context(self, request_id: object) -> ToolContext:
        """The ToolContext of one call: run id is the session (or a fresh request id)."""
        run_id = self.session_id or f"req-{uuid.uuid4().hex[:16]}"
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


def authenticated_subject(scope: Scope) -> str | None:
    """The token subject of an authenticated request, else None."""
    user = scope.get("user")
    if isinstance(user, AuthenticatedUser) and user.access_token.subject:
        return user.access_token.subject
    return None


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


def mcp_tool(spec: AnyToolSpec) -> types.Tool:
    """An MCP tool definition: the dotted name, the input schema and the spec's hints."""
    hints = mcp_annotations(spec)
    return types.Tool(
        name=spec.name,
        description=spec.description,
        input_schema=spec.input_schema,
        annotations=types.ToolAnnotations(
            read_only_hint=hints["readOnlyHint"],
            destructive_hint=hints["destructiveHint"],
            idempotent_hint=hints["idempotentHint"],
        ),
    )


def mcp_result(result: ToolResult, meta: dict[str, Any] | None = None) -> types.CallToolResult:
    """A ToolResult as MCP content: the JSON envelope (errors: their message) + structured."""
    envelope = {"success": result.success, "message": result.message, "data": result.data}
    text = (
        json.dumps(envelope, ensure_ascii=False, default=str) if result.success else result.message
    )
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=text)],
        structured_content=envelope,
        is_error=not result.success,
        meta=meta,
    )


def policy_meta(decision: PolicyDecision) -> dict[str, Any] | None:
    """The `_meta` entry that tells a client about a flagged or would-deny verdict."""
    if decision.verdict == "allow":
        return None
    return {
        POLICY_META_KEY: {
            "verdict": decision.verdict,
            "reason": decision.reason,
            "flagged": decision.flagged,
            "reminder": decision.reminder,
            "mode": decision.mode.value,
        }
    }


class Gateway:
    """The registry's user-space tools as an MCP server, one PolicyGate for every user."""

    def __init__(
        self,
        *,
        registry: ToolRegistry,
        store: Store,
        settings: GatewaySettings,
        keys: KeySource,
        gate: PolicyGate,
        metrics: GatewayMetrics | None = None,
        signer: LocalSigner | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.gate = gate
        self.metrics = metrics or GatewayMetrics()
        self.signer = signer
        self.tools = registry.filter(lambda spec: spec.scope == "user-space")
        self.verifier = JwtVerifier(
            keys,
            JwtRules(settings.issuer, settings.audience, leeway_s=settings.leeway_s),
            on_reject=lambda reason: self.metrics.auth_failures.inc(reason),
        )
        self.access = SpaceAccess(store)
        self._listing = types.ListToolsResult(tools=[mcp_tool(s) for s in self.tools])
        self._session_owners: OrderedDict[str, str] = OrderedDict()
        self.server: Server[Any] = Server(
            SERVER_NAME,
            version=SERVER_VERSION,
            instructions="mana-planner tools for the authenticated user's space.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
        )

    # --- MCP handlers -------------------------------------------------------------------

    async def _list_tools(
        self, ctx: ServerRequestContext[Any, Any], _params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        """The user-space tools (the same list for every authenticated user)."""
        self._caller(ctx)
        return self._listing

    async def _call_tool(
        self, ctx: ServerRequestContext[Any, Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult:
        """Resolve, validate, gate (recording the invocation), then run one tool."""
        caller = self._caller(ctx)
        start = time.perf_counter()
        spec = self.tools.get(params.name)
        if spec is None:
            self.metrics.tool_calls.inc("unknown", "unknown")
            return mcp_result(error_result(f"Unknown tool: {params.name}"))
        tool_ctx = caller.context(ctx.request_id)
        arguments = params.arguments or {}
        prepared = validate(spec, arguments)
        if isinstance(prepared, ToolResult):
            return self._done(spec, prepared, "invalid", start)
        decision = self.gate.evaluate(spec, tool_ctx, arguments)
        self.metrics.policy_decisions.inc(
            decision.verdict, _reason_label(decision), decision.mode.value
        )
        if not decision.allow:
            denied = error_result(decision.denial_message(spec.name))
            return self._done(spec, denied, "denied", start, policy_meta(decision))
        result = await execute(spec, tool_ctx, prepared.payload)
        outcome = "ok" if result.success else "error"
        return self._done(spec, result, outcome, start, policy_meta(decision))

    def _done(
        self,
        spec: AnyToolSpec,
        result: ToolResult,
        outcome: str,
        start: float,
        meta: dict[str, Any] | None = None,
    ) -> types.CallToolResult:
        self.metrics.tool_calls.inc(spec.name, outcome)
        self.metrics.tool_latency.observe(time.perf_counter() - start, spec.name)
        return mcp_result(result, meta)

    def _caller(self, ctx: ServerRequestContext[Any, Any]) -> Caller:
        """The authenticated caller of this request; refuses a session another user opened."""
        request = ctx.request
        subject = authenticated_subject(request.scope) if isinstance(request, Request) else None
        if request is None or subject is None:
            raise MCPError(INVALID_REQUEST, "authentication required")
        session_id = request.headers.get(MCP_SESSION_ID_HEADER)
        if session_id is not None:
            owner = self._session_owners.setdefault(session_id, subject)
            self._session_owners.move_to_end(session_id)
            if len(self._session_owners) > MAX_TRACKED:
                self._session_owners.popitem(last=False)
            if owner != subject:
                log.warning("gateway.session_hijack", session=session_id[:16], user=subject)
                raise MCPError(INVALID_REQUEST, "session not found")
        return Caller(subject, requested_space(subject, request.headers), session_id)

    # --- HTTP ---------------------------------------------------------------------------

    def app(self) -> Starlette:
        """A fresh ASGI app (each has its own session manager, which runs once)."""
        settings = self.settings
        security = transport_security(settings)
        manager = StreamableHTTPSessionManager(
            app=self.server,
            json_response=settings.json_response,
            stateless=settings.stateless,
            security_settings=security,
        )
        resource = AnyHttpUrl(settings.resource_url)
        endpoint = RequireAuthMiddleware(
            SpaceGuard(StreamableHTTPASGIApp(manager), self.access, self.metrics),
            [],
            build_resource_metadata_url(resource),
        )
        routes: list[Route] = [
            Route(MCP_PATH, endpoint=endpoint),
            *create_protected_resource_routes(
                resource_url=resource,
                authorization_servers=[AnyHttpUrl(settings.authorization_server)],
                resource_name="mana-planner MCP gateway",
            ),
            Route("/health", self._health, methods=["GET"]),
            Route("/metrics", self._metrics, methods=["GET"]),
        ]
        if self.signer is not None:
            routes.append(Route("/.well-known/jwks.json", self._jwks, methods=["GET"]))

        @asynccontextmanager
        async def lifespan(_app: Starlette) -> AsyncIterator[None]:
            async with manager.run():
                yield

        return Starlette(
            routes=routes,
            middleware=[
                Middleware(AuthenticationMiddleware, backend=BearerAuthBackend(self.verifier)),
                Middleware(AuthContextMiddleware),
            ],
            lifespan=lifespan,
        )

    async def _health(self, _request: Request) -> Response:
        return JSONResponse({"status": "ok", "registry_loaded": True, "tools": len(self.tools)})

    async def _metrics(self, _request: Request) -> Response:
        return PlainTextResponse(self.metrics.render(), media_type=GatewayMetrics.CONTENT_TYPE)

    async def _jwks(self, _request: Request) -> Response:
        assert self.signer is not None
        return JSONResponse(self.signer.jwks(), headers={"cache-control": "public, max-age=300"})


def transport_security(settings: GatewaySettings) -> TransportSecuritySettings | None:
    """DNS-rebinding protection on loopback: loopback hosts, plus the public URL's host."""
    if not settings.is_loopback:
        return None
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
    origins = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]
    if settings.public_url:
        public = urlsplit(settings.public_url)
        if public.netloc:
            hosts.append(public.netloc)
            origins.append(f"{public.scheme}://{public.netloc}")
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins
    )


def _reason_label(decision: PolicyDecision) -> str:
    if decision.reason:
        return decision.reason
    return "injection-marker" if decision.flagged else "none"


def user_policy(settings: GatewaySettings) -> Callable[[str], UserPolicySettings]:
    """Every user's opt-ins and limits from the gateway settings."""
    shared = UserPolicySettings(
        allow_destructive=settings.allow_destructive,
        per_tool_rate_limit=dict(settings.rate_limits),
    )
    return lambda _user_id: shared


@asynccontextmanager
async def open_gateway(
    settings: GatewaySettings,
    store: Store,
    *,
    registry: ToolRegistry | None = None,
    vault: KeyVault | None = None,
    gate: PolicyGate | None = None,
) -> AsyncIterator[Gateway]:
    """A gateway over `store` (default tools, the settings' gate and identity); closes its keys."""
    signer: LocalSigner | None = None
    cache: JwksCache | None = None
    keys: KeySource
    if settings.jwks_url is None:
        signer = await anyio.to_thread.run_sync(
            LocalSigner.load_or_create, settings.signing_key_path
        )
        keys = StaticKeys(signer.jwks())
    else:
        keys = cache = JwksCache(
            settings.jwks_url,
            ttl_s=settings.jwks_ttl_s,
            refetch_cooldown_s=settings.jwks_refetch_cooldown_s,
        )
    if registry is None:
        registry = default_registry(
            store,
            vault or LocalKeyVault(settings.var_dir / "keystore.json"),
            media_dir=settings.var_dir / "media",
        )
    if gate is None:
        gate = PolicyGate(mode=settings.policy_mode, settings_for=user_policy(settings))
    try:
        yield Gateway(
            registry=registry, store=store, settings=settings, keys=keys, gate=gate, signer=signer
        )
    finally:
        if cache is not None:
            await cache.aclose()


@asynccontextmanager
async def gateway_app(settings: GatewaySettings) -> AsyncIterator[Gateway]:
    """Open the store at the settings' URL and a gateway over it; close both after."""
    store = await open_store(settings.store_url)
    try:
        async with open_gateway(settings, store) as gateway:
            yield gateway
    finally:
        await store.close()
