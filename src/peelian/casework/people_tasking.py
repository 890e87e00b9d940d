"""De-selections, the 4-weekly tasking list, early-intervention counts and fairness, from the
store (issue 15 items 1, 4 and 5). Policy record kind ``nominal``; every call needs a purpose
and is audited (see :mod:`peelian.casework.people`).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from peelian.analysis.people import (
    DESELECTION_REASONS,
    TASKING_DAYS,
    fairness_table,
    tasking_changes,
)
from peelian.casework._records import as_date, now, update_versioned, write
from peelian.casework.people import _cohort, list_rows, need_purpose, run_list
from peelian.casework.policy import Principal, require
from peelian.data.audit import append, record
from peelian.data.store import Store
from peelian.data.tables import (
    interventions,
    people_deselections,
    people_tasking_members,
    people_tasking_runs,
    referrals,
)
from peelian.errors import NotFoundError, ParameterError

__all__ = [
    "cohort_overview",
    "end_deselection",
    "fairness",
    "list_deselections",
    "record_deselection",
    "run_tasking",
]


def _check_reason(reason: str) -> str:
    if reason not in DESELECTION_REASONS:
        raise ParameterError(
            f"The de-selection reason must be one of {', '.join(DESELECTION_REASONS)}. "
            f"Got {reason!r}.",
            "; ".join(f"{k} = {v}" for k, v in DESELECTION_REASONS.items()),
        )
    return reason


def record_deselection(
    store: Store,
    actor: Principal,
    person_ref: str,
    reason: str,
    *,
    start_date: dt.date | str,
    end_date: dt.date | str | None = None,
    cohort: str | None = None,
    note: str = "",
    purpose: str | None = None,
) -> dict[str, Any]:
    """Take ``person_ref`` off ``cohort``'s list (None: every cohort) from ``start_date`` until
    ``end_date`` (None: until ended), for ``reason``. Audited (``people.deselect``)."""
    require(actor, "create", "nominal")
    why = need_purpose(purpose, "de-select")
    ref = (person_ref or "").strip()
    if not ref or len(ref) > 64:
        raise ParameterError("A de-selection needs the person's reference (1 to 64 characters).")
    start = as_date(start_date, "start_date", "record_deselection")
    end = as_date(end_date, "end_date", "record_deselection")
    if start is None:
        raise ParameterError("A de-selection needs a start date.", "E.g. --from 2026-05-01.")
    if end is not None and end < start:
        raise ParameterError(f"The de-selection ends ({end}) before it starts ({start}).")
    if cohort is not None:
        _cohort(cohort, None)
    values = {
        "person_ref": ref,
        "cohort": cohort,
        "reason": _check_reason(reason),
        "start_date": start,
        "end_date": end,
        "note": (note or "")[:4000],
        "created_by": actor.username,
        "created_at": now(),
        "updated_at": now(),
        "updated_by": actor.username,
        "version": 1,
    }
    with write(store) as conn:
        new_id = conn.execute(
            insert(people_deselections).values(**values).returning(people_deselections.c.id)
        ).scalar_one()
        append(
            conn,
            actor.username,
            "people.deselect",
            record_kind="nominal",
            record_id=ref,
            purpose=why,
            detail={"deselection_id": int(new_id), "cohort": cohort, "reason": reason},
        )
    return {"id": int(new_id), **{k: v for k, v in values.items() if k != "updated_by"}}


def end_deselection(
    store: Store,
    actor: Principal,
    deselection_id: int,
    version: int,
    *,
    end_date: dt.date | str,
    purpose: str | None = None,
) -> dict[str, Any]:
    """End a de-selection on ``end_date`` (the person returns to the list the day after).
    Needs the ``version`` read (optimistic locking). Audited (``people.deselect.end``)."""
    require(actor, "update", "nominal")
    why = need_purpose(purpose, "change")
    end = as_date(end_date, "end_date", "end_deselection")
    t = people_deselections
    with write(store) as conn:
        row = conn.execute(select(t).where(t.c.id == deselection_id)).first()
        if row is None:
            raise NotFoundError(f"There is no de-selection {deselection_id}.")
        if end is None or end < row.start_date:
            raise ParameterError(f"The end date must be on or after {row.start_date}.")
        new_version = update_versioned(
            conn,
            t,
            deselection_id,
            version,
            {"end_date": end, "updated_at": now(), "updated_by": actor.username},
            what=f"De-selection {deselection_id}",
        )
        append(
            conn,
            actor.username,
            "people.deselect.end",
            record_kind="nominal",
            record_id=row.person_ref,
            purpose=why,
            detail={"deselection_id": deselection_id, "end_date": str(end)},
        )
    return {"id": deselection_id, "end_date": str(end), "version": new_version}


def list_deselections(
    store: Store, actor: Principal, *, purpose: str | None = None
) -> list[dict[str, Any]]:
    """Every recorded de-selection, newest first. Audited (``people.deselections``)."""
    require(actor, "read", "nominal")
    why = need_purpose(purpose, "read")
    t = people_deselections
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(t).order_by(t.c.id.desc()))]
    for r in rows:
        r["reason_label"] = DESELECTION_REASONS.get(r["reason"], r["reason"])
    record(
        store,
        actor.username,
        "people.deselections",
        record_kind="nominal",
        purpose=why,
        detail={"rows": len(rows)},
    )
    return rows


def _previous_run(store: Store, cohort: str, as_of: dt.date) -> tuple[Any, pd.DataFrame | None]:
    r, m = people_tasking_runs, people_tasking_members
    with store.engine.connect() as conn:
        run = conn.execute(
            select(r).where(r.c.cohort == cohort, r.c.as_of < as_of).order_by(r.c.as_of.desc())
        ).first()
        if run is None:
            return None, None
        rows = conn.execute(
            select(m.c.person_ref, m.c.rank, m.c.score).where(m.c.run_id == run.id)
        ).all()
    return run, pd.DataFrame(rows, columns=["person_ref", "rank", "score"])


def _save_run(store: Store, actor: Principal, plist: Any, synthetic: bool, why: str) -> int:
    sel, matrix = plist.selection, plist.matrix
    r, m = people_tasking_runs, people_tasking_members
    with write(store) as conn:
        old = conn.execute(
            select(r.c.id).where(r.c.cohort == sel.cohort.name, r.c.as_of == sel.as_of)
        ).first()
        if old is not None:
            raise ParameterError(
                f"The {sel.cohort.name} tasking list as of {sel.as_of} is already saved "
                f"(run {old.id}).",
                "Show it without --save, or use the next tasking date.",
            )
        run_id = conn.execute(
            insert(r)
            .values(
                cohort=sel.cohort.name,
                cohort_version=sel.cohort.version,
                matrix=matrix.name,
                matrix_version=matrix.version,
                illustrative=matrix.illustrative or sel.cohort.illustrative,
                as_of=sel.as_of,
                members=len(plist.active),
                synthetic=synthetic,
                created_by=actor.username,
                created_at=now(),
            )
            .returning(r.c.id)
        ).scalar_one()
        rows = [
            {
                "run_id": run_id,
                "person_ref": p["person_ref"],
                "rank": int(p["rank"]),
                "score": float(p["score"]),
                "components": {
                    c: float(p[c]) for c in ("recency", "frequency", "gravity", "victims")
                },
            }
            for p in plist.active.to_dict("records")
        ]
        if rows:
            conn.execute(insert(m), rows)
        append(
            conn,
            actor.username,
            "people.tasking.save",
            record_kind="nominal",
            record_id=sel.cohort.name,
            purpose=why,
            detail={"run_id": int(run_id), "as_of": str(sel.as_of), "members": len(rows)},
        )
    return int(run_id)


def run_tasking(
    store: Store,
    actor: Principal,
    cohort: str,
    *,
    as_of: dt.date | str,
    purpose: str | None = None,
    save: bool = False,
    matrix_path: str | Path | None = None,
) -> dict[str, Any]:
    """The tasking list on ``as_of``: the list, and who entered, left (and why) and stayed since
    the list saved at the previous meeting. ``save`` keeps this list for the next meeting (needs
    ``create``). Audited (``people.tasking``)."""
    require(actor, "create" if save else "read", "nominal")
    why = need_purpose(purpose, "read")
    day = as_date(as_of, "as_of", "run_tasking") or dt.date.today()
    plist, frames = run_list(store, _cohort(cohort, None), day, matrix_path=matrix_path)
    prev_run, prev = _previous_run(store, cohort, day)
    changes = tasking_changes(prev, plist.active, plist.deselected, plist.selection.candidates)
    run_id = _save_run(store, actor, plist, frames.synthetic, why) if save else None
    record(
        store,
        actor.username,
        "people.tasking",
        record_kind="nominal",
        record_id=cohort,
        purpose=why,
        detail={"as_of": str(day), "saved_run": run_id},
    )
    return {
        "cohort": plist.selection.cohort.describe(),
        "matrix": plist.matrix.describe(),
        "as_of": str(day),
        "next_tasking": str(day + dt.timedelta(days=TASKING_DAYS)),
        "previous": None
        if prev_run is None
        else {
            "run_id": int(prev_run.id),
            "as_of": str(prev_run.as_of),
            "members": int(prev_run.members),
        },
        "saved_run": run_id,
        "synthetic": frames.synthetic,
        "people": list_rows(plist.active, frames.areas),
        "entered": [
            {
                "person_ref": r["person_ref"],
                "rank": int(r["rank"]),
                "score": float(r["score"]),
                "why": r["why"],
            }
            for r in changes["entered"].to_dict("records")
        ],
        "left": [
            {
                "person_ref": r["person_ref"],
                "previous_rank": int(r["previous_rank"]),
                "previous_score": float(r["previous_score"]),
                "why": r["why"],
            }
            for r in changes["left"].to_dict("records")
        ],
        "stayed": len(changes["stayed"]),
    }


def _population(store: Store) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    age = store.read_frame(
        "SELECT age, SUM(population) AS population FROM area_population WHERE level = 'force' "
        "AND year = (SELECT MAX(year) FROM area_population WHERE level = 'force') GROUP BY age"
    )
    eth = store.read_frame(
        "SELECT ethnic_group, SUM(residents) AS residents FROM area_ethnicity "
        "WHERE level = 'csp' GROUP BY ethnic_group"
    )
    return (age if len(age) else None), (eth if len(eth) else None)


def fairness(
    store: Store,
    actor: Principal,
    cohort: str,
    *,
    as_of: dt.date | str,
    purpose: str | None = None,
) -> dict[str, Any]:
    """The list's distribution by age band, sex and ethnicity beside the force area's population
    (refreshed each run). Audited (``people.fairness``)."""
    require(actor, "read", "nominal")
    why = need_purpose(purpose, "read")
    day = as_date(as_of, "as_of", "fairness") or dt.date.today()
    plist, frames = run_list(store, _cohort(cohort, None), day, with_records=False)
    people = frames.persons[frames.persons["person_ref"].isin(set(plist.active["person_ref"]))]
    pop_age, pop_eth = _population(store)
    table = fairness_table(people, day, population_by_age=pop_age, population_by_ethnicity=pop_eth)
    record(
        store,
        actor.username,
        "people.fairness",
        record_kind="nominal",
        record_id=cohort,
        purpose=why,
        detail={"as_of": str(day), "people": len(people)},
    )
    return {
        "cohort": plist.selection.cohort.describe(),
        "as_of": str(day),
        "synthetic": frames.synthetic,
        "people": len(people),
        "rows": table.astype(object).where(table.notna(), None).to_dict("records"),
        "populations": {
            "age": "ONS mid-year estimates, force area, latest year loaded"
            if pop_age is not None
            else "not loaded (peelian areas load)",
            "ethnicity": "Census 2021 usual residents, five groups, force area"
            if pop_eth is not None
            else "not loaded (peelian areas load)",
            "sex": "no population by sex is loaded: the list's shares only",
        },
        "caveat": "Police records reflect where and whom police look at: a group's larger share "
        "of the list describes the records, it does not show the group offends more.",
    }


def cohort_overview(
    store: Store,
    actor: Principal,
    cohort: str,
    *,
    as_of: dt.date | str,
    purpose: str | None = None,
    periods: int = 6,
) -> dict[str, Any]:
    """How many people the cohort selects by area and at each of the last ``periods`` tasking
    dates, and how many have referrals and interventions (by status). Audited."""
    require(actor, "read", "nominal")
    why = need_purpose(purpose, "read")
    if not 1 <= periods <= 13:
        raise ParameterError(f"The 'periods' parameter must be 1 to 13. Got {periods}.")
    day = as_date(as_of, "as_of", "cohort_overview") or dt.date.today()
    c = _cohort(cohort, None)
    plist, frames = run_list(store, c, day, with_records=False)
    area = plist.active["lsoa_code"].map(frames.areas).fillna("Not located")
    over_time = []
    for k in range(periods - 1, -1, -1):
        d = day - dt.timedelta(days=TASKING_DAYS * k)
        pl = plist if k == 0 else run_list(store, c, d, with_records=False)[0]
        over_time.append({"as_of": str(d), "people": len(pl.active)})
    refs = list(plist.active["person_ref"])
    with store.engine.connect() as conn:
        refer = (
            conn.execute(
                select(referrals.c.status, referrals.c.person_ref).where(
                    referrals.c.person_ref.in_(refs)
                )
            ).all()
            if refs
            else []
        )
        inter = (
            conn.execute(
                select(interventions.c.end_date, interventions.c.target_ref).where(
                    interventions.c.target_kind == "person", interventions.c.target_ref.in_(refs)
                )
            ).all()
            if refs
            else []
        )
    by_status: dict[str, int] = {}
    for status, _ in refer:
        by_status[status] = by_status.get(status, 0) + 1
    record(
        store,
        actor.username,
        "people.overview",
        record_kind="nominal",
        record_id=cohort,
        purpose=why,
        detail={"as_of": str(day), "people": len(plist.active)},
    )
    return {
        "cohort": c.describe(),
        "as_of": str(day),
        "synthetic": frames.synthetic,
        "people": len(plist.active),
        "by_area": [{"area": a, "people": int(n)} for a, n in area.value_counts().items()],
        "over_time": over_time,
        "referrals": {"people": len({p for _, p in refer}), "by_status": by_status},
        "interventions": {
            "people": len({p for _, p in inter}),
            "ongoing": sum(1 for e, _ in inter if e is None or e >= day),
            "ended": sum(1 for e, _ in inter if e is not None and e < day),
        },
    }
