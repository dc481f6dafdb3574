"""How a persona session reaches the app: the MCP gateway, with the persona's token and space.

`ToolOpener` is the seam: the runner asks it for a session's tools and gets a registry plus
the gateway's policy verdicts per call. `GatewayTools` is the real one (McpToolSource over
HTTP, a token minted for the persona's user, `x-mana-space` naming the space);
`LocalTools` serves a registry in process, for unit tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

import anyio
import mcp.types as types
from mcp.shared.exceptions import MCPError

from gateway import POLICY_META_KEY, GatewayConfigError, GatewaySettings, GatewayThread, LocalSigner
from planner import (
    AnyToolSpec,
    McpToolSource,
    RemoteInput,
    ToolContext,
    ToolError,
    ToolRegistry,
    ToolResult,
    result_of,
)

TOKEN_TTL_S = 2 * 3600

TokenMinter = Callable[[str], str]
"""Mints a bearer token for a user id."""


@dataclass
class SessionTools:
    """The tools of one session and the gateway's non-allow verdicts by call id."""

    registry: ToolRegistry
    verdicts: dict[str, str] = field(default_factory=dict)
    """`flagged` or `would-deny`, as the gateway's `_meta` reported them, by call id."""


class ToolOpener(Protocol):
    """Opens the tools a persona session may use, for its user in its space."""

    def open(self, user_id: str, space_id: str) -> AbstractAsyncContextManager[SessionTools]:
        """The session's tools, usable while the block runs."""
        ...


def gate_verdict(result: types.CallToolResult) -> str | None:
    """The policy verdict a gateway result carries in `_meta` (None for a plain allow)."""
    meta = result.meta or {}
    entry = meta.get(POLICY_META_KEY)
    if isinstance(entry, dict) and isinstance(entry.get("verdict"), str):
        return str(entry["verdict"])
    return None


@dataclass(frozen=True)
class GatewayTools:
    """Tools from the MCP gateway at `mcp_url`, as the persona's user, in the session's space."""

    mcp_url: str
    mint: TokenMinter
    timeout_s: float = 30.0

    @asynccontextmanager
    async def open(self, user_id: str, space_id: str) -> AsyncIterator[SessionTools]:
        """Connect with a fresh token; each call's gateway verdict is kept by call id."""
        token = self.mint(user_id)
        async with McpToolSource(
            self.mcp_url, token, space=space_id, timeout_s=self.timeout_s
        ) as source:
            verdicts: dict[str, str] = {}
            specs = [_tapped(source, spec, verdicts) for spec in await source.list_specs()]
            yield SessionTools(ToolRegistry(specs), verdicts)


def _tapped(source: McpToolSource, spec: AnyToolSpec, verdicts: dict[str, str]) -> AnyToolSpec:
    """The remote tool with a handler that also records the gateway's policy verdict."""
    remote_name = spec.name

    async def call(ctx: ToolContext, payload: RemoteInput) -> ToolResult:
        try:
            result = await source.client.call_tool(remote_name, payload.model_dump(mode="json"))
        except MCPError as exc:
            raise ToolError(f"{remote_name}: {exc}") from exc
        verdict = gate_verdict(result)
        if verdict is not None:
            verdicts[ctx.call_id] = verdict
        return result_of(result)

    return replace(spec, handler=call)


@dataclass(frozen=True)
class LocalTools:
    """A registry served in process (no HTTP): for unit tests of the runner."""

    registry: ToolRegistry

    @asynccontextmanager
    async def open(self, user_id: str, space_id: str) -> AsyncIterator[SessionTools]:
        """The registry as it is."""
        yield SessionTools(self.registry)


def local_minter(settings: GatewaySettings, ttl_s: int = TOKEN_TTL_S) -> TokenMinter:
    """Tokens from the gateway's local identity (the signing key under the var folder)."""
    if not settings.local_identity:
        raise GatewayConfigError(
            "MANA_JWKS_URL is set: the gateway trusts an outside provider, so persona tokens "
            "must come from it; unset MANA_JWKS_URL to use the local identity"
        )
    signer = LocalSigner.load_or_create(settings.signing_key_path)

    def mint(user_id: str) -> str:
        return signer.mint(user_id, issuer=settings.issuer, audience=settings.audience, ttl_s=ttl_s)

    return mint


@contextmanager
def loopback_gateway(settings: GatewaySettings) -> Iterator[GatewayThread]:
    """A whole gateway on a free loopback port for the duration of the block."""
    thread = GatewayThread(settings)
    thread.start()
    try:
        yield thread
    finally:
        thread.stop()


@asynccontextmanager
async def started_gateway(settings: GatewaySettings) -> AsyncIterator[GatewayThread]:
    """`loopback_gateway` from async code: start and stop off the event loop."""
    thread = GatewayThread(settings)
    await anyio.to_thread.run_sync(thread.start)
    try:
        yield thread
    finally:
        await anyio.to_thread.run_sync(thread.stop)


def gateway_tools(url: str, settings: GatewaySettings, **options: Any) -> GatewayTools:
    """GatewayTools for `url` with tokens from the local identity of `settings`."""
    return GatewayTools(url, local_minter(settings), **options)
