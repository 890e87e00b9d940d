"""The outcome summary per prevention tier and intervention type (issue 14 item 3).

Over the interventions (and referrals) the user may read: volumes for every tier x type (zeros
too, so denominators show); for **people** (person interventions and referrals, one unit per
group and person, dated by the earliest start or referral date in the group; referrals take the
tier and type of the intervention they are linked to, or "not linked") offending and
victimisation in the 6 and 12 months before and after; for **places** police.uk street crime
and ASB in the 6 and 12 whole months before and after. Each row gives how many units have a
complete follow-up window (only those enter the figures), the before and after totals, the
exact rate ratio with its interval and p-value (widened for over-dispersion; McCullagh & Nelder
1989 s9.2), the Benjamini-Hochberg q-value across the tiers and types (Benjamini & Hochberg
1995), and proportions with numerator, denominator and Wilson interval (Wilson 1927). Methods:
:mod:`peelian.analysis.before_after`, :data:`peelian.casework.outcomes.METHODS`.

Person-derived counts from 1 to ``hide_below - 1`` are hidden for roles without person access
(:func:`peelian.analysis.before_after.suppress_summary`); police.uk counts are public. Before and
after is not causal (:data:`NOT_CAUSAL`). The summary and its export are audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd
from sqlalchemy import select

from peelian.analysis.before_after import (
    NOT_CAUSAL,
    day_window_counts,
    summarise_windows,
    suppress_summary,
)
from peelian.casework._records import write
from peelian.casework._vocab import INTERVENTION_TYPES, TIERS, label
from peelian.casework.outcomes import (
    _PLACE_MEASURE,
    MEASURES,
    METHODS,
    WINDOWS,
    _force_coverage,
    _person_events,
    _place_code,
    _place_windows,
    _policeuk,
    _synthetic,
)
from peelian.casework.policy import Principal, allowed, require
from peelian.casework.referrals import _may as may_referral
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import interventions, referrals

__all__ = ["OUTCOME_COLUMNS", "outcome_rows", "outcome_summary"]

_UNLINKED = ("none", "none")

#: Columns of an outcome row (the JSON rows and the CSV export).
OUTCOME_COLUMNS = [
    "target",
    "tier",
    "tier_label",
    "intervention_type",
    "type_label",
    "measure",
    "measure_label",
    "months",
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
    "q_value",
    "dispersion",
    "p_value_exact",
    "any_before",
    "none_after",
    "none_after_share",
    "none_after_ci_low",
    "none_after_ci_high",
    "stopped",
    "stopped_share",
    "stopped_ci_low",
    "stopped_ci_high",
    "suppressed",
    "synthetic",
]


def _visible_records(
    store: Store, actor: Principal, on: dt.date | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """(interventions the user may read; referrals the user may read, or None if none at all)."""
    with store.engine.connect() as conn:
        ivs = [dict(r._mapping) for r in conn.execute(select(interventions))]
        refs = [dict(r._mapping) for r in conn.execute(select(referrals))]
    ivs = [r for r in ivs if allowed(actor, "read", "intervention", r, on)]
    if not allowed(actor, "read", "referral", None, on):
        return ivs, None
    return ivs, [r for r in refs if may_referral(actor, "read", r, on)]


def _group_of(tier: str, kind: str) -> dict[str, str]:
    if (tier, kind) == _UNLINKED:
        return {
            "tier": tier,
            "tier_label": "Not linked",
            "intervention_type": kind,
            "type_label": "Referrals not linked to an intervention",
        }
    return {
        "tier": tier,
        "tier_label": label(tier),
        "intervention_type": kind,
        "type_label": label(kind),
    }


def _person_units(
    ivs: list[dict[str, Any]], refs: list[dict[str, Any]] | None
) -> tuple[pd.DataFrame, int]:
    """One unit per group and person (earliest start/referral date in the group); and the
    number of referrals whose personal data were erased."""
    by_id = {int(r["id"]): r for r in ivs}
    rows = [
        (r["tier"], r["intervention_type"], r["target_ref"], r["start_date"])
        for r in ivs
        if r["target_kind"] == "person"
    ]
    erased = 0
    for r in refs or []:
        if not r["person_ref"]:
            erased += 1
            continue
        iv = by_id.get(int(r["intervention_id"])) if r["intervention_id"] is not None else None
        tier, kind = (iv["tier"], iv["intervention_type"]) if iv else _UNLINKED
        rows.append((tier, kind, r["person_ref"], r["referred_on"]))
    frame = pd.DataFrame(rows, columns=["tier", "intervention_type", "person", "index_date"])
    frame = frame.sort_values("index_date").drop_duplicates(["tier", "intervention_type", "person"])
    frame["unit"] = range(len(frame))
    return frame.reset_index(drop=True), erased


def _volumes(
    ivs: list[dict[str, Any]],
    refs: list[dict[str, Any]] | None,
    people: pd.DataFrame,
    places: pd.DataFrame,
) -> list[dict[str, Any]]:
    by_id = {int(r["id"]): r for r in ivs}
    pairs = [(t, k) for t in TIERS for k in INTERVENTION_TYPES] + [_UNLINKED]
    out = []
    for tier, kind in pairs:
        sel = [r for r in ivs if (r["tier"], r["intervention_type"]) == (tier, kind)]
        n_ref = None
        if refs is not None:
            n_ref = 0
            for r in refs:
                iv = by_id.get(int(r["intervention_id"] or 0))
                key = (iv["tier"], iv["intervention_type"]) if iv else _UNLINKED
                n_ref += key == (tier, kind)
        if (tier, kind) == _UNLINKED and not n_ref:
            continue
        grp = (people["tier"] == tier) & (people["intervention_type"] == kind)
        pgrp = (places["tier"] == tier) & (places["intervention_type"] == kind)
        out.append(
            {
                **_group_of(tier, kind),
                "interventions": len(sel),
                "person_interventions": sum(r["target_kind"] == "person" for r in sel),
                "place_interventions": sum(r["target_kind"] == "place" for r in sel),
                "family_or_group_interventions": sum(
                    r["target_kind"] in ("family", "group") for r in sel
                ),
                "referrals": n_ref,
                "people": int(grp.sum()),
                "people_in_force_records": int((grp & people["linked"]).sum()),
                "places_located": int((pgrp & places["code"].notna()).sum()),
            }
        )
    return out


def _people_rows(
    store: Store, people: pd.DataFrame, coverage: tuple[str, str] | None, level: float
) -> pd.DataFrame:
    events, found = _person_events(store, people["person"].tolist())
    people["linked"] = people["person"].isin(found)
    units = people[people["linked"]]
    units.attrs["measures"] = list(MEASURES)
    counts = day_window_counts(units, events, WINDOWS, coverage)
    counts = counts.merge(units[["unit", "tier", "intervention_type"]], on="unit")
    groups = ["measure", "months", "tier", "intervention_type"]
    summary = summarise_windows(counts, groups, ["measure", "months"], level)
    summary.insert(0, "target", "people")
    return summary


def _place_rows(
    store: Store, ivs: list[dict[str, Any]], level: float
) -> tuple[pd.DataFrame, pd.DataFrame]:
    with store.engine.connect() as conn:
        rows = [
            (r["id"], r["tier"], r["intervention_type"], _place_code(conn, r["target_ref"]), r)
            for r in ivs
            if r["target_kind"] == "place"
        ]
    places = pd.DataFrame(
        [(i, t, k, c) for i, t, k, c, _ in rows],
        columns=["unit", "tier", "intervention_type", "code"],
    )
    located = [(i, t, k, c, r) for i, t, k, c, r in rows if c is not None]
    if not located:
        return places, pd.DataFrame()
    counts, coverage = _policeuk(store)
    per_unit = []
    for i, t, k, c, r in located:
        for w in _place_windows(counts, c, r["start_date"], coverage, level):
            per_unit.append(
                {
                    "unit": i,
                    "tier": t,
                    "intervention_type": k,
                    "measure": _PLACE_MEASURE[0],
                    **{x: w[x] for x in ("months", "before", "after")},
                    **{x: w[x] for x in ("before_complete", "after_complete")},
                }
            )
    groups = ["measure", "months", "tier", "intervention_type"]
    summary = summarise_windows(pd.DataFrame(per_unit), groups, ["measure", "months"], level)
    summary.insert(0, "target", "places")
    return places, summary


def _finish(frame: pd.DataFrame, synthetic: bool) -> list[dict[str, Any]]:
    if frame.empty:
        return []
    labels = {**{m: v[1] for m, v in MEASURES.items()}, _PLACE_MEASURE[0]: _PLACE_MEASURE[1]}
    out = []
    for rec in frame.to_dict("records"):
        rec = {k: (None if not isinstance(v, str) and pd.isna(v) else v) for k, v in rec.items()}
        rec.update(_group_of(rec["tier"], rec["intervention_type"]))
        rec["measure_label"] = labels[rec["measure"]]
        rec["months"] = int(rec["months"])
        rec.setdefault("suppressed", None)
        rec["synthetic"] = synthetic
        out.append({c: rec.get(c) for c in OUTCOME_COLUMNS})
    return out


def outcome_summary(
    store: Store,
    actor: Principal,
    *,
    hide_below: int | None = None,
    level: float = 0.95,
    on: dt.date | None = None,
    export: bool = False,
) -> dict[str, Any]:
    """Outcomes per prevention tier and intervention type, over the interventions (and
    referrals) the user may read: ``volumes`` (every tier x type, zeros too), ``people`` and
    ``places`` rows (:data:`OUTCOME_COLUMNS`), coverage, methods and the not-causal note.

    ``hide_below``: hide person-derived counts from 1 to ``hide_below - 1`` (the surface asks
    :func:`peelian.web.services.disclosure.hidden_below`); None shows them. Audited as
    ``outcome.summary`` (``outcome.export`` with ``export``)."""
    require(actor, "export" if export else "read", "intervention", None, on)
    ivs, refs = _visible_records(store, actor, on)
    coverage = _force_coverage(store)
    synthetic = _synthetic(store)
    people, erased = _person_units(ivs, refs)
    if people.empty:
        people["linked"] = pd.Series(dtype=bool)
        people_rows = pd.DataFrame()
    else:
        people_rows = _people_rows(store, people, coverage, level)
        if hide_below is not None and not people_rows.empty:
            people_rows = suppress_summary(people_rows, hide_below)
    places, place_rows = _place_rows(store, ivs, level)
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "outcome.export" if export else "outcome.summary",
            record_kind="intervention",
            detail={"people": len(people), "places": len(places), "hide_below": hide_below},
        )
    notes = [NOT_CAUSAL]
    if refs is None:
        notes.append("Referrals are not included: your role may not read referrals.")
    if erased:
        notes.append(f"{erased} referrals whose personal data were erased are left out.")
    return {
        "volumes": _volumes(ivs, refs, people, places),
        "people": _finish(people_rows, synthetic),
        "places": _finish(place_rows, False),
        "coverage": {"force": coverage and list(coverage)},
        "level": level,
        "suppressed_below": hide_below,
        "synthetic": synthetic,
        "not_causal": NOT_CAUSAL,
        "notes": notes,
        "methods": METHODS,
    }


def outcome_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The people and places rows of an :func:`outcome_summary`, for one CSV."""
    return [*summary["people"], *summary["places"]]
