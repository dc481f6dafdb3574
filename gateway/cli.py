"""`mana-planner gateway` and `mana-planner auth token`; mount them with `register(app)`.

Configuration errors (planner's ConfigError and GatewayConfigError) reach the CLI root, which
prints them as one line and exits 2.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Annotated

import anyio
import typer
from rich.console import Console

from gateway.auth import LocalSigner
from gateway.errors import GatewayConfigError
from gateway.serving import serve
from gateway.settings import DEFAULT_HOST, DEFAULT_PORT, GatewaySettings, parse_ttl
from planner import PolicyMode

auth_app = typer.Typer(help="Identity for the MCP gateway.", no_args_is_help=True)
err = Console(stderr=True, soft_wrap=True)


def gateway_command(
    host: Annotated[str, typer.Option(help="Address to listen on")] = DEFAULT_HOST,
    port: Annotated[int, typer.Option(help="Port to listen on")] = DEFAULT_PORT,
    public_url: Annotated[
        str | None, typer.Option(help="Base URL clients use (default http://HOST:PORT)")
    ] = None,
    policy_mode: Annotated[
        str | None, typer.Option(help="off, log-only or enforce (default: POLICY_MODE)")
    ] = None,
    allow_destructive: Annotated[
        list[str] | None,
        typer.Option(help="A destructive tool users may call (repeatable)"),
    ] = None,
    stateless: Annotated[
        bool, typer.Option(help="Serve only the 2026 protocol: no legacy sessions")
    ] = False,
    log_level: Annotated[str, typer.Option(help="uvicorn log level")] = "info",
) -> None:
    """Serve the app's tools over MCP Streamable HTTP (JWT auth, spaces, the policy gate)."""
    settings = GatewaySettings.from_env()
    settings = replace(
        settings,
        host=host,
        port=port,
        public_url=public_url or settings.public_url,
        stateless=stateless,
        allow_destructive=frozenset(allow_destructive or ()),
    )
    if policy_mode is not None:
        settings = replace(settings, policy_mode=PolicyMode.parse(policy_mode, "--policy-mode"))
    identity = (
        f"local key {settings.signing_key_path}" if settings.local_identity else settings.jwks_url
    )
    err.print(
        f"MCP gateway on {settings.resource_url} (policy {settings.policy_mode.value}, "
        f"identity {identity})",
        highlight=False,
    )
    with contextlib.suppress(KeyboardInterrupt):
        anyio.run(lambda: serve(settings, log_level=log_level))


@auth_app.command("token")
def token_command(
    user: Annotated[str, typer.Option(help="The user id: the token's subject")],
    ttl: Annotated[str, typer.Option(help="Lifetime: 90s, 30m, 1h, 7d")] = "1h",
) -> None:
    """Mint a token for the gateway's local identity (printed to stdout)."""
    settings = GatewaySettings.from_env()
    if not settings.local_identity:
        raise GatewayConfigError(
            "MANA_JWKS_URL is set: the gateway trusts an outside provider; "
            "get tokens from that provider"
        )
    signer = LocalSigner.load_or_create(settings.signing_key_path)
    token = signer.mint(
        user, issuer=settings.issuer, audience=settings.audience, ttl_s=parse_ttl(ttl)
    )
    typer.echo(token)


def register(app: typer.Typer) -> None:
    """Mount `gateway` and `auth token` on the main CLI."""
    app.command("gateway")(gateway_command)
    app.add_typer(auth_app, name="auth")
