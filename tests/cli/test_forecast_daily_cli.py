"""``peelian forecast --freq D``: daily forecasts of force records (times to the minute), and the
refusal of month-precision data. A store with the real Northumbria areas and the SYNTHETIC force
records of central Newcastle (tests/fixtures/hotspots/force_synthetic, 2020-01..2021-12)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from peelian.cli import app

ROOT = Path(__file__).parents[2]
FORCE = ROOT / "tests/fixtures/hotspots/force_synthetic"
runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    from peelian.data.geography import load_areas
    from peelian.data.ingest.force import ingest_force
    from peelian.data.store import open_store

    url = f"sqlite:///{tmp_path_factory.mktemp('daily') / 'store.sqlite'}"
    store = open_store(url)
    load_areas(store)
    ingest_force(store, [FORCE], "synthetic_rms")
    store.dispose()
    return url


@pytest.fixture(scope="module")
def reported(db: str) -> pd.Series:
    """Force records per reporting day, read straight from the store (not through the cube)."""
    from peelian.data.force_frames import load_occurrences
    from peelian.data.store import open_store

    store = open_store(db, initialise=False)
    occ = load_occurrences(store)
    store.dispose()
    return occ["reported_at"].dt.to_period("D").value_counts().sort_index()


def _invoke(args: list[str]):
    return runner.invoke(app, ["forecast", *args], catch_exceptions=False)


def test_daily_backtest_scores_each_day(db: str, reported: pd.Series) -> None:
    res = _invoke(["backtest", "--crime-type", "all", "--freq", "D", "--test-from", "2021-12-01",
                   "--test-to", "2021-12-07", "--history", "90", "--models",
                   "all_history,moving_average,sepp", "--json", "--db", db])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    days = [f"2021-12-0{d}" for d in range(1, 8)]
    assert out["freq"] == "D" and out["test_periods"] == days and out["test_months"] == []
    assert out["synthetic"] is True and out["source"] == "force records"
    assert out["time_basis"].startswith("reported_at")
    assert out["report"]["first_period"] == "2021-09-02"  # 90 days before the first test day
    r = pd.DataFrame(out["results"])
    cp = r[(r["area_basis"] == "crime-possible") & (r["coverage"] == 1.0)]
    ah = cp[cp["model"] == "all_history"].set_index("month")
    # every record reported that day is an event of the day (the fixture lies in the force area)
    want = reported.reindex(pd.PeriodIndex(days, freq="D"), fill_value=0).to_numpy()
    np.testing.assert_array_equal(ah.loc[days, "n_events"].to_numpy(), want)
    assert want.sum() > 15
    assert out["crime_possible_rule"] == (
        "cells with at least one force-record event of any type in the training periods"
    )
    assert set(cp["model"]) == {"all_history", "moving_average", "sepp"}
    assert len(cp) == 3 * 7 and cp["pai"].notna().all()
    # the synthetic records have no near repeats: the model says so, in terms of days
    (warning,) = out["warnings"]["sepp"]
    assert "Counted per day" in warning and "dated only to the" not in warning


def test_daily_backtest_table_says_days_and_synthetic(db: str) -> None:
    res = _invoke(["backtest", "--crime-type", "all", "--freq", "D", "--test-from", "2021-12-30",
                   "--test-to", "2021-12-31", "--history", "30", "--models",
                   "all_history,last_period", "--db", db])  # fmt: skip
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "backtest 2021-12-30..2021-12-31 (2 days)" in text
    assert "SYNTHETIC force records" in text and "mean over the days" in text
    assert "Best by highest mean PAI at 1% of the crime-possible area:" in text


def test_daily_predict_fits_the_self_exciting_model(db: str, reported: pd.Series) -> None:
    res = _invoke(["predict", "--crime-type", "all", "--freq", "d", "--model", "best",
                   "--history", "60", "--json", "--db", db])  # fmt: skip
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    assert out["period"] == "2022-01-01" and out["model"] == "sepp"  # the day after the last
    assert "self-exciting" in out["choices"]["model"]["rule"]
    fit = out["fit"]
    assert fit["collapsed"] is True and fit["trigger_share"] < 0.05
    last60 = reported[reported.index >= pd.Period("2021-11-02", freq="D")]
    # collapsed, the model is each cell's mean: the day's total is the mean records per day
    assert out["expected_total"] == pytest.approx(last60.sum() / 60, rel=0.05)
    assert out["report"]["events_counted"] == last60.sum()
    text = _invoke(["predict", "--crime-type", "all", "--freq", "D", "--model", "all_history",
                    "--history", "60", "--db", db])  # fmt: skip
    assert text.exit_code == 0, text.output
    assert "SYNTHETIC force records" in text.output and "2022-01-01" in text.output


def test_month_precision_stores_are_refused(tmp_path: Path) -> None:
    from peelian.data.store import open_store

    url = f"sqlite:///{tmp_path / 'policeuk-only.sqlite'}"
    open_store(url).dispose()
    res = _invoke(["backtest", "--crime-type", "Burglary", "--freq", "D", "--test-from",
                   "2022-08-01", "--test-to", "2022-08-07", "--db", url])  # fmt: skip
    assert res.exit_code == 5
    assert "needs event times to the day or minute" in res.output
    assert "police.uk records are dated only to the month" in res.output
    assert "peelian ingest force" in res.output and "--freq M" in res.output
    res = _invoke(["predict", "--crime-type", "Burglary", "--freq", "W", "--json", "--db", url])
    assert res.exit_code == 5
    assert json.loads(res.stdout)["error"]["code"] == "insufficient_precision"


def test_bad_daily_options_say_how_to_fix(db: str) -> None:
    res = _invoke(["backtest", "--crime-type", "all", "--freq", "D", "--test-from", "2021-12",
                   "--test-to", "2021-12-07", "--db", db])  # fmt: skip
    assert res.exit_code != 0 and "--test-from must be a date, YYYY-MM-DD" in res.output
    res = _invoke(["backtest", "--crime-type", "all", "--freq", "D", "--test-from", "2021-12-07",
                   "--test-to", "2021-12-01", "--db", db])  # fmt: skip
    assert res.exit_code != 0 and "is after --test-to" in res.output
    res = _invoke(["predict", "--crime-type", "all", "--freq", "D", "--save", "--db", db])
    assert res.exit_code != 0 and "daily and weekly forecasts are not saved" in res.output
    res = _invoke(["predict", "--crime-type", "all", "--freq", "Q", "--db", db])
    assert res.exit_code != 0 and "--freq must be M (month), W (week) or D (day)" in res.output
