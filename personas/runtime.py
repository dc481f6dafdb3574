"""Open what persona commands need: the app store, the persona store and the gateway's tools.

With no gateway URL a whole gateway is started on a free loopback port for the duration, on
the same database and var folder; tokens come from the gateway's local identity.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from gateway import MCP_PATH, GatewaySettings
from missions import AppSettings
from personas.gateway import GatewayTools, local_minter, started_gateway
from personas.session import ModelFor, PersonaRuntime, default_model_for
from personas.store import SqlPersonaStore
from planner import PolicyMode
from toolkits import open_store


@dataclass(frozen=True)
class RuntimeOptions:
    """Where sessions go: the app's settings, an optional gateway URL and the gateway's mode."""

    settings: AppSettings
    gateway_url: str | None = None
    policy_mode: PolicyMode | None = None
    model_for: ModelFor = default_model_for
    clock: Callable[[], float] | None = None


def gateway_settings(
    settings: AppSettings, policy_mode: PolicyMode | None = None
) -> GatewaySettings:
    """Gateway settings from the environment, on the app's database and var folder."""
    base = GatewaySettings.from_env()
    gw = replace(base, var_dir=settings.var_dir, database_url=settings.database_url)
    return replace(gw, policy_mode=policy_mode) if policy_mode is not None else gw


def mcp_endpoint(url: str) -> str:
    """A gateway URL as its MCP endpoint: `http://host:port` gains `/mcp`."""
    parts = urlsplit(url)
    if parts.path in ("", "/"):
        parts = parts._replace(path=MCP_PATH)
    return urlunsplit(parts)


@asynccontextmanager
async def open_runtime(options: RuntimeOptions) -> AsyncIterator[PersonaRuntime]:
    """Open the stores and reach a gateway (started on loopback when no URL is given)."""
    settings = options.settings
    gw = gateway_settings(settings, options.policy_mode)
    store = await open_store(settings.store_url)
    try:
        personas = await SqlPersonaStore(store.engine).create()
        mint = local_minter(gw)

        def runtime(url: str) -> PersonaRuntime:
            rt = PersonaRuntime(
                store=store,
                personas=personas,
                tools=GatewayTools(url, mint),
                runs_dir=settings.runs_dir,
                model_for=options.model_for,
            )
            if options.clock is not None:
                rt.clock = options.clock
            return rt

        if options.gateway_url is not None:
            yield runtime(mcp_endpoint(options.gateway_url))
        else:
            async with started_gateway(gw) as thread:
                yield runtime(thread.mcp_url)
    finally:
        await store.close()


def parse_since(text: str | None) -> float | None:
    """`--since`: an ISO date or datetime (UTC unless it names a zone), as a timestamp."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def default_settings(runs_dir: Path = Path("runs")) -> AppSettings:
    """The app settings the CLI uses."""
    return AppSettings.from_env(runs_dir)
