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


def test_an_ingest_that_stores_nothing_exits_non_zero_with_the_reasons(
    db_url: str, tmp_path: Path
) -> None:
    notes = tmp_path / "2020-05-northumbria-street.csv"
    notes.write_text("Name,Comment\nA,first\nB,second\n")
    result = runner.invoke(app, ["ingest", "policeuk", str(notes), "--db", db_url])
    assert result.exit_code == 3, result.output
    assert "Nothing was stored from 1 file(s)" in result.output
    assert "rejected (unrecognised_header 3)" in result.output
    as_json = runner.invoke(app, ["ingest", "policeuk", str(notes), "--db", db_url, "--json"])
    assert as_json.exit_code == 3
    report = json.loads(as_json.stdout)  # still one JSON object: the report and the error
    assert report["files"][0]["action"] == "rejected"
    assert report["error"]["code"] == "ingest_error"
    # the same good file twice: the second run stores nothing new but is not a failure
    good = FIX / "northumbria" / "2020-05" / "2020-05-northumbria-street.csv"
    assert runner.invoke(app, ["ingest", "policeuk", str(good), "--db", db_url]).exit_code == 0
    assert runner.invoke(app, ["ingest", "policeuk", str(good), "--db", db_url]).exit_code == 0


def test_db_given_as_a_path_or_an_unsupported_database(tmp_path: Path) -> None:
    path = tmp_path / "file.sqlite"
    good = FIX / "northumbria" / "2020-05" / "2020-05-northumbria-street.csv"
    result = runner.invoke(app, ["ingest", "policeuk", str(good), "--db", str(path)])
    assert result.exit_code == 2
    assert f"Use --db sqlite:///{path} for a SQLite file" in " ".join(result.output.split())
    assert not path.exists()
    result = runner.invoke(app, ["info", "--db", "mysql://user:pw@host/peelian"])
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "cannot use a 'mysql' database" in text and "pw" not in text.replace("pw@", "")
    assert "SQLite (sqlite:///" in text and "PostgreSQL (postgresql://" in text


def test_zip_limits_from_the_command_line(db_url: str, tmp_path: Path) -> None:
    import zipfile

    archive = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open("2020-05/2020-05-northumbria-street.csv", "w") as fh,
    ):
        for _ in range(20):
            fh.write(b"0" * (1 << 20))
    result = runner.invoke(app, ["ingest", "policeuk", str(archive), "--db", db_url])
    assert result.exit_code == 3 and "zip bomb" in result.output
    result = runner.invoke(
        app, ["ingest", "policeuk", str(archive), "--db", db_url, "--max-file-mb", "5"]
    )
    assert result.exit_code == 3 and "over the limit of 5 MB" in " ".join(result.output.split())
    result = runner.invoke(
        app, ["ingest", "policeuk", str(archive), "--db", db_url, "--max-ratio", "0"]
    )
    assert result.exit_code == 2 and "--max-ratio option must be a number > 0" in result.output


def test_force_replacement_that_shrinks_a_table_needs_allow_shrink(
    db_url: str, tmp_path: Path
) -> None:
    syn = Path(__file__).parents[1] / "fixtures" / "force" / "synthetic_small"
    args = ["ingest", "force", "--mapping", "synthetic_rms", "--db", db_url]
    assert runner.invoke(app, [*args, str(syn / "persons.csv")]).exit_code == 0
    small = tmp_path / "persons.csv"
    small.write_text("PersonRef,BirthYear,Sex,Ethnicity\nP001,1990,M,W\n")
    refused = runner.invoke(app, [*args, str(small)])
    assert refused.exit_code == 3
    text = " ".join(refused.output.split())
    assert "persons: 8 rows stored now, 1 after (7 removed, 88%)" in text
    assert "--allow-shrink" in text
    allowed = runner.invoke(app, [*args, str(small), "--allow-shrink", "--json"])
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.stdout)["files"][0]["rows_replaced"] == 8
