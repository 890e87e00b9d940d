"""``peelian hotspots`` end to end: a store with the real Northumbria areas and 12 months of
real police.uk street records (central Newcastle/Gateshead), exports that open again, --json."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
from typer.testing import CliRunner

from peelian.cli import app

ROOT = Path(__file__).parents[2]
ZIP = ROOT / "demo-data/policeuk/northumbria_2020-05_2022-08.zip"
FORCE = ROOT / "tests/fixtures/hotspots/force_synthetic"
MONTHS = [f"2021-{m:02d}" for m in range(9, 13)] + [f"2022-{m:02d}" for m in range(1, 9)]
runner = CliRunner()


def _street_subset(folder: Path) -> int:
    """Write each month's street file with only the rows in a box around Newcastle."""
    rows = 0
    with zipfile.ZipFile(ZIP) as zf:
        for month in MONTHS:
            name = f"{month}/{month}-northumbria-street.csv"
            frame = pd.read_csv(io.BytesIO(zf.read(name)), dtype=str)
            lon = pd.to_numeric(frame["Longitude"], errors="coerce")
            lat = pd.to_numeric(frame["Latitude"], errors="coerce")
            keep = lon.between(-1.68, -1.55) & lat.between(54.94, 55.02)
            (folder / month).mkdir()
            frame[keep].to_csv(folder / name, index=False)
            rows += int(keep.sum())
    return rows


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    from peelian.data.geography import load_areas
    from peelian.data.ingest import ingest_policeuk
    from peelian.data.store import open_store

    tmp = tmp_path_factory.mktemp("hotspots")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    store = open_store(url)
    load_areas(store)
    src = tmp / "policeuk"
    src.mkdir()
    assert _street_subset(src) > 20000
    ingest_policeuk(store, [src])
    from peelian.data.ingest.force import ingest_force

    ingest_force(store, [FORCE], "synthetic_rms")
    store.dispose()
    return url


def _invoke(args: list[str]):
    return runner.invoke(app, ["hotspots", *args], catch_exceptions=False)


def test_gistar_csv_has_the_contract_columns(db, tmp_path) -> None:
    out = tmp_path / "gistar.csv"
    res = _invoke(
        [
            "gistar",
            "--crime-type",
            "Violence and sexual offences",
            "--from",
            "2021-09",
            "--to",
            "2022-08",
            "--cell-size",
            "250",
            "--out",
            str(out),
            "--json",
            "--db",
            db,
        ]
    )
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    frame = pd.read_csv(out)
    for col in ("cell_id", "x", "y", "n", "gistar", "p_value", "p_adjusted", "hotspot"):
        assert col in frame.columns
    assert set(frame["hotspot"]) <= {"hot", "cold", "none"}
    assert frame["n"].sum() == info["report"]["n_in_area"] > 5000
    assert info["params"]["distance"] == 354.0
    assert "8 neighbours" in info["choices"]["neighbourhood"]["rule"]
    assert info["summary"]["n_hot"] == int((frame["hotspot"] == "hot").sum()) > 0


def test_kde_geopackage_opens_and_saves(db, tmp_path) -> None:
    out = tmp_path / "kde.gpkg"
    res = _invoke(
        [
            "kde",
            "--crime-type",
            "violence-and-sexual-offences",
            "--cell-size",
            "200",
            "--out",
            str(out),
            "--save",
            "--json",
            "--db",
            db,
        ]
    )
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    layers = pyogrio.list_layers(out)
    assert layers[0][0] == "kde_violence-and-sexual-offences"
    back = gpd.read_file(out)
    assert back.crs.to_epsg() == 27700 and len(back) == info["n_cells"]
    assert info["choices"]["bandwidth"]["value"] > 0 and "run_id" in info
    from peelian.data.results import latest_result
    from peelian.data.store import open_store

    run = latest_result(open_store(db), "kde", "violence-and-sexual-offences")
    assert run.summary["bandwidth"] == pytest.approx(info["summary"]["bandwidth"])


def test_emerging_geojson_is_wgs84(db, tmp_path) -> None:
    out = tmp_path / "emerging.geojson"
    res = _invoke(
        [
            "emerging",
            "--crime-type",
            "Violence and sexual offences",
            "--cell-size",
            "300",
            "--out",
            str(out),
            "--db",
            db,
        ]
    )
    assert res.exit_code == 0, res.output
    assert "chosen neighbourhood" in res.stdout
    doc = json.loads(out.read_text())
    x, y = doc["features"][0]["geometry"]["coordinates"][0][0][:2]
    assert -2.8 < x < -1.2 and 54.7 < y < 55.9  # longitude/latitude of Northumbria
    assert "pattern" in doc["features"][0]["properties"]


def test_count_and_concentration_and_warnings(db, tmp_path) -> None:
    res = _invoke(["count", "--cell-size", "150", "--json", "--db", db])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert any("anonymises" in w for w in info["warnings"])
    rep = info["report"]
    assert rep["n_events"] == rep["n_in_area"] + rep["n_outside_area"] + rep["n_unlocated"]
    res = _invoke(
        ["concentration", "--crime-type", "all", "--cell-size", "250", "--json", "--db", db]
    )
    s = json.loads(res.stdout)["summary"]
    assert 0 < s["gini_poisson_expected"] < s["gini_generalised"] < 1


def test_errors_are_one_line_with_exit_codes(db, tmp_path) -> None:
    res = _invoke(
        [
            "gistar",
            "--crime-type",
            "Violence and sexual offences",
            "--from",
            "2019-01",
            "--to",
            "2019-03",
            "--db",
            db,
        ]
    )
    assert res.exit_code == 5 and "No Violence and sexual offences" in res.output
    res = _invoke(["gistar", "--crime-type", "Kidnap", "--db", db])
    assert res.exit_code == 6 and "Unknown crime type" in res.output
    res = _invoke(["kde", "--out", str(tmp_path / "x.shp"), "--db", db])
    assert res.exit_code == 2 and ".gpkg" in res.output
    res = _invoke(["gistar", "--cell-size", "-5", "--db", db])
    assert res.exit_code == 2 and "must be a number > 0" in res.output
    res = _invoke(["emerging", "--from", "2022-01", "--to", "2022-04", "--db", db])
    assert res.exit_code == 5 and "at least 10 time steps" in res.output


def test_force_records_public_space_violence_with_rings(db, tmp_path) -> None:
    out = tmp_path / "psv.csv"
    args = ["gistar", "--source", "force", "--crime-type", "public-space-violence", "--ring",
            "1", "--cell-size", "150", "--out", str(out), "--json", "--db", db]  # fmt: skip
    res = _invoke(args)
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    # the selection, computed from the export itself: violence codes of the offence sets,
    # PublicSpace=Y and not DomesticAbuse=Y
    from peelian.offences import offence_set

    codes = set().union(
        *(offence_set(n).codes for n in ("homicide", "violence-with-injury",
                                         "violence-without-injury"))
    )  # fmt: skip
    raw = pd.read_csv(FORCE / "occurrences.csv", dtype=str, keep_default_na=False)
    want = raw["HOCode"].isin(codes) & (raw["PublicSpace"] == "Y") & (raw["DomesticAbuse"] != "Y")
    assert info["report"]["n_events"] == int(want.sum()) > 100
    assert info["source"] == "force" and info["params"]["ring"] == 1
    assert info["params"]["distance"] is None and not info["warnings"]  # exact locations
    frame = pd.read_csv(out)
    assert frame["neighbours"].max() == 9  # the queen's case: ring 1 on squares
    assert frame["n"].sum() == info["report"]["n_in_area"]
    res = _invoke([*args[:-3], "--save", "--db", db])
    assert res.exit_code == 0, res.output
    assert "Saved as run" in res.stdout


def test_kde_relative_to_population(db, tmp_path) -> None:
    out = tmp_path / "risk.csv"
    res = _invoke(
        ["kde", "--relative-to", "population", "--crime-type", "burglary", "--cell-size", "250",
         "--bandwidth", "600", "--out", str(out), "--json", "--db", db]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["analysis"] == "dual_kde"
    assert info["choices"]["population"]["value"] in {"lsoa21", "lsoa11"}
    frame = pd.read_csv(out)
    ok = frame["relative_risk"].notna()
    assert ok.sum() > 100 and info["summary"]["population"] > 1_000_000
    # relative risk = crime density / population density x 1,000
    ratio = frame.loc[ok, "density"] / frame.loc[ok, "population_density"] * 1000
    assert (ratio - frame.loc[ok, "relative_risk"]).abs().max() < 1e-9
    bad = _invoke(["kde", "--relative-to", "jobs", "--db", db])
    assert bad.exit_code == 2 and "--relative-to must be 'population'" in bad.output


def test_stability_between_two_periods(db) -> None:
    res = _invoke(
        ["stability", "--crime-type", "Violence and sexual offences", "--from", "2022-03",
         "--to", "2022-08", "--compare-from", "2021-09", "--compare-to", "2022-02",
         "--cell-size", "250", "--json", "--db", db]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    s = info["summary"]
    assert info["params"]["period_a"] == ["2021-09", "2022-02"]
    assert s["n_a"] + s["n_b"] == info["report"]["n_in_area"] > 5000
    assert 0.2 < s["jaccard"] < 1 and s["spearman_rho"] > 0.5 and s["spearman_p"] < 1e-6
    assert s["months_with_events_a"] == s["months_with_events_b"] == 6
