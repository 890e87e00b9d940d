"""``peelian stats compare``."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from peelian.cli import app

runner = CliRunner()


def test_compare_json_keys_and_known_answer() -> None:
    res = runner.invoke(app, ["stats", "compare", "13", "18", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert {"rate_ratio", "p_value", "ci_a", "ci_b", "ci_ratio", "narrative"} <= set(out)
    assert round(out["p_value"], 3) == 0.473
    assert [round(x, 2) for x in out["ci_a"]] == [6.92, 22.23]
    assert [round(x, 2) for x in out["ci_b"]] == [10.67, 28.45]
    assert "within normal variation" in out["narrative"]
    assert "numbers are small" in out["narrative"]


def test_compare_with_exposures_and_text() -> None:
    res = runner.invoke(
        app, ["stats", "compare", "300", "100", "--exposure-a", "2", "--exposure-b", "1"]
    )
    assert res.exit_code == 0
    assert "statistically significant rise" in res.stdout
    bad = runner.invoke(app, ["stats", "compare", "3", "4", "--exposure-a", "0", "--json"])
    assert bad.exit_code == 2
    assert json.loads(bad.stdout)["error"]["code"] == "invalid_parameter"


def test_compare_with_a_huge_dispersion_is_a_real_fall() -> None:
    """Issue 12 item 1: `peelian stats compare 42501 65506 --dispersion 387 --json` (the
    quasi-Poisson reference values are computed in tests/analysis/test_stats_dispersion.py)."""
    res = runner.invoke(
        app, ["stats", "compare", "42501", "65506", "--dispersion", "387", "--json"]
    )
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert round(out["p_value_adjusted"], 4) == 0.0004
    assert [round(x, 2) for x in out["ci_ratio_adjusted"]] == [0.51, 0.82]
    assert out["significant"] is True
    assert (
        "significant fall" in out["narrative"] and "within normal variation" not in out["narrative"]
    )
