"""Benjamini-Hochberg false discovery rate adjustment, vectorised and by group.

Source: Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical and
powerful approach to multiple testing. *JRSS B* 57(1): 289-300. The adjusted p-values equal
``statsmodels.stats.multitest.multipletests(p, method="fdr_bh")[1]``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from peelian.errors import ParameterError

__all__ = ["bh_adjust", "bh_adjust_grouped"]


def bh_adjust(p_values: npt.ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaNs are left out of the family and kept.

    >>> [round(float(q), 3) for q in bh_adjust([0.01, 0.04, 0.03, 0.2])]
    [0.04, 0.053, 0.053, 0.2]
    """
    p = np.asarray(p_values, dtype=float)
    if np.any((p < 0) | (p > 1)):
        raise ParameterError("The 'p_values' parameter of bh_adjust must lie between 0 and 1.")
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    order = np.argsort(q, kind="stable")
    ranked = q[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(ranked[::-1])[::-1]
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def bh_adjust_grouped(p_values: npt.ArrayLike, groups: npt.ArrayLike) -> np.ndarray:
    """BH adjustment within each group (e.g. one family per measure and area level)."""
    p = pd.Series(np.asarray(p_values, dtype=float))
    g = pd.Series(np.asarray(groups))
    out = np.full(len(p), np.nan)
    if len(p) == 0:
        return out
    # one vectorised pass: rank within group, then a reversed cumulative minimum per group
    frame = pd.DataFrame({"p": p, "g": g}).dropna(subset=["p"])
    if frame.empty:
        return out
    frame = frame.sort_values(["g", "p"], kind="stable")
    m = frame.groupby("g", sort=False)["p"].transform("size").to_numpy()
    rank = frame.groupby("g", sort=False).cumcount().to_numpy() + 1
    frame["r"] = frame["p"].to_numpy() * m / rank
    rev = frame.iloc[::-1]
    adj = rev.groupby("g", sort=False)["r"].cummin().iloc[::-1]
    out[adj.index.to_numpy()] = np.minimum(adj.to_numpy(), 1.0)
    return out
