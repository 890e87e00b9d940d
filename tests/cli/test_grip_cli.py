"""``peelian grip plan`` end to end on the real Northumbria areas and police.uk violence (the
fallback when there are no force records)."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from peelian.cli import app

ROOT = Path(__file__).parents[2]
ZIP = ROOT / "demo-data/policeuk/northumbria_2020-05_2022-08.zip"
MONTHS = [str(p) for p in pd.period_range("2022-03", "2022-08", freq="M")]
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    from peelian.data.geography import load_areas
    from peelian.data.ingest import ingest_policeuk
    from peelian.data.store import open_store

    tmp = tmp_path_factory.mktemp("grip")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    store = open_store(url)
    load_areas(store)
    src = tmp / "policeuk"
    with zipfile.ZipFile(ZIP) as zf:
        for month in MONTHS:
            name = f"{month}/{month}-northumbria-street.csv"
            frame = pd.read_csv(io.BytesIO(zf.read(name)), dtype=str)
            keep = frame["Crime type"] == "Violence and sexual offences"
            (src / month).mkdir(parents=True)
            frame[keep].to_csv(src / name, index=False)
    ingest_policeuk(store, [src])
    store.dispose()
    return url


def _plan(db: str, out: Path, seed: int = 0):
    return runner.invoke(
        app,
        ["grip", "plan", "--weeks", "2", "--hotspots", "12", "--cell-size", "150",
         "--min-separation", "500", "--max-per-area", "2", "--start", "2022-09-05",
         "--seed", str(seed), "--out", str(out), "--json", "--db", db],
        catch_exceptions=False,
    )  # fmt: skip


def test_plan_constraints_files_and_determinism(db: str, tmp_path: Path) -> None:
    res = _plan(db, tmp_path / "a")
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["source"]["source"] == "police.uk (fallback)"
    assert "default" in out["choices"]["high_risk_hours"]["value"]
    hs = pd.DataFrame(out["hotspots"])
    assert len(hs) == 12
    xy = hs[["x", "y"]].to_numpy()
    d = np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])
    assert d[np.triu_indices(12, 1)].min() >= 500
    assert hs["area_code"].value_counts().max() <= 2
    assert hs["area_code"].str.startswith("E05").all()  # wards
    s = out["summary"]
    assert 0 < s["area_share"] < s["harm_share"] < 1  # real concentration of violence
    assert s["visits"] == 12 * 14

    visits = pd.read_csv(tmp_path / "a" / "visits.csv")
    assert len(visits) == 12 * 14 and set(visits["minutes"]) == {15}
    start = pd.to_datetime(visits["start_time"], format="%H:%M")
    for _, row in visits.iterrows():
        hours = {int(h.split("-")[0]) for h in row["high_risk_hours"].split(",")}
        assert int(row["start_time"][:2]) in hours
    assert (start.dt.minute <= 45).all()
    geo = gpd.read_file(tmp_path / "a" / "hotspots.geojson")
    assert len(geo) == 12 and geo.crs.to_epsg() == 4326
    md = (tmp_path / "a" / "plan.md").read_text()
    assert "Expected harm coverage" in md and "Koper 1995" in md
    assert "<table" in (tmp_path / "a" / "plan.html").read_text()

    assert _plan(db, tmp_path / "b").exit_code == 0
    assert (tmp_path / "b" / "visits.csv").read_text() == (
        tmp_path / "a" / "visits.csv"
    ).read_text()
    other = _plan(db, tmp_path / "c", seed=9)
    assert other.exit_code == 0
    assert (tmp_path / "c" / "visits.csv").read_text() != (
        tmp_path / "a" / "visits.csv"
    ).read_text()

    from peelian.data.results import latest_result
    from peelian.data.store import open_store

    run = latest_result(open_store(db), "grip_plan", "grip")
    assert {"rank", "cell_id", "x", "y", "harm", "expected_harm_share", "high_risk_hours",
            "csp_code", "geometry"} <= set(run.frames["hotspots"].columns)  # fmt: skip
    assert {"hotspot_rank", "date", "start_time", "end_time"} <= set(run.frames["visits"].columns)


def test_bad_area_level_is_one_line(db: str, tmp_path: Path) -> None:
    res = runner.invoke(app, ["grip", "plan", "--weeks", "1", "--hotspots", "3", "--area-level",
                              "county", "--out", str(tmp_path), "--db", db])  # fmt: skip
    assert res.exit_code == 2 and "area-level" in res.output and "Traceback" not in res.output


def test_plan_from_synthetic_force_records_says_so(tmp_path: Path) -> None:
    """With force records loaded the plan uses them (public-space, non-domestic serious
    violence) and, when they are synthetic, every output says so."""
    from peelian.data.geography import load_areas
    from peelian.data.ingest.force import ingest_force
    from peelian.data.store import open_store

    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    store = open_store(url)
    load_areas(store)
    ingest_force(store, [ROOT / "tests/fixtures/hotspots/force_synthetic"], "synthetic_rms")
    store.dispose()
    res = runner.invoke(
        app,
        ["grip", "plan", "--weeks", "1", "--hotspots", "5", "--cell-size", "250",
         "--start", "2022-09-05", "--out", str(tmp_path / "plan"), "--json", "--db", url],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["source"]["source"] == "force records" and out["source"]["synthetic"] is True
    assert 0 < out["source"]["events_selected"] < out["source"]["events_considered"]
    assert "SYNTHETIC DATA" in (tmp_path / "plan" / "plan.md").read_text().splitlines()[2]
    assert "SYNTHETIC DATA" in (tmp_path / "plan" / "plan.html").read_text()


def test_plan_from_data_that_end_years_before_its_visits_says_so(db: str, tmp_path: Path) -> None:
    """Issue 12 item 8: data to August 2022, visits from December 2026: the JSON, plan.md,
    plan.html and the stored run say the plan describes old months; a plan that starts a week
    after its data does not."""
    res = runner.invoke(
        app,
        ["grip", "plan", "--weeks", "1", "--hotspots", "5", "--cell-size", "250",
         "--start", "2026-12-07", "--out", str(tmp_path / "old"), "--json", "--db", db],
        catch_exceptions=False,
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["months"] == ["2022-03", "2022-08"]
    assert out["data_age"].startswith(
        "The data end in August 2022, 4 years 3 months before the first visit (7 December 2026)"
    )
    md = (tmp_path / "old" / "plan.md").read_text().splitlines()
    assert md[2] == f"- OLD DATA: {out['data_age']}"
    assert "OLD DATA: The data end in August 2022" in (tmp_path / "old" / "plan.html").read_text()
    from peelian.data.results import load_result
    from peelian.data.store import open_store

    store = open_store(db)
    assert load_result(store, out["run_id"]).summary["data_age"] == out["data_age"]
    store.dispose()
    fresh = json.loads(_plan(db, tmp_path / "fresh").stdout)
    assert fresh["data_age"] is None
    assert "OLD DATA" not in (tmp_path / "fresh" / "plan.md").read_text()
