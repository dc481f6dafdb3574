"""Each package's public surface is its `__init__`; the import-linter contracts hold that."""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("planner", "reminders", "toolkits", "missions", "gateway", "personas", "console")
LAZY = ("toolkits", "missions", "gateway", "personas", "console")
HEAVY = ("dbos", "mcp", "anthropic", "openai", "sqlalchemy", "starlette", "uvicorn")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_exported_name_resolves(package: str) -> None:
    module = importlib.import_module(package)
    missing = [name for name in module.__all__ if getattr(module, name, None) is None]
    assert missing == []
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'no_such'"):
        _ = module.no_such


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys, json; {code}; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout
    return list(json.loads(out))


def test_importing_the_packages_pulls_in_no_submodule_or_heavy_sdk() -> None:
    loaded = _loaded_after("import " + ", ".join(LAZY))
    own = [m for m in loaded if m.split(".")[0] in LAZY and "." in m]
    heavy = [m for m in loaded if m.split(".")[0] in HEAVY]
    assert own == []
    assert heavy == []


def test_the_engine_imports_no_mcp_client_or_model_sdk_until_asked() -> None:
    loaded = _loaded_after("import planner")
    assert [m for m in loaded if m.split(".")[0] in ("mcp", "anthropic", "openai")] == []
    asked = _loaded_after("from planner import McpToolSource")
    assert "mcp" in asked


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], capture_output=True, text=True, cwd=tree
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the packages and the contracts, to break on purpose."""
    for package in (*PACKAGES, "mana_planner"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("*.pyc"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_the_contracts_hold_on_the_tree(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("importer", "statement", "protected"),
    [
        ("missions", "from planner.transcript import FileTranscript", "planner.transcript"),
        ("personas", "from toolkits.store import Store", "toolkits.store"),
        ("console", "import missions.config", "missions.config"),
    ],
)
def test_a_submodule_import_across_packages_breaks_the_contract(
    tree: Path, importer: str, statement: str, protected: str
) -> None:
    (tree / importer / "reaching_in.py").write_text(f"{statement}\n")
    result = _lint(tree)
    assert result.returncode == 1
    assert f"{importer}.reaching_in -> {protected}" in result.stdout


def test_the_readme_example_runs_through_the_public_surface(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use the loop from Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert "from planner import" in code
    assert "from planner." not in code
    (tmp_path / "example.py").write_text(code)
    result = subprocess.run(
        [sys.executable, "example.py"], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "sunny in Lisbon" in result.stdout
