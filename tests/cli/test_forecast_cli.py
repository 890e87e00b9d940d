"""``peelian forecast`` end to end on a store with the real Northumbria areas and ten months of
real police.uk burglary and violence records around central Newcastle."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from peelian.cli import app

ROOT = Path(__file__).parents[2]
ZIP = ROOT / "demo-data/policeuk/northumbria_2020-05_2022-08.zip"
MONTHS = [str(p) for p in pd.period_range("2021-11", "2022-08", freq="M")]
KEEP = {"Burglary", "Violence and sexual offences"}
runner = CliRunner()


def _subset(folder: Path) -> int:
    rows = 0
    with zipfile.ZipFile(ZIP) as zf:
        for month in MONTHS:
            name = f"{month}/{month}-northumbria-street.csv"
            frame = pd.read_csv(io.BytesIO(zf.read(name)), dtype=str)
            lon = pd.to_numeric(frame["Longitude"], errors="coerce")
            lat = pd.to_numeric(frame["Latitude"], errors="coerce")
            keep = lon.between(-1.66, -1.56) & lat.between(54.95, 55.00)
            keep &= frame["Crime type"].isin(KEEP)
            (folder / month).mkdir()
            frame[keep].to_csv(folder / name, index=False)
            rows += int(keep.sum())
    return rows


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    from peelian.data.geography import load_areas
    from peelian.data.ingest import ingest_policeuk
    from peelian.data.store import open_store

    tmp = tmp_path_factory.mktemp("forecast")
    url = f"sqlite:///{tmp / 'store.sqlite'}"
    store = open_store(url)
    load_areas(store)
    src = tmp / "policeuk"
    src.mkdir()
    assert _subset(src) > 5000
    ingest_policeuk(store, [src])
    store.dispose()
    return url


def _invoke(args: list[str]):
    return runner.invoke(app, ["forecast", *args], catch_exceptions=False)


@pytest.fixture(scope="module")
def backtest(db: str) -> dict:
    """Run (and save) the burglary backtest once per module, whichever worker asks first, so the
    ``predict`` test never depends on test order under ``pytest -n``."""
    res = _invoke(["backtest", "--crime-type", "Burglary", "--test-from", "2022-07",
                   "--test-to", "2022-08", "--cell-size", "250", "--models",
                   "all_history,last_period,kde,sepp,learned", "--json", "--save", "--db",
                   db])  # fmt: skip
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_backtest_json_schema_and_saved_result(db: str, backtest: dict) -> None:
    out = backtest
    results = pd.DataFrame(out["results"])
    for col in ("model", "month", "area_basis", "coverage", "hit_rate", "pai", "pei", "rri",
                "ll_per_event", "deviance_per_event", "pai_skill", "domain_cells", "domain_km2",
                "flagged_km2"):  # fmt: skip
        assert col in results.columns
    assert len(results) == 5 * 2 * 2 * 5  # models x months x area bases x coverages
    assert sorted(results["coverage"].unique()) == [0.1, 0.5, 1.0, 2.0, 5.0]
    assert set(results["area_basis"]) == {"crime-possible", "whole force"}
    assert set(results["month"]) == {"2022-07", "2022-08"}
    assert results["hit_rate"].between(0, 1).all() and results["pei"].between(0, 1).all()
    np.testing.assert_allclose(results["pai"], results["hit_rate"] / (results["coverage"] / 100))
    assert out["best_model"] in {"all_history", "last_period", "kde", "sepp", "learned"}
    # coverage is of the crime-possible cells: any type of police.uk event before the test month
    cp = results[results["area_basis"] == "crime-possible"]
    whole = results[results["area_basis"] == "whole force"]
    assert cp["domain_cells"].max() < whole["domain_cells"].min()
    np.testing.assert_allclose(cp["flagged_km2"], cp["domain_km2"] * cp["coverage"] / 100)
    ah = cp[cp["model"] == "all_history"]
    assert (ah.loc[ah["pai"] > 0, "pai_skill"] == 0).all()  # 0 / 0 at 0.1 % is NaN
    # the self-exciting model on monthly, snapped data collapses, and says so
    assert "collapsed" in out["warnings"]["sepp"][0]
    assert out["covariates"]["level"] in ("lsoa21", "lsoa11")
    rep = out["report"]
    assert (
        rep["events_read"]
        == rep["events_counted"] + rep["unlocated"] + rep["outside_area"] + (rep["outside_periods"])
    )
    # real data: 5 % of the whole force holds every cell with crime here, so PAI nears its
    # ceiling of 20; over the crime-possible cells it does not
    w5 = whole[whole["coverage"] == 5.0].groupby("model")["pai"].mean()
    c5 = cp[cp["coverage"] == 5.0].groupby("model")["pai"].mean()
    assert w5["all_history"] > 15.0 and c5["all_history"] < 0.5 * w5["all_history"]

    from peelian.data.results import latest_result
    from peelian.data.store import open_store

    run = latest_result(open_store(db), "backtest", "burglary")
    assert run.id == out["run_id"]
    assert {"model", "coverage", "pai_mean", "pai_std"} <= set(run.frames["summary"].columns)
    assert len(run.frames["results"]) == len(results)


def test_predict_uses_the_best_backtested_model(db: str, backtest: dict) -> None:
    res = _invoke(["predict", "--crime-type", "Burglary", "--json", "--save", "--db", db])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["month"] == "2022-09"
    assert "backtest run" in out["choices"]["model"]["rule"]
    assert out["expected_in_flagged"] <= out["expected_total"]
    ranks = [c["rank"] for c in out["top"]]
    assert ranks == sorted(ranks) and ranks[0] == 1
    # the default coverage is 1 % of the crime-possible area, stated in cells and km^2
    stated = out["coverage_statement"]
    assert out["coverage"] == 1.0 and stated["area_basis"] == "crime-possible"
    assert stated["expected_flagged_km2"] == pytest.approx(0.01 * stated["domain_km2"])
    assert 0 < stated["flagged_cells"] <= 0.01 * stated["domain_cells"] + 1

    from peelian.data.results import latest_result
    from peelian.data.store import open_store

    cells = latest_result(open_store(db), "forecast", "burglary").frames["cells"]
    assert {"cell_id", "x", "y", "predicted", "rank", "flagged", "flag_share", "tied",
            "crime_possible", "geometry"} <= set(cells.columns)  # fmt: skip
    assert cells.crs.to_epsg() == 27700


def test_bad_input_gives_one_line_and_exit_code(db: str) -> None:
    res = _invoke(["backtest", "--crime-type", "Burglary", "--test-from", "2023-01",
                   "--test-to", "2023-02", "--db", db])  # fmt: skip
    assert res.exit_code == 2 and "not in the loaded data" in res.output
    res = _invoke(["backtest", "--crime-type", "Burglary", "--test-from", "2022-07",
                   "--test-to", "2022-08", "--models", "oracle", "--db", db])  # fmt: skip
    assert res.exit_code == 2 and "oracle" in res.output
    res = _invoke(["backtest", "--crime-type", "Burglary", "--test-from", "2021-12",
                   "--test-to", "2022-01", "--db", db])  # fmt: skip
    assert res.exit_code == 2 and "history" in res.output
    assert "Traceback" not in res.output
