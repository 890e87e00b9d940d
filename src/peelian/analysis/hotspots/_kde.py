"""Kernel density estimation on a square grid in metres: quartic or Gaussian kernels, an
automatic (reported) bandwidth, and dual KDE (crime relative to population).

Events are binned to the grid (or to a finer grid, ``oversample`` bins per cell side) and the
bins are convolved with the kernel by FFT (scipy.signal.fftconvolve). The result equals the
direct kernel sum over the events placed at their bin centres (tested), so the only
approximation is binning: at most half a bin (``cell_size / oversample / 2``) of displacement,
well inside police.uk's own ~200 m snapping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import signal

from peelian.analysis.grid import Grid, check_params, event_coordinates, event_weights
from peelian.analysis.hotspots._results import (
    HotspotResult,
    base_frame,
    prepare_counts,
)
from peelian.errors import ParameterError, SchemaError

__all__ = [
    "DUAL_KDE_COLUMNS",
    "KDE_COLUMNS",
    "arcgis_bandwidth",
    "dual_kde",
    "kde",
    "kernel_value",
]

log = logging.getLogger("peelian.analysis.hotspots")

#: Columns of ``kde(...).cells``: ``density`` is events (or harm days, with value="harm") per
#: km^2 at the cell centre.
KDE_COLUMNS: tuple[str, ...] = ("cell_id", "x", "y", "n", "harm", "density", "geometry")
#: Columns of ``dual_kde(...).cells``: population_density in residents per km^2; relative_risk
#: is density / population_density x ``per`` (crimes per ``per`` residents; NaN where fewer than
#: ``min_population_density`` residents per km^2).
DUAL_KDE_COLUMNS: tuple[str, ...] = (
    "cell_id", "x", "y", "n", "harm", "density", "population_density", "relative_risk",
    "geometry",
)  # fmt: skip
#: The Gaussian kernel is cut at this many bandwidths (mass lost: exp(-8) = 0.03%).
GAUSSIAN_CUTOFF = 4.0


def kernel_value(d: np.ndarray, h: float, kernel: str) -> np.ndarray:
    """Kernel height (per m^2) at distance ``d`` for bandwidth ``h``; each kernel integrates to 1.

    Quartic (biweight): 3 / (pi h^2) (1 - d^2/h^2)^2 for d < h (Silverman 1986, "Density
    Estimation for Statistics and Data Analysis", eq. 4.5; the ArcGIS Kernel Density kernel).
    Gaussian: exp(-d^2 / (2 h^2)) / (2 pi h^2), cut at 4h.
    """
    u2 = (np.asarray(d, dtype=float) / h) ** 2
    if kernel == "quartic":
        return np.where(u2 < 1.0, 3.0 / (math.pi * h * h) * (1.0 - u2) ** 2, 0.0)
    return np.where(u2 <= GAUSSIAN_CUTOFF**2, np.exp(-0.5 * u2) / (2.0 * math.pi * h * h), 0.0)


def arcgis_bandwidth(x: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """ArcGIS's default search radius for Kernel Density (ArcGIS Pro, "How Kernel Density works").

    h = 0.9 x min(SD, sqrt(1 / ln 2) x D_m) x n^(-0.2), with SD the standard distance and D_m
    the median distance from the mean centre (weighted by ``w``; n = sum of weights): Silverman's
    rule of thumb made robust to spatial outliers.
    """
    w = np.ones(len(x)) if w is None else np.asarray(w, dtype=float)
    total = float(w.sum())
    mx, my = np.average(x, weights=w), np.average(y, weights=w)
    d2 = (x - mx) ** 2 + (y - my) ** 2
    sd = math.sqrt(float(np.sum(w * d2)) / total)
    d = np.sqrt(d2)
    order = np.argsort(d)
    cum = np.cumsum(w[order])
    dm = float(d[order][np.searchsorted(cum, 0.5 * total)])
    return 0.9 * min(sd, math.sqrt(1.0 / math.log(2.0)) * dm) * total**-0.2


def _density_raster(
    grid: Grid, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: float, kernel: str, m: int
) -> np.ndarray:
    """Kernel density (per m^2) at every lattice cell centre from points binned m x m per cell."""
    assert grid.origin is not None and grid.lattice_shape is not None
    cs = grid.cell_size
    f = cs / m
    nr, nc = grid.lattice_shape
    fr = np.floor((y - grid.origin[1]) / f).astype(np.int64)
    fc = np.floor((x - grid.origin[0]) / f).astype(np.int64)
    ok = (fr >= 0) & (fr < nr * m) & (fc >= 0) & (fc < nc * m)
    fr, fc, w = fr[ok], fc[ok], w[ok]
    support = h if kernel == "quartic" else GAUSSIAN_CUTOFF * h
    r = int(math.ceil(support / cs)) + 1
    offs = np.arange(-r, r + 1) * cs
    out = np.zeros((nr, nc))
    for a in range(m):  # row phase
        for b in range(m):  # column phase
            sel = (fr % m == a) & (fc % m == b)
            if not sel.any():
                continue
            bins = np.bincount(
                (fr[sel] // m) * nc + fc[sel] // m, weights=w[sel], minlength=nr * nc
            ).reshape(nr, nc)
            dy = offs + (a + 0.5 - m / 2.0) * f
            dx = offs + (b + 0.5 - m / 2.0) * f
            kern = kernel_value(np.hypot(dy[:, None], dx[None, :]), h, kernel)
            out += signal.fftconvolve(bins, kern[::-1, ::-1], mode="same")
    return np.clip(out, 0.0, None)


def _points(
    events: pd.DataFrame, positions: np.ndarray, func: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y = event_coordinates(events, func)
    use = positions >= 0
    return x[use], y[use], use


def _bandwidth(
    bandwidth: float | None,
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    grid: Grid,
    choices: dict[str, Any],
    warnings: list[str],
) -> float:
    if bandwidth is None:
        h = arcgis_bandwidth(x, y, w)
        choices["bandwidth"] = {
            "value": round(h, 1),
            "rule": "ArcGIS default: 0.9 x min(SD, sqrt(1/ln 2) x Dm) x n^-0.2 "
            "(Silverman's rule made robust; weighted when weights are given)",
        }
        log.info("kde: bandwidth %.0f m chosen automatically", h)
    else:
        h = float(bandwidth)
    if h < grid.cell_size:
        msg = (
            f"The bandwidth ({h:.0f} m) is smaller than a cell ({grid.cell_size:g} m): the "
            "surface will be spiky; use a larger bandwidth or smaller cells."
        )
        log.warning(msg)
        warnings.append(msg)
    return h


def kde(
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None = None,
    bandwidth: float | None = None,
    kernel: str = "quartic",
    value: str = "count",
    harm_weights: Mapping[str, float] | None = None,
    harm_col: str | None = None,
    oversample: int = 1,
) -> HotspotResult:
    """Kernel density of ``events`` on a square grid over ``boundary`` (EPSG:27700 metres).

    ``bandwidth=None`` uses :func:`arcgis_bandwidth` and reports it. ``value="harm"`` weights each
    event by its CCHI weight: ``harm_weights`` keyed by ``harm_col`` (default the police.uk
    category, ``category`` or force records' ``policeuk_category``; ``"ho_code"`` with Home
    Office code weights). ``oversample`` (odd) bins events ``oversample`` x ``oversample`` per
    cell before convolving. Refuses longitude/latitude. ``cells`` has :data:`KDE_COLUMNS`.
    """
    check_params(
        "kde", {"bandwidth": bandwidth, "kernel": kernel, "value": value, "oversample": oversample}
    )
    if value == "harm" and harm_weights is None:
        raise ParameterError(
            "kde with value='harm' needs harm_weights (category -> CCHI days).",
            "Pass peelian.offences.cchi_weights() or use value='count'.",
        )
    g, counts, choices, warnings = prepare_counts(
        "kde", events, boundary, cell_size=cell_size, grid="square", resolution=None,
        harm_weights=harm_weights, harm_col=harm_col, by_period=False, kinds=("square",),
    )  # fmt: skip
    assert counts.positions is not None
    x, y, use = _points(events, counts.positions, "kde")
    w = np.ones(len(x))
    if value == "harm":
        assert harm_weights is not None
        w = event_weights(events, harm_weights, harm_col)[0][use]
    h = _bandwidth(bandwidth, x, y, w, g, choices, warnings)
    dens = g.from_raster(_density_raster(g, x, y, w, h, kernel, oversample)) * 1e6
    cols = base_frame(g, counts)
    cols["density"] = dens
    summary = {
        "bandwidth": h, "kernel": kernel, "cell_size": g.cell_size, "n_points": int(len(x)),
        "max_density": float(dens.max()) if len(dens) else 0.0, "units": "per km2",
    }  # fmt: skip
    params = {
        "cell_size": g.cell_size, "bandwidth": h, "kernel": kernel, "value": value,
        "oversample": oversample,
    }  # fmt: skip
    return HotspotResult(
        analysis="kde", data=cols, grid=g, params=params, choices=choices,
        report=counts.report, summary=summary, warnings=tuple(warnings),
    )  # fmt: skip


def _population_points(
    population: pd.DataFrame, col: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if col not in population.columns:
        raise SchemaError(
            f"dual_kde needs a {col!r} column in the population frame.",
            "Pass population_col= naming the residents column.",
        )
    if hasattr(population, "geometry") and "easting" not in population.columns:
        crs = getattr(population, "crs", None)
        if crs is None or crs.is_geographic:
            raise SchemaError(
                "dual_kde needs the population areas in metres (EPSG:27700); they are "
                f"{'without a CRS' if crs is None else crs.name}.",
                "Convert them with GeoDataFrame.to_crs(27700).",
            )
        pts = population.geometry.representative_point()
        frame = pd.DataFrame({"easting": pts.x, "northing": pts.y})
    else:
        frame = population
    x, y = event_coordinates(frame, "dual_kde")
    w = pd.to_numeric(population[col], errors="coerce").fillna(0.0).to_numpy(dtype=float)
    ok = np.isfinite(x)
    return x[ok], y[ok], w[ok]


def dual_kde(
    events: pd.DataFrame,
    population: pd.DataFrame,
    boundary: Any,
    *,
    population_col: str = "population",
    cell_size: float | None = None,
    bandwidth: float | None = None,
    kernel: str = "quartic",
    per: float = 1000.0,
    min_population_density: float = 10.0,
) -> HotspotResult:
    """Dual KDE: crime density relative to resident population density, as a rate per ``per``
    residents (relative risk surface; Levine, CrimeStat IV, ch. 10 "Dual kernel density").

    ``population`` is a frame of points (``easting``/``northing``) or a GeoDataFrame of areas
    (e.g. LSOAs; each area's residents are placed at its representative point) with
    ``population_col``. Both surfaces use the same kernel and bandwidth (chosen from the crime
    events when ``None``). Cells with fewer than ``min_population_density`` residents per km^2
    get NaN risk (a rate over almost nobody is noise). ``cells`` has :data:`DUAL_KDE_COLUMNS`.
    """
    check_params("dual_kde", {"bandwidth": bandwidth, "kernel": kernel})
    if isinstance(boundary, Grid):
        g = boundary
    else:
        from peelian.analysis.grid import square_grid

        check_params("dual_kde", {"cell_size": cell_size})
        g = square_grid(boundary, cell_size)
    first = kde(events, g, bandwidth=bandwidth, kernel=kernel)
    px, py, pw = _population_points(population, population_col)
    h = first.params["bandwidth"]
    pop = g.from_raster(_density_raster(g, px, py, pw, h, kernel, 1)) * 1e6
    with np.errstate(divide="ignore", invalid="ignore"):
        risk = np.where(pop >= min_population_density, first.data["density"] / pop * per, np.nan)
    cols = dict(first.data)
    cols.update(population_density=pop, relative_risk=risk)
    summary = dict(first.summary)
    summary.update(
        population=float(pw.sum()), per=per, min_population_density=min_population_density,
        cells_without_rate=int(np.isnan(risk).sum()),
    )  # fmt: skip
    params = dict(first.params, per=per, min_population_density=min_population_density)
    return HotspotResult(
        analysis="dual_kde", data=cols, grid=g, params=params, choices=first.choices,
        report=first.report, summary=summary, warnings=first.warnings,
    )  # fmt: skip
