"""Emerging hot spots: Mann-Kendall against scipy's Kendall tau, Esri's classes on constructed
z series, and the whole analysis on 28 months of real Newcastle violence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from scipy import stats

from peelian.analysis.hotspots import (
    EMERGING_COLUMNS,
    PATTERNS,
    classify_patterns,
    emerging_hotspots,
    mann_kendall,
)
from peelian.errors import DataPrecisionError

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests/fixtures/hotspots/newcastle_2020-05_2022-08.csv.gz"
BOX = shapely.box(421000, 561000, 427000, 567000)


def test_mann_kendall_matches_kendall_tau_with_ties() -> None:
    rng = np.random.default_rng(11)
    series = rng.integers(0, 6, size=(50, 20)).astype(float)  # many ties
    mk = mann_kendall(series)
    t = np.arange(20)
    for i in range(50):
        x = series[i]
        s = sum(np.sign(x[j] - x[k]) for k in range(20) for j in range(k + 1, 20))
        assert mk.s[i] == s
        _, counts = np.unique(x, return_counts=True)
        var = (20 * 19 * 45 - np.sum(counts * (counts - 1) * (2 * counts + 5))) / 18
        assert mk.var_s[i] == pytest.approx(var)
        z = (s - np.sign(s)) / np.sqrt(var)
        assert mk.p_value[i] == pytest.approx(2 * stats.norm.sf(abs(z)))
    # tau-a shares its sign with scipy's tau-b
    taub = np.array([stats.kendalltau(t, series[i]).statistic for i in range(50)])
    assert (np.sign(mk.tau) == np.sign(taub)).all()


def _one(hot: str, z_trend: float = 0.0) -> str:
    """Class of one cell whose steps are h (hot), c (cold) or . (not significant)."""
    code = {"h": 3.0, "c": -3.0, ".": 0.0}
    z = np.array([[code[ch] + z_trend * i for i, ch in enumerate(hot)]])
    p = np.where(np.abs(z) > 2, 0.001, 0.5)
    mk = mann_kendall(z)
    return classify_patterns(z, p, 0.05, mk.tau, mk.p_value)[0]


def test_esri_classes() -> None:
    assert _one("." * 19 + "h") == "New Hot Spot"
    assert _one("." * 17 + "hhh") == "Consecutive Hot Spot"
    assert _one("h" * 20) == "Persistent Hot Spot"
    assert _one("h" * 20, z_trend=0.2) == "Intensifying Hot Spot"
    assert _one("h" * 20, z_trend=-0.05) == "Diminishing Hot Spot"
    assert _one("h..h...h....h......h") == "Sporadic Hot Spot"
    assert _one("c..h...h....h......h") == "Oscillating Hot Spot"
    assert _one("h" * 19 + ".") == "Historical Hot Spot"
    assert _one("." * 19 + "c") == "New Cold Spot"
    assert _one("c" * 20, z_trend=-0.2) == "Intensifying Cold Spot"
    assert _one("c" * 20) == "Persistent Cold Spot"
    assert _one("." * 20) == "No Pattern Detected"
    # "90%" rule: 18 of 20 hot steps including the last is enough, 17 is not
    assert _one("hhhhhhhh..hhhhhhhhhh") == "Persistent Hot Spot"
    assert _one("hhhhhhh...hhhhhhhhhh") == "Sporadic Hot Spot"
    assert _one("...hhhhhhhhhhhhhhhhh") == "Consecutive Hot Spot"


@pytest.fixture(scope="module")
def result():
    ev = pd.read_csv(FIXTURE)
    return emerging_hotspots(
        ev[ev["category"] == "Violence and sexual offences"], BOX, cell_size=250
    )


def test_emerging_on_real_violence(result) -> None:
    cells = result.cells
    assert tuple(cells.columns) == EMERGING_COLUMNS
    assert set(cells["pattern"]) <= set(PATTERNS)
    assert result.summary["steps"] == 28
    assert result.frames["zscores"].shape == (len(cells), 28)
    assert cells["n_total"].sum() == result.report["n_in_area"]
    assert ((cells["trend_p"] >= 0) & (cells["trend_p"] <= 1)).all()
    assert ((cells["trend_tau"] >= -1) & (cells["trend_tau"] <= 1)).all()
    counts = cells["pattern"].value_counts()
    assert counts.idxmax() == "No Pattern Detected"
    # The busiest cell (Newcastle city centre) was NOT hot during the 2020-21 lockdowns, when
    # the night-time economy was closed, and hot from spring 2021 with a rising trend: Esri's
    # "sporadic" (on-again off-again, hot at the end, < 90% of months) - a real finding.
    busiest = cells.loc[cells["n_total"].idxmax()]
    assert busiest["cell_id"] == "sq250_424750_564000" and busiest["n_total"] == 780
    assert busiest["pattern"] == "Sporadic Hot Spot" and busiest["n_hot"] == 20
    assert busiest["trend_tau"] > 0.4 and busiest["trend_p"] < 0.001
    z = result.frames["zscores"].loc["sq250_424750_564000"]
    assert z["2020-05"] < 1 and z["2021-02"] < 1 and z["2022-08"] > 10
    assert result.choices["neighbourhood"]["value"].startswith("distance band 354 m")


def test_space_time_z_equals_a_direct_computation(result) -> None:
    """Bin (i, t): neighbours = spatial neighbours at t and t-1; global mean/SD over the cube."""
    ev = pd.read_csv(FIXTURE)
    from peelian.analysis.grid import count_events, square_grid
    from peelian.analysis.hotspots import Neighbourhood, weights_matrix

    grid = square_grid(BOX, 250)
    y = count_events(grid, ev[ev["category"] == "Violence and sexual offences"]).n.astype(float)
    w = weights_matrix(grid, Neighbourhood(distance=354)).toarray()
    n, t = y.shape
    big = np.kron(np.eye(t) + np.eye(t, k=-1), w)  # block (t, t) and (t, t-1)
    x = y.T.ravel()
    wi = big.sum(axis=1)
    sd = x.std()
    z = (big @ x - x.mean() * wi) / (sd * np.sqrt((x.size * wi - wi**2) / (x.size - 1)))
    got = result.frames["zscores"].to_numpy().T.ravel()
    assert np.max(np.abs(got - z)) < 1e-9


def test_too_few_months_are_refused() -> None:
    ev = pd.read_csv(FIXTURE)
    short = ev[ev["month"] <= "2020-10"]
    with pytest.raises(DataPrecisionError, match="at least 10 time steps"):
        emerging_hotspots(short, BOX, cell_size=500)
