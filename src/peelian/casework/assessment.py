"""Assessment of a problem: counts before and after, against a comparison area the user picks.

Three exact comparisons, each a :func:`peelian.analysis.stats.compare_counts` (conditional exact
binomial test of two Poisson counts, Przyborowski & Wilenski 1940; exact rate-ratio interval,
Breslow & Day 1987 s2.5; Garwood 1936 intervals for each count):

1. the problem area, after against before (exposures: the months in each period);
2. the comparison area, after against before (the same);
3. the problem area's change *relative to* the comparison area's: the problem area's after
   count against the comparison area's after count, with each area's before count as its
   exposure, so the rate ratio is ``(a_after / a_before) / (c_after / c_before)``. This conditions
   on the before counts (treats them as known), so its interval is narrower than one that allowed
   for their own noise; it is labelled so wherever it is shown.

The verdict is comparison 3's (a change beyond what the comparison area saw), with the
interval and p-value it used; 1 and 2 are shown beside it. Counts are read from police.uk street
crime and ASB per LSOA and month (:func:`peelian.data.counts.policeuk_counts`, the one read
path), or given by the user when the problem's counts come from elsewhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

from peelian.analysis.stats import compare_counts
from peelian.casework._records import now, update_versioned, write
from peelian.casework.policy import Principal, require
from peelian.casework.problems import get_problem, need_purpose
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import problems
from peelian.errors import EmptySelectionError, ParameterError

__all__ = ["assess_counts", "assess_problem", "area_counts"]

_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _months(first: str, last: str, what: str) -> int:
    for m in (first, last):
        if not _MONTH.match(m or ""):
            raise ParameterError(f"The {what} period's months must be YYYY-MM. Got {m!r}.")
    n = (int(last[:4]) - int(first[:4])) * 12 + int(last[5:]) - int(first[5:]) + 1
    if n < 1:
        raise ParameterError(f"The {what} period ends ({last}) before it starts ({first}).")
    return n


def area_counts(
    store: Store,
    lsoa_codes: Iterable[str],
    first: str,
    last: str,
    categories: Iterable[str] | None = None,
) -> int:
    """Street crimes and ASB recorded in these LSOAs from month ``first`` to ``last``."""
    from peelian.data.counts import policeuk_counts

    codes = {c.strip().upper() for c in lsoa_codes if c and c.strip()}
    if not codes:
        raise ParameterError("Name at least one LSOA code for the area (e.g. E01008305).")
    frame = policeuk_counts(store, month_from=first, month_to=last)
    sel = frame[frame["lsoa_code"].isin(codes)]
    cats = [c for c in categories or () if c]
    if cats:
        sel = sel[sel["category"].isin(cats)]
    if frame.empty:
        raise EmptySelectionError(
            f"There are no police.uk records from {first} to {last}.",
            "Ingest them with `peelian fetch` and `peelian ingest`, or give the counts.",
        )
    return int(sel["n"].sum())


def assess_counts(
    before: int,
    after: int,
    comparison_before: int,
    comparison_after: int,
    *,
    months_before: int,
    months_after: int,
    level: float = 0.95,
) -> dict[str, Any]:
    """The three exact comparisons of the module docstring, and the verdict (from the third)."""
    area = compare_counts(after, before, months_after, months_before, level)
    comparison = compare_counts(
        comparison_after, comparison_before, months_after, months_before, level
    )
    if before == 0 or comparison_before == 0:
        relative = None
    else:
        relative = compare_counts(after, comparison_after, before, comparison_before, level)
    decisive = relative if relative is not None else area
    if decisive.significant and (decisive.rate_ratio or 0) < 1:
        verdict = "fell more than the comparison area" if relative else "fell"
    elif decisive.significant:
        verdict = "rose more than the comparison area" if relative else "rose"
    else:
        verdict = "no change beyond the comparison area" if relative else "no significant change"
    return _clean(
        {
            "counts": {
                "before": before,
                "after": after,
                "comparison_before": comparison_before,
                "comparison_after": comparison_after,
                "months_before": months_before,
                "months_after": months_after,
            },
            "area": area.to_dict(),
            "comparison": comparison.to_dict(),
            "relative": None if relative is None else relative.to_dict(),
            "relative_note": (
                "Relative change conditions on the before counts (treated as exposures), so its "
                "interval does not include their own noise."
            ),
            "verdict": verdict,
            "verdict_from": "relative" if relative is not None else "area",
            "p_value": decisive.decision_p,
            "ci_ratio": list(decisive.ci_ratio) if decisive.ci_ratio else None,
            "rate_ratio": decisive.rate_ratio,
        }
    )


def _clean(value: Any) -> Any:
    """NaN and infinity become None (JSON, and PostgreSQL's json type, have neither)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def assess_problem(
    store: Store,
    actor: Principal,
    problem_id: int,
    version: int,
    *,
    before: tuple[str, str],
    after: tuple[str, str],
    area_codes: Iterable[str] | None = None,
    comparison_codes: Iterable[str] | None = None,
    comparison_name: str = "",
    counts: dict[str, int] | None = None,
    categories: Iterable[str] | None = None,
    purpose: str | None = None,
    level: float = 0.95,
) -> dict[str, Any]:
    """Record an assessment on a problem and return it.

    ``before`` and ``after`` are ``(first month, last month)``. Counts come from police.uk for
    ``area_codes`` and ``comparison_codes`` (LSOAs), or from ``counts`` (keys before, after,
    comparison_before, comparison_after) when given.
    """
    problem = get_problem(store, actor, problem_id, audit_read=False)
    kind = problem["record_kind"]
    require(actor, "update", kind, problem)
    purpose = need_purpose(kind, purpose, "assess")
    mb = _months(before[0], before[1], "before")
    ma = _months(after[0], after[1], "after")
    if before[1] >= after[0]:
        raise ParameterError(
            f"The before period ({before[0]} to {before[1]}) must end before the after period "
            f"starts ({after[0]}).",
            "Leave the months of the response itself out of both.",
        )
    cats = list(categories or [])
    if counts is not None:
        try:
            c = {
                k: int(counts[k])
                for k in ("before", "after", "comparison_before", "comparison_after")
            }
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(
                "Counts need whole numbers for before, after, comparison_before and "
                "comparison_after."
            ) from exc
        source = "given by the user"
    else:
        area = list(area_codes or ([problem["area_code"]] if problem["area_code"] else []))
        comp = list(comparison_codes or [])
        if not area or not comp:
            raise ParameterError(
                "An assessment needs the problem's area and a comparison area (LSOA codes), or "
                "the counts.",
                "Pick a comparison area like the problem's but without the response.",
            )
        if set(area) & set(comp):
            raise ParameterError("The comparison area must not overlap the problem's area.")
        c = {
            "before": area_counts(store, area, *before, cats),
            "after": area_counts(store, area, *after, cats),
            "comparison_before": area_counts(store, comp, *before, cats),
            "comparison_after": area_counts(store, comp, *after, cats),
        }
        source = "police.uk street crime and ASB"
    result = assess_counts(
        c["before"],
        c["after"],
        c["comparison_before"],
        c["comparison_after"],
        months_before=mb,
        months_after=ma,
        level=level,
    )
    result.update(
        before_period=list(before),
        after_period=list(after),
        area_codes=list(area_codes or []),
        comparison_codes=list(comparison_codes or []),
        comparison_name=comparison_name.strip(),
        categories=cats,
        source=source,
        assessed_at=now().isoformat(timespec="seconds"),
        assessed_by=actor.username,
    )
    with write(store) as conn:
        update_versioned(
            conn,
            problems,
            problem_id,
            version,
            {"assessment": result, "updated_at": now(), "updated_by": actor.username},
            what="problem",
        )
        append(
            conn,
            actor.username,
            "problem.assess",
            record_kind=kind,
            record_id=problem_id,
            purpose=purpose,
            detail={"counts": result["counts"], "verdict": result["verdict"]},
        )
    return result
