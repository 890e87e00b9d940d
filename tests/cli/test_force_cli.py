"""``peelian ingest force``: the report, idempotence and bad input on the command line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from peelian.cli import app

runner = CliRunner()
SYN = Path(__file__).parents[1] / "fixtures" / "force" / "synthetic_small"


def test_ingest_force_json_then_unchanged(db_url: str) -> None:
    args = ["ingest", "force", str(SYN), "--mapping", "synthetic_rms", "--db", db_url, "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["synthetic"] is True and report["tables"]["occurrences"] == 8
    occ = next(f for f in report["files"] if f.get("table") == "occurrences")
    assert (occ["rows_read"], occ["rows_stored"], occ["rows_quarantined"]) == (15, 8, 7)
    again = json.loads(runner.invoke(app, args).stdout)
    assert {f["action"] for f in again["files"] if f.get("table")} == {"unchanged"}


def test_table_output_says_synthetic(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    result = runner.invoke(app, ["ingest", "force", str(SYN), "-m", "synthetic_rms", "--db", db])
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC DATA" in result.output and "loaded" in result.output


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 's.sqlite'}"
    result = runner.invoke(
        app, ["ingest", "force", str(tmp_path / "nope"), "-m", "synthetic_rms", "--db", db]
    )
    assert result.exit_code == 6 and "does not exist" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text("tables: [\n")
    result = runner.invoke(app, ["ingest", "force", str(SYN), "-m", str(bad), "--db", db, "--json"])
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "schema_error"
