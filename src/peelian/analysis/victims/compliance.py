"""Victims' Code compliance: on-time rates with exact intervals, by group and by month, with a
test for trend.

A duty counts once it has fallen due (met on time, met late or overdue as at the assessment
date; duties not yet due are left out and counted separately). The on-time rate is
``met on time / due``; its interval is the exact Clopper-Pearson interval (Clopper CJ, Pearson ES
(1934), *Biometrika* 26(4): 404-413; ``beta.ppf(a/2, x, n-x+1)`` to ``beta.ppf(1-a/2, x+1, n-x)``,
equal to ``statsmodels`` ``proportion_confint(method="beta")``), conservative for small groups.

The monthly trend (by month of the due day) is tested with the Cochran-Armitage test for trend
in proportions (Armitage P (1955), *Biometrics* 11(3): 375-386; scores 0, 1, 2, ... for the
months), two-sided; the result carries the z statistic and p-value the verdict used.

>>> import pandas as pd
>>> d = pd.DataFrame({"duty": ["arrest"] * 10, "status": ["met_on_time"] * 8 + ["overdue"] * 2})
>>> r = compliance_rates(d, ["duty"])
>>> row = r.loc[0]
>>> int(row["on_time"]), int(row["due"]), round(float(row["low"]), 4), round(float(row["high"]), 4)
(8, 10, 0.4439, 0.9748)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from peelian.errors import ParameterError

__all__ = [
    "RATE_COLUMNS",
    "TrendTest",
    "clopper_pearson",
    "compliance_rates",
    "compliance_trend",
    "trend_test",
]

#: Columns every rates frame has after its group columns.
RATE_COLUMNS = ("due", "on_time", "late", "overdue", "not_yet_due", "rate", "low", "high")


def clopper_pearson(
    successes: npt.ArrayLike, n: npt.ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Clopper-Pearson) interval for ``successes / n``; NaN where ``n`` is 0."""
    if not 0 < level < 1:
        raise ParameterError(f"The 'level' parameter must be between 0 and 1. Got {level!r}.")
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    a = 1 - level
    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x > 0, stats.beta.ppf(a / 2, x, m - x + 1), 0.0)
        high = np.where(x < m, stats.beta.ppf(1 - a / 2, x + 1, m - x), 1.0)
    low = np.where(m > 0, low, np.nan)
    high = np.where(m > 0, high, np.nan)
    return low, high


def compliance_rates(
    duties: pd.DataFrame, by: Sequence[str], *, level: float = 0.95
) -> pd.DataFrame:
    """On-time rates per group of ``by`` columns (columns: the groups, then
    :data:`RATE_COLUMNS`), largest groups first."""
    missing = [c for c in (*by, "status") if c not in duties.columns]
    if missing:
        raise ParameterError(
            f"The duties frame has no column {', '.join(missing)}.",
            "Pass the duties of compute_duties (with any group columns added).",
        )
    status = duties["status"].astype(str)
    counts = pd.DataFrame(
        {
            "on_time": status.eq("met_on_time"),
            "late": status.eq("met_late"),
            "overdue": status.eq("overdue"),
            "not_yet_due": status.eq("not_yet_due"),
        }
    )
    for c in by:
        counts[c] = duties[c].astype(object).to_numpy()
    if by:
        g = counts.groupby(list(by), dropna=False, sort=True).sum().reset_index()
    else:
        g = counts.sum().to_frame().T
    for c in ("on_time", "late", "overdue", "not_yet_due"):
        g[c] = g[c].astype(np.int64)
    g["due"] = g["on_time"] + g["late"] + g["overdue"]
    with np.errstate(invalid="ignore", divide="ignore"):
        g["rate"] = np.where(g["due"] > 0, g["on_time"] / g["due"].clip(lower=1), np.nan)
    g["low"], g["high"] = clopper_pearson(g["on_time"], g["due"], level)
    g = g[[*by, *RATE_COLUMNS]]
    return g.sort_values("due", ascending=False, kind="stable", ignore_index=True)


@dataclass(frozen=True)
class TrendTest:
    """Cochran-Armitage test for a linear trend in the monthly on-time rate."""

    z: float
    p_value: float
    months: int
    direction: str  # rising | falling | no evidence of a trend

    def sentence(self, alpha: float = 0.05) -> str:
        if self.months < 3:
            return "Too few months to test for a trend."
        return (
            f"The on-time rate is {self.direction} over {self.months} months "
            "(Cochran-Armitage test for trend)."
        )


def trend_test(on_time: npt.ArrayLike, due: npt.ArrayLike, alpha: float = 0.05) -> TrendTest:
    """Cochran-Armitage trend test over consecutive periods (scores 0, 1, 2, ...)."""
    x = np.asarray(on_time, dtype=float)
    n = np.asarray(due, dtype=float)
    keep = n > 0
    x, n = x[keep], n[keep]
    t = np.arange(keep.size, dtype=float)[keep]
    big_n = n.sum()
    if x.size < 3 or big_n == 0:
        return TrendTest(float("nan"), float("nan"), int(x.size), "no evidence of a trend")
    p = x.sum() / big_n
    tbar = (n * t).sum() / big_n
    stat = (t * (x - n * p)).sum()
    var = p * (1 - p) * (n * (t - tbar) ** 2).sum()
    if var <= 0:
        return TrendTest(float("nan"), float("nan"), int(x.size), "no evidence of a trend")
    z = float(stat / np.sqrt(var))
    pv = float(2 * stats.norm.sf(abs(z)))
    direction = "no evidence of a trend" if pv >= alpha else ("rising" if z > 0 else "falling")
    return TrendTest(z, pv, int(x.size), direction)


def compliance_trend(
    duties: pd.DataFrame, by: Sequence[str] = (), *, level: float = 0.95
) -> pd.DataFrame:
    """Monthly on-time rates (by month of the due day, ``month`` as YYYY-MM), per group."""
    if "due" not in duties.columns:
        raise ParameterError("The duties frame has no 'due' column.")
    d = duties.assign(month=pd.to_datetime(duties["due"]).dt.strftime("%Y-%m"))
    out = compliance_rates(d, [*by, "month"], level=level)
    return out.sort_values([*by, "month"], kind="stable", ignore_index=True)
