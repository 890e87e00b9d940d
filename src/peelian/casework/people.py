"""People lists from the store: prioritised cohorts (RFG / RFGV), de-selections, the 4-weekly
tasking list, early-intervention cohort counts and fairness distributions (issue 15).

Every function asks the casework policy for the record kind ``nominal`` (prioritised people and
cohorts) and needs a ``purpose``; every view, export and change is written to the audit log with
it (DPA 2018 s.62). Frames hold pseudonymised ``person_ref`` only (never names); the scoring is
the pure :mod:`peelian.analysis.people`.

    me = principal_for(store, "safe1")
    cohort_list(store, me, "matac", as_of=date(2022, 8, 31), purpose="MATAC tasking 31 Aug")
"""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select, text

from peelian.analysis.people import (
    Cohort,
    CohortRule,
    PrioritisedList,
    RecordTest,
    load_cohorts,
    load_matrix,
    prioritise,
    select_cohort,
    window_start,
)
from peelian.casework._records import as_date
from peelian.casework.policy import Principal, require
from peelian.data.audit import record
from peelian.data.store import Store
from peelian.data.tables import people_deselections
from peelian.errors import NotFoundError, ParameterError
from peelian.offences import BOOLEAN_FLAG_COLUMNS, offence_sets

__all__ = [
    "PEOPLE_COLUMNS",
    "PeopleFrames",
    "cohort_catalogue",
    "cohort_list",
    "list_rows",
    "load_people_frames",
    "need_purpose",
    "offence_set_list",
    "run_list",
]

#: Columns of a list row (the CSV export, in order); ``person_ref`` is pseudonymised.
PEOPLE_COLUMNS: tuple[str, ...] = (
    "rank",
    "person_ref",
    "score",
    "recency",
    "frequency",
    "gravity",
    "victims",
    "days_since_last",
    "record_count",
    "harm",
    "victim_count",
    "unweighted_records",
    "first_record",
    "last_record",
    "area",
    "crime_refs",
)
_MAX_LOOKBACK_YEARS = 3


@dataclass(frozen=True)
class PeopleFrames:
    """The force records the people lists are computed on (one window of reported dates)."""

    occurrences: pd.DataFrame
    involvements: pd.DataFrame
    persons: pd.DataFrame
    missing: pd.DataFrame
    links: pd.DataFrame
    date_from: dt.date
    date_to: dt.date
    synthetic: bool
    areas: dict[str, str]  # LSOA code -> CSP name


_CACHE: OrderedDict[tuple[Any, ...], PeopleFrames] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 2


def need_purpose(purpose: str | None, action: str) -> str:
    """The purpose, stripped, or a :class:`ParameterError` that asks for it."""
    text = (purpose or "").strip()
    if not text:
        raise ParameterError(
            f"Prioritised people are person-level data: say why you need to {action} them (the "
            "purpose is written to the audit log).",
            "E.g. 'MATAC tasking meeting 4 May', 'IOM panel review'.",
        )
    return text[:2000]


def _fingerprint(store: Store) -> tuple[Any, ...]:
    q = (
        "SELECT (SELECT max(id) FROM occurrences), (SELECT max(id) FROM involvements), "
        "(SELECT max(id) FROM persons), (SELECT max(id) FROM missing_episodes), "
        "(SELECT max(id) FROM intel_links)"
    )
    return (store.url, *store.read_frame(q, raw=True).iloc[0].tolist())


def _fetch(store: Store, query: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """Rows as a frame of plain object columns (numbers and flags converted by the caller).

    Built column by column from the driver's tuples: pandas' own construction would infer
    Arrow strings, which cost as much again to build and make ``isin`` loop in Python."""
    with store.engine.connect() as conn:
        result = conn.execute(text(query), params or {})
        names = list(result.keys())
        rows = result.fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pd.DataFrame(
        {
            n: pd.Series(np.array(c, dtype=object), dtype=object)
            for n, c in zip(names, cols, strict=True)
        }
    )


def _ts(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col, format="ISO8601", errors="coerce")


def load_people_frames(
    store: Store,
    date_from: dt.date,
    date_to: dt.date,
    flags: tuple[str, ...] = BOOLEAN_FLAG_COLUMNS,
) -> PeopleFrames:
    """Occurrences reported from ``date_from`` to ``date_to`` (whole days) with the ``flags``
    asked for, the people involved in them, their details, missing episodes and intelligence
    links. Kept (two windows) until the records change."""
    flags = tuple(f for f in BOOLEAN_FLAG_COLUMNS if f in flags)
    key = (*_fingerprint(store), date_from, date_to, flags)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    lo, hi = f"{date_from} 00:00:00", f"{date_to + dt.timedelta(days=1)} 00:00:00"
    cols = ", ".join(("crime_ref", "reported_at", "ho_code", "lsoa_code", "synthetic", *flags))
    occ = _fetch(
        store,
        f"SELECT {cols} FROM occurrences WHERE reported_at >= :lo AND reported_at < :hi",
        {"lo": lo, "hi": hi},
    )
    occ["reported_at"] = _ts(occ["reported_at"])
    for c in flags:
        occ[c] = pd.array(occ[c].to_numpy(), dtype="boolean")
    inv = _fetch(
        store,
        "SELECT i.crime_ref, i.person_ref, i.role FROM involvements i JOIN occurrences o "
        "ON o.force = i.force AND o.crime_ref = i.crime_ref "
        "WHERE o.reported_at >= :lo AND o.reported_at < :hi",
        {"lo": lo, "hi": hi},
    )
    persons = _fetch(store, "SELECT person_ref, birth_year, sex, ethnicity FROM persons")
    persons["birth_year"] = pd.to_numeric(persons["birth_year"], errors="coerce").astype("Int64")
    missing = _fetch(
        store,
        "SELECT person_ref, episode_ref, reported_missing_at FROM missing_episodes "
        "WHERE reported_missing_at >= :lo AND reported_missing_at < :hi",
        {"lo": lo, "hi": hi},
    )
    missing["reported_missing_at"] = _ts(missing["reported_missing_at"])
    links = _fetch(store, "SELECT from_ref, to_ref, link_type FROM intel_links")
    areas = _fetch(
        store,
        "SELECT l.code, c.name FROM areas l JOIN areas c ON c.code = l.csp_code "
        "AND c.level = 'csp' WHERE l.level IN ('lsoa11', 'lsoa21')",
    )
    frames = PeopleFrames(
        occurrences=occ,
        involvements=inv,
        persons=persons,
        missing=missing,
        links=links,
        date_from=date_from,
        date_to=date_to,
        synthetic=bool(len(occ)) and bool(pd.to_numeric(occ["synthetic"]).fillna(0).all()),
        areas=dict(zip(areas["code"], areas["name"], strict=True)),
    )
    with _CACHE_LOCK:
        _CACHE[key] = frames
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return frames


def _frames_for(store: Store, as_of: dt.date, cohort: Cohort) -> PeopleFrames:
    # one frame for every cohort of the shipped rules (and this one's flags): one cache entry
    shipped = load_cohorts().values()
    flags = {f for c in (*shipped, cohort) for r in c.rules for t in r.records for f in t.flags}
    start = window_start(as_of, years=_MAX_LOOKBACK_YEARS)
    return load_people_frames(store, start, as_of, tuple(sorted(flags)))


def _cohort(name: str, cohorts_path: str | Path | None) -> Cohort:
    cohorts = load_cohorts(cohorts_path)
    if name not in cohorts:
        raise NotFoundError(
            f"There is no cohort named {name!r}.",
            f"Cohorts: {', '.join(cohorts)} (see `peelian people cohorts`).",
        )
    return cohorts[name]


def cohort_catalogue(cohorts_path: str | Path | None = None) -> list[dict[str, Any]]:
    """Every declared cohort with its rules, version and sources (no person-level data)."""
    return [c.describe() for c in load_cohorts(cohorts_path).values()]


def _deselection_frame(store: Store) -> pd.DataFrame:
    t = people_deselections
    return store.read_frame(
        select(t.c.id, t.c.person_ref, t.c.cohort, t.c.reason, t.c.start_date, t.c.end_date)
    )


def _as_of(as_of: dt.date | str | None, func: str) -> dt.date:
    day = as_date(as_of, "as_of", func)
    return dt.date.today() if day is None else day


def run_list(
    store: Store,
    cohort: Cohort,
    as_of: dt.date,
    *,
    matrix_path: str | Path | None = None,
    with_records: bool = True,
) -> tuple[PrioritisedList, PeopleFrames]:
    """A cohort's prioritised list on ``as_of`` (no policy, no audit: callers check both)."""
    frames = _frames_for(store, as_of, cohort)
    selection = select_cohort(
        cohort,
        frames.involvements,
        frames.occurrences,
        frames.persons,
        as_of,
        missing=frames.missing,
        links=frames.links,
    )
    plist = prioritise(
        selection, load_matrix(matrix_path), _deselection_frame(store), with_records=with_records
    )
    return plist, frames


def list_rows(frame: pd.DataFrame, areas: dict[str, str]) -> list[dict[str, Any]]:
    """A list frame as JSON-ready rows (dates ISO, the area's name from the LSOA)."""
    rows = []
    for r in frame.to_dict("records"):
        row = {k: r.get(k) for k in PEOPLE_COLUMNS if k in r or k == "area"}
        row["area"] = areas.get(str(r.get("lsoa_code")))
        for k in ("first_record", "last_record"):
            row[k] = None if row.get(k) is None else str(row[k])
        for k in ("score", "recency", "frequency", "gravity", "victims", "harm"):
            row[k] = float(row[k])
        for k in ("days_since_last", "record_count", "victim_count", "unweighted_records"):
            row[k] = int(row[k])
        row["crime_refs"] = list(r.get("crime_refs") or [])
        if "rank" in r:
            row["rank"] = int(r["rank"])
        if "reason" in r:
            row["reason"] = r["reason"]
            row["reason_label"] = r["reason_label"]
        row["household"] = r.get("household")
        row["rules"] = [int(x) for x in (r.get("rules") or [])]
        rows.append(row)
    return rows


def _payload(plist: PrioritisedList, frames: PeopleFrames, limit: int | None) -> dict[str, Any]:
    sel, matrix = plist.selection, plist.matrix
    active = plist.active if limit is None else plist.active.head(limit)
    return {
        "cohort": sel.cohort.describe(),
        "matrix": matrix.describe(),
        "illustrative": matrix.illustrative or sel.cohort.illustrative,
        "illustrative_note": (
            f"{matrix.label}; cohort rules version {sel.cohort.version}"
            + (" (illustrative thresholds)" if sel.cohort.illustrative else "")
            if matrix.illustrative or sel.cohort.illustrative
            else ""
        ),
        "as_of": str(sel.as_of),
        "windows": [{k: str(v) if k != "rule" else v for k, v in w.items()} for w in sel.windows],
        "synthetic": frames.synthetic,
        "total": len(plist.active),
        "people": list_rows(active, frames.areas),
        "deselected": list_rows(plist.deselected, frames.areas),
        "excluded": sel.excluded,
    }


def cohort_list(
    store: Store,
    actor: Principal,
    cohort: str,
    *,
    as_of: dt.date | str | None = None,
    purpose: str | None = None,
    matrix_path: str | Path | None = None,
    cohorts_path: str | Path | None = None,
    limit: int | None = None,
    export: bool = False,
) -> dict[str, Any]:
    """A cohort's prioritised list on ``as_of`` (default today): every person's score, its
    components and the records behind them; who is de-selected and why; how many people the
    rule did not select, by reason. Audited (``people.list`` or ``people.export``)."""
    action = "export" if export else "read"
    require(actor, action, "nominal")
    why = need_purpose(purpose, action)
    day = _as_of(as_of, "cohort_list")
    plist, frames = run_list(store, _cohort(cohort, cohorts_path), day, matrix_path=matrix_path)
    out = _payload(plist, frames, limit)
    record(
        store,
        actor.username,
        f"people.{'export' if export else 'list'}",
        record_kind="nominal",
        record_id=cohort,
        purpose=why,
        detail={"cohort": cohort, "as_of": str(day), "people": out["total"]},
    )
    return out


def offence_set_list(
    store: Store,
    actor: Principal,
    offence_set: str,
    *,
    as_of: dt.date | str | None = None,
    lookback_months: int = 12,
    roles: tuple[str, ...] = ("suspect", "offender"),
    method: str = "rfg",
    purpose: str | None = None,
    matrix_path: str | Path | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    """RFG / RFGV for any offence set: everyone with ``roles`` on a record of ``offence_set`` in
    the ``lookback_months`` up to ``as_of``, scored. Audited (``people.list``)."""
    require(actor, "read", "nominal")
    why = need_purpose(purpose, "read")
    if offence_set not in offence_sets():
        raise NotFoundError(
            f"There is no offence set named {offence_set!r}.", "See `peelian offences sets`."
        )
    if not 1 <= lookback_months <= 12 * _MAX_LOOKBACK_YEARS:
        raise ParameterError(
            f"The 'lookback_months' parameter must be 1 to {12 * _MAX_LOOKBACK_YEARS}. "
            f"Got {lookback_months}."
        )
    day = _as_of(as_of, "offence_set_list")
    cohort = Cohort(
        name=f"offence-set:{offence_set}",
        label=f"Offence set {offence_set}",
        kind="prioritisation",
        method=method,
        description=f"{'/'.join(roles)} on a '{offence_set}' record in the last "
        f"{lookback_months} months",
        source="peelian.offences offence set",
        version="ad hoc",
        illustrative=False,
        rules=(
            CohortRule(
                roles=roles,
                records=(RecordTest(offence_sets=(offence_set,)),),
                lookback_months=lookback_months,
            ),
        ),
    )
    plist, frames = run_list(store, cohort, day, matrix_path=matrix_path)
    out = _payload(plist, frames, limit)
    record(
        store,
        actor.username,
        "people.list",
        record_kind="nominal",
        record_id=cohort.name,
        purpose=why,
        detail={"offence_set": offence_set, "as_of": str(day), "people": out["total"]},
    )
    return out
