"""Empirical-Bayes smoothing of area rates, for ranking small areas fairly.

Source: Marshall RJ (1991). Mapping disease and mortality rates using empirical Bayes
estimators. *Applied Statistics* 40(2): 283-294 (the global moment estimator). Each raw rate is
shrunk towards the overall rate by ``C_i = A / (A + m / n_i)``, where ``m`` is the overall rate,
``A = s^2 - m / n_bar`` the between-area variance (floored at 0, as Marshall recommends) and
``n_i`` the population. Without the floor this equals ``esda.smoothing.Empirical_Bayes``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["eb_rates", "eb_rates_grouped"]


def eb_rates(events: npt.ArrayLike, population: npt.ArrayLike) -> np.ndarray:
    """Marshall's global empirical-Bayes rates (events per person); NaN where population is
    missing or not positive (those areas are left out of the prior)."""
    e = np.asarray(events, dtype=float)
    n = np.asarray(population, dtype=float)
    out = np.full(e.shape, np.nan)
    ok = ~np.isnan(e) & ~np.isnan(n) & (n > 0)
    if not ok.any():
        return out
    e_ok, n_ok = e[ok], n[ok]
    m = e_ok.sum() / n_ok.sum()
    r = e_ok / n_ok
    s2 = (n_ok * (r - m) ** 2).sum() / n_ok.sum()
    a = max(s2 - m / n_ok.mean(), 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        c = np.where(a + m / n_ok > 0, a / (a + m / n_ok), 0.0)
    out[ok] = m + c * (r - m)
    return out


def eb_rates_grouped(
    events: npt.ArrayLike, population: npt.ArrayLike, groups: npt.ArrayLike
) -> np.ndarray:
    """:func:`eb_rates` within each group (e.g. per measure and area level), vectorised."""
    df = pd.DataFrame(
        {"e": np.asarray(events, dtype=float), "n": np.asarray(population, dtype=float)}
    )
    df["g"] = np.asarray(groups)
    ok = df["e"].notna() & df["n"].notna() & (df["n"] > 0)
    out = np.full(len(df), np.nan)
    d = df[ok].copy()
    if d.empty:
        return out
    grp = d.groupby("g", sort=False)
    m = grp["e"].transform("sum") / grp["n"].transform("sum")
    d["r"] = d["e"] / d["n"]
    d["w"] = d["n"] * (d["r"] - m) ** 2
    s2 = d.groupby("g", sort=False)["w"].transform("sum") / grp["n"].transform("sum")
    a = (s2 - m / grp["n"].transform("mean")).clip(lower=0)
    denom = a + m / d["n"]
    c = np.where(denom > 0, a / denom.where(denom > 0, 1), 0.0)
    out[ok.to_numpy()] = (m + c * (d["r"] - m)).to_numpy()
    return out
