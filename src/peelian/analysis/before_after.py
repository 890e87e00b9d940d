"""Before/after windows around an index date, and their summary with exact intervals.

Pure computations for outcome tracking (:mod:`peelian.casework.outcomes`): frames in, frames
and dicts out; no store, no settings.

Windows
-------
- **Day windows** (a person's force records, dated to the day): for an index date ``d`` (the
  start of an intervention or the date of a referral) and a length of ``N`` months, *before* is
  ``d - N months < day <= d`` (the index day belongs to *before*: the offence that triggers a
  referral is usually recorded that day) and *after* is ``d < day <= d + N months``. Both are
  exactly ``N`` calendar months long, so their counts compare with equal exposures.
- **Month windows** (police.uk counts, monthly): *before* is the ``N`` whole months before the
  index month, *after* the ``N`` whole months after it; the index month itself is left out of
  both (partly before, partly after), as in a SARA assessment (Eck & Spelman 1987).
- A window is **complete** only when the store's data cover all of it (first to last month of
  the source). An after-window that runs past the last month of data is *incomplete*: its count
  so far is shown, but it is never compared with the before-window (a half-observed after
  period would look like a fall).

Summary statistics
------------------
- Change in the total count after against before, with equal exposures: the conditional exact
  test and exact rate-ratio interval of :func:`peelian.analysis.stats.compare_counts`
  (Przyborowski & Wilenski 1940; Breslow & Day 1987 s2.5; Garwood 1936).
- People's (and places') changes vary more than Poisson (a few prolific offenders): the
  quasi-Poisson dispersion ``phi`` of the paired model, a level per unit and one before/after
  effect (Pearson chi-square over its degrees of freedom, McCullagh & Nelder 1989 s9.2;
  Wedderburn 1974; :func:`pearson_dispersion`) widens the test and interval when above 1
  (:func:`peelian.analysis.stats.dispersion_adjusted`); the verdict uses the widened ones.
- Proportions (people with none after, people who offended before and had none after) with
  Wilson intervals (Wilson 1927; Brown, Cai & DasGupta 2001), always with numerator and
  denominator.
- Many groups (tiers x types) are tested at once: p-values are adjusted with the
  Benjamini-Hochberg procedure within each family (target, measure, window) (Benjamini &
  Hochberg 1995; :func:`peelian.analysis.stats.bh_adjust`).

Before/after is not causal: people are referred, and places targeted, when things are at their
worst, so counts tend to fall afterwards anyway (regression to the mean: Galton 1886; Barnett,
van der Pols & Dobson 2005, *Int J Epidemiol* 34: 215-220; Farrington & Welsh 2006 on police
interventions). Only a comparison group can say what would have happened without it.
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.stats import bh_adjust, compare_counts, wilson_interval
from peelian.errors import ParameterError

__all__ = [
    "NOT_CAUSAL",
    "SUMMARY_COLUMNS",
    "add_months",
    "day_window_counts",
    "day_windows",
    "month_index",
    "month_windows",
    "pearson_dispersion",
    "shift_month",
    "summarise_windows",
    "suppress_summary",
]

#: Said wherever before/after outcomes are shown.
NOT_CAUSAL = (
    "Before/after is not evidence that the intervention caused a change: people are referred and "
    "places targeted when things are at their worst, so counts tend to fall afterwards anyway "
    "(regression to the mean). Only a comparison group that did not receive it can show an "
    "effect."
)

#: Columns of :func:`summarise_windows` (one row per group).
SUMMARY_COLUMNS = [
    "units",
    "complete",
    "incomplete",
    "before",
    "after",
    "change",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "p_value",
    "dispersion",
    "p_value_exact",
    "q_value",
    "any_before",
    "none_after",
    "none_after_share",
    "none_after_ci_low",
    "none_after_ci_high",
    "stopped",
    "stopped_share",
    "stopped_ci_low",
    "stopped_ci_high",
]


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (the day clamped to the month's last).

    >>> add_months(dt.date(2021, 8, 31), 6), add_months(dt.date(2021, 3, 31), -1)
    (datetime.date(2022, 2, 28), datetime.date(2021, 2, 28))
    """
    k = day.year * 12 + day.month - 1 + months
    year, month = divmod(k, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def month_index(month: str) -> int:
    """A ``YYYY-MM`` month as a month number (for differences)."""
    try:
        year, mon = int(month[:4]), int(month[5:7])
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"A month must be YYYY-MM. Got {month!r}.") from exc
    if len(month) != 7 or month[4] != "-" or not 1 <= mon <= 12:
        raise ParameterError(f"A month must be YYYY-MM. Got {month!r}.")
    return year * 12 + mon - 1


def shift_month(month: str, months: int) -> str:
    """``YYYY-MM`` moved by ``months``."""
    year, mon = divmod(month_index(month) + months, 12)
    return f"{year:04d}-{mon + 1:02d}"


def _month_start(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[5:7]), 1)


def _month_end(month: str) -> dt.date:
    year, mon = int(month[:4]), int(month[5:7])
    return dt.date(year, mon, calendar.monthrange(year, mon)[1])


def day_windows(index: dt.date, months: int, coverage: tuple[str, str] | None) -> dict[str, Any]:
    """The before and after day windows of ``months`` around ``index`` (module docstring),
    with whether the data (``coverage``: first and last month, or None for no data) cover them.
    ``*_from`` is exclusive, ``*_to`` inclusive."""
    if months < 1:
        raise ParameterError(f"A window is at least 1 month long. Got {months}.")
    before_from, after_to = add_months(index, -months), add_months(index, months)
    if coverage is None:
        first = last = None
    else:
        first, last = _month_start(coverage[0]), _month_end(coverage[1])
    return {
        "months": months,
        "before_from": before_from,
        "before_to": index,
        "after_from": index,
        "after_to": after_to,
        "before_complete": first is not None and before_from + dt.timedelta(days=1) >= first,
        "after_complete": last is not None and after_to <= last,
    }


def month_windows(index: dt.date, months: int, coverage: tuple[str, str] | None) -> dict[str, Any]:
    """The before and after month windows of ``months`` around ``index``'s month (module
    docstring); ``*_from`` and ``*_to`` are both inclusive months."""
    if months < 1:
        raise ParameterError(f"A window is at least 1 month long. Got {months}.")
    m = f"{index.year:04d}-{index.month:02d}"
    out: dict[str, Any] = {
        "months": months,
        "index_month": m,
        "before_from": shift_month(m, -months),
        "before_to": shift_month(m, -1),
        "after_from": shift_month(m, 1),
        "after_to": shift_month(m, months),
    }
    out["before_complete"] = coverage is not None and out["before_from"] >= coverage[0]
    out["after_complete"] = coverage is not None and out["after_to"] <= coverage[1]
    return out


def day_window_counts(
    units: pd.DataFrame,
    events: pd.DataFrame,
    months: tuple[int, ...] = (6, 12),
    coverage: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Events of each unit's person in the before and after windows.

    ``units``: ``unit``, ``person`` (pseudonymised key), ``index_date`` (date).
    ``events``: ``person``, ``measure``, ``day`` (date), one row per distinct event and measure.
    Returns one row per unit, measure (every measure in ``events``, plus any in
    ``units.attrs["measures"]``) and window length: ``unit``, ``measure``, ``months``,
    ``before``, ``after`` (counts), ``before_complete``, ``after_complete``.
    """
    measures = sorted(set(events["measure"]) | set(units.attrs.get("measures", ())))
    cols = ["unit", "measure", "months", "before", "after", "before_complete", "after_complete"]
    if units.empty or not measures:
        return pd.DataFrame(columns=cols)
    ev = events[["person", "measure", "day"]].assign(day=pd.to_datetime(events["day"]))
    pairs = units[["unit", "person", "index_date"]].merge(ev, on="person", how="inner")
    pairs["index_date"] = pd.to_datetime(pairs["index_date"])
    parts = []
    for n in months:
        w = pd.DataFrame([day_windows(d, n, coverage) for d in units["index_date"]])
        w["unit"] = units["unit"].to_numpy()
        p = pairs.merge(w[["unit", "before_from", "after_to"]], on="unit")
        day = p["day"]
        p["before"] = (day > pd.to_datetime(p["before_from"])) & (day <= p["index_date"])
        p["after"] = (day > p["index_date"]) & (day <= pd.to_datetime(p["after_to"]))
        agg = p.groupby(["unit", "measure"])[["before", "after"]].sum().reset_index()
        grid = w[["unit", "before_complete", "after_complete"]].merge(
            pd.DataFrame({"measure": measures}), how="cross"
        )
        grid = grid.merge(agg, on=["unit", "measure"], how="left")
        grid[["before", "after"]] = grid[["before", "after"]].fillna(0).astype("int64")
        grid["months"] = n
        parts.append(grid)
    out = pd.concat(parts, ignore_index=True)
    order = {u: k for k, u in enumerate(units["unit"])}
    out = out.sort_values(
        ["unit", "months", "measure"], key=lambda c: c.map(order) if c.name == "unit" else c
    )
    return out[cols].reset_index(drop=True)


def pearson_dispersion(before: np.ndarray, after: np.ndarray) -> float:
    """Quasi-Poisson dispersion of paired counts: the Pearson chi-square over its degrees of
    freedom in the Poisson model with a level for each unit and one before/after effect
    (``log mu = unit + period``; McCullagh & Nelder 1989 s9.2, s6.3 for the paired form).

    Each unit's fitted counts share its own total in the overall before:after proportion, so
    units at very different levels (a busy and a quiet LSOA) are not mistaken for noise: only
    how unevenly the change is spread counts. Units with no events carry no information and
    leave the degrees of freedom (``units with events - 1``). NaN when fewer than 2 units have
    events or a period has none.

    >>> round(pearson_dispersion(np.array([2, 4, 2]), np.array([1, 0, 1])), 4)
    0.8333
    """
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    total = a + b
    keep = total > 0
    b, a, total = b[keep], a[keep], total[keep]
    if b.size < 2 or b.sum() == 0 or a.sum() == 0:
        return float("nan")
    share = b.sum() / total.sum()
    mu_b, mu_a = total * share, total * (1 - share)
    chi2 = ((b - mu_b) ** 2 / mu_b).sum() + ((a - mu_a) ** 2 / mu_a).sum()
    return float(chi2 / (b.size - 1))


def _share(k: int, n: int, level: float) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = wilson_interval(k, n, level)
    return k / n, float(low), float(high)


def _group_summary(g: pd.DataFrame, level: float) -> dict[str, Any]:
    done = g[g["before_complete"] & g["after_complete"]]
    b, a = done["before"].to_numpy(), done["after"].to_numpy()
    out: dict[str, Any] = {
        "units": len(g),
        "complete": len(done),
        "incomplete": len(g) - len(done),
        "before": int(b.sum()),
        "after": int(a.sum()),
    }
    phi = pearson_dispersion(b, a)
    disp = float(phi) if np.isfinite(phi) and phi > 1 else 1.0
    if len(done) and b.sum() + a.sum() > 0:
        months = float(done["months"].iloc[0]) * len(done)
        r = compare_counts(int(a.sum()), int(b.sum()), months, months, level, dispersion=disp)
        ci = r.ci_ratio_adjusted if r.widened else r.ci_ratio
        out.update(
            change=r.change,
            rate_ratio=r.rate_ratio,
            ci_low=None if ci is None else ci[0],
            ci_high=None if ci is None else ci[1],
            p_value=r.decision_p,
            p_value_exact=r.p_value,
            dispersion=r.dispersion,
        )
    else:
        out.update(
            change=None,
            rate_ratio=None,
            ci_low=None,
            ci_high=None,
            p_value=None,
            p_value_exact=None,
            dispersion=None,
        )
    any_before = int((b > 0).sum())
    none_after = int((a == 0).sum())
    stopped = int(((b > 0) & (a == 0)).sum())
    s, lo, hi = _share(none_after, len(done), level)
    out.update(any_before=any_before, none_after=none_after)
    out.update(none_after_share=s, none_after_ci_low=lo, none_after_ci_high=hi)
    s, lo, hi = _share(stopped, any_before, level)
    out.update(stopped=stopped, stopped_share=s, stopped_ci_low=lo, stopped_ci_high=hi)
    return out


def summarise_windows(
    counts: pd.DataFrame,
    groups: list[str],
    family: list[str],
    level: float = 0.95,
) -> pd.DataFrame:
    """One row per group of ``counts`` (a :func:`day_window_counts`-like frame with the
    ``groups`` columns; ``months`` must be among ``groups``): the columns of
    :data:`SUMMARY_COLUMNS`. Only units whose before and after windows are both complete enter
    the totals, the test and the proportions (``complete``); the others are counted in
    ``incomplete``. ``q_value``: Benjamini-Hochberg within each ``family`` (a subset of
    ``groups``, e.g. measure and months).

    Denominators: ``none_after`` of ``complete`` units had no event after;
    ``stopped`` of ``any_before`` (complete units with an event before) had none after.
    """
    if "months" not in groups or not set(family) <= set(groups):
        raise ParameterError("summarise_windows: group by months, and by every family column.")
    if counts.empty:
        return pd.DataFrame(columns=[*groups, *SUMMARY_COLUMNS])
    rows = []
    for key, g in counts.groupby(groups, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(groups, key, strict=True)), **_group_summary(g, level)})
    out = pd.DataFrame(rows)
    fam = out[family].astype(str).agg("|".join, axis=1)
    q = np.full(len(out), np.nan)
    p = pd.to_numeric(out["p_value"], errors="coerce").to_numpy(dtype=float)
    for f in fam.unique():
        sel = (fam == f).to_numpy()
        q[sel] = bh_adjust(p[sel])
    out["q_value"] = [None if np.isnan(x) else float(x) for x in q]
    return out[[*groups, *SUMMARY_COLUMNS]]


#: Count columns hidden with their derived figures (column -> what else it reveals).
_REVEALS = {
    "before": ("change", "rate_ratio", "ci_low", "ci_high", "p_value", "p_value_exact", "q_value"),
    "after": ("change", "rate_ratio", "ci_low", "ci_high", "p_value", "p_value_exact", "q_value"),
    "none_after": ("none_after_share", "none_after_ci_low", "none_after_ci_high"),
    "stopped": ("stopped_share", "stopped_ci_low", "stopped_ci_high"),
    "any_before": ("stopped", "stopped_share", "stopped_ci_low", "stopped_ci_high"),
}
#: Proportions whose complement is a count too (denominator column of each numerator).
_DENOMINATOR = {"none_after": "complete", "stopped": "any_before", "any_before": "complete"}


def suppress_summary(summary: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """``summary`` with person-derived counts from 1 to ``threshold - 1`` hidden (None), and
    everything they could be recovered from (the ONS/GSS rule of
    :mod:`peelian.analysis.disclosure`). A numerator is hidden too when its complement
    (denominator minus numerator) is small. Adds ``suppressed`` (the hidden columns, ';'-joined,
    or None). The unit counts (``units``, ``complete``) are volumes of casework records and
    stay."""

    def small(v: Any) -> bool:
        return v is not None and not pd.isna(v) and 0 < int(v) < threshold

    out = summary.copy().astype(object)
    flags: list[str | None] = []
    for i in range(len(out)):
        row = out.iloc[i]
        hide: set[str] = set()
        for col, reveals in _REVEALS.items():
            num = row.get(col)
            den = row.get(_DENOMINATOR.get(col, ""), None)
            comp = None if den is None or num is None or pd.isna(num) else int(den) - int(num)
            if small(num) or (col in _DENOMINATOR and small(comp)):
                hide |= {col, *reveals}
        if "before" in hide or "after" in hide:
            hide |= {"before", "after", "dispersion"}
        for col in hide:
            out.iat[i, out.columns.get_loc(col)] = None
        flags.append(";".join(sorted(hide)) or None)
    out["suppressed"] = flags
    return out
