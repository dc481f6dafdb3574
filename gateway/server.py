"""The MCP gateway: the tool registry over Streamable HTTP, per user, under the policy gate.

Built from the SDK's parts: the low-level `Server` (list/call handlers that read the caller
from the authenticated HTTP request), its `StreamableHTTPSessionManager` (2026-07-28
single-exchange requests and legacy `Mcp-Session-Id` sessions side by side; a session only
answers the credential that opened it), `BearerAuthBackend` (ours reads its one header
directly) + `RequireAuthMiddleware` (401 with `WWW-Authenticate` and the protected-resource
metadata URL) and the RFC 9728 metadata route.
Around the MCP endpoint sit two guards of ours (gateway/access.py): a body-size limit (413)
and `x-mana-space`, which must name a space the user belongs to (403 otherwise).

A tools/call goes through the engine's one call pipeline, `dispatch_call`: resolve (admin
tools do not exist here) -> validate -> policy gate (which records the invocation in the
per-user rolling log, so invalid arguments never count against a rate limit) -> handler.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit

import anyio
import mcp.types as types
import structlog
from mcp.server.auth.middleware.auth_context import AuthContextMiddleware
from mcp.server.auth.middleware.bearer_auth import RequireAuthMiddleware
from mcp.server.auth.routes import build_resource_metadata_url, create_protected_resource_routes
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel.server import Server
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPASGIApp, StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.exceptions import MCPError
from pydantic import AnyHttpUrl
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from gateway.access import (
    MAX_TRACKED,
    BearerBackend,
    BodyLimit,
    Caller,
    SpaceAccess,
    SpaceGuard,
    admitted_space,
    authenticated_subject,
)
from gateway.auth import JwksCache, JwtRules, JwtVerifier, KeySource, LocalSigner, StaticKeys
from gateway.metrics import GatewayMetrics
from gateway.results import POLICY_META_KEY, mcp_result, mcp_tool, policy_meta, reason_label
from gateway.settings import MCP_PATH, GatewaySettings
from planner import (
    ExecutedCall,
    PolicyGate,
    PolicyMode,
    RoundDispatch,
    ToolCall,
    ToolRegistry,
    UserPolicySettings,
    dispatch_call,
    error_result,
)
from toolkits import KeyVault, LocalKeyVault, Store, default_registry, open_store

log = structlog.get_logger("gateway")

__all__ = [
    "POLICY_META_KEY",
    "Gateway",
    "gateway_app",
    "log_policy_mode",
    "open_gateway",
    "transport_security",
    "user_policy",
]

SERVER_NAME = "mana-planner"
SERVER_VERSION = "0.1.0"
INVALID_REQUEST = -32600


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
        """One call through the engine's pipeline, counted and timed for the metrics."""
        caller = self._caller(ctx)
        if self.tools.get(params.name) is None:
            self.metrics.tool_calls.inc("unknown", "unknown")
            return mcp_result(error_result(f"Unknown tool: {params.name}"))
        start = time.perf_counter()
        tool_ctx = caller.context(ctx.request_id)
        call = ToolCall(id=tool_ctx.call_id, name=params.name, arguments=params.arguments or {})
        setup = RoundDispatch(self.tools, tool_ctx, self.gate)
        executed = await dispatch_call(setup, call)
        self.metrics.tool_latency.observe(time.perf_counter() - start, params.name)
        self.metrics.tool_calls.inc(params.name, self._outcome(executed))
        decision = executed.decision
        if decision is not None:
            self.metrics.policy_decisions.inc(
                decision.verdict, reason_label(decision), decision.mode.value
            )
        return mcp_result(executed.result, policy_meta(decision))

    @staticmethod
    def _outcome(executed: ExecutedCall) -> str:
        """The metrics outcome of a call: ok, error, denied or invalid."""
        decision = executed.decision
        if decision is None:
            return "ok" if executed.result.success else "invalid"
        if not decision.allow:
            return "denied"
        return "ok" if executed.result.success else "error"

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
        return Caller(subject, admitted_space(subject, request.scope, request.headers), session_id)

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
        guarded = SpaceGuard(StreamableHTTPASGIApp(manager), self.access, self.metrics)
        endpoint = BodyLimit(
            RequireAuthMiddleware(guarded, [], build_resource_metadata_url(resource)),
            settings.max_request_bytes,
            self.metrics,
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
                Middleware(AuthenticationMiddleware, backend=BearerBackend(self.verifier)),
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


UNENFORCED_WARNING = (
    "destructive tools run for outside clients (the gate only logs what it would deny); "
    "serve with --policy-mode enforce or POLICY_MODE=enforce to refuse them"
)


def log_policy_mode(mode: PolicyMode, allow_destructive: frozenset[str]) -> None:
    """Say at start what the gate enforces; unless it enforces, warn that destructive tools run."""
    log.info("gateway.policy_mode", mode=mode.value, allow_destructive=sorted(allow_destructive))
    if mode is not PolicyMode.ENFORCE:
        log.warning("gateway.policy_not_enforced", mode=mode.value, detail=UNENFORCED_WARNING)


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
    log_policy_mode(gate.mode, settings.allow_destructive)
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
