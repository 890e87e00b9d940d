"""Victim satisfaction: rates with Wilson intervals by group and over time, the items that
drive overall dissatisfaction (logistic regression), and survey measures for the engine.

A respondent is *satisfied* with an item when they score it ``threshold`` (default 4) or more on
the 1-5 scale ("fairly" or "very satisfied", as in the Home Office victim satisfaction survey);
blank items are left out of that item's base.

Sources: Wilson (1927) score interval; logistic regression odds ratios with Wald intervals
(Hosmer, Lemeshow & Sturdivant 2013, *Applied Logistic Regression*, 3rd ed., ch. 3); Fisher's
exact test for two proportions (Fisher 1935); the Katz log interval for a ratio of proportions
(Katz, Baptista, Azen & Pike 1978, *Biometrics* 34: 469-474).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from peelian.analysis.stats import fmt_count, fmt_p, wilson_interval
from peelian.errors import EmptySelectionError, ParameterError, SchemaError

__all__ = [
    "ITEMS",
    "ITEM_LABELS",
    "DriversResult",
    "satisfaction_drivers",
    "satisfaction_rates",
]

ITEMS = ("overall", "contact", "actions", "kept_informed", "treatment")
ITEM_LABELS = {
    "overall": "the service overall",
    "contact": "initial contact",
    "actions": "the actions taken",
    "kept_informed": "being kept informed",
    "treatment": "their treatment",
}


def _check(responses: pd.DataFrame, item: str) -> None:
    if item not in ITEMS:
        raise ParameterError(
            f"The 'item' parameter must be one of {', '.join(ITEMS)}. Got {item!r}."
        )
    missing = [c for c in ("month", item) if c not in responses.columns]
    if missing:
        raise SchemaError(f"The survey responses frame lacks {', '.join(missing)}.")


def satisfaction_rates(
    responses: pd.DataFrame,
    *,
    by: Sequence[str] = (),
    item: str = "overall",
    period: str | None = None,
    threshold: int = 4,
    level: float = 0.95,
) -> pd.DataFrame:
    """Share satisfied per group (``by`` columns, e.g. crime_type, domestic_abuse) and, with
    ``period`` = "month" | "quarter" | "year", per period. Columns: *by*, [period], item,
    answered, satisfied, rate (0-100), ci_low, ci_high (Wilson, percent)."""
    _check(responses, item)
    if period not in (None, "month", "quarter", "year"):
        raise ParameterError(
            f"The 'period' parameter must be month, quarter or year. Got {period!r}."
        )
    df = responses[responses[item].notna()].copy()
    keys = list(by)
    if period:
        m = pd.PeriodIndex(df["month"].astype(str), freq="M")
        df["period"] = m.asfreq({"month": "M", "quarter": "Q", "year": "Y"}[period]).astype(str)
        keys.append("period")
    df["sat"] = pd.to_numeric(df[item]) >= threshold
    if keys:
        g = (
            df.groupby(keys, dropna=False)["sat"]
            .agg(answered="size", satisfied="sum")
            .reset_index()
        )
    else:
        g = pd.DataFrame({"answered": [len(df)], "satisfied": [int(df["sat"].sum())]})
    lo, hi = wilson_interval(g["satisfied"], g["answered"], level)
    g.insert(len(keys), "item", item)
    g["rate"] = g["satisfied"] / g["answered"] * 100
    g["ci_low"], g["ci_high"] = lo * 100, hi * 100
    return g


@dataclass(frozen=True)
class DriversResult:
    """Odds ratios of overall dissatisfaction for not being satisfied with each item."""

    frame: pd.DataFrame  # item, label, odds_ratio, ci_low, ci_high, p_value, share_not_satisfied
    n_used: int
    n_excluded: int
    outcome: str
    narrative: str
    citation: str = "Hosmer, Lemeshow & Sturdivant 2013 (logistic regression)"


def satisfaction_drivers(
    responses: pd.DataFrame,
    *,
    items: Sequence[str] = ("contact", "actions", "kept_informed", "treatment"),
    threshold: int = 4,
    level: float = 0.95,
) -> DriversResult:
    """Which items drive overall dissatisfaction: a logistic regression of "not satisfied
    overall" on "not satisfied with item" for every item at once (complete cases)."""
    import statsmodels.api as sm

    for it in ("overall", *items):
        _check(responses, it)
    cc = responses.dropna(subset=["overall", *items])
    n_ex = len(responses) - len(cc)
    y = (pd.to_numeric(cc["overall"]) < threshold).astype(float).to_numpy()
    x = np.column_stack([(pd.to_numeric(cc[i]) < threshold).astype(float) for i in items])
    if len(cc) < 10 * (len(items) + 1) or y.min() == y.max():
        raise EmptySelectionError(
            f"Only {len(cc)} complete responses ({int(y.sum()) if len(y) else 0} dissatisfied): too "
            "few to estimate what drives dissatisfaction.",
            "Import more survey responses, or ask about fewer items.",
        )
    usable = x.std(axis=0) > 0
    xm = sm.add_constant(x[:, usable], has_constant="add")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            fit = sm.Logit(y, xm).fit(disp=0, maxiter=200)
        except Exception as exc:  # perfect separation, singular matrix
            raise EmptySelectionError(
                f"The logistic regression cannot be estimated on these responses ({exc}).",
                "Some item perfectly predicts overall satisfaction; report the rates instead.",
            ) from exc
    z = stats.norm.ppf(1 - (1 - level) / 2)
    rows = []
    k = 1
    for j, it in enumerate(items):
        share = float(x[:, j].mean() * 100)
        if not usable[j]:
            rows.append(
                {
                    "item": it,
                    "label": ITEM_LABELS[it],
                    "odds_ratio": np.nan,
                    "ci_low": np.nan,
                    "ci_high": np.nan,
                    "p_value": np.nan,
                    "share_not_satisfied": share,
                }
            )
            continue
        b, se = fit.params[k], fit.bse[k]
        rows.append(
            {
                "item": it,
                "label": ITEM_LABELS[it],
                "odds_ratio": math.exp(b),
                "ci_low": math.exp(b - z * se),
                "ci_high": math.exp(b + z * se),
                "p_value": float(fit.pvalues[k]),
                "share_not_satisfied": share,
            }
        )
        k += 1
    frame = pd.DataFrame(rows).sort_values("odds_ratio", ascending=False, na_position="last")
    sig = frame[(frame["p_value"] < 1 - level) & (frame["odds_ratio"] > 1)]
    head = f"Among {fmt_count(len(cc))} victims who answered every item ({int(y.sum())} not satisfied overall)"
    if sig.empty:
        text = f"{head}, no single item significantly drives overall dissatisfaction."
    else:
        top = sig.iloc[0]
        text = (
            f"{head}, not being satisfied with {top['label']} is the strongest driver of overall "
            f"dissatisfaction: odds ratio {top['odds_ratio']:.1f} ({level:.0%} CI "
            f"{top['ci_low']:.1f}-{top['ci_high']:.1f}, {fmt_p(top['p_value'])}); "
            f"{top['share_not_satisfied']:.0f}% were not satisfied with it."
        )
        others = [f"{r.label} (odds ratio {r.odds_ratio:.1f})" for r in sig.iloc[1:].itertuples()]
        if others:
            text += " Also significant: " + "; ".join(others) + "."
    return DriversResult(
        frame=frame.reset_index(drop=True),
        n_used=len(cc),
        n_excluded=n_ex,
        outcome=f"overall score < {threshold}",
        narrative=text,
    )
