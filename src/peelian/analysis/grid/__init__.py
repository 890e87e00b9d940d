"""Grids over a study area in British National Grid metres, and events counted on them.

    from peelian.analysis.grid import make_grid, count_events
    grid = make_grid(boundary, "square", 250)          # boundary: shapely, EPSG:27700
    counts = count_events(grid, events, harm_weights=weights)
    counts.n          # int array (cells x months)
    counts.to_frame() # cell_id, period, n, harm  (long)
    counts.report     # n_events = n_in_area + n_unlocated + n_outside_area + n_outside_period

Square, hexagonal (``cell_size`` = flat-to-flat width) and H3 (v4) grids, clipped to the
boundary; ``grid.cells`` has the columns :data:`CELL_COLUMNS`. Areas onto cells:
:func:`cell_area_codes` (the area each cell centre is in) and :func:`cell_population`.
"""

from peelian.analysis.grid._areas import cell_area_codes, cell_population
from peelian.analysis.grid._checks import (
    ANONYMISATION_SCALE_M,
    check_boundary,
    check_params,
    event_coordinates,
)
from peelian.analysis.grid._counts import (
    HARM_KEY_COLUMNS,
    CellCounts,
    count_events,
    event_weights,
)
from peelian.analysis.grid._grid import (
    CELL_COLUMNS,
    Grid,
    auto_cell_size,
    hex_grid,
    make_grid,
    square_grid,
)
from peelian.analysis.grid._h3 import h3_grid, h3_resolution_for, to_bng, to_wgs84

__all__ = [
    "ANONYMISATION_SCALE_M",
    "CELL_COLUMNS",
    "CellCounts",
    "HARM_KEY_COLUMNS",
    "Grid",
    "auto_cell_size",
    "cell_area_codes",
    "cell_population",
    "check_boundary",
    "check_params",
    "count_events",
    "event_coordinates",
    "event_weights",
    "h3_grid",
    "h3_resolution_for",
    "hex_grid",
    "make_grid",
    "square_grid",
    "to_bng",
    "to_wgs84",
]
