"""``peelian areas load`` / ``list`` through the CLI: JSON output, one-line errors, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from peelian.cli import app

runner = CliRunner()


def test_load_demo_then_list_as_json(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = runner.invoke(app, ["areas", "load", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["levels"] == {"lsoa11": 916, "lsoa21": 927, "ward": 177, "csp": 6, "force": 1}
    assert all(f["rows_read"] == f["rows_stored"] + f["rows_quarantined"] for f in report["files"])
    result = runner.invoke(app, ["areas", "list", "csp", "--db", db, "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)["areas"]
    assert sum(a["population"] for a in listed) == 1_470_444
    assert {a["parent_code"] for a in listed} == {"E23000007"}
    result = runner.invoke(app, ["areas", "list", "force", "--db", db])
    assert result.exit_code == 0 and "Northumbria" in result.stdout


def test_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    result = runner.invoke(app, ["areas", "load", str(tmp_path / "missing"), "--db", db])
    assert result.exit_code == 3 and "does not exist" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(app, ["areas", "list", "county", "--db", db, "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "invalid_parameter"
    result = runner.invoke(app, ["areas", "list", "csp", "--db", db])
    assert result.exit_code == 6 and "peelian areas load" in result.output
