"""One-machine identity: the gateway's own key under var/, its JWKS, and `auth token`."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx2
import jwt
import pytest
import typer
from typer.testing import CliRunner

from gateway import GatewaySettings, GatewayThread, LocalSigner
from gateway.errors import GatewayConfigError
from gateway.settings import DEFAULT_AUDIENCE, LOCAL_ISSUER
from mana_planner.cli import app
from tests.gateway.gw_helpers import connect


@pytest.fixture(scope="module")
def local_gw(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayThread]:
    """A gateway with no MANA_JWKS_URL: it signs with its own key."""
    var = tmp_path_factory.mktemp("gw-local")
    with GatewayThread(GatewaySettings(var_dir=var)) as gw:
        yield gw


def _cli() -> typer.Typer:
    return app  # the CLI root: it mounts gateway.cli's register and reports its errors


def test_signing_key_is_private_and_published(local_gw: GatewayThread) -> None:
    key_path = local_gw.settings.signing_key_path
    assert key_path.is_file()
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    jwks = httpx2.get(f"{local_gw.settings.base_url}/.well-known/jwks.json").json()
    (key,) = jwks["keys"]
    assert key["alg"] == "ES256" and key["use"] == "sig" and key["kid"]
    assert "d" not in key  # public half only


async def test_cli_token_opens_the_gateway(local_gw: GatewayThread) -> None:
    runner = CliRunner()
    env = {"MANA_VAR_DIR": str(local_gw.settings.var_dir), "MANA_JWKS_URL": ""}
    result = runner.invoke(_cli(), ["auth", "token", "--user", "ada", "--ttl", "10m"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == "ada"
    assert claims["iss"] == LOCAL_ISSUER and claims["aud"] == DEFAULT_AUDIENCE
    assert claims["exp"] - claims["iat"] == 600
    async with connect(local_gw.mcp_url, token, "2026-07-28") as client:
        created = await client.call_tool("todo.create", {"title": "From the CLI token"})
    assert not created.is_error


def test_cli_token_refuses_with_an_outside_provider(tmp_path: Path) -> None:
    env = {
        "MANA_VAR_DIR": str(tmp_path),
        "MANA_JWKS_URL": "https://idp.test/jwks.json",
        "MANA_JWT_ISSUER": "https://idp.test",
        "MANA_JWT_AUDIENCE": "mana",
    }
    result = CliRunner().invoke(_cli(), ["auth", "token", "--user", "ada"], env=env)
    assert result.exit_code == 2
    assert "outside provider" in result.output


def test_a_token_for_another_gateway_key_is_refused(
    local_gw: GatewayThread, tmp_path: Path
) -> None:
    stranger = LocalSigner.load_or_create(tmp_path / "other.pem")
    token = stranger.mint("ada", issuer=LOCAL_ISSUER, audience=DEFAULT_AUDIENCE)
    response = httpx2.post(
        local_gw.mcp_url,
        json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        headers={"authorization": f"Bearer {token}", "accept": "application/json"},
    )
    assert response.status_code == 401


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    LocalSigner.load_or_create(path)
    path.chmod(0o644)
    with pytest.raises(GatewayConfigError, match="chmod 600"):
        LocalSigner.load(path)


def test_the_key_is_stable_across_loads(tmp_path: Path) -> None:
    path = tmp_path / "key.pem"
    first = LocalSigner.load_or_create(path)
    again = LocalSigner.load_or_create(path)
    assert first.kid == again.kid
    token = first.mint("ada", issuer="i", audience="a", ttl_s=60)
    public = jwt.PyJWK(again.jwks()["keys"][0])
    assert jwt.decode(token, public.key, algorithms=["ES256"], audience="a")["sub"] == "ada"
