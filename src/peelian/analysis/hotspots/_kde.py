"""Kernel density estimation on a square grid in metres: quartic or Gaussian kernels, an
automatic (reported) bandwidth, and dual KDE (crime relative to population).

By default (``method="exact"``) the density at every cell centre is the direct kernel sum over
the events at their own coordinates: events sharing a location (police.uk snaps every crime to a
map point) are summed once, and each location adds its kernel to the cells within the kernel's
reach. ``method="binned"`` is the older fast path: events are binned to the grid (or to a finer
grid, ``oversample`` bins per cell side) and the bins are convolved with the kernel by FFT
(scipy.signal.fftconvolve), which equals the direct sum over the events moved to their bin
centres; moving a point up to half a cell changes the surface by up to 13% of its maximum
(the Newcastle robbery fixture: 250 m cells, quartic kernel, ArcGIS bandwidth 428 m), so it
is no longer the default. Silverman BW (1986), *Density Estimation for
Statistics and Data Analysis*, s3.5 (exact evaluation) and s3.5.2 / Wand MP, Jones MC (1995),
*Kernel Smoothing*, appendix D (binned approximations and their error).
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


def _density_exact(
    grid: Grid, x: np.ndarray, y: np.ndarray, w: np.ndarray, h: float, kernel: str
) -> np.ndarray:
    """Kernel density (per m^2) at every lattice cell centre: the direct sum over the points.

    Points at the same coordinates are merged (their weights added); each distinct point adds
    the kernel at the centres of the cells within ``h`` (quartic) or ``4h`` (Gaussian) of it.
    """
    assert grid.origin is not None and grid.lattice_shape is not None
    cs = grid.cell_size
    nr, nc = grid.lattice_shape
    out = np.zeros(nr * nc)
    keep = np.isfinite(x) & np.isfinite(y) & (w != 0)
    if not keep.any():
        return out.reshape(nr, nc)
    pts, inv = np.unique(np.column_stack([x[keep], y[keep]]), axis=0, return_inverse=True)
    pw = np.bincount(inv.reshape(-1), weights=w[keep], minlength=len(pts))
    support = h if kernel == "quartic" else GAUSSIAN_CUTOFF * h
    r = int(math.ceil(support / cs)) + 1
    off = np.arange(-r, r + 1)
    dr, dc = (a.ravel() for a in np.meshgrid(off, off, indexing="ij"))
    chunk = max(1, 2_000_000 // len(dr))
    ox, oy = grid.origin
    for start in range(0, len(pts), chunk):
        px, py = pts[start : start + chunk, 0], pts[start : start + chunk, 1]
        rows = np.floor((py - oy) / cs).astype(np.int64)[:, None] + dr[None, :]
        cols = np.floor((px - ox) / cs).astype(np.int64)[:, None] + dc[None, :]
        ok = (rows >= 0) & (rows < nr) & (cols >= 0) & (cols < nc)
        d = np.hypot(ox + (cols + 0.5) * cs - px[:, None], oy + (rows + 0.5) * cs - py[:, None])
        val = kernel_value(d, h, kernel) * pw[start : start + chunk, None]
        out += np.bincount((rows * nc + cols)[ok], weights=val[ok], minlength=nr * nc)
    return out.reshape(nr, nc)


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
    method: str = "exact",
) -> HotspotResult:
    """Kernel density of ``events`` on a square grid over ``boundary`` (EPSG:27700 metres).

    ``bandwidth=None`` uses :func:`arcgis_bandwidth` and reports it. ``value="harm"`` weights each
    event by its CCHI weight: ``harm_weights`` keyed by ``harm_col`` (default the police.uk
    category, ``category`` or force records' ``policeuk_category``; ``"ho_code"`` with Home
    Office code weights). ``method``: "exact" (default: the direct kernel sum at each cell
    centre over the events' own coordinates) or "binned" (FFT over events binned
    ``oversample`` x ``oversample`` per cell, ``oversample`` odd: faster, but a point may move
    half a bin; see the module docstring). Refuses longitude/latitude. ``cells`` has
    :data:`KDE_COLUMNS`.
    """
    _check_method(method, "kde")
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
    raster = (
        _density_exact(g, x, y, w, h, kernel)
        if method == "exact"
        else _density_raster(g, x, y, w, h, kernel, oversample)
    )
    dens = g.from_raster(raster) * 1e6
    cols = base_frame(g, counts)
    cols["density"] = dens
    summary = {
        "bandwidth": h, "kernel": kernel, "cell_size": g.cell_size, "n_points": int(len(x)),
        "max_density": float(dens.max()) if len(dens) else 0.0, "units": "per km2",
        "method": method,
    }  # fmt: skip
    params = {
        "cell_size": g.cell_size, "bandwidth": h, "kernel": kernel, "value": value,
        "oversample": oversample, "method": method,
    }  # fmt: skip
    return HotspotResult(
        analysis="kde", data=cols, grid=g, params=params, choices=choices,
        report=counts.report, summary=summary, warnings=tuple(warnings),
    )  # fmt: skip


def _check_method(method: str, func: str) -> None:
    if method not in ("exact", "binned"):
        raise ParameterError(
            f"The 'method' parameter of {func} must be 'exact' or 'binned'. Got {method!r}."
        )


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
    pop = g.from_raster(_density_exact(g, px, py, pw, h, kernel)) * 1e6
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
