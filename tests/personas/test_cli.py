"""`mana-planner personas ...` through typer: validate, run (own loopback gateway or --gateway),
list, pause/resume, report --html and the offline demo."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gateway.serving import GatewayThread
from gateway.settings import GatewaySettings
from mana_planner.cli import app
from planner.logging import configure_logging

runner = CliRunner()


@pytest.fixture(autouse=True)
def _env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    configure_logging("warning")
    var = tmp_path / "var"
    monkeypatch.setenv("MANA_VAR_DIR", str(var))
    monkeypatch.delenv("MANA_DATABASE_URL", raising=False)
    monkeypatch.delenv("MANA_JWKS_URL", raising=False)
    return var


def invoke(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["personas", *args])
    return result.exit_code, result.output


def test_validate(tmp_path: Path) -> None:
    code, out = invoke("validate")
    assert code == 0, out
    assert out.count("ok ") == 10
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\nname = "x"\n')
    code, out = invoke("validate", str(bad))
    assert code == 1
    assert f"{bad}: archetype: Field required" in out


def test_run_list_pause_report(tmp_path: Path, _env: Path) -> None:
    runs = str(tmp_path / "runs")
    code, out = invoke(
        "run", "sam-student", "grace-retiree", "--model", "scripted-persona:5", "--runs-dir", runs
    )
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith(("sam-student", "grace-retiree"))]
    assert len(lines) == 2 and all("assistant_stop" in line for line in lines)

    code, out = invoke("list")
    assert code == 0, out
    sam = next(line for line in out.splitlines() if line.startswith("sam-student"))
    assert "no (daily: last ran" in sam

    code, out = invoke("pause", "sam-student")
    assert (code, out.strip()) == (0, "sam-student: paused")
    code, out = invoke("list")
    assert "no (paused)" in next(ln for ln in out.splitlines() if ln.startswith("sam-student"))
    assert invoke("resume", "sam-student")[0] == 0
    assert invoke("pause", "--all")[1].strip() == "all personas: paused"
    assert invoke("pause", "nobody")[0] == 1

    html = tmp_path / "report.html"
    code, out = invoke("report", "--html", str(html), "--since", "2000-01-01")
    assert code == 0, out
    assert out.splitlines()[0].startswith("persona\tsessions\ttool calls")
    assert {ln.split("\t")[0] for ln in out.splitlines()[1:3]} == {"grace-retiree", "sam-student"}
    assert html.read_text().count('class="chart"') == 3
    assert invoke("report", "--since", "yesterday")[0] == 2


def test_run_against_a_running_gateway(tmp_path: Path, _env: Path) -> None:
    settings = replace(GatewaySettings(), var_dir=_env)
    with GatewayThread(settings) as thread:
        code, out = invoke(
            "run",
            "--all",
            "--concurrency",
            "3",
            "--gateway",
            thread.settings.base_url,
            "--model",
            "scripted-persona",
            "--runs-dir",
            str(tmp_path / "runs"),
        )
        assert code == 0, out
        assert thread.gateway is not None
        metrics = thread.gateway.metrics.render()
    assert "mana_gateway_tool_calls_total" in metrics
    assert len([ln for ln in out.splitlines() if "assistant_stop" in ln]) == 10
    assert invoke("run")[0] == 2, "ids or --all are required"


def test_demo(tmp_path: Path) -> None:
    html = tmp_path / "demo.html"
    code, out = invoke("demo", "--days", "2", "--html", str(html), "--runs-dir", str(tmp_path))
    assert code == 0, out
    assert "gateway on loopback: http://127.0.0.1:" in out
    assert out.count("assistant_stop") == 6
    page = html.read_text()
    assert page.count('class="chart"') == 3
    assert "tomas-club-treasurer" in page
