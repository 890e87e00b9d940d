"""Areas onto grid cells: which area each cell's centre falls in, and population and deprivation
per cell. Pure: the areas come in as GeoDataFrames (EPSG:27700), nothing is read from a store."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from peelian.analysis.grid._grid import Grid

if TYPE_CHECKING:
    import geopandas as gpd

__all__ = ["cell_area_codes", "cell_population"]


def _centres_in(grid: Grid, areas: gpd.GeoDataFrame) -> pd.DataFrame:
    """Cell index ``i`` and the row ``index_right`` of the area its centre is within (first
    match if areas overlap); cells in no area are absent."""
    import geopandas as gpd

    pts = gpd.GeoDataFrame({"i": np.arange(grid.n_cells)},
                           geometry=gpd.points_from_xy(grid.x, grid.y), crs="EPSG:27700")  # fmt: skip
    hit = gpd.sjoin(pts, areas, predicate="within")
    return hit[~hit.index.duplicated()]


def cell_area_codes(grid: Grid, areas: gpd.GeoDataFrame) -> np.ndarray:
    """The ``code`` of the area each cell's centre falls in (``"unknown"`` outside every area)."""
    hit = _centres_in(grid, areas[["code", "geometry"]])
    codes = np.full(grid.n_cells, "unknown", dtype=object)
    codes[hit["i"].to_numpy()] = hit["code"].to_numpy()
    return codes


def cell_population(
    grid: Grid, lsoa: gpd.GeoDataFrame
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Population and IMD score per cell from LSOAs (columns ``population``, ``imd_score``,
    geometry; rows without geometry are ignored).

    Each cell takes the LSOA its centre falls in: population = the LSOA's population x (cell
    in-area area / LSOA area), i.e. uniform density within an LSOA; ``imd_score`` = the LSOA's IMD
    score. Cells whose centre is in no LSOA get NaN. Returns the arrays and
    ``{"cells_with_lsoa": n}``.
    """
    lsoa = lsoa[lsoa.geometry.notna()].reset_index(drop=True)
    hit = _centres_in(grid, lsoa[["population", "imd_score", "geometry"]])
    pop = np.full(grid.n_cells, np.nan)
    imd = np.full(grid.n_cells, np.nan)
    lsoa_area = lsoa.geometry.area.to_numpy()
    j = hit["index_right"].to_numpy()
    i = hit["i"].to_numpy()
    dens = pd.to_numeric(lsoa["population"], errors="coerce").to_numpy(float) / lsoa_area
    pop[i] = dens[j] * grid.area[i]
    imd[i] = pd.to_numeric(lsoa["imd_score"], errors="coerce").to_numpy(float)[j]
    return {"population": pop, "imd_score": imd}, {"cells_with_lsoa": int(len(hit))}
