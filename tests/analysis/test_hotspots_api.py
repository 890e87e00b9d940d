"""The public namespaces resolve, and the guide's Python example really runs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import peelian.analysis.grid as grid_ns
import peelian.analysis.hotspots as hs_ns

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("ns", [grid_ns, hs_ns])
def test_every_public_name_resolves(ns) -> None:
    for name in ns.__all__:
        assert getattr(ns, name) is not None, name


def test_guide_example_runs(capsys) -> None:
    text = (ROOT / "docs/guide/hotspots.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert blocks
    for block in blocks:
        exec(compile(block, "hotspots.md", "exec"), {})
    out = capsys.readouterr().out
    assert "distance band 354 m" in out and "Chainey" not in out
    assert "No Pattern Detected" in out
