"""Control charts for every measure x area row: c-charts of counts, u-charts of rates per
1,000 residents with the population of each month's year, and XmR charts where the counts (or
rates) are over-dispersed; limits are returned in count units for the monthly part.

Sources: Montgomery DC (2009), *Introduction to Statistical Quality Control*, 6th ed., s7.3
(c- and u-charts; u-chart limits ``u_bar +/- 3 sqrt(u_bar / n_i)`` for varying exposure
``n_i``); Laney DB (2002), Improved control charts for attributes, *Quality Engineering* 14(4):
531-537 and Wheeler DJ (1995), *Advanced Topics in SPC* (an individuals chart when the counts
vary more than Poisson); Anhøj & Olesen (2014) run rules.

Rows of a level with many small areas (ward, LSOA) are charted by
:func:`peelian.analysis.stats.family_spc` instead: exact Poisson probability limits, run rules
as exact conditional tests, one p-value per chart and Benjamini-Hochberg across the family (every
area of the level for the measure), so that stable series rarely signal (decision 0012).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats as sps

from peelian.analysis.measures._parts import signal_text
from peelian.analysis.measures._series import month_label
from peelian.analysis.stats import bh_adjust_grouped, family_spc, spc_batch

__all__ = ["exposure_matrix", "spc_rows"]


def exposure_matrix(
    meta: pd.DataFrame,
    lsoa_level: str,
    pops: pd.Series,
    population_by_year: pd.DataFrame | None,
    lo: int,
    n_t: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Residents (thousands) per row and month, and how it was found per row: "by year" (the
    population of the month's calendar year, the nearest published year outside their range),
    "constant" (the areas table's single population) or "none".

    ``population_by_year``: level, code, year, population (e.g. the ONS mid-year estimates
    2019 and 2020). A force row without its own figures uses the sum of its LSOAs.
    """
    n_rows = len(meta)
    key_level = meta["area_level"].map({"lsoa": lsoa_level}).fillna(meta["area_level"])
    idx = pd.MultiIndex.from_arrays([key_level.to_numpy(), meta["area_code"].to_numpy()])
    const = np.array(pops.reindex(idx), dtype=float) if len(pops) else np.full(n_rows, np.nan)
    is_force = (meta["area_level"] == "force").to_numpy()
    if len(pops) and (is_force & np.isnan(const)).any():
        lsoa_total = pops[pops.index.get_level_values(0) == lsoa_level].sum()
        const[is_force & np.isnan(const)] = lsoa_total if lsoa_total > 0 else np.nan
    expo = np.repeat(const[:, None], n_t, axis=1) / 1000
    kind = np.where(np.isnan(const), "none", "constant").astype(object)
    if population_by_year is None or population_by_year.empty:
        return expo, kind
    pby = population_by_year.groupby(["level", "code", "year"])["population"].sum().unstack()
    years = np.array(pby.columns, dtype=int)
    if (is_force).any():
        lsoa_tot = pby[pby.index.get_level_values(0) == lsoa_level].sum(min_count=1)
        for code in meta.loc[is_force, "area_code"].unique():
            if ("force", code) not in pby.index and lsoa_tot.notna().all():
                pby.loc[("force", code), :] = lsoa_tot.to_numpy()
    by_row = pby.reindex(idx).to_numpy(dtype=float)  # (rows, years)
    month_year = np.array([int(month_label(lo + t)[:4]) for t in range(n_t)])
    nearest = np.abs(month_year[:, None] - years[None, :]).argmin(axis=1)
    full = ~np.isnan(by_row).any(axis=1) & (by_row > 0).all(axis=1)
    expo[full] = by_row[full][:, nearest] / 1000
    kind[full] = "by year"
    return expo, kind


def spc_rows(
    cnt: np.ndarray,
    cov_rows: np.ndarray,
    declared: np.ndarray,
    expo: np.ndarray,
    expo_kind: np.ndarray,
    w0: int,
    months_win: list[str],
    rules: str,
    families: np.ndarray | None = None,
    alpha: float = 0.05,
) -> Mapping[str, np.ndarray]:
    """Limits and signals of each row's chart over the months from ``w0`` (at least 12 covered
    months; others are "not assessed"). Returns centre, lcl, ucl (rows x months, count units),
    point (+1 above, -1 below), signal (text), chart (label), n_cov (covered months) and, for
    rows with a family (a non-empty key in ``families``), the chart's p-value, its
    Benjamini-Hochberg adjusted value at ``alpha`` and the family size (NaN elsewhere)."""
    n_rows = cnt.shape[0]
    win = cnt.shape[1] - w0
    block = cnt[:, w0:].copy()
    covw = cov_rows[:, w0:]
    n_cov = covw.sum(axis=1)
    block[~covw] = np.nan
    ex = expo[:, w0:]
    with np.errstate(invalid="ignore"):
        has_expo = (np.isfinite(ex) & (ex > 0)).all(axis=1)
    is_u = (declared == "u") & has_expo
    fam = np.full(n_rows, "", dtype=object) if families is None else np.asarray(families, object)
    in_family = (fam != "") & (n_cov >= 12)
    # Over-dispersion (Laney 2002): Pearson's X2 = sum (x - E x)^2 / E x ~ chi2(n - 1) under
    # Poisson variation; where p < 0.01 the chart is an individuals (XmR) chart instead. In a
    # family of small areas the test's p-value is BH-adjusted across the family first: one
    # chance outlier among hundreds of stable series is a signal to test, not a reason to
    # swap exact Poisson limits for the normal limits of an XmR chart (decision 0012).
    with np.errstate(invalid="ignore", divide="ignore"):
        cbar = np.where(covw, block, 0).sum(axis=1) / n_cov
        ubar = np.where(covw, block, 0).sum(axis=1) / np.where(covw, ex, 0).sum(axis=1)
        expected = np.where(is_u[:, None], ubar[:, None] * ex, cbar[:, None])
        x2 = np.nansum((block - expected) ** 2 / expected, axis=1)
        p_over = np.where(
            (declared != "xmr") & (n_cov >= 12) & (cbar > 0),
            sps.chi2.sf(x2, np.maximum(n_cov - 1, 1)),
            np.nan,
        )
        p_over[in_family] = bh_adjust_grouped(p_over[in_family], fam[in_family])
        over = p_over < 0.01
        plot = np.where(is_u[:, None], block / ex, block)  # rates per 1,000 for u rows
    kind = np.where((declared == "xmr") | over, "xmr", np.where(is_u, "u", "c"))
    centre = np.full((n_rows, win), np.nan)
    lcl = np.full((n_rows, win), np.nan)
    ucl = np.full((n_rows, win), np.nan)
    point = np.zeros((n_rows, win), dtype=int)
    sig_text = np.full(n_rows, "not assessed", dtype=object)
    p_chart, q_chart, size = (np.full(n_rows, np.nan) for _ in range(3))
    sel = np.flatnonzero(in_family)
    if len(sel):
        vals = np.where((kind[sel] == "xmr")[:, None], plot[sel], block[sel])
        res = family_spc(vals, kind[sel], fam[sel], exposure=ex[sel], alpha=alpha)
        centre[sel], lcl[sel], ucl[sel], point[sel] = (
            res["centre"],
            res["lcl"],
            res["ucl"],
            res["point"],
        )
        sig_text[sel] = signal_text(res, point[sel], months_win, "anhoj")
        p_chart[sel], q_chart[sel], size[sel] = res["p_value"], res["q_value"], res["family_size"]
    for k in ("c", "u", "xmr"):
        sel = np.flatnonzero((kind == k) & (n_cov >= 12) & ~in_family)
        if not len(sel):
            continue
        if k == "u":
            res = spc_batch(block[sel], "u", exposure=ex[sel], rules=rules)  # type: ignore[arg-type]
        else:
            res = spc_batch(plot[sel], k, rules=rules)  # type: ignore[arg-type]
        centre[sel] = res["centre"][:, None]
        lcl[sel], ucl[sel], point[sel] = res["lcl"], res["ucl"], res["point"]
        sig_text[sel] = signal_text(res, point[sel], months_win, rules)
    # rate rows back to counts (expected count = rate x residents in thousands); the family
    # path's c- and u-charts are in counts already
    conv = is_u & ~(in_family & (kind != "xmr"))
    centre[conv] *= ex[conv]
    lcl[conv] *= ex[conv]
    ucl[conv] *= ex[conv]
    u_label = np.where(expo_kind == "by year", "u (population by year)", "u (constant population)")
    chart = np.select(
        [
            over & is_u,
            over,
            declared == "xmr",
            is_u,
            declared == "u",
        ],
        [
            "XmR (rates per 1,000 over-dispersed for a u-chart)",
            "XmR (counts over-dispersed for a c-chart)",
            "XmR",
            u_label,
            "c (no population for a u-chart)",
        ],
        "c",
    ).astype(object)
    return {
        "centre": centre,
        "lcl": lcl,
        "ucl": ucl,
        "point": point,
        "signal": sig_text,
        "chart": chart,
        "n_cov": n_cov,
        "p_value": p_chart,
        "q_value": q_chart,
        "family_size": size,
        "in_family": in_family,
    }
