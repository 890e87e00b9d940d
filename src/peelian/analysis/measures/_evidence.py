"""The evidence behind each verdict: the one interval and p-value a surface shows beside it.

The measures engine decides ``significant`` with the Benjamini-Hochberg (1995) adjusted
p-value of the dispersion-widened test, within a family (one measure at one area level). A
surface that printed the exact interval, or even the widened 95% interval, beside that verdict
could show "1.07 (1.07-1.08), p < 0.001" next to "no significant change". This module picks,
per row, the pair the verdict used:

- ``verdict_p``: the decision p-value (``p_adjusted``: BH over the widened p within the family;
  for a family of one it equals the widened p, which is the exact p when no over-dispersion was
  detected);
- ``verdict_ci_low`` / ``verdict_ci_high``: the rate-ratio interval of the same test at the
  false-coverage-rate adjusted level of Benjamini & Yekutieli (2005, JASA 100:71-81,
  "False discovery rate-adjusted multiple confidence intervals for selected parameters"):
  ``1 - R q / m`` for a family of ``m`` tests with ``R`` discoveries at FDR ``q`` (``1 - q / m``
  when ``R = 0``). BH rejects a test exactly when its p-value is at most ``R q / m``, so these
  intervals exclude 1 exactly for the rows called significant. For a family of one the level is
  ``1 - q`` (95% at q = 0.05): the dispersion-widened 95% interval;
- ``verdict_level``: that interval's level; ``verdict_interval``: it as text ("0.03 to ∞"); ``verdict_method``: how the test was made
  ("exact Poisson", "quasi-Poisson, dispersion 3.2", "Fisher's exact test") and, for families
  of more than one, the FDR family ("BH FDR over 1,234 LSOAs").

Survey rows (proportions, Fisher's exact test) keep their stored interval; their families are
small and the widening does not apply.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from peelian.analysis.stats import dispersion_adjusted
from peelian.schemas.formatting import fmt_count, fmt_interval, fmt_number

__all__ = ["EVIDENCE_COLUMNS", "LEVEL_NOUNS", "fdr_families", "verdict_evidence"]

#: Columns added by :func:`verdict_evidence` (keys are added, never renamed).
EVIDENCE_COLUMNS = (
    "verdict_p",
    "verdict_ci_low",
    "verdict_ci_high",
    "verdict_level",
    "verdict_interval",
    "verdict_method",
    "fdr_family",
    "fdr_family_size",
)

#: How an area level is named in a family's description.
LEVEL_NOUNS = {
    "force": ("force", "force"),
    "csp": ("community safety partnership", "community safety partnerships"),
    "ward": ("ward", "wards"),
    "lsoa": ("LSOA", "LSOAs"),
}


def fdr_families(values: pd.DataFrame) -> pd.Series:
    """The FDR family key of each row: the engine's ``fdr_family`` column when it has one,
    else its definition (one measure at one area level)."""
    if "fdr_family" in values.columns and values["fdr_family"].notna().any():
        return values["fdr_family"].astype(object).fillna("").astype(str)
    return values["measure"].astype(str) + "|" + values["area_level"].astype(str)


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column as floats (NaN where missing or not numeric; all NaN if absent)."""
    if name not in frame.columns:
        return np.full(len(frame), np.nan)
    return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float).copy()


def _method(values: pd.DataFrame) -> np.ndarray:
    test = values.get("test_used", pd.Series("", index=values.index)).astype(object)
    phi = _col(values, "dispersion")
    out = []
    for t, d in zip(test.fillna("").astype(str), phi, strict=True):
        if "fisher" in t.lower():
            out.append("Fisher's exact test")
        elif "widened" in t or "quasi" in t.lower():
            out.append(f"quasi-Poisson, dispersion {fmt_number(d, 1)}")
        elif t:
            out.append("exact Poisson")
        else:
            out.append("")
    return np.asarray(out, dtype=object)


def verdict_evidence(
    values: pd.DataFrame, *, fdr: float = 0.05, only: npt.ArrayLike | None = None
) -> pd.DataFrame:
    """``values`` (the engine's values frame) with :data:`EVIDENCE_COLUMNS` added (see module
    docstring). ``fdr``: the run's FDR level (its summary's ``fdr``). ``only``: a boolean mask
    of the rows whose intervals are wanted (the others' ``verdict_ci_*`` are NaN; families and
    levels still count every row)."""
    out = values.copy()
    n = len(out)
    fam_key = fdr_families(out)
    p_dec = _col(out, "p_adjusted")
    has_p = ~np.isnan(p_dec)
    fam = pd.Series(fam_key.to_numpy(), index=out.index)
    m = fam.where(has_p).groupby(fam).transform(lambda s: s.notna().sum()).to_numpy(dtype=float)
    sig = out.get("significant", pd.Series(False, index=out.index)).astype(object)
    sig = sig.map(lambda v: str(v).lower() in ("true", "1")).to_numpy(dtype=bool) & has_p
    r = pd.Series(sig, index=out.index).groupby(fam).transform("sum").to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        alpha = np.where(m > 0, np.maximum(r, 1.0) * fdr / np.maximum(m, 1.0), fdr)
    level = np.where(has_p, 1.0 - alpha, np.nan)
    lo, hi = _col(out, "ci_low_adjusted"), _col(out, "ci_high_adjusted")
    method = _method(out)
    poisson = has_p & np.array(["Poisson" in x for x in method], dtype=bool)
    wider = poisson & (np.abs(level - 0.95) > 1e-12) & (m > 1)
    if only is not None:
        wanted = np.asarray(only, dtype=bool)
        wider &= wanted
        lo[~wanted], hi[~wanted] = np.nan, np.nan
    if wider.any():
        lo[wider], hi[wider] = _interval_at(out[wider], level[wider])
    out["verdict_p"] = p_dec
    out["verdict_ci_low"] = np.where(has_p, lo, np.nan)
    out["verdict_ci_high"] = np.where(has_p, hi, np.nan)
    out["verdict_level"] = level
    # the interval as text too: JSON has no infinity, so an unbounded end would read as null
    out["verdict_interval"] = np.asarray(
        [fmt_interval(a, b) if h else "" for a, b, h in zip(lo, hi, has_p, strict=True)],
        dtype=object,
    )
    levels = out["area_level"].astype(str).to_numpy()
    described = []
    for i in range(n):
        if not has_p[i]:
            described.append("")
            continue
        if m[i] > 1:
            noun = LEVEL_NOUNS.get(levels[i], ("area", "areas"))[1]
            described.append(f"{method[i]}; BH FDR over {fmt_count(m[i])} {noun}")
        else:
            described.append(method[i])
    out["verdict_method"] = np.asarray(described, dtype=object)
    if "fdr_family" in values.columns and values["fdr_family"].notna().any():
        out["fdr_family"] = values["fdr_family"].to_numpy()  # the engine's own words
    else:
        labels = out.get("label", out["measure"]).astype(str).to_numpy()
        out["fdr_family"] = np.asarray(
            [
                ""
                if not has_p[i]
                else "one area only (no adjustment)"
                if m[i] <= 1
                else f"all {fmt_count(m[i])} {LEVEL_NOUNS.get(levels[i], ('area', 'areas'))[1]}"
                f" × {labels[i]}"
                for i in range(n)
            ],
            dtype=object,
        )
    out["fdr_family_size"] = m
    return out


def _interval_at(rows: pd.DataFrame, level: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The widened rate-ratio interval of ``rows`` at ``level`` (per row), with the exposures
    the engine used: 12 months for the current window, and the comparison window's length
    recovered from the stored rate ratio (``RR = (a / 12) / (b / t_b)``)."""
    a, b = np.round(_col(rows, "current")), np.round(_col(rows, "comparison"))
    rr, phi = _col(rows, "rate_ratio"), _col(rows, "dispersion")
    widened = np.array(
        ["quasi" in str(t) or "widened" in str(t) for t in rows.get("test_used", [""] * len(rows))]
    )
    phi = np.where(widened & ~np.isnan(phi), phi, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        tb = np.where((a > 0) & (b > 0) & np.isfinite(rr), rr * b * 12.0 / a, 12.0)
    tb = np.where(np.isfinite(tb) & (tb > 0), tb, 12.0)
    lo, hi = np.full(len(rows), np.nan), np.full(len(rows), np.nan)
    ok = ~np.isnan(a) & ~np.isnan(b)
    for lv in np.unique(level[ok]):
        sel = ok & (level == lv)
        res = dispersion_adjusted(a[sel], b[sel], 12.0, tb[sel], phi[sel], level=float(lv))
        lo[sel] = res["ci_low_adjusted"]
        hi[sel] = res["ci_high_adjusted"]
    return lo, hi
