"""The layer rule of ARCHITECTURE.md, checked by import-linter; and the public namespace."""

from __future__ import annotations

import importlib
import pkgutil
import shutil
import subprocess
import sys
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
