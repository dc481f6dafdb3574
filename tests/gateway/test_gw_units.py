"""Small pieces of the gateway: metrics text, transport security, result mapping, hints."""

from __future__ import annotations

import mcp.types as types
import pytest

from gateway.metrics import Counter, GatewayMetrics, Histogram
from gateway.results import mcp_result
from gateway.server import transport_security
from gateway.settings import GatewaySettings
from planner.errors import ToolError
from planner.mcp import policy_hint, result_of
from planner.tools import ToolResult


def test_counter_and_histogram_text() -> None:
    counter = Counter("c_total", "A counter.", ("tool",))
    counter.inc('we"ird\\name')
    counter.inc('we"ird\\name', amount=2)
    assert counter.render()[-1] == 'c_total{tool="we\\"ird\\\\name"} 3'
    hist = Histogram("h_seconds", "A histogram.", ("tool",), buckets=(0.1, 1.0))
    hist.observe(0.05, "t")
    hist.observe(0.5, "t")
    lines = hist.render()
    assert 'h_seconds_bucket{tool="t",le="0.1"} 1' in lines
    assert 'h_seconds_bucket{tool="t",le="1"} 2' in lines
    assert 'h_seconds_bucket{tool="t",le="+Inf"} 2' in lines
    assert 'h_seconds_count{tool="t"} 2' in lines
    with pytest.raises(ValueError):
        counter.inc()


def test_metrics_are_per_instance() -> None:
    one, two = GatewayMetrics(), GatewayMetrics()
    one.space_denials.inc()
    assert "mana_gateway_space_denials_total 1" in one.render()
    assert "mana_gateway_space_denials_total 1" not in two.render()


def test_transport_security_allows_the_public_host_on_loopback() -> None:
    settings = GatewaySettings(public_url="https://mana.example.org")
    security = transport_security(settings)
    assert security is not None
    assert "mana.example.org" in security.allowed_hosts
    assert "https://mana.example.org" in security.allowed_origins
    assert transport_security(GatewaySettings(host="0.0.0.0")) is None
    assert settings.resource_url == "https://mana.example.org/mcp"


def test_results_round_trip_through_mcp() -> None:
    ok = mcp_result(ToolResult(True, "ok", {"n": 1}))
    assert result_of(ok) == ToolResult(True, "ok", {"n": 1})
    failed = mcp_result(ToolResult(False, "Tool x not allowed: why: do this"))
    with pytest.raises(ToolError, match=r"^Tool x not allowed: why: do this$"):
        result_of(failed)
    plain = types.CallToolResult(content=[types.TextContent(type="text", text="hello")])
    assert result_of(plain) == ToolResult(True, "ok", "hello")


def test_policy_hints_from_annotations() -> None:
    assert policy_hint(None) == "write"
    assert policy_hint(types.ToolAnnotations(read_only_hint=True)) == "read"
    assert policy_hint(types.ToolAnnotations(destructive_hint=True)) == "destructive"
    assert policy_hint(types.ToolAnnotations(read_only_hint=False)) == "write"
