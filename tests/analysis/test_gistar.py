"""Getis-Ord Gi*: equal to esda.G_Local(star=True) on real Newcastle violence, fast path equal
to the general path, FDR equal to statsmodels' Benjamini-Hochberg."""

from __future__ import annotations

from pathlib import Path

import esda
import geopandas as gpd
import libpysal
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from peelian.analysis.grid import make_grid, square_grid
from peelian.analysis.hotspots import (
    GISTAR_COLUMNS,
    Neighbourhood,
    bh_adjust,
    gi_star_z,
    gistar,
    neighbour_sums,
)
from peelian.errors import ParameterError

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests/fixtures/hotspots/newcastle_2020-05_2022-08.csv.gz"
VIOLENCE = "Violence and sexual offences"


@pytest.fixture(scope="module")
def violence() -> pd.DataFrame:
    ev = pd.read_csv(FIXTURE)
    return ev[ev["category"] == VIOLENCE]


@pytest.fixture(scope="module")
def area():
    lad = gpd.read_file(ROOT / "demo-data/boundaries/lad2024_northumbria.geojson").to_crs(27700)
    newcastle = lad.loc[lad["ltla24_name"] == "Newcastle upon Tyne", "geometry"].union_all()
    return shapely.intersection(newcastle, shapely.box(421000, 561000, 427000, 567000))


def _esda_z(grid, y, distance):
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(grid.x, grid.y))
    w = libpysal.weights.DistanceBand.from_dataframe(
        pts, threshold=distance, binary=True, silence_warnings=True
    )
    return esda.G_Local(y, w, transform="B", star=True, permutations=0).Zs


@pytest.mark.parametrize("kind,size", [("square", 150.0), ("square", 250.0), ("hex", 200.0)])
def test_z_equals_esda_on_real_violence(violence, area, kind, size) -> None:
    grid = make_grid(area, kind, size)
    res = gistar(violence, grid)
    # 22,479 violence records in the box; those on Newcastle's side of the Tyne are counted
    assert res.cells["n"].sum() == res.report["n_in_area"] > 15000
    z_esda = _esda_z(grid, res.cells["value"].to_numpy(), res.params["distance"])
    assert np.max(np.abs(res.cells["gistar"].to_numpy() - z_esda)) < 1e-9
    assert res.summary["n_hot"] > 0


@pytest.mark.parametrize("ring", [1, 2])
def test_h3_ring_z_equals_esda_with_libpysal_contiguity(violence, area, ring) -> None:
    grid = make_grid(area, "h3", resolution=10)
    res = gistar(violence, grid, ring=ring)
    assert res.cells["n"].sum() == res.report["n_in_area"] > 15000
    # libpysal's own route: queen contiguity of the H3 hexagons (ring 1), and for ring 2 its
    # union with the second-order neighbours (cells two steps away)
    hexes = gpd.GeoDataFrame(geometry=grid._polygons, crs=27700)
    w = libpysal.weights.Queen.from_dataframe(hexes, use_index=False, silence_warnings=True)
    if ring == 2:
        w = libpysal.weights.w_union(w, libpysal.weights.higher_order(w, 2, silence_warnings=True))
    assert w.n == grid.n_cells
    assert int(res.cells["neighbours"].max()) == 1 + (6 if ring == 1 else 18)
    z_esda = esda.G_Local(
        res.cells["value"].to_numpy(), w, transform="B", star=True, permutations=0
    ).Zs
    assert np.max(np.abs(res.cells["gistar"].to_numpy() - z_esda)) < 1e-9
    assert res.summary["n_hot"] > 0 and res.params["ring"] == ring


def test_harm_z_equals_esda_with_a_wider_band(area) -> None:
    ev = pd.read_csv(FIXTURE)
    weights = {VIOLENCE: 194.21, "Robbery": 365.0, "Burglary": 274.0, "Shoplifting": 1.0}
    grid = square_grid(area, 200)
    res = gistar(ev, grid, value="harm", harm_weights=weights, distance=650)
    assert res.cells["value"].to_numpy() == pytest.approx(res.cells["harm"].to_numpy())
    z_esda = _esda_z(grid, res.cells["harm"].to_numpy(), 650)
    assert np.max(np.abs(res.cells["gistar"].to_numpy() - z_esda)) < 1e-9


@pytest.mark.parametrize("nb", [Neighbourhood(distance=1000), Neighbourhood(ring=3)])
def test_fast_path_equals_sparse_path(violence, area, nb) -> None:
    grid = square_grid(area, 100)
    y = grid.locate_events(violence)
    x = np.bincount(y[y >= 0], minlength=grid.n_cells).astype(float)
    fast = neighbour_sums(grid, x, nb, fast=True)
    slow = neighbour_sums(grid, x, nb, fast=False)
    assert np.array_equal(fast[1], slow[1])
    assert np.allclose(fast[0], slow[0], rtol=0, atol=1e-9)
    # cells cut by the boundary have fewer neighbours: n counts in-area cells only
    assert fast[1].min() < fast[1].max()
    z = gi_star_z(x, *fast)
    assert np.isfinite(z).all()


def test_output_contract_and_labels(violence, area) -> None:
    res = gistar(violence, area, cell_size=250, alpha=0.05)
    cells = res.cells
    assert tuple(cells.columns) == GISTAR_COLUMNS
    assert cells.crs.to_epsg() == 27700
    assert cells["n"].dtype == np.int64 and cells["neighbours"].dtype == np.int64
    for col in ("x", "y", "value", "gistar", "p_value", "p_adjusted"):
        assert cells[col].dtype == np.float64
    assert set(cells["hotspot"]) <= {"hot", "cold", "none"}
    assert ((cells["p_value"] >= 0) & (cells["p_value"] <= 1)).all()
    assert (cells["p_adjusted"] >= cells["p_value"] - 1e-15).all()
    hot = (cells["p_adjusted"] < 0.05) & (cells["gistar"] > 0)
    assert ((cells["hotspot"] == "hot") == hot).all()
    assert (
        np.sign(cells["gi_bin"]) == np.where(cells["p_adjusted"] < 0.1, np.sign(cells["gistar"]), 0)
    ).all()
    # the automatic neighbourhood is reported with its rule
    assert res.params["distance"] == 354.0  # ceil(sqrt(2) * 250)
    assert "8 neighbours" in res.choices["neighbourhood"]["rule"]
    d = res.to_dict()
    assert d["summary"]["n_hot"] == int((cells["hotspot"] == "hot").sum())


def test_fdr_equals_statsmodels_and_switches_off() -> None:
    rng = np.random.default_rng(7)
    p = np.concatenate([rng.uniform(size=300), rng.uniform(0, 1e-3, size=20)])
    expected = multipletests(p, method="fdr_bh")[1]
    assert np.allclose(bh_adjust(p), expected, rtol=1e-12)


def test_permutation_p_is_reproducible_and_tracks_analytic_p(violence, area) -> None:
    a = gistar(violence, area, cell_size=300, permutations=199, seed=3)
    b = gistar(violence, area, cell_size=300, permutations=199, seed=3)
    assert np.array_equal(a.cells["p_sim"], b.cells["p_sim"])
    p_sim = a.cells["p_sim"].to_numpy()
    assert ((p_sim >= 1 / 200) & (p_sim <= 1)).all()
    strong = a.cells["gistar"].abs() > 4
    assert strong.sum() >= 5 and (p_sim[strong] <= 0.05).all()
    from scipy.stats import spearmanr

    assert spearmanr(p_sim, a.cells["p_value"]).statistic > 0.5
    assert a.summary["p_used"] == "permutation"


def test_bad_parameters(violence, area) -> None:
    with pytest.raises(ParameterError, match="'alpha' parameter of gistar must be a number"):
        gistar(violence, area, alpha=5)
    with pytest.raises(ParameterError, match="needs harm_weights"):
        gistar(violence, area, value="harm")
    with pytest.raises(ParameterError, match="either 'distance' or 'ring'"):
        gistar(violence, area, distance=300, ring=1)


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(0, 50), min_size=20, max_size=20),
    ring=st.integers(1, 2),
)
def test_p_values_are_probabilities(counts, ring) -> None:
    grid = square_grid(shapely.box(0, 0, 500, 400), 100)
    x = np.asarray(counts, dtype=float)
    sums, card = neighbour_sums(grid, x, Neighbourhood(ring=ring))
    z = gi_star_z(x, sums, card)
    from scipy import stats

    p = 2 * stats.norm.sf(np.abs(np.nan_to_num(z)))
    assert ((p >= 0) & (p <= 1)).all()
    adj = bh_adjust(p)
    assert ((adj >= 0) & (adj <= 1)).all()
