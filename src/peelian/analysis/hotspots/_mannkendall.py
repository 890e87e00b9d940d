"""The Mann-Kendall trend test, vectorised over many series, with the tie correction.

S = sum_{i<j} sign(x_j - x_i); Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18 over
groups of tied values; Z = (S - sign(S)) / sqrt(Var(S)) (continuity correction), two-sided
p = 2 (1 - Phi(|Z|)); Kendall's tau-a = S / (n(n-1)/2). Mann (1945) Econometrica 13(3);
Kendall (1975) "Rank Correlation Methods"; as in Hussain & Mahmud (2019) pymannkendall's
``original_test`` and the trend test of Esri's Emerging Hot Spot Analysis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["MannKendall", "mann_kendall"]


@dataclass(frozen=True)
class MannKendall:
    """Per-series results (arrays of the number of series)."""

    s: np.ndarray
    var_s: np.ndarray
    z: np.ndarray
    p_value: np.ndarray
    tau: np.ndarray


def mann_kendall(series: np.ndarray) -> MannKendall:
    """Mann-Kendall test of each row of ``series`` (n_series x n_times) for a monotonic trend."""
    x = np.atleast_2d(np.asarray(series, dtype=float))
    n = x.shape[1]
    s = np.zeros(x.shape[0])
    for i in range(n - 1):
        s += np.sign(x[:, i + 1 :] - x[:, i : i + 1]).sum(axis=1)
    # tie groups: each element contributes (t-1)(2t+5) where t is the size of its group, so the
    # sum over elements equals sum over groups of t(t-1)(2t+5)
    t = (x[:, :, None] == x[:, None, :]).sum(axis=2)
    ties = ((t - 1) * (2 * t + 5)).sum(axis=1)
    var = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, (s - np.sign(s)) / np.sqrt(var), 0.0)
    p = 2.0 * stats.norm.sf(np.abs(z))
    tau = s / (n * (n - 1) / 2.0)
    return MannKendall(s=s, var_s=var, z=z, p_value=p, tau=tau)
