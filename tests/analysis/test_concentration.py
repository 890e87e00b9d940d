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


def _generalised_gini_by_areas(values: list[float]) -> float:
    """G' from Bernasco & Steenbeek's definitions, by areas: the Lorenz curve (places sorted
    from least to most crime, trapezoids) against the line of maximal equality, which puts one
    crime in each of min(n, N) places."""
    x = np.sort(np.asarray(values, dtype=float))
    places, crimes = len(x), x.sum()
    y = np.concatenate([[0.0], np.cumsum(x) / crimes])
    area_observed = float(np.sum((y[1:] + y[:-1]) / 2) / places)
    area_maximal = min(crimes, places) / (2 * places)
    return (area_maximal - area_observed) / area_maximal


def test_generalised_gini_from_the_papers_definitions() -> None:
    """Hand-worked: 10 places with 3 + 1 + 1 crimes. Sorted ascending the Lorenz curve is 0 up
    to 0.7 of the places, then 0.2, 0.4 and 1.0: area 0.01 + 0.03 + 0.07 = 0.11. The line of
    maximal equality (5 places with one crime each) runs from (0.5, 0) to (1, 1): area 0.25.
    G = 1 - 2 x 0.11 = 0.78 and G' = (0.25 - 0.11) / 0.25 = 0.56."""
    x = [3, 1, 1] + [0] * 7
    assert _generalised_gini_by_areas(x) == pytest.approx(0.56)
    assert gini(x) == pytest.approx(0.78)
    assert generalised_gini(x) == pytest.approx(0.56)
    rng = np.random.default_rng(5)
    for _ in range(50):
        places = int(rng.integers(2, 60))
        v = rng.poisson(rng.uniform(0.05, 3), places)
        if v.sum() == 0:
            continue
        assert generalised_gini(v) == pytest.approx(_generalised_gini_by_areas(v), abs=1e-12)


def test_chance_benchmark_spreads_over_the_places_where_crime_happens(events) -> None:
    """Issue 12 item 7a: with all crime as the reference, chance spreads the robberies over the
    cells where any crime happened (not uniformly by area over every cell), and the run says so."""
    robbery = events[events["category"] == "Robbery"]
    inside = events.dropna(subset=["easting"])
    inside = inside[shapely.contains_xy(BOX, inside["easting"], inside["northing"])]
    active = set(
        zip(
            np.floor(inside["easting"] / 250).astype(int),
            np.floor(inside["northing"] / 250).astype(int),
            strict=True,
        )
    )
    # a reference with crime only in the western half of the box: the benchmark follows it
    west = events[events["easting"] < 424000]
    west_active = {c for c in active if c[0] * 250 < 424000}
    res = concentration(robbery, BOX, cell_size=250, reference=west, simulations=100, seed=3)
    s = res.summary
    assert s["chance_cells"] == len(west_active) < s["n_cells"] == 576
    assert s["chance_benchmark"].startswith(
        f"crimes at random, uniformly over the {len(west_active):,} cells with at least one"
    )
    # G0 by an independent simulation: robberies uniform over those cells, G' over every cell
    n = int(s["n_events"])
    rng = np.random.default_rng(99)
    sims = []
    for _ in range(300):
        counts = np.zeros(576)
        counts[: len(west_active)] = rng.multinomial(
            n, np.full(len(west_active), 1 / len(west_active))
        )
        sims.append(generalised_gini(counts))
    assert s["gini_poisson_expected"] == pytest.approx(np.mean(sims), abs=0.005)
    by_area = concentration(robbery, BOX, cell_size=250, simulations=100, seed=3).summary
    assert by_area["chance_benchmark"].startswith("crimes at random, uniformly by area")
    assert by_area["chance_cells"] == 576 and math.isnan(by_area["gini_active"])
    assert s["gini_poisson_expected"] > by_area["gini_poisson_expected"] + 0.1
    assert s["gini"] == by_area["gini"]  # the observed concentration does not change
    # over the active cells only (the paper's places): G' computed on that subset
    full = concentration(robbery, BOX, cell_size=250, reference=events, simulations=20)
    cells = full.cells
    on = np.array(
        [
            (int(np.floor(x / 250)), int(np.floor(y / 250))) in active
            for x, y in zip(cells["x"], cells["y"], strict=True)
        ]
    )
    assert full.summary["chance_cells"] == on.sum() == len(active)
    assert full.summary["gini_generalised_active"] == pytest.approx(
        generalised_gini(cells["n"].to_numpy()[on])
    )


def test_summary_names_the_chance_correction_honestly(events) -> None:
    from peelian.analysis.hotspots import concentration_summary

    res = concentration(events[events["category"] == "Robbery"], BOX, cell_size=250, simulations=20)
    labels = concentration_summary(res).set_index("statistic")["label"]
    assert labels["gini_poisson_adjusted"] == (
        "Chance-corrected generalised Gini, (G' - G0)/(1 - G0) (peelian's normalisation)"
    )
    assert labels["gini_generalised"] == "Generalised Gini (Bernasco & Steenbeek)"
