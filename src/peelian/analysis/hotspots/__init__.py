"""Hotspot statistics on grids: counts, KDE, Getis-Ord Gi* with FDR, concentration and
stability, and emerging hot spots (space-time Gi* + Mann-Kendall, Esri's classes).

Every function takes events (``easting``/``northing`` in EPSG:27700, ``month``, ``category``)
and the study area (a shapely geometry in EPSG:27700, or a :class:`~peelian.analysis.grid.Grid`
to reuse), and returns a frozen :class:`HotspotResult` whose ``cells`` GeoDataFrame has fixed,
documented columns. ``None`` parameters are chosen automatically and reported in
``result.choices``.
"""

from peelian.analysis.hotspots._concentration import (
    CONCENTRATION_COLUMNS,
    STABILITY_COLUMNS,
    SUMMARY_TOP,
    concentration,
    concentration_summary,
    generalised_gini,
    gini,
    lorenz_curve,
    lorenz_table,
    poisson_expected_gini,
    stability,
    top_share,
)
from peelian.analysis.hotspots._count import COUNT_COLUMNS, cell_counts
from peelian.analysis.hotspots._emerging import (
    EMERGING_COLUMNS,
    PATTERNS,
    classify_patterns,
    emerging_hotspots,
)
from peelian.analysis.hotspots._gistar import (
    GISTAR_COLUMNS,
    bh_adjust,
    gi_star_z,
    gistar,
    gistar_values,
    neighbour_sums,
)
from peelian.analysis.hotspots._kde import (
    DUAL_KDE_COLUMNS,
    KDE_COLUMNS,
    arcgis_bandwidth,
    dual_kde,
    kde,
    kernel_value,
)
from peelian.analysis.hotspots._mannkendall import MannKendall, mann_kendall
from peelian.analysis.hotspots._neighbours import (
    Neighbourhood,
    choose_neighbourhood,
    weights_matrix,
)
from peelian.analysis.hotspots._results import HotspotResult

__all__ = [
    "CONCENTRATION_COLUMNS",
    "COUNT_COLUMNS",
    "DUAL_KDE_COLUMNS",
    "EMERGING_COLUMNS",
    "GISTAR_COLUMNS",
    "HotspotResult",
    "KDE_COLUMNS",
    "MannKendall",
    "Neighbourhood",
    "PATTERNS",
    "STABILITY_COLUMNS",
    "SUMMARY_TOP",
    "arcgis_bandwidth",
    "bh_adjust",
    "cell_counts",
    "choose_neighbourhood",
    "classify_patterns",
    "concentration",
    "concentration_summary",
    "dual_kde",
    "emerging_hotspots",
    "generalised_gini",
    "gi_star_z",
    "gini",
    "gistar",
    "gistar_values",
    "kde",
    "kernel_value",
    "lorenz_curve",
    "lorenz_table",
    "mann_kendall",
    "neighbour_sums",
    "poisson_expected_gini",
    "stability",
    "top_share",
    "weights_matrix",
]
