"""``peelian offences list|show|codes``."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from peelian.cli import app

runner = CliRunner()


def test_list_json_has_sets_and_twelve_types() -> None:
    result = runner.invoke(app, ["offences", "list", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)["definitions"]
    kinds = [r["kind"] for r in rows]
    assert kinds.count("serious-violence-type") == 12
    assert "neighbourhood-crime" in {r["name"] for r in rows}


def test_show_json() -> None:
    result = runner.invoke(app, ["offences", "show", "robbery", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["codes"] == ["34A", "34B"] and info["origin"] == "peelian default"


def test_show_with_override(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("csp: E08000021\ntypes:\n  knife-crime: {label: Knife crime (local)}\n")
    result = runner.invoke(
        app,
        [
            "offences",
            "show",
            "knife-crime",
            "--csp",
            "E08000021",
            "--overrides",
            str(path),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["label"] == "Knife crime (local)"


def test_unknown_name_is_one_line_exit_6() -> None:
    result = runner.invoke(app, ["offences", "show", "sparkly-crime"])
    assert result.exit_code == 6
    assert "sparkly-crime" in result.output and "Traceback" not in result.output


def test_bad_override_is_exit_3(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("sets:\n  x: {definition: {flag: sparkly}}\n")
    result = runner.invoke(app, ["offences", "list", "--overrides", str(path)])
    assert result.exit_code == 3 and "unknown flag" in result.output


def test_codes_json() -> None:
    result = runner.invoke(app, ["offences", "codes", "--json"])
    assert result.exit_code == 0
    doc = json.loads(result.stdout)
    assert len(doc["codes"]) == 131 and doc["provenance"]["version"] == "2024.1"
