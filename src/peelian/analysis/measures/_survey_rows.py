"""Survey measures (victim satisfaction) as rows of the measures ``values`` frame, for the force
and, where a response can be placed, for each community safety partnership.

The survey itself has no area; a response is placed in a CSP through its crime reference (the
force record's LSOA). Responses that cannot be placed count in the force figure only, and each
CSP row says how many were placed.

Percent satisfied (score >= 4 of 5) in the 12 months to the period end against the baseline (or
the previous 12 months): Wilson (1927) intervals, Fisher's (1935) exact test, the Katz et al.
(1978) log interval of the ratio, and Benjamini & Hochberg (1995) across the CSPs of a measure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from peelian.analysis.measures._satisfaction import ITEM_LABELS
from peelian.analysis.measures._series import month_index, month_label
from peelian.analysis.stats import bh_adjust, fmt_count, fmt_p, wilson_interval
from peelian.schemas.measure_definitions import MeasureCatalogue, MeasureDefinition

__all__ = ["satisfaction_measure_rows"]


def _window_counts(
    df: pd.DataFrame, item: str, end: int, months: int, threshold: int
) -> tuple[int, int]:
    mi = month_index(df["month"]) if len(df) else np.zeros(0, dtype=int)
    sel = df[(mi > end - months) & (mi <= end)]
    answered = sel[item].notna()
    return int(answered.sum()), int((pd.to_numeric(sel.loc[answered, item]) >= threshold).sum())


def _windows(
    d: MeasureDefinition, df: pd.DataFrame, end: int, cov: set[str], threshold: int
) -> dict[str, tuple[int, int] | None]:
    def full(e: int, n: int) -> bool:
        return all(month_label(m) in cov for m in range(e - n + 1, e + 1))

    b_end = month_index(d.baseline_end)
    windows = {
        "current": (end, 12),
        "baseline": (b_end, d.baseline_months),
        "previous": (end - 12, 12),
    }
    return {
        k: _window_counts(df, d.filter["item"], e, n, threshold) if full(e, n) else None
        for k, (e, n) in windows.items()
    }


def _fisher(got: Mapping[str, tuple[int, int] | None]) -> float:
    cur = got["current"]
    comp = got["baseline"] if got["baseline"] and got["baseline"][0] else got["previous"]
    if not cur or not cur[0] or not comp or not comp[0]:
        return np.nan
    (n1, s1), (n0, s0) = cur, comp
    return float(stats.fisher_exact([[s1, n1 - s1], [s0, n0 - s0]])[1])


def _row(
    d: MeasureDefinition,
    got: Mapping[str, tuple[int, int] | None],
    base: dict[str, Any],
    end: int,
    level: float,
    p_adj: float,
    family: int,
    cov_empty: bool,
    place: str,
    placed_note: str,
) -> dict[str, Any]:
    b_end = month_index(d.baseline_end)
    what = f"{d.label.lower()}{place}"
    if got["current"] is None or got["current"][0] == 0:
        why = (
            "no survey responses have been imported"
            if cov_empty
            else (
                f"no survey responses{place} in the 12 months to {month_label(end, 'long')}"
                if got["current"] is not None
                else "survey responses do not cover the 12 months to " + month_label(end, "long")
            )
        )
        why += placed_note
        return {
            **base,
            "current": np.nan,
            "note": why,
            "narrative": f"No figure for {what} in the 12 months to {month_label(end, 'long')}: {why}.",
            "assessment": "not assessed",
        }
    comp_key = "baseline" if got["baseline"] and got["baseline"][0] else "previous"
    n1, s1 = got["current"]
    r1 = s1 / n1 * 100
    lo1, hi1 = wilson_interval(s1, n1, level)
    row: dict[str, Any] = {
        **base,
        "current": r1,
        "current_ci_low": float(lo1) * 100,
        "current_ci_high": float(hi1) * 100,
        "baseline_available": comp_key == "baseline",
    }
    text = (
        f"{r1:.1f}% of victims surveyed{place} were satisfied with "
        f"{ITEM_LABELS[d.filter['item']]}"
        f"{' (domestic abuse)' if d.filter.get('domestic_abuse') else ''} in the 12 months to "
        f"{month_label(end, 'long')} (n = {fmt_count(n1)}; {level:.0%} CI "
        f"{lo1 * 100:.1f}-{hi1 * 100:.1f}%)"
    )
    comp = got[comp_key]
    if not comp or comp[0] == 0:
        row.update(
            {
                "compared_with": "none",
                "assessment": "not assessed",
                "note": "no comparison period in the survey data" + placed_note,
            }
        )
        row["narrative"] = (
            text
            + ". There is no comparison period in the survey data."
            + (f" ({placed_note.strip('; ').capitalize()}.)" if placed_note else "")
        )
        return row
    n0, s0 = comp
    r0 = s0 / n0 * 100
    lo0, hi0 = wilson_interval(s0, n0, level)
    p = _fisher(got)
    ratio = (r1 / r0) if r0 > 0 else np.nan
    if s1 > 0 and s0 > 0:
        se = math.sqrt(1 / s1 - 1 / n1 + 1 / s0 - 1 / n0)
        z = stats.norm.ppf(1 - (1 - level) / 2)
        ci = (ratio * math.exp(-z * se), ratio * math.exp(z * se))
    else:
        ci = (np.nan, np.nan)
    decide = p_adj if not np.isnan(p_adj) else p
    significant = bool(decide < 1 - level)
    up = r1 > r0
    assessment = (
        "no significant change"
        if not significant
        else ("improving" if up == (d.direction_good == "up") else "worsening")
    )
    when = (
        f"the 12 months to {month_label(b_end, 'long')} (n = {fmt_count(n0)})"
        if comp_key == "baseline"
        else f"the previous 12 months (n = {fmt_count(n0)})"
    )
    verdict = (
        "This is within normal variation"
        if not significant
        else f"This is a statistically significant {'rise' if up else 'fall'}"
    )
    note = (
        ""
        if comp_key == "baseline"
        else f"the baseline ({d.baseline_months} months to {month_label(b_end, 'long')}) is not "
        "covered by the survey data"
    )
    row.update(
        {
            "baseline": r0 if comp_key == "baseline" else np.nan,
            "comparison": r0,
            "compared_with": "baseline" if comp_key == "baseline" else "previous 12 months",
            "change": r1 - r0,
            "change_pct": (r1 / r0 - 1) * 100 if r0 else np.nan,
            "rate_ratio": ratio,
            "ci_low": ci[0],
            "ci_high": ci[1],
            "p_value": p,
            "p_adjusted": decide,
            "p_value_adjusted": p,
            "ci_low_adjusted": ci[0],
            "ci_high_adjusted": ci[1],
            "test_used": "Fisher's exact test",
            "significant": significant,
            "assessment": assessment,
            "comparison_ci_low": float(lo0) * 100,
            "comparison_ci_high": float(hi0) * 100,
            "baseline_ci_low": float(lo0) * 100 if comp_key == "baseline" else np.nan,
            "baseline_ci_high": float(hi0) * 100 if comp_key == "baseline" else np.nan,
            "note": note + placed_note if note else placed_note.strip("; "),
        }
    )
    adjusted = (
        f", {fmt_p(decide).replace('p ', '', 1).lstrip('= ')} after adjusting for {family} "
        "community safety partnerships"
        if family > 1
        else ""
    )
    row["narrative"] = (
        f"{text}, compared with {r0:.1f}% in {when} ({r1 - r0:+.1f} percentage points). "
        f"{verdict} (Fisher's exact test {fmt_p(p)}{adjusted}; {level:.0%} intervals "
        f"{lo1 * 100:.1f}-{hi1 * 100:.1f}% and {lo0 * 100:.1f}-{hi0 * 100:.1f}%)."
        + (f" No comparison with the baseline: {note}." if note else "")
        + (f" ({placed_note.strip('; ').capitalize()}.)" if placed_note else "")
    )
    return row


def satisfaction_measure_rows(
    responses: pd.DataFrame | None,
    catalogue: MeasureCatalogue,
    period_end: str,
    *,
    months_covered: Sequence[str] | None = None,
    threshold: int = 4,
    level: float = 0.95,
    force_code: str = "force",
    force_name: str = "Force area",
    csps: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Rows of the measures ``values`` frame for the survey measures.

    Force rows always; with ``csps`` (code -> name) and a ``csp_code`` column in
    ``responses`` (the CSP of the crime each response is about; null when it cannot be
    placed), one row per CSP too, with the Fisher p-values Benjamini-Hochberg adjusted across
    the CSPs of each measure (``p_adjusted``; the decision uses it).
    """
    defs = [d for d in catalogue if d.source == "survey"]
    rows: list[dict[str, Any]] = []
    end = month_index(period_end)
    cov = set(months_covered or ([] if responses is None else responses["month"].astype(str)))
    with_csp = bool(csps) and responses is not None and "csp_code" in responses.columns
    for d in defs:
        base: dict[str, Any] = {
            "measure": d.name,
            "label": d.label,
            "group": d.group,
            "ncpm": d.ncpm,
            "source": "survey",
            "unit": "percent",
            "period_end": period_end,
            "direction_good": d.direction_good,
            "baseline_period_end": d.baseline_end,
            "spc_signal": "not assessed",
        }
        df = (
            responses
            if responses is not None
            else pd.DataFrame(columns=["month", d.filter["item"]])
        )
        if d.filter.get("domestic_abuse") is not None and "domestic_abuse" in df.columns:
            df = df[
                df["domestic_abuse"].fillna(False).astype(bool) == bool(d.filter["domestic_abuse"])
            ]
        got = _windows(d, df, end, cov, threshold)
        force_base = {
            **base,
            "area_level": "force",
            "area_code": force_code,
            "area_name": force_name,
        }
        p_force = _fisher(got)
        rows.append(_row(d, got, force_base, end, level, p_force, 1, not cov, "", ""))
        if not with_csp:
            continue
        assert csps is not None
        placed = df["csp_code"].notna()
        cur = month_index(df["month"]) if len(df) else np.zeros(0, dtype=int)
        in_cur = (cur > end - 12) & (cur <= end)
        unplaced = int((~placed & in_cur).sum())
        placed_note = (
            f"; {fmt_count(unplaced)} of the force's {fmt_count(int(in_cur.sum()))} responses in "
            "the 12 months could not be placed in a community safety partnership"
            if unplaced
            else ""
        )
        gots = {code: _windows(d, df[df["csp_code"] == code], end, cov, threshold) for code in csps}
        ps = np.array([_fisher(g) for g in gots.values()], dtype=float)
        adj = bh_adjust(ps)
        for (code, g), pa in zip(gots.items(), adj, strict=True):
            csp_base = {**base, "area_level": "csp", "area_code": code, "area_name": csps[code]}
            rows.append(
                _row(
                    d,
                    g,
                    csp_base,
                    end,
                    level,
                    float(pa),
                    int((~np.isnan(ps)).sum()),
                    not cov,
                    f" in {csps[code]}",
                    placed_note,
                )
            )
    return pd.DataFrame(rows)
