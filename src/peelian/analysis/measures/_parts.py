"""Pieces of the measures engine: per-measure notes, SPC signal text, the monthly part, and the
dispersion-aware comparison (see :mod:`peelian.analysis.stats._dispersion`)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from peelian.analysis.measures._series import month_index, month_label
from peelian.analysis.stats import dispersion_adjusted, quasi_poisson_dispersion
from peelian.schemas.measure_definitions import MeasureDefinition

__all__ = [
    "MONTHLY_COLUMNS",
    "dispersion_columns",
    "family_label",
    "spc_method",
    "monthly_frame",
    "note_for",
    "signal_text",
    "source_key",
]

MONTHLY_COLUMNS = (
    "measure",
    "area_level",
    "area_code",
    "month",
    "count",
    "centre",
    "lcl",
    "ucl",
    "signal",
)


_LEVEL_PLURAL = {
    "force": "force areas",
    "csp": "community safety partnerships",
    "ward": "wards",
    "lsoa": "LSOAs",
}


def family_label(level: str, size: float, label: str, span: str) -> str:
    """The family a Benjamini-Hochberg adjustment ran over, in words a page can show:
    "all 927 LSOAs × Burglary, 12 months to August 2022"; one area is "no adjustment"."""
    if not size or np.isnan(size):
        return ""
    if int(size) == 1:
        return f"one area only (no adjustment): {label}, {span}"
    return f"all {int(size):,} {_LEVEL_PLURAL.get(level, level)} × {label}, {span}"


def spc_method(in_family: np.ndarray, chart: np.ndarray, rules: str, alpha: float) -> np.ndarray:
    """How each row's chart was read: the family path (decision 0012) or one chart alone."""
    one = (
        "3-sigma limits with the Anhøj run rules (one chart, read on its own)"
        if rules == "anhoj"
        else "3-sigma limits with the Western Electric rules (one chart, read on its own)"
    )
    pct = f"{alpha * 100:g}%"
    fam_pois = (
        "exact Poisson probability limits and exact run tests; Benjamini-Hochberg FDR "
        f"{pct} across the family"
    )
    fam_xmr = (
        "XmR limits (counts vary more than Poisson) and exact run tests; Benjamini-Hochberg "
        f"FDR {pct} across the family"
    )
    is_xmr = np.array([str(c).startswith("XmR") for c in chart], dtype=bool)
    return np.where(in_family, np.where(is_xmr, fam_xmr, fam_pois), one).astype(object)


def source_key(d: MeasureDefinition) -> str:
    return d.source if d.source != "external" else f"external:{d.filter['series']}"


def dispersion_columns(
    cnt: np.ndarray,
    cov_rows: np.ndarray,
    lo: int,
    end: int,
    ok: np.ndarray,
    cur: np.ndarray,
    comp: np.ndarray,
    comp_len: np.ndarray,
    p_value: np.ndarray,
    level: float,
    max_months: int = 60,
) -> dict[str, np.ndarray]:
    """The dispersion of each row's monthly series and the comparison widened by it.

    Each row (measure x area) with a comparison gets a quasi-Poisson dispersion from its covered
    months (the last ``max_months`` to the period end): a Poisson GLM with a trend,
    month-of-year effects (24 months or more) and an indicator of the current 12 months (so the
    change being tested is not counted as noise); see
    :func:`peelian.analysis.stats.quasi_poisson_dispersion` (McCullagh & Nelder 1989 s9.2;
    Spiegelhalter 2005). Where over-dispersion is detected (Pearson test p < 0.05) the exact
    test and rate-ratio interval are widened by ``sqrt(phi)``
    (:func:`peelian.analysis.stats.dispersion_adjusted`); elsewhere the adjusted figures equal
    the exact ones. Returns dispersion (phi used: >= 1; NaN when not estimable),
    dispersion_estimate (Pearson X2/df), dispersion_p, p_value_adjusted, ci_low_adjusted,
    ci_high_adjusted, test_used.
    """
    n_rows, n_t = cnt.shape
    nan = np.full(n_rows, np.nan)
    est, est_p, phi = nan.copy(), nan.copy(), nan.copy()
    fit = np.flatnonzero(ok)
    tw = min(n_t, max_months)
    if len(fit):
        block = cnt[fit, n_t - tw :].copy()
        block[~cov_rows[fit, n_t - tw :]] = np.nan
        cols = (~np.isnan(block)).any(axis=0)
        months = [month_label(lo + n_t - tw + k) for k in range(tw) if cols[k]]
        if months:
            current = np.array([month_index(m) > end - 12 for m in months], dtype=float)
            r = quasi_poisson_dispersion(block[:, cols], months, indicators=current)
            est[fit], est_p[fit] = r["dispersion"], r["dispersion_p"]
            phi[fit] = np.where(np.isnan(r["dispersion"]), np.nan, r["phi"])
    adj = dispersion_adjusted(
        np.where(ok, np.round(cur), 0),
        np.where(ok, np.round(comp), 0),
        12.0,
        np.maximum(comp_len, 1),
        np.where(ok, phi, 1.0),
        level=level,
        p_value=np.where(ok, p_value, 1.0),
    )
    wider = ok & (phi > 1)
    test = np.select(
        [~ok, wider, np.isnan(phi)],
        [
            "",
            "exact Poisson widened for over-dispersion (quasi-Poisson)",
            "exact Poisson (too few months or events to check over-dispersion)",
        ],
        "exact Poisson (no over-dispersion detected)",
    ).astype(object)
    return {
        "dispersion": np.where(ok, phi, np.nan),
        "dispersion_estimate": np.where(ok, est, np.nan),
        "dispersion_p": np.where(ok, est_p, np.nan),
        "p_value_adjusted": np.where(ok, adj["p_value_adjusted"], np.nan),
        "ci_low_adjusted": np.where(ok, adj["ci_low_adjusted"], np.nan),
        "ci_high_adjusted": np.where(ok, adj["ci_high_adjusted"], np.nan),
        "test_used": test,
    }


def note_for(
    d: MeasureDefinition, cov: dict[str, list[str]], lo: int, end: int, notes_src: Mapping[str, str]
) -> str:
    key = source_key(d)
    months = cov.get(key, [])
    what = {
        "policeuk": "police.uk data",
        "force": "force records",
        "survey": "survey responses",
    }.get(d.source, f"the external series '{d.filter.get('series')}'")
    if not months:
        if d.source == "external":
            return notes_src.get(key) or (
                f"the external series '{d.filter.get('series')}' has not been imported "
                "(`peelian measures import-series`)"
            )
        return notes_src.get(key) or f"no {what} have been loaded"
    first, last = min(months), max(months)
    parts = []
    if month_index(last) < end or month_index(first) > end - 11:
        parts.append(
            f"{what} cover {month_label(month_index(first), 'long')} to "
            f"{month_label(month_index(last), 'long')}, so the 12 months to "
            f"{month_label(end, 'long')} are not complete"
        )
    b_first = month_index(d.baseline_end) - d.baseline_months + 1
    if month_index(first) > b_first or month_index(last) < month_index(d.baseline_end):
        parts.append(
            f"the baseline ({d.baseline_months} months to {month_label(month_index(d.baseline_end), 'long')}) "
            f"is not available because {what} start in {month_label(month_index(first), 'long')}"
        )
    return "; ".join(parts)


def signal_text(
    res: dict[str, np.ndarray], point: np.ndarray, months: list[str], rules: str
) -> np.ndarray:
    n = point.shape[0]
    out = np.full(n, "", dtype=object)
    above, below = res["n_above"], res["n_below"]
    last_above = np.where(point == 1, np.arange(point.shape[1]), -1).max(axis=1)
    last_below = np.where(point == -1, np.arange(point.shape[1]), -1).max(axis=1)
    parts: list[list[str]] = [[] for _ in range(n)]
    for i in np.flatnonzero(above > 0):
        parts[i].append(
            f"{int(above[i])} month{'s' if above[i] > 1 else ''} above the upper limit (latest {months[last_above[i]]})"
        )
    for i in np.flatnonzero(below > 0):
        parts[i].append(
            f"{int(below[i])} month{'s' if below[i] > 1 else ''} below the lower limit (latest {months[last_below[i]]})"
        )
    if rules == "anhoj":
        for i in np.flatnonzero(res["long_run"]):
            parts[i].append(
                f"unusually long run of {int(res['longest_run'][i])} months on one side of the centre line"
            )
        for i in np.flatnonzero(res["few_crossings"]):
            parts[i].append(f"too few crossings of the centre line ({int(res['crossings'][i])})")
    else:
        for key, label in (
            ("we_rule2", "2 of 3 beyond 2 sigma"),
            ("we_rule3", "4 of 5 beyond 1 sigma"),
            ("we_rule4", "8 in a row on one side"),
        ):
            for i in np.flatnonzero(res[key]):
                parts[i].append(label)
    for i in range(n):
        out[i] = "; ".join(parts[i]) if parts[i] else "none"
    return out


def monthly_frame(
    meta: pd.DataFrame,
    cnt: np.ndarray,
    cov_rows: np.ndarray,
    lo: int,
    w0: int,
    centre: np.ndarray,
    lcl: np.ndarray,
    ucl: np.ndarray,
    point: np.ndarray,
) -> pd.DataFrame:
    n_rows, n_t = cnt.shape
    cols_cov = np.flatnonzero(cov_rows.any(axis=0)) if n_rows else np.zeros(0, dtype=int)
    if not n_rows or not len(cols_cov):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in MONTHLY_COLUMNS})
    rr, tt = np.nonzero(cov_rows[:, cols_cov])
    tt = cols_cov[tt]
    in_w = tt >= w0
    k = np.where(in_w, tt - w0, 0)
    pt = np.where(in_w, point[rr, k], 0)
    # categoricals from integer codes: no per-row string objects for ~10^6 rows
    months = [month_label(lo + t) for t in range(n_t)]

    def cat(values: np.ndarray, idx: np.ndarray) -> pd.Categorical:
        codes, uniques = pd.factorize(pd.Series(values, dtype=object))
        return pd.Categorical.from_codes(codes[idx], categories=pd.Index(uniques, dtype=object))

    return pd.DataFrame(
        {
            "measure": cat(meta["measure"].to_numpy(dtype=object), rr),
            "area_level": cat(meta["area_level"].to_numpy(dtype=object), rr),
            "area_code": cat(meta["area_code"].to_numpy(dtype=object), rr),
            "month": pd.Categorical.from_codes(
                tt, categories=pd.Index(months, dtype=object), ordered=True
            ),
            "count": cnt[rr, tt],
            "centre": np.where(in_w, centre[rr, k], np.nan),
            "lcl": np.where(in_w, lcl[rr, k], np.nan),
            "ucl": np.where(in_w, ucl[rr, k], np.nan),
            "signal": pd.Categorical.from_codes(
                pt + 1, categories=pd.Index(["below", "", "above"], dtype=object)
            ),
        }
    )
