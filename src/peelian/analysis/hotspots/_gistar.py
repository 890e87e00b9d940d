"""Getis-Ord Gi* local hot spot statistics on grids, with FDR control.

Gi*_i = (sum_j w_ij x_j - x_bar W_i) / (S sqrt((n W_i - W_i^2) / (n - 1)))

for binary weights w_ij (w_ii = 1, the "star"), W_i = sum_j w_ij, x_bar the mean and S the
population standard deviation (sqrt(mean(x^2) - x_bar^2)) over the n cells of the study area
(Getis & Ord 1992, "The analysis of spatial association by use of distance statistics",
Geographical Analysis 24(3); Ord & Getis 1995, Geographical Analysis 27(4), eq. 9). These are the
conventions of ``esda.G_Local(y, w, transform="B", star=True)``, whose z-scores ours equal.

On square grids the neighbour sums are a 2-D correlation of the count raster with the
neighbourhood kernel, and W_i is the same correlation of the in-area mask (so cells outside the
clipped area neither count in n nor as neighbours): see docs/decisions/0006-gistar-fast-path.md.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy import ndimage, signal, stats

from peelian.analysis.grid import Grid, check_params
from peelian.analysis.hotspots._neighbours import (
    Neighbourhood,
    choose_neighbourhood,
    lattice_offsets,
    weights_matrix,
)
from peelian.analysis.hotspots._results import (
    HotspotResult,
    base_frame,
    prepare_counts,
)
from peelian.analysis.stats import bh_adjust  # the one Benjamini-Hochberg implementation

__all__ = [
    "GISTAR_COLUMNS",
    "bh_adjust",
    "gi_star_z",
    "gistar",
    "neighbour_sums",
]

log = logging.getLogger("peelian.analysis.hotspots")

#: Columns of ``gistar(...).cells``: value is the analysed variable (n or harm); neighbours is
#: W_i (the cell included); gistar the z-score; p_value its two-sided normal p; p_sim the
#: two-sided conditional-permutation p (NaN without permutations); p_adjusted the
#: Benjamini-Hochberg adjusted p of the p used (p_sim when permutations were run, else p_value;
#: unadjusted with fdr=False); gi_bin is ArcGIS's Gi_Bin (+-3/2/1 = 99/95/90% confidence on
#: p_adjusted, sign of z; 0 otherwise); hotspot is "hot"/"cold"/"none" at ``alpha``.
GISTAR_COLUMNS: tuple[str, ...] = (
    "cell_id", "x", "y", "n", "harm", "value", "neighbours", "gistar", "p_value", "p_sim",
    "p_adjusted", "gi_bin", "hotspot", "geometry",
)  # fmt: skip


def _kernel(grid: Grid, nb: Neighbourhood) -> np.ndarray:
    off = lattice_offsets(grid, nb)
    k = int(np.abs(off).max())
    kern = np.zeros((2 * k + 1, 2 * k + 1))
    kern[off[:, 0] + k, off[:, 1] + k] = 1.0
    return kern


def neighbour_sums(
    grid: Grid, values: np.ndarray, nb: Neighbourhood, *, fast: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """sum_j w_ij x_j and W_i for every cell (x: (n_cells,) or (n_cells, T)).

    Square grids use the raster correlation (exact: direct sums for kernels up to 41 x 41, FFT
    with rounding of integer sums beyond); other grids a sparse matrix product.
    """
    values = np.asarray(values, dtype=float)
    if fast and grid.kind == "square":
        kern = _kernel(grid, nb)
        mask = grid.mask.astype(float)
        card = grid.from_raster(_correlate(mask, kern, integer=True))
        cols = values.reshape(grid.n_cells, -1)
        sums = np.empty_like(cols)
        integer = bool(np.all(np.mod(cols, 1.0) == 0))
        for t in range(cols.shape[1]):
            ras = grid.to_raster(cols[:, t])
            sums[:, t] = grid.from_raster(_correlate(ras, kern, integer=integer))
        return sums.reshape(values.shape), card
    w = weights_matrix(grid, nb)
    return np.asarray(w @ values), np.asarray(w.sum(axis=1)).ravel()


def _correlate(raster: np.ndarray, kern: np.ndarray, *, integer: bool) -> np.ndarray:
    if kern.shape[0] <= 41:
        return ndimage.correlate(raster, kern, mode="constant", cval=0.0)
    out = signal.fftconvolve(raster, kern[::-1, ::-1], mode="same")
    return np.rint(out) if integer else out


def gi_star_z(
    values: np.ndarray,
    sums: np.ndarray,
    card: np.ndarray,
    n: int | None = None,
    mean: float | None = None,
    sd: float | None = None,
) -> np.ndarray:
    """Gi* z-scores from the neighbour sums and cardinalities (formula in the module docstring).

    ``n``, ``mean`` and ``sd`` default to those of ``values`` (population SD, as esda).
    """
    x = np.asarray(values, dtype=float)
    n = x.size if n is None else n
    mean = float(x.mean()) if mean is None else mean
    sd = float(np.sqrt(max((x * x).mean() - mean * mean, 0.0))) if sd is None else sd
    card = np.asarray(card, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        den = sd * np.sqrt((n * card - card * card) / (n - 1))
        z = (np.asarray(sums) - mean * card) / den
    return np.where(np.isfinite(z), z, np.nan)


def _permutation_p(
    x: np.ndarray,
    sums: np.ndarray,
    card: np.ndarray,
    permutations: int,
    seed: int | None,
    budget: int = 4_000_000,
) -> np.ndarray:
    """Two-sided conditional-permutation p: each cell keeps its value and draws its W_i - 1
    neighbours without replacement from the other n - 1 cells (Anselin 1995, "Local indicators
    of spatial association - LISA", Geographical Analysis 27(2)); p = 2 (min(#>=, #<=) + 1) /
    (R + 1), capped at 1. As in esda, one set of R random draws is shared by all cells."""
    rng = np.random.default_rng(seed)
    n = len(x)
    k = int(card.max()) - 1
    rids = np.stack([rng.choice(n - 1, size=k, replace=False) for _ in range(permutations)])
    kk = card.astype(np.int64) - 1
    out = np.empty(n)
    cols = np.arange(k)
    chunk = max(1, budget // max(1, permutations * k))
    for start in range(0, n, chunk):
        i = np.arange(start, min(start + chunk, n))
        idx = rids[None, :, :] + (rids[None, :, :] >= i[:, None, None])
        vals = x[idx] * (cols[None, None, :] < kk[i, None, None])
        sim = vals.sum(axis=2) + x[i, None]
        ge = (sim >= sums[i, None] - 1e-12).sum(axis=1)
        le = (sim <= sums[i, None] + 1e-12).sum(axis=1)
        out[i] = np.minimum(1.0, 2.0 * (np.minimum(ge, le) + 1) / (permutations + 1))
    return out


def _gi_bin(z: np.ndarray, p_adj: np.ndarray) -> np.ndarray:
    level = np.select([p_adj < 0.01, p_adj < 0.05, p_adj < 0.10], [3, 2, 1], 0)
    return (np.sign(np.nan_to_num(z)) * level).astype(np.int64)


def gistar(
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    resolution: int | None = None,
    distance: float | None = None,
    ring: int | None = None,
    value: str = "count",
    harm_weights: Mapping[str, float] | None = None,
    harm_col: str | None = None,
    alpha: float = 0.05,
    fdr: bool = True,
    permutations: int = 0,
    seed: int | None = None,
) -> HotspotResult:
    """Getis-Ord Gi* hot and cold spots of events on a grid over ``boundary``.

    ``events`` need ``easting``/``northing`` (EPSG:27700; lon/lat is refused) and, for harm,
    ``category``. ``boundary`` is a shapely geometry in EPSG:27700 or a :class:`Grid` to reuse.
    ``value="harm"`` analyses CCHI harm (needs ``harm_weights``, category -> days). The
    neighbourhood is ``distance`` (metres) or ``ring``; ``None`` chooses and reports it (see
    :func:`~peelian.analysis.hotspots._neighbours.choose_neighbourhood`). FDR
    (Benjamini-Hochberg) is on by default. Returns a :class:`HotspotResult` whose ``cells`` has
    the columns :data:`GISTAR_COLUMNS`.
    """
    check_params(
        "gistar",
        {"distance": distance, "ring": ring, "value": value, "alpha": alpha, "fdr": fdr,
         "permutations": permutations},
    )  # fmt: skip
    _need_weights("gistar", value, harm_weights)
    g, counts, choices, warnings = prepare_counts(
        "gistar", events, boundary, cell_size=cell_size, grid=grid, resolution=resolution,
        harm_weights=harm_weights, harm_col=harm_col, by_period=False,
    )  # fmt: skip
    nb, nb_choice = choose_neighbourhood(g, distance, ring)
    choices.update(nb_choice)
    for c in choices.values():
        log.info("gistar: %s (%s)", c["value"], c["rule"])
    x = counts.total_n.astype(float) if value == "count" else counts.total_harm
    assert x is not None
    z, sums, card = gistar_values(g, x, nb)
    if not np.isfinite(z).any():
        warnings.append("Every cell has the same value, so Gi* is undefined (z set to 0).")
    z = np.nan_to_num(z, nan=0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_sim = np.full(len(z), np.nan)
    if permutations:
        p_sim = _permutation_p(x, sums, card, permutations, seed)
    p_used = p_sim if permutations else p
    p_adj = bh_adjust(p_used) if fdr else p_used
    hot = np.where(p_adj < alpha, np.where(z > 0, "hot", "cold"), "none")
    cols = base_frame(g, counts)
    cols.update(
        value=x, neighbours=card.astype(np.int64), gistar=z, p_value=p, p_sim=p_sim,
        p_adjusted=p_adj, gi_bin=_gi_bin(z, p_adj), hotspot=pd.array(hot, dtype="str"),
    )  # fmt: skip
    summary = {
        "n_cells": g.n_cells,
        "n_hot": int((hot == "hot").sum()),
        "n_cold": int((hot == "cold").sum()),
        "cell_size": g.cell_size,
        "distance": nb.distance,
        "ring": nb.ring,
        "alpha": alpha,
        "fdr": fdr,
        "p_used": "permutation" if permutations else "normal",
    }
    params = {
        "cell_size": g.cell_size, "grid": g.kind, "resolution": g.resolution,
        "distance": nb.distance, "ring": nb.ring, "value": value, "alpha": alpha, "fdr": fdr,
        "permutations": permutations, "seed": seed,
    }  # fmt: skip
    return HotspotResult(
        analysis="gistar", data=cols, grid=g, params=params, choices=choices, report=counts.report,
        summary=summary, warnings=tuple(warnings),
    )  # fmt: skip


def gistar_values(
    grid: Grid, values: np.ndarray, nb: Neighbourhood
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gi* z-scores of per-cell ``values`` on ``grid`` (fast path on square grids); also returns
    the neighbour sums and cardinalities."""
    sums, card = neighbour_sums(grid, values, nb)
    return gi_star_z(values, sums, card), sums, card


def _need_weights(func: str, value: str, harm_weights: Mapping[str, float] | None) -> None:
    if value == "harm" and harm_weights is None:
        from peelian.errors import ParameterError

        raise ParameterError(
            f"{func} with value='harm' needs harm_weights (category -> CCHI days).",
            "Pass peelian.offences.cchi_weights() or use value='count'.",
        )
