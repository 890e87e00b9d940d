"""Concentration (Gini, generalised Gini, top shares, Lorenz) and stability on real data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from peelian.analysis.hotspots import (
    CONCENTRATION_COLUMNS,
    STABILITY_COLUMNS,
    concentration,
    generalised_gini,
    gini,
    lorenz_curve,
    stability,
    top_share,
)
from peelian.errors import EmptySelectionError, ParameterError

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests/fixtures/hotspots/newcastle_2020-05_2022-08.csv.gz"
BOX = shapely.box(421000, 561000, 427000, 567000)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


def test_gini_matches_lorenzgini_examples() -> None:
    # the examples of Bernasco & Steenbeek's R package lorenzgini (gini.R)
    assert gini([10, 8, 2] + [0] * 7) == pytest.approx(0.78)
    assert generalised_gini([10, 8, 2] + [0] * 7) == pytest.approx(0.78)
    assert gini([5, 2, 1] + [0] * 7) == pytest.approx(0.80)
    assert generalised_gini([5, 2, 1] + [0] * 7) == pytest.approx(0.75)
    assert gini([10] + [0] * 9) == pytest.approx(0.9)
    # 5 crimes over 10 places, spread as evenly as possible: no concentration beyond the minimum
    assert generalised_gini([1] * 5 + [0] * 5) == pytest.approx(0.0)


def test_concentration_on_real_violence(events) -> None:
    weights = {"Violence and sexual offences": 194.21, "Robbery": 365.0, "Shoplifting": 1.0}
    res = concentration(events, BOX, cell_size=250, harm_weights=weights)
    cells = res.cells
    assert tuple(cells.columns) == CONCENTRATION_COLUMNS
    n = cells["n"].to_numpy()
    s = res.summary
    assert s["n_events"] == n.sum() == res.report["n_in_area"]
    assert s["gini"] == pytest.approx(gini(n))
    assert 0 < s["gini_poisson_expected"] < s["gini_generalised"] <= 1
    shares = res.frames["shares"]
    k = math.ceil(0.05 * len(n))
    assert shares.loc[shares["top_fraction"] == 0.05, "share_n"].item() == pytest.approx(
        np.sort(n)[::-1][:k].sum() / n.sum()
    )
    # ranks and cumulative shares agree
    top = cells.sort_values("rank")
    assert top["cum_share_n"].iloc[-1] == pytest.approx(1.0)
    assert top["cum_share_n"].is_monotonic_increasing
    assert (np.diff(top["n"].to_numpy()) <= 0).all()
    lor = res.frames["lorenz"]
    assert lor["share"].iloc[0] == 0 and lor["share"].iloc[-1] == pytest.approx(1.0)
    assert "gini_harm" in s


def test_stability_between_years(events) -> None:
    res = stability(
        events,
        BOX,
        period_a=("2020-09", "2021-08"),
        period_b=("2021-09", "2022-08"),
        cell_size=250,
        top=0.05,
    )
    cells = res.cells
    assert tuple(cells.columns) == STABILITY_COLUMNS
    a, b = cells["top_a"].to_numpy(), cells["top_b"].to_numpy()
    assert a.sum() == b.sum() == res.summary["top_cells"]
    assert res.summary["jaccard"] == pytest.approx((a & b).sum() / (a | b).sum())
    rho = stats.spearmanr(cells["n_a"], cells["n_b"]).statistic
    assert res.summary["spearman_rho"] == pytest.approx(rho)
    # lockdown year vs the year after: the top 5% of cells only partly coincide
    assert 0.25 < res.summary["jaccard"] < 0.6 and rho > 0.5
    with pytest.raises(ParameterError, match="overlap"):
        stability(events, BOX, period_a=("2021-01", "2021-06"), period_b=("2021-06", "2021-12"))


def test_empty_selection(events) -> None:
    with pytest.raises(EmptySelectionError):
        concentration(events.iloc[:0], BOX, cell_size=250)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(0, 30), min_size=2, max_size=60).filter(lambda v: sum(v) > 0))
def test_shares_are_monotone_and_bounded(values) -> None:
    x = np.asarray(values)
    fr = [0.01, 0.05, 0.1, 0.2, 0.5, 0.99]
    shares = [top_share(x, f) for f in fr]
    assert all(0 <= s <= 1 + 1e-12 for s in shares)
    assert all(b >= a - 1e-12 for a, b in zip(shares, shares[1:], strict=False))
    curve = lorenz_curve(x)["share"].to_numpy()
    assert (np.diff(curve) >= -1e-12).all()
    assert 0 <= gini(x) < 1 and generalised_gini(x) <= 1 + 1e-12
