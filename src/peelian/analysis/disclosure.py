"""Statistical disclosure control of small counts derived from person-level records.

Counts of force records below force level can be small enough to point at a person (one
homicide in an LSOA). Official statistics suppress such cells: the ONS and the GSS (*Statistical
disclosure control for tables produced from administrative data*, GSS 2014; ONS *Disclosure
control policy for tables*) and the Home Office's police recorded crime open data do not show
counts between 1 and a threshold (commonly 1-4, i.e. below 5; zeros are not disclosive) and
suppress a second cell where a suppressed one could be recovered by subtraction from a total
("secondary suppression").

:func:`suppress_small_counts` applies that to the measures' values frame:

- primary: a row (below force level, from a person-level source) whose current or comparison
  count is 1 to ``threshold - 1`` has those counts hidden, shown as ``<threshold``;
- row consistency: everything a hidden count could be recovered from in the same row goes too
  (the other count's change, the percentage change, the rate ratio and its intervals, rates per
  1,000, the p-values, harm and the narrative sentence);
- secondary: within a group that adds up to a shown total (the areas of one parent, for one
  measure), a single hidden cell would be recoverable as total minus the others, so the next
  smallest cell of that group is hidden as well.

police.uk counts are public already (data.police.uk publishes every street-level record), so
their rows are never suppressed; nor are force-level rows (the force total is published).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_THRESHOLD",
    "PERSON_SOURCES",
    "is_person_source",
    "suppress_monthly",
    "suppress_small_counts",
]

#: Counts from 1 to 4 are hidden (shown as "<5").
DEFAULT_THRESHOLD = 5
#: Result sources derived from person-level records (force records, including generated ones).
PERSON_SOURCES = ("force",)

#: Columns that reveal the current count (hidden with it).
_CURRENT_COLS = (
    "current",
    "current_ci_low",
    "current_ci_high",
    "rate_per_1000",
    "eb_rate_per_1000",
    "harm",
)
#: Columns that reveal the comparison count.
_COMPARISON_COLS = (
    "baseline",
    "comparison",
    "comparison_ci_low",
    "comparison_ci_high",
    "baseline_ci_low",
    "baseline_ci_high",
    "previous",
    "harm_comparison",
)
#: Columns from which either count follows, given the other.
_JOINT_COLS = (
    "change",
    "change_pct",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "ci_low_adjusted",
    "ci_high_adjusted",
    "verdict_ci_low",
    "verdict_ci_high",
    "p_value",
    "p_value_adjusted",
    "p_adjusted",
    "verdict_p",
    "harm_change_pct",
    "previous_change_pct",
    "previous_rate_ratio",
    "previous_ci_low",
    "previous_ci_high",
    "previous_p_value",
    "previous_p_value_adjusted",
    "trend_pct",
    "trend_low",
    "trend_high",
)


def is_person_source(source: object) -> bool:
    """Whether a result row's ``source`` is derived from person-level records.

    >>> is_person_source("force"), is_person_source("force-synthetic"), is_person_source("policeuk")
    (True, True, False)
    """
    s = str(source or "").lower()
    return s.split("-")[0].split(":")[0] in PERSON_SOURCES


def _small(x: pd.Series, threshold: int) -> np.ndarray:
    v = pd.to_numeric(x, errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        return (v > 0) & (v < threshold)


def suppress_small_counts(
    values: pd.DataFrame,
    threshold: int = DEFAULT_THRESHOLD,
    *,
    groups: pd.Series | None = None,
) -> pd.DataFrame:
    """``values`` with small person-derived counts below force level hidden (module docstring).

    Adds ``suppressed`` (bool) and ``suppression`` ("primary", "secondary" or None) and
    ``current_display`` / ``comparison_display`` (``"<5"`` for a hidden count). ``groups``
    (aligned with ``values``): the key of the cells that add up to a shown total (e.g. measure
    and parent area) for secondary suppression; None skips it.
    """
    if threshold < 1:
        raise ValueError(f"The small-count threshold must be at least 1. Got {threshold}.")
    out = values.copy()
    n = len(out)
    if n == 0:
        for c in ("suppressed", "suppression", "current_display", "comparison_display"):
            out[c] = pd.Series(dtype=object)
        return out
    person = out["source"].map(is_person_source).to_numpy(dtype=bool)
    below = (out["area_level"].astype(str) != "force").to_numpy(dtype=bool)
    eligible = person & below
    cur_col = "current"
    comp_col = "comparison" if "comparison" in out else "baseline"
    hide_cur = eligible & _small(out[cur_col], threshold)
    hide_comp = eligible & _small(out[comp_col], threshold)
    kind = np.where(hide_cur | hide_comp, "primary", None).astype(object)
    if groups is not None:
        hide_cur, added = _secondary(out, hide_cur, eligible, groups, cur_col)
        kind[added & (kind == None)] = "secondary"  # noqa: E711
        hide_comp, added = _secondary(out, hide_comp, eligible, groups, comp_col)
        kind[added & (kind == None)] = "secondary"  # noqa: E711
    label = f"<{threshold}"
    out["current_display"] = np.where(hide_cur, label, None)
    out["comparison_display"] = np.where(hide_comp, label, None)
    any_hidden = hide_cur | hide_comp
    for cols, mask in ((_CURRENT_COLS, hide_cur), (_COMPARISON_COLS, hide_comp)):
        for c in cols:
            if c in out:
                out[c] = out[c].astype(object).where(~mask, None)
    for c in _JOINT_COLS:
        if c in out:
            out[c] = out[c].astype(object).where(~any_hidden, None)
    if "narrative" in out:
        out["narrative"] = (
            out["narrative"]
            .astype(object)
            .where(
                ~any_hidden,
                f"Counts from 1 to {threshold - 1} of force records below force level are not "
                "shown (statistical disclosure control).",
            )
        )
    out["suppressed"] = any_hidden
    out["suppression"] = kind
    return out


def _secondary(
    out: pd.DataFrame, hidden: np.ndarray, eligible: np.ndarray, groups: pd.Series, col: str
) -> tuple[np.ndarray, np.ndarray]:
    """Hide the smallest other eligible cell of each group with exactly one hidden cell."""
    hidden = hidden.copy()
    added = np.zeros(len(out), dtype=bool)
    frame = pd.DataFrame(
        {
            "g": np.asarray(groups, dtype=object),
            "h": hidden,
            "v": pd.to_numeric(out[col], errors="coerce").to_numpy(dtype=float),
            "i": np.arange(len(out)),
        }
    )[eligible]
    if frame.empty:
        return hidden, added
    by = frame.groupby("g", sort=False)["h"]
    lone = (by.transform("sum") == 1) & (by.transform("size") >= 2)
    cand = frame[lone & ~frame["h"] & frame["v"].notna()]
    pick = cand.sort_values(["g", "v"], kind="stable").drop_duplicates("g")["i"].to_numpy()
    hidden[pick] = True
    added[pick] = True
    return hidden, added


def suppress_monthly(
    monthly: pd.DataFrame,
    person_measures: set[str] | frozenset[str],
    threshold: int = DEFAULT_THRESHOLD,
) -> pd.DataFrame:
    """Monthly series with counts from 1 to ``threshold - 1`` of the ``person_measures`` (those
    whose source is person-level) below force level hidden (``count`` None, ``suppressed``
    True). The centre line and limits stay: they are means over many months."""
    out = monthly.copy()
    if out.empty:
        out["suppressed"] = pd.Series(dtype=bool)
        return out
    eligible = out["measure"].isin(person_measures).to_numpy(dtype=bool) & (
        out["area_level"].astype(str) != "force"
    ).to_numpy(dtype=bool)
    hide = eligible & _small(out["count"], threshold)
    out["count"] = out["count"].astype(object).where(~hide, None)
    out["suppressed"] = hide
    return out
