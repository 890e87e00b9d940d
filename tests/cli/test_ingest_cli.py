"""``peelian ingest policeuk`` through the CLI, on SQLite and PostgreSQL: one JSON object, the
Rich report, one-line errors with their exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from peelian.cli import app

runner = CliRunner()
FIX = Path(__file__).parents[1] / "fixtures" / "policeuk"
KEYS = {"path", "kind", "force", "month", "rows_read", "rows_stored", "rows_quarantined", "reasons"}


def test_json_report_is_one_object(db_url: str) -> None:
    result = runner.invoke(
        app, ["ingest", "policeuk", str(FIX / "northumbria" / "2020-05"), "--db", db_url, "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)  # exactly one JSON document on stdout
    assert set(report) >= {"batch", "files"} and isinstance(report["batch"], int)
    files = {f["kind"]: f for f in report["files"]}
    assert all(set(f) >= KEYS for f in report["files"])
    assert files["street"]["rows_read"] == 303 and files["street"]["rows_stored"] == 303
    assert files["outcomes"]["rows_stored"] == 304
    assert files["stop-and-search"]["month"] == "2020-05"
    assert files["street"]["reasons"] == {}
    again = runner.invoke(
        app, ["ingest", "policeuk", str(FIX / "northumbria" / "2020-05"), "--db", db_url, "--json"]
    )
    assert {f["action"] for f in json.loads(again.stdout)["files"]} == {"unchanged"}


def test_table_report_and_quarantine_reasons(db_url: str, tmp_path: Path) -> None:
    src = FIX / "northumbria" / "2020-06" / "2020-06-northumbria-street.csv"
    bad = tmp_path / src.name
    bad.write_bytes(src.read_bytes().replace(b",2020-06,", b",2020-6,", 2))
    result = runner.invoke(app, ["ingest", "policeuk", str(bad), "--db", db_url])
    assert result.exit_code == 0, result.output
    assert "police.uk ingest, batch 1" in result.stdout
    assert "bad_month 2" in result.stdout
    assert "Stored 298 rows, quarantined 2" in result.stdout


def test_errors_are_one_line_with_exit_codes(db_url: str, tmp_path: Path) -> None:
    png = tmp_path / "map.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))
    result = runner.invoke(app, ["ingest", "policeuk", str(png), "--db", db_url])
    assert result.exit_code == 3
    assert "is a PNG image, not a police.uk CSV file" in result.output
    assert "Traceback" not in result.output
    result = runner.invoke(
        app, ["ingest", "policeuk", str(tmp_path / "missing.zip"), "--db", db_url, "--json"]
    )
    assert result.exit_code == 3
    assert json.loads(result.stdout)["error"]["code"] == "ingest_error"
    stops = tmp_path / "stops.csv"
    stops.write_bytes(
        (FIX / "northumbria" / "2020-05" / "2020-05-northumbria-stop-and-search.csv").read_bytes()
    )
    result = runner.invoke(app, ["ingest", "policeuk", str(stops), "--db", db_url])
    assert result.exit_code == 3 and "Pass --force SLUG" in result.output
    result = runner.invoke(
        app, ["ingest", "policeuk", str(stops), "--force", "northumbria", "--db", db_url, "--json"]
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["files"][0]["rows_stored"] == 300
