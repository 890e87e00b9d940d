"""Areas onto grid cells (peelian.analysis.grid.cell_area_codes / cell_population), hand-checked
on two square areas over a 100 m grid."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from peelian.analysis.grid import cell_area_codes, cell_population, square_grid


def _setup():
    boundary = shapely.box(0, 0, 400, 200)
    grid = square_grid(boundary, 100)
    areas = gpd.GeoDataFrame(
        {"code": ["W1", "W2"], "population": [800, 100], "imd_score": [30.5, 5.0]},
        geometry=[shapely.box(0, 0, 200, 200), shapely.box(200, 0, 300, 200)],
        crs="EPSG:27700",
    )
    return grid, areas


def test_cell_area_codes_by_centre() -> None:
    grid, areas = _setup()
    codes = cell_area_codes(grid, areas)
    want = np.where(grid.x < 200, "W1", np.where(grid.x < 300, "W2", "unknown"))
    assert list(codes) == list(want)
    assert (codes == "W1").sum() == 4 and (codes == "unknown").sum() == 2


def test_cell_population_spreads_uniformly() -> None:
    grid, areas = _setup()
    covs, info = cell_population(grid, areas)
    assert info == {"cells_with_lsoa": 6}
    # W1: 800 people over 40,000 m^2 -> 200 per 10,000 m^2 cell; W2: 100 over 20,000 -> 50
    pop = covs["population"]
    assert np.allclose(pop[grid.x < 200], 200.0)
    assert np.allclose(pop[(grid.x > 200) & (grid.x < 300)], 50.0)
    assert np.isnan(pop[grid.x > 300]).all()
    assert np.allclose(covs["imd_score"][grid.x < 200], 30.5)
