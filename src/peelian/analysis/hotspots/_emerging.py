"""Emerging hot spot analysis: a space-time cube (cells x months), Gi* per bin with temporal
neighbours, a Mann-Kendall trend on each cell's z series, and Esri's pattern classes.

Follows Esri's published method (ArcGIS Pro, "How Emerging Hot Spot Analysis works"): each bin's
neighbourhood is its spatial neighbours in the same time step and in the previous
``time_window`` steps; the global window is the entire cube (mean and standard deviation over all
bins); the Gi* z-score of each bin is tested (here with Benjamini-Hochberg FDR within each time
step), and the z series of each location gets a Mann-Kendall trend test. Esri requires at least
10 time steps; so do we. Classes (hot; the cold ones mirror them, with the trend's sign reversed
for intensifying/diminishing):

- New: hot in the final step and never hot before.
- Consecutive: a single uninterrupted run of at least two hot steps at the end, never hot before
  the run, and hot in less than 90% of the steps.
- Intensifying / Persistent / Diminishing: hot in at least 90% of the steps including the final
  one, with a significant upward / no significant / a significant downward trend in the z-scores.
- Sporadic: hot in the final step, on-again off-again hot before, less than 90% hot, never cold.
- Oscillating: hot in the final step, cold in some earlier step, less than 90% hot.
- Historical: not hot in the final step, but hot in at least 90% of the steps.
- No Pattern Detected: none of the above.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from peelian.analysis.grid import check_params
from peelian.analysis.hotspots._gistar import bh_adjust, gi_star_z, neighbour_sums
from peelian.analysis.hotspots._mannkendall import mann_kendall
from peelian.analysis.hotspots._neighbours import choose_neighbourhood
from peelian.analysis.hotspots._results import HotspotResult, prepare_counts
from peelian.errors import DataPrecisionError, ParameterError

__all__ = ["EMERGING_COLUMNS", "PATTERNS", "classify_patterns", "emerging_hotspots"]

log = logging.getLogger("peelian.analysis.hotspots")

#: Esri's pattern names, hot then cold, then "No Pattern Detected".
PATTERNS: tuple[str, ...] = tuple(
    f"{kind} {side} Spot"
    for side in ("Hot", "Cold")
    for kind in (
        "New",
        "Consecutive",
        "Intensifying",
        "Persistent",
        "Diminishing",
        "Sporadic",
        "Oscillating",
        "Historical",
    )  # fmt: skip
) + ("No Pattern Detected",)

#: Columns of ``emerging_hotspots(...).cells``: pattern (one of :data:`PATTERNS`); trend_tau
#: and trend_p are Kendall's tau and the Mann-Kendall p of the cell's z series; n_total the
#: events over all steps; n_hot / n_cold the steps in which the cell was a significant hot /
#: cold spot; final_z / final_p the last step's z and FDR-adjusted p.
EMERGING_COLUMNS: tuple[str, ...] = (
    "cell_id", "x", "y", "pattern", "trend_tau", "trend_p", "n_total", "n_hot", "n_cold",
    "final_z", "final_p", "geometry",
)  # fmt: skip
MIN_STEPS = 10


def _final_run(flags: np.ndarray) -> np.ndarray:
    """Length of the run of True at the end of each row."""
    return np.cumprod(flags[:, ::-1], axis=1).sum(axis=1)


def _side(sig: np.ndarray, other: np.ndarray, trend: np.ndarray, names: list[str]) -> np.ndarray:
    """Classes for the cells whose final step is significant on this side (hot or cold).

    ``sig`` / ``other``: significant on this / the opposite side per step; ``trend``: -1, 0, +1
    significant trend towards stronger clustering on this side. ``names``: the 8 class names.
    """
    t = sig.shape[1]
    count = sig.sum(axis=1)
    ninety = count >= 0.9 * t - 1e-9
    run = _final_run(sig)
    before = count - run > 0
    out = np.select(
        [
            count == 1,
            ninety & (trend > 0),
            ninety & (trend < 0),
            ninety,
            (run >= 2) & ~before,
            other.any(axis=1),
        ],
        [names[0], names[2], names[4], names[3], names[1], names[6]],
        default=names[5],
    )
    return out


def classify_patterns(
    z: np.ndarray, p_adj: np.ndarray, alpha: float, trend_tau: np.ndarray, trend_p: np.ndarray
) -> np.ndarray:
    """Esri's emerging hot spot class for each row of a z cube (cells x steps)."""
    hot = (p_adj < alpha) & (z > 0)
    cold = (p_adj < alpha) & (z < 0)
    sig_trend = trend_p < alpha
    up = np.where(sig_trend, np.sign(trend_tau), 0)
    hot_names = list(PATTERNS[:8])
    cold_names = list(PATTERNS[8:16])
    out = np.full(z.shape[0], PATTERNS[-1], dtype=object)
    final_hot, final_cold = hot[:, -1], cold[:, -1]
    if final_hot.any():
        out[final_hot] = _side(hot[final_hot], cold[final_hot], up[final_hot], hot_names)
    if final_cold.any():
        out[final_cold] = _side(cold[final_cold], hot[final_cold], -up[final_cold], cold_names)
    t = z.shape[1]
    hist_hot = ~final_hot & ~final_cold & (hot.sum(axis=1) >= 0.9 * t - 1e-9)
    hist_cold = ~final_hot & ~final_cold & (cold.sum(axis=1) >= 0.9 * t - 1e-9)
    out[hist_hot] = PATTERNS[7]
    out[hist_cold] = PATTERNS[15]
    return out


def emerging_hotspots(
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    resolution: int | None = None,
    months: Sequence[str] | None = None,
    distance: float | None = None,
    ring: int | None = None,
    time_window: int = 1,
    value: str = "count",
    harm_weights: Mapping[str, float] | None = None,
    harm_col: str | None = None,
    alpha: float = 0.05,
    fdr: bool = True,
) -> HotspotResult:
    """Emerging hot spots of monthly ``events`` over ``boundary`` (see the module docstring).

    ``months`` fixes the time steps (default: first to last month present, empty months kept);
    ``time_window`` is Esri's "neighbourhood time step" (previous steps in each bin's
    neighbourhood; default 1, as Esri). ``frames["zscores"]`` holds the z cube (cell_id x month).
    ``cells`` has :data:`EMERGING_COLUMNS`.
    """
    check_params(
        "emerging_hotspots",
        {"distance": distance, "ring": ring, "time_window": time_window, "value": value,
         "alpha": alpha, "fdr": fdr},
    )  # fmt: skip
    if value == "harm" and harm_weights is None:
        raise ParameterError(
            "emerging_hotspots with value='harm' needs harm_weights (category -> CCHI days).",
            "Pass peelian.offences.cchi_weights() or use value='count'.",
        )
    g, counts, choices, warnings = prepare_counts(
        "emerging_hotspots", events, boundary, cell_size=cell_size, grid=grid,
        resolution=resolution, harm_weights=harm_weights, harm_col=harm_col, by_period=True,
        periods=months,
    )  # fmt: skip
    steps = len(counts.periods)
    if steps < MIN_STEPS:
        raise DataPrecisionError(
            f"Emerging hot spot analysis needs at least {MIN_STEPS} time steps for its trend "
            f"test; the selection has {steps} month(s).",
            "Widen --from/--to to ten months or more.",
        )
    nb, nb_choice = choose_neighbourhood(g, distance, ring)
    choices.update(nb_choice)
    y = counts.n.astype(float) if value == "count" else counts.harm
    assert y is not None
    sums, card = neighbour_sums(g, y, nb)
    csum = np.cumsum(sums, axis=1)
    lag = np.arange(steps) - time_window - 1
    st_sum = csum - np.where(lag >= 0, csum[:, np.clip(lag, 0, None)], 0.0)
    depth = np.minimum(np.arange(steps), time_window) + 1
    st_card = card[:, None] * depth[None, :]
    mean = float(y.mean())
    sd = float(np.sqrt(max((y * y).mean() - mean * mean, 0.0)))
    z = np.nan_to_num(gi_star_z(y, st_sum, st_card, n=y.size, mean=mean, sd=sd), nan=0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    p_adj = np.column_stack([bh_adjust(p[:, t]) for t in range(steps)]) if fdr else p
    mk = mann_kendall(z)
    pattern = classify_patterns(z, p_adj, alpha, mk.tau, mk.p_value)
    hot = (p_adj < alpha) & (z > 0)
    cold = (p_adj < alpha) & (z < 0)
    cols = {
        "x": g.x, "y": g.y,
        "pattern": pd.array(pattern.astype(str), dtype="str"), "trend_tau": mk.tau,
        "trend_p": mk.p_value, "n_total": counts.total_n.astype(np.int64),
        "n_hot": hot.sum(axis=1).astype(np.int64), "n_cold": cold.sum(axis=1).astype(np.int64),
        "final_z": z[:, -1], "final_p": p_adj[:, -1],
    }  # fmt: skip
    zframe = pd.DataFrame(z, index=pd.Index(g.cell_ids, name="cell_id"), columns=counts.periods)
    tally = pd.Series(pattern).value_counts()
    summary = {
        "steps": steps, "first_month": counts.periods[0], "last_month": counts.periods[-1],
        "n_cells": g.n_cells, "cell_size": g.cell_size, "distance": nb.distance,
        "ring": nb.ring, "time_window": time_window, "alpha": alpha, "fdr": fdr,
        "patterns": {k: int(v) for k, v in tally.items()},
    }  # fmt: skip
    params = {
        "cell_size": g.cell_size, "grid": g.kind, "distance": nb.distance, "ring": nb.ring,
        "time_window": time_window, "value": value, "alpha": alpha, "fdr": fdr,
        "months": list(counts.periods),
    }  # fmt: skip
    return HotspotResult(
        analysis="emerging", data=cols, grid=g, params=params, choices=choices,
        report=counts.report, summary=summary, warnings=tuple(warnings),
        frames={"zscores": zframe},
    )  # fmt: skip
