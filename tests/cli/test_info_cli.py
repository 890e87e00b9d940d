"""``peelian info`` and ``peelian.data.frames.data_status``: what is loaded, on both dialects."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from peelian.cli import app

runner = CliRunner()
FIX = Path(__file__).parents[1] / "fixtures" / "policeuk"


def test_info_json_after_ingest(db_url: str) -> None:
    # info is read-only: no database yet is "not found" (exit 6), and none is created
    empty = runner.invoke(app, ["info", "--db", db_url, "--json"])
    assert empty.exit_code == 6, empty.output
    error = json.loads(empty.stdout)["error"]
    assert error["code"] == "not_found" and "make demo" in error["hint"]
    if db_url.startswith("sqlite"):
        assert not Path(db_url.split("///", 1)[1]).exists()
    runner.invoke(app, ["ingest", "policeuk", str(FIX / "northumbria"), "--db", db_url])
    runner.invoke(app, ["ingest", "policeuk", str(FIX / "durham"), "--db", db_url])
    result = runner.invoke(app, ["info", "--db", db_url, "--json"])
    status = json.loads(result.stdout)
    assert (status["events"], status["outcomes"], status["stops"]) == (936 + 300, 608, 600)
    assert status["months"] == ["2020-05", "2020-06", "2021-08", "2024-01"]
    assert status["forces"] == ["durham", "northumbria"]
    assert status["unlocated_events"] == 83
    cats = {c["category"]: c["rows"] for c in status["events_by_category"]}
    assert cats["Anti-social behaviour"] == 143 + 117 + 170 + 45
    by = {(r["force"], r["month"]): r for r in status["by_force_month"]}
    assert by[("northumbria", "2020-05")] == {
        "force": "northumbria", "month": "2020-05", "events": 303, "outcomes": 304, "stops": 300,
    }  # fmt: skip
    assert [b["id"] for b in status["batches"]] == [2, 1]
    assert all(b["reconciles"] and b["status"] == "complete" for b in status["batches"])
    assert status["batches"][1]["rows_stored"] == 936 + 608 + 600
    assert status["areas"] == {} and status["analysis_runs"] == []
    text = runner.invoke(app, ["info", "--db", db_url])
    assert text.exit_code == 0
    assert "1,236 events (83 unlocated)" in text.stdout
    assert "Last ingest batches" in text.stdout


def test_info_counts_areas_and_runs(tmp_path: Path) -> None:
    import pandas as pd

    from peelian.data.results import save_result
    from peelian.data.store import open_store

    db = f"sqlite:///{tmp_path / 'info.sqlite'}"
    loaded = runner.invoke(app, ["areas", "load", "--db", db, "--json"])
    assert loaded.exit_code == 0, loaded.output
    store = open_store(db)
    save_result(store, "measures", "all", {"values": pd.DataFrame({"measure": ["x"]})})
    status = json.loads(runner.invoke(app, ["info", "--db", db, "--json"]).stdout)
    assert status["areas"] == {"lsoa11": 916, "lsoa21": 927, "ward": 177, "csp": 6, "force": 1}
    assert status["lsoa_lookup"] > 0
    assert [(r["kind"], r["name"]) for r in status["analysis_runs"]] == [("measures", "all")]


def _fresh_settings(monkeypatch, cwd: Path) -> None:
    from peelian.config import get_settings

    monkeypatch.chdir(cwd)
    for var in ("PEELIAN_DATA_DIR", "PEELIAN_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    get_settings.cache_clear()


def test_info_never_creates_a_store(monkeypatch, tmp_path: Path) -> None:
    from peelian.config import get_settings

    _fresh_settings(monkeypatch, tmp_path)
    monkeypatch.setattr("peelian.data.datasets.demo_database", lambda: None)
    try:
        result = runner.invoke(app, ["info"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 6
    assert "There is no peelian database at" in result.output and "make demo" in result.output
    assert list(tmp_path.iterdir()) == []  # no .peelian folder, no empty database


def test_cli_reads_the_demo_database_of_the_checkout(monkeypatch, tmp_path: Path) -> None:
    from peelian.config import get_settings
    from peelian.data.datasets import DEMO_DATA_DIR

    demo = tmp_path / DEMO_DATA_DIR / "peelian.sqlite"
    built = runner.invoke(
        app,
        ["ingest", "policeuk", str(FIX / "northumbria" / "2020-05"), "--db", f"sqlite:///{demo}"],
    )
    assert built.exit_code == 0, built.output
    _fresh_settings(monkeypatch, tmp_path)
    try:
        result = runner.invoke(app, ["info", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == 303
    assert "Using the demo database" in result.output
    assert "PEELIAN_DATA_DIR=" in " ".join(result.output.split())
    assert not (tmp_path / ".peelian").exists()
