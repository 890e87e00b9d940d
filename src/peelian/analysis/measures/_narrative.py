"""The sentence a performance report would print for each measure result.

It never claims a change the statistics do not support: a change is called a rise or fall only
when the decision p-value (BH-adjusted across areas at levels with more than one area) is below
the significance level; otherwise it is "within normal variation". The decision p-value is the
exact test's, widened by the area's dispersion where its monthly counts are over-dispersed
("allowing for the usual month-to-month variation...", with both p-values and the widened
rate-ratio interval). A missing baseline or incomplete period is said, with the reason.
"""

from __future__ import annotations

import math
from functools import lru_cache

import pandas as pd

from peelian.analysis.measures._evidence import verdict_evidence
from peelian.analysis.measures._series import month_index, month_label
from peelian.analysis.stats import small_numbers_note
from peelian.schemas.formatting import (
    fmt_change,
    fmt_count,
    fmt_interval,
    fmt_level,
    fmt_number,
    fmt_p,
    fmt_pct,
)

__all__ = ["narrate_rows"]

_LEVEL_WORD = {"csp": "community safety partnerships", "ward": "wards", "lsoa": "LSOAs"}


def _place(level: str, name: object, code: str) -> str:
    if level == "force":
        return ""
    label = name if isinstance(name, str) and name else code
    if level == "ward":
        return f" in {label} ward"
    if level == "lsoa":
        return f" in LSOA {label}"
    return f" in {label}"


@lru_cache(maxsize=512)
def _long(month: str) -> str:
    return month_label(month_index(month), "long")


@lru_cache(maxsize=512)
def _previous_end(month: str) -> str:
    return month_label(month_index(month) - 12, "long")


@lru_cache(maxsize=4096)
def _interval(low: float, high: float) -> str:
    return fmt_interval(low, high, 1 if max(abs(low), abs(high)) < 100 else 0)


def _nan(x: object) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def narrate_rows(
    values: pd.DataFrame,
    family_size: pd.Series,
    level: float = 0.95,
    nouns: dict[str, tuple[str, str]] | None = None,
) -> list[str]:
    """One narrative per row of the engine's values frame (see module docstring); ``nouns``
    maps a measure to its [singular, plural] noun."""
    out: list[str] = []
    alpha = 1 - level
    lvl = f"{level:.0%}"
    cols = [
        "measure",
        "label",
        "area_level",
        "area_name",
        "area_code",
        "period_end",
        "current",
        "comparison",
        "compared_with",
        "baseline_period_end",
        "change",
        "change_pct",
        "rate_ratio",
        "ci_low",
        "ci_high",
        "p_value",
        "p_adjusted",
        "dispersion",
        "p_value_adjusted",
        "ci_low_adjusted",
        "ci_high_adjusted",
        "current_ci_low",
        "current_ci_high",
        "comparison_ci_low",
        "comparison_ci_high",
        "direction_good",
        "unit",
        "rate_per_1000",
        "harm",
        "harm_comparison",
        "harm_change_pct",
        "spc_signal",
        "note",
        "trend_pct",
        "trend_low",
        "trend_high",
        "trend_p_value",
        "trend_model",
    ]
    fam = family_size.to_numpy()
    # the interval each verdict used (Benjamini & Yekutieli 2005 FCR level below force level),
    # the same pair the pages, the API and the report's tables print
    ev = verdict_evidence(values, fdr=alpha)
    ev_lo = ev["verdict_ci_low"].to_numpy(dtype=float)
    ev_hi = ev["verdict_ci_high"].to_numpy(dtype=float)
    ev_level = ev["verdict_level"].to_numpy(dtype=float)
    from collections import namedtuple

    row_t = namedtuple("row_t", cols)  # type: ignore[misc]
    columns = [values[c].astype(object).tolist() for c in cols]
    for i, r in enumerate(map(row_t._make, zip(*columns, strict=True))):
        sing, plur = (nouns or {}).get(r.measure, (r.label.lower(), r.label.lower()))
        place = _place(r.area_level, r.area_name, r.area_code)
        period = f"the 12 months to {_long(r.period_end)}"
        if _nan(r.current):
            note = r.note or "the data do not cover the period"
            out.append(f"No figure for {plur}{place} in {period}: {note}.")
            continue
        n = int(round(r.current))
        verb, noun = ("was", sing) if n == 1 else ("were", plur)
        s = f"There {verb} {fmt_count(n)} {noun}{place} in {period}"
        if r.unit == "rate_per_1000" and not _nan(r.rate_per_1000):
            s += f" ({fmt_number(r.rate_per_1000, 2)} per 1,000 residents)"
        if r.compared_with == "none" or _nan(r.comparison):
            note = f" ({r.note})" if r.note else ""
            out.append(f"{s}. There is no comparison period in the data{note}.")
            continue
        comp = int(round(r.comparison))
        if r.compared_with == "baseline":
            when = f"the 12 months to {_long(r.baseline_period_end)}"
        else:
            when = f"the previous 12 months (to {_previous_end(r.period_end)})"
        s += f", compared with {fmt_count(comp)} in {when} ({fmt_pct(r.change_pct)})."
        adj = r.p_adjusted if fam[i] > 1 else None
        wider = not _nan(r.dispersion) and r.dispersion > 1 and not _nan(r.p_value_adjusted)
        p_dec = r.p_value_adjusted if wider else r.p_value
        decide = adj if adj is not None and not _nan(adj) else p_dec
        if _nan(decide) or decide >= alpha or r.change == 0:
            verdict = "this is within normal variation"
        else:
            way = "rise" if r.change > 0 else "fall"
            good = (r.change < 0) == (r.direction_good == "down")
            verdict = f"this is a statistically significant {way}, {'an improvement' if good else 'a deterioration'}"
        if wider:
            verdict = f"Allowing for the usual month-to-month variation in {plur}{place}, {verdict}"
            stats_txt = (
                f"{fmt_p(r.p_value_adjusted)} allowing for that variation, which is "
                f"{fmt_number(r.dispersion, 1)} times what chance alone gives; exact Poisson test "
                f"{fmt_p(r.p_value)}"
            )
        else:
            verdict = verdict[0].upper() + verdict[1:]
            stats_txt = f"exact test {fmt_p(r.p_value)}"
        if adj is not None and not _nan(adj):
            stats_txt += (
                f", {fmt_p(adj).replace('p ', '', 1).lstrip('= ')} after adjusting for "
                f"{fam[i]} {_LEVEL_WORD.get(r.area_level, 'areas')}"
            )
        lo_rr, hi_rr = (r.ci_low_adjusted, r.ci_high_adjusted) if wider else (r.ci_low, r.ci_high)
        ci_lvl = lvl
        if not _nan(ev_lo[i]) and not _nan(ev_level[i]):
            lo_rr, hi_rr, ci_lvl = ev_lo[i], ev_hi[i], fmt_level(ev_level[i])
        if (
            not _nan(r.rate_ratio)
            and not _nan(lo_rr)
            and (wider or adj is not None or (not _nan(decide) and decide < alpha))
        ):
            stats_txt += (
                f"; rate ratio {fmt_number(r.rate_ratio, 2)}, {ci_lvl} CI "
                f"{fmt_interval(lo_rr, hi_rr)}"
            )
        if not wider:
            stats_txt += (
                f"; {lvl} intervals {_interval(r.current_ci_low, r.current_ci_high)} and "
                f"{_interval(r.comparison_ci_low, r.comparison_ci_high)}"
            )
        s += f" {verdict} ({stats_txt})."
        why = "" if _nan(lo_rr) else small_numbers_note((lo_rr, hi_rr), widened=wider)
        if why:
            s += f" {why} (the rate ratio's {ci_lvl} interval is {fmt_interval(lo_rr, hi_rr)})."
        if r.unit == "cchi_harm" and not _nan(r.harm):
            s += (
                f" Harm-weighted (Cambridge Crime Harm Index): {fmt_count(round(r.harm))} days, "
                f"compared with {fmt_count(round(r.harm_comparison))} "
                f"({fmt_pct(r.harm_change_pct)}); the test above is on counts."
            )
        if r.compared_with != "baseline" and r.note:
            s += f" No comparison with the baseline: {r.note}."
        if isinstance(r.spc_signal, str) and r.spc_signal not in ("none", "not assessed", ""):
            s += f" Control chart: {r.spc_signal}."
        if isinstance(r.trend_model, str) and r.trend_model and not _nan(r.trend_p_value):
            if r.trend_p_value < alpha:
                way = "rising" if r.trend_pct > 0 else "falling"
                s += (
                    f" The {'seasonally adjusted ' if 'seasonal' in r.trend_model else ''}trend is {way} "
                    f"({fmt_change(r.trend_pct, arrow=False)} a year, {lvl} CI "
                    f"{fmt_interval(r.trend_low, r.trend_high, 1)}%, {fmt_p(r.trend_p_value)})."
                )
            else:
                s += (
                    f" There is no significant {'seasonally adjusted ' if 'seasonal' in r.trend_model else ''}trend "
                    f"({fmt_p(r.trend_p_value)})."
                )
        out.append(s)
    return out
