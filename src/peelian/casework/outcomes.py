"""Outcome tracking: what the force's records show before and after an intervention or referral.

- **A person** (an intervention aimed at a person, or a referral): their offending (crimes where
  they are recorded as suspect or offender) and victimisation (crimes where they are the victim)
  in the 6 and 12 months before and after the start or referral date, read from the force
  records (``persons``, ``involvements``, ``occurrences``) by the pseudonymised ``person_ref``;
  each crime counted once per measure, dated by when it was reported. Windows, and when a window
  is complete, are defined in :mod:`peelian.analysis.before_after`: an after-window that runs
  past the last month of force data is *incomplete* and is never compared (a half-observed
  period would look like a fall). A person_ref absent from ``persons`` is reported as not found,
  never as "no offending".
- **A place** (an intervention at an LSOA, or at a problem with an LSOA): police.uk street crime
  and ASB (:func:`peelian.data.counts.policeuk_counts`, which sums the one read path
  :func:`peelian.data.counts.area_counts`) in the 6 and 12 whole months before and after the
  start month, compared with :func:`peelian.analysis.stats.compare_counts` (conditional exact
  test, Przyborowski & Wilenski 1940; exact rate-ratio interval, Breslow & Day 1987 s2.5).
- **A summary** (:func:`peelian.casework.outcomes_summary.outcome_summary`) per prevention tier and intervention type (:func:`outcome_summary`): volumes,
  how many have a complete follow-up, before and after totals with the exact rate ratio, its
  interval and p-value (widened for over-dispersion across people, McCullagh & Nelder 1989 s9.2),
  Benjamini-Hochberg q-values across the groups (Benjamini & Hochberg 1995), and proportions
  with numerator, denominator and Wilson interval (Wilson 1927). Person-derived counts from 1 to
  the threshold are hidden for roles without person access
  (:func:`peelian.analysis.before_after.suppress_summary`); police.uk counts are public.

Before/after is not causal (regression to the mean): :data:`NOT_CAUSAL` goes with every result.

A person's outcomes are person-level data: reading them needs the right to read the
intervention or referral *and* people (``peelian.casework.policy``), and a purpose; every read
is written to the audit log (``outcome.read``) with it. The summary and its export are audited
too (``outcome.summary``, ``outcome.export``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from peelian.analysis.before_after import (
    NOT_CAUSAL,
    day_window_counts,
    day_windows,
    month_windows,
)
from peelian.analysis.stats import compare_counts, narrate_comparison
from peelian.casework._records import write
from peelian.casework._vocab import label
from peelian.casework.policy import Principal, require
from peelian.casework.referrals import _may as may_referral
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import (
    interventions,
    involvements,
    occurrences,
    persons,
    problems,
    referrals,
)
from peelian.errors import AuthError, NotFoundError, ParameterError

__all__ = [
    "MEASURES",
    "METHODS",
    "NOT_CAUSAL",
    "WINDOWS",
    "intervention_outcomes",
    "person_outcomes",
    "place_outcomes",
    "referral_outcomes",
]

#: Window lengths, in months.
WINDOWS = (6, 12)
#: Person measures: involvement roles counted, and labels.
MEASURES: dict[str, tuple[tuple[str, ...], str]] = {
    "offending": (("suspect", "offender"), "Offending (suspect or offender)"),
    "victimisation": (("victim",), "Victimisation (victim)"),
}
_PLACE_MEASURE = ("crime", "Street crime and ASB (police.uk)")
#: The methods used, with their sources (shown with every summary).
METHODS = [
    "Windows: N calendar months ending on the start/referral day, and N months after it "
    "(people); N whole months before and after the start month (places).",
    "Change: conditional exact test of two Poisson counts and exact rate-ratio interval "
    "(Przyborowski & Wilenski 1940; Breslow & Day 1987 s2.5; Garwood 1936).",
    "Over-dispersion across people or places: quasi-Poisson dispersion of the two-period model "
    "widens the test and interval when above 1 (McCullagh & Nelder 1989 s9.2).",
    "Many groups: Benjamini-Hochberg false discovery rate within each target, measure and "
    "window (Benjamini & Hochberg 1995).",
    "Proportions: Wilson score interval (Wilson 1927; Brown, Cai & DasGupta 2001).",
    "Small counts (1 to 4) of person-derived figures hidden for roles without person access "
    "(ONS/GSS disclosure control).",
]
_LSOA = re.compile(r"^[EW]0\d{7}$")
_PROBLEM = re.compile(r"^problem:(\d+)$")
_IN_CHUNK = 500


def _purpose(purpose: str | None) -> str:
    text = (purpose or "").strip()
    if not text:
        raise ParameterError(
            "A person's outcomes are person-level data: say why you need them (the purpose is "
            "written to the audit log).",
            "E.g. 'diversion panel review 3 June'.",
        )
    return text


# -- reading the force records ---------------------------------------------------------------


def _force_coverage(store: Store) -> tuple[str, str] | None:
    with store.engine.connect() as conn:
        first, last = conn.execute(
            select(func.min(occurrences.c.month), func.max(occurrences.c.month))
        ).one()
    return None if first is None else (str(first), str(last))


def _synthetic(store: Store) -> bool:
    with store.engine.connect() as conn:
        hit = conn.execute(
            select(occurrences.c.id).where(occurrences.c.synthetic.is_(True)).limit(1)
        ).first()
    return hit is not None


def _chunks(items: list[str]) -> Iterable[list[str]]:
    for i in range(0, len(items), _IN_CHUNK):
        yield items[i : i + _IN_CHUNK]


def _person_events(store: Store, refs: Iterable[str]) -> tuple[pd.DataFrame, set[str]]:
    """(events: person, measure, day -- one row per crime and measure; the refs found in
    ``persons``)."""
    wanted = sorted({r for r in refs if r})
    roles = {role: m for m, (rs, _) in MEASURES.items() for role in rs}
    found: set[str] = set()
    parts = []
    i, o = involvements.c, occurrences.c
    # naming the forces lets both lookups use the (force, person_ref) indexes
    forces = store.read_frame(select(persons.c.force).distinct())["force"].tolist()
    for chunk in _chunks(wanted):
        q = select(persons.c.person_ref).where(
            persons.c.force.in_(forces), persons.c.person_ref.in_(chunk)
        )
        found |= {str(r) for r in store.read_frame(q)["person_ref"]}
        q = (
            select(i.person_ref, i.role, o.crime_ref, o.reported_at)
            .join(occurrences, (o.force == i.force) & (o.crime_ref == i.crime_ref))
            .where(i.force.in_(forces), i.person_ref.in_(chunk), i.role.in_(list(roles)))
        )
        parts.append(store.read_frame(q))
    cols = ["person", "measure", "day"]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    if frame.empty:
        return pd.DataFrame(columns=cols), found
    frame["measure"] = frame["role"].map(roles)
    frame = frame.drop_duplicates(["person_ref", "crime_ref", "measure"])
    frame["day"] = pd.to_datetime(frame["reported_at"]).dt.date
    return frame.rename(columns={"person_ref": "person"})[cols].reset_index(drop=True), found


def _policeuk(store: Store) -> tuple[pd.DataFrame, tuple[str, str] | None]:
    """police.uk counts per LSOA and month, and the months they cover."""
    from peelian.data.counts import policeuk_counts

    frame = policeuk_counts(store)
    if frame.empty:
        return pd.DataFrame(columns=["lsoa_code", "month", "n"]), None
    coverage = (str(frame["month"].min()), str(frame["month"].max()))
    out = frame.groupby(["lsoa_code", "month"], dropna=True)["n"].sum().reset_index()
    return out, coverage


def _place_code(conn: Any, target_ref: str) -> str | None:
    """The LSOA of a place target (an LSOA code, or a problem with an LSOA area)."""
    if m := _PROBLEM.match(target_ref or ""):
        row = conn.execute(
            select(problems.c.area_code).where(problems.c.id == int(m.group(1)))
        ).first()
        code = (row.area_code or "") if row else ""
        return code.upper() if _LSOA.match(code.upper()) else None
    return target_ref.upper() if _LSOA.match((target_ref or "").upper()) else None


# -- one person, one place -------------------------------------------------------------------


def _load(store: Store, table: Any, record_id: int, what: str) -> dict[str, Any]:
    with store.engine.connect() as conn:
        row = conn.execute(select(table).where(table.c.id == record_id)).first()
    if row is None:
        raise NotFoundError(f"There is no {what} {record_id}.", f"List the {what}s.")
    rec = dict(row._mapping)
    rec["organisation_id"] = None if rec["organisation_id"] is None else int(rec["organisation_id"])
    return rec


def _window_rows(
    counts: pd.DataFrame, index: dt.date, coverage: tuple[str, str] | None
) -> list[dict[str, Any]]:
    out = []
    for n in WINDOWS:
        w = day_windows(index, n, coverage)
        sel = counts[counts["months"] == n]
        complete = w["before_complete"] and w["after_complete"]
        measures = {}
        for m, (_, mlabel) in MEASURES.items():
            r = sel[sel["measure"] == m].iloc[0]
            before, after = int(r["before"]), int(r["after"])
            measures[m] = {
                "label": mlabel,
                "before": before,
                "after": after,
                "after_so_far": not w["after_complete"],
                "change": after - before if complete else None,
                "status": _status(w, coverage, before, after),
            }
        out.append(
            {
                **{k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in w.items()},
                "complete": complete,
                **measures,
            }
        )
    return out


def _status(w: dict[str, Any], coverage: tuple[str, str] | None, before: int, after: int) -> str:
    if coverage is None:
        return "No force records in the store."
    if not w["after_complete"]:
        return (
            f"After-window not complete yet (force records to {coverage[1]}; it ends "
            f"{w['after_to']}): not compared."
        )
    if not w["before_complete"]:
        return f"Before-window starts before the force records ({coverage[0]}): not compared."
    if after < before:
        return "Fewer after than before."
    if after > before:
        return "More after than before."
    return "The same before and after."


def person_outcomes(
    store: Store,
    actor: Principal,
    *,
    intervention_id: int | None = None,
    referral_id: int | None = None,
    purpose: str | None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Offending and victimisation of the person an intervention (``intervention_id``) or a
    referral (``referral_id``) names, in the 6 and 12 months before and after its start or
    referral date. Needs the right to read the record and people, and a ``purpose``; the read
    is audited (``outcome.read``)."""
    if (intervention_id is None) == (referral_id is None):
        raise ParameterError("Give either an intervention or a referral, not both or neither.")
    purpose = _purpose(purpose)
    if intervention_id is not None:
        kind, rid = "intervention", intervention_id
        rec = _load(store, interventions, intervention_id, "intervention")
        require(actor, "read", "intervention", rec, on)
        if rec["target_kind"] != "person":
            raise ParameterError(
                f"Intervention {rid} is aimed at a {rec['target_kind']}, not a person.",
                "Place outcomes: place_outcomes; family and group targets are not linked to "
                "force person records.",
            )
        ref, index = rec["target_ref"], rec["start_date"]
    else:
        kind, rid = "referral", int(referral_id)  # type: ignore[arg-type]
        rec = _load(store, referrals, rid, "referral")
        if not may_referral(actor, "read", rec, on):
            raise AuthError(
                f"{actor.username} ({actor.role}) may not read referral {rid}.",
                "Access follows the casework policy and live data-sharing agreements.",
            )
        ref, index = rec["person_ref"], rec["referred_on"]
        if not ref:
            raise NotFoundError(
                f"Referral {rid}'s personal data were erased (retention): there is no person "
                "to follow up."
            )
    require(actor, "read", "person", rec, on)
    coverage = _force_coverage(store)
    events, found = _person_events(store, [ref])
    units = pd.DataFrame([{"unit": rid, "person": ref, "index_date": index}])
    units.attrs["measures"] = list(MEASURES)
    counts = day_window_counts(units, events, WINDOWS, coverage)
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "outcome.read",
            record_kind=kind,
            record_id=rid,
            purpose=purpose,
            detail={"windows": list(WINDOWS)},
        )
    linked = ref in found
    return {
        "record_kind": kind,
        "record_id": rid,
        "target_kind": "person",
        "person_ref": ref,
        "index_date": index.isoformat(),
        "in_force_records": linked,
        "note": None
        if linked
        else (
            f"{ref} is not in the force records (persons): the counts below cannot show whether "
            "they offended; check the reference."
        ),
        "coverage": None if coverage is None else {"first": coverage[0], "last": coverage[1]},
        "windows": _window_rows(counts, index, coverage) if linked else [],
        "synthetic": _synthetic(store),
        "not_causal": NOT_CAUSAL,
        "methods": METHODS[:1],
    }


def referral_outcomes(
    store: Store, actor: Principal, referral_id: int, *, purpose: str | None
) -> dict[str, Any]:
    """:func:`person_outcomes` of a referral."""
    return person_outcomes(store, actor, referral_id=referral_id, purpose=purpose)


def _place_windows(
    counts: pd.DataFrame, code: str, start: dt.date, coverage: tuple[str, str] | None, level: float
) -> list[dict[str, Any]]:
    mine = counts[counts["lsoa_code"] == code]
    out = []
    for n in WINDOWS:
        w = month_windows(start, n, coverage)
        m = mine["month"]
        before = int(mine.loc[(m >= w["before_from"]) & (m <= w["before_to"]), "n"].sum())
        after = int(mine.loc[(m >= w["after_from"]) & (m <= w["after_to"]), "n"].sum())
        complete = w["before_complete"] and w["after_complete"]
        comparison = None
        if complete and before + after > 0:
            c = compare_counts(after, before, n, n, level)
            comparison = {
                **c.to_dict(),
                "narrative": narrate_comparison(
                    c, f"the {n} months after", f"the {n} months before"
                ),
            }
        if coverage is None:
            status = "No police.uk records in the store."
        elif not w["after_complete"]:
            status = (
                f"After-window not complete yet (police.uk to {coverage[1]}; it ends "
                f"{w['after_to']}): not compared."
            )
        elif not w["before_complete"]:
            status = f"Before-window starts before the police.uk records ({coverage[0]})."
        elif comparison is None:
            status = "No crime before or after."
        else:
            status = "Compared."
        out.append(
            {
                **w,
                "complete": complete,
                "before": before,
                "after": after,
                "after_so_far": not w["after_complete"],
                "comparison": comparison,
                "status": status,
            }
        )
    return out


def place_outcomes(
    store: Store,
    actor: Principal,
    intervention_id: int,
    *,
    on: dt.date | None = None,
    level: float = 0.95,
) -> dict[str, Any]:
    """Street crime and ASB (police.uk) in the place an intervention targets, in the 6 and 12
    whole months before and after its start month, each compared exactly when both windows are
    complete. Not person-level: needs the right to read the intervention."""
    rec = _load(store, interventions, intervention_id, "intervention")
    require(actor, "read", "intervention", rec, on)
    if rec["target_kind"] != "place":
        raise ParameterError(
            f"Intervention {intervention_id} is aimed at a {rec['target_kind']}, not a place.",
            "Person outcomes: person_outcomes (needs a purpose).",
        )
    with store.engine.connect() as conn:
        code = _place_code(conn, rec["target_ref"])
    if code is None:
        raise ParameterError(
            f"Intervention {intervention_id}'s place ({rec['target_ref']}) has no LSOA code, so "
            "its crime cannot be counted.",
            "Give the problem an LSOA area code, or target the LSOA itself.",
        )
    counts, coverage = _policeuk(store)
    return {
        "record_kind": "intervention",
        "record_id": intervention_id,
        "target_kind": "place",
        "area_code": code,
        "start_month": rec["start_date"].strftime("%Y-%m"),
        "measure": _PLACE_MEASURE[1],
        "coverage": None if coverage is None else {"first": coverage[0], "last": coverage[1]},
        "windows": _place_windows(counts, code, rec["start_date"], coverage, level),
        "not_causal": NOT_CAUSAL,
        "methods": [METHODS[0], METHODS[1]],
    }


def intervention_outcomes(
    store: Store,
    actor: Principal,
    intervention_id: int,
    *,
    purpose: str | None = None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """The outcomes of an intervention, whatever its target: a person's
    (:func:`person_outcomes`, needs a purpose), a place's (:func:`place_outcomes`), or, for a
    family or group, ``tracked: False`` with the reason."""
    rec = _load(store, interventions, intervention_id, "intervention")
    require(actor, "read", "intervention", rec, on)
    if rec["target_kind"] == "person":
        out = person_outcomes(store, actor, intervention_id=intervention_id, purpose=purpose, on=on)
    elif rec["target_kind"] == "place":
        out = place_outcomes(store, actor, intervention_id, on=on)
    else:
        return {
            "record_kind": "intervention",
            "record_id": intervention_id,
            "target_kind": rec["target_kind"],
            "tracked": False,
            "reason": f"{label(rec['target_kind'])} targets are not linked to force person "
            "records or to one place, so their outcomes are not tracked.",
            "not_causal": NOT_CAUSAL,
        }
    return {**out, "tracked": True}
