"""The layer rule, checked by import-linter; the public namespace; and docs/architecture.md
(every layer of the contract in its table, in order; every package it names exists; every
top-level package described)."""

from __future__ import annotations

import importlib
import pkgutil
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import peelian

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_layers_contract_holds() -> None:
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe, "import-linter is a dev dependency: run `make install`"
    proc = subprocess.run([exe], cwd=ROOT, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Contracts: " in proc.stdout and " broken" in proc.stdout
    assert "0 broken" in proc.stdout


def _modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(peelian.__path__, prefix="peelian.")
        if ".migrations" not in m.name
    )


@pytest.mark.parametrize("name", _modules())
def test_every_module_imports_and_its_all_resolves(name: str) -> None:
    module = importlib.import_module(name)
    for attr in getattr(module, "__all__", []):
        assert hasattr(module, attr), f"{name}.__all__ names {attr!r}, which does not exist"


def test_importing_peelian_connects_to_nothing() -> None:
    code = (
        "import sys, peelian, peelian.data.store, peelian.cli;"
        "assert 'psycopg' not in sys.modules, 'psycopg imported at import time'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- docs/architecture.md is checked against the contract and the tree ------------------------

SRC = ROOT / "src" / "peelian"
PAGE = ROOT / "docs" / "architecture.md"
_NAME = re.compile(r"`(peelian(?:\.[A-Za-z_][A-Za-z0-9_]*)*)`")


def _contract_layers() -> list[list[str]]:
    """The layers contract of pyproject.toml, top first, each layer as its packages."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts = config["tool"]["importlinter"]["contracts"]
    (layers,) = [c["layers"] for c in contracts if c["type"] == "layers"]
    return [[p.strip() for p in layer.split("|")] for layer in layers]


def _layer_rows(text: str) -> list[list[str]]:
    """The packages of each row of the page's layers table, in order."""
    section = text.split("## Layers", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    return [_NAME.findall(row.split("|")[2]) for row in rows]


def _exists(name: str, src: Path) -> bool:
    rel = Path(*name.split(".")[1:])
    return (src / rel).is_dir() or (src / rel).with_suffix(".py").is_file()


def _top_level(src: Path) -> list[str]:
    """Every top-level package and module of the source tree."""
    return sorted(
        "peelian." + (p.name if p.is_dir() else p.stem)
        for p in src.iterdir()
        if (p.is_dir() and (p / "__init__.py").exists())
        or (p.suffix == ".py" and p.name != "__init__.py")
    )


def _page_problems(text: str, layers: list[list[str]], src: Path) -> list[str]:
    problems = []
    if _layer_rows(text) != layers:
        problems.append(f"layers table {_layer_rows(text)} is not the contract {layers}")
    named = set(_NAME.findall(text))
    for layer in layers:
        problems += [f"layer {p} not named" for p in layer if p not in named]
    problems += [f"{n} does not exist" for n in sorted(named) if not _exists(n, src)]
    problems += [f"{n} not described" for n in _top_level(src) if n not in named]
    return problems


def test_architecture_page_matches_the_contract_and_the_tree() -> None:
    layers = _contract_layers()
    assert layers[0] == ["peelian.cli"] and ["peelian.errors"] in layers
    text = PAGE.read_text()
    assert not _page_problems(text, layers, SRC)
    assert "## From source to page" in text and "## Where each capability lives" in text
    capabilities = text.split("## Where each capability lives", 1)[1]
    for capability in ("ingest", "geography", "offences", "measures", "statistics", "hotspots",
                       "forecasts", "Grip", "casework", "audit", "web pages", "JSON API",
                       "reports", "command line"):  # fmt: skip
        assert f"\n| {capability}" in capabilities, capability


def test_architecture_page_check_fails_on_a_stale_page(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "__init__.py").write_text("")
    (tmp_path / "cli.py").write_text("")
    (tmp_path / "web").mkdir()
    (tmp_path / "web" / "__init__.py").write_text("")
    layers = [["peelian.cli"], ["peelian.web"], ["peelian.data"]]
    good = (
        "## Layers\n| a | b |\n|---|---|\n| x | `peelian.cli` |\n| x | `peelian.web` |\n"
        "| x | `peelian.data` |\n\n## Next\n"
    )
    assert _page_problems(good, layers, tmp_path) == []
    stale = good.replace("`peelian.web`", "`peelian.old`")
    assert _page_problems(stale, layers, tmp_path) == [
        "layers table [['peelian.cli'], ['peelian.old'], ['peelian.data']] is not the contract "
        "[['peelian.cli'], ['peelian.web'], ['peelian.data']]",
        "layer peelian.web not named",
        "peelian.old does not exist",
        "peelian.web not described",
    ]
