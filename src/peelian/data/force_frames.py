"""Force records read back as pandas frames (the contract the analyses and jobs build on).

Every frame carries the force's own references (``crime_ref``, ``person_ref``), never names.
Occurrences are ``time_precision='minute'`` / ``location_precision='exact'`` (or ``'none'`` when
unlocated) and say whether they are ``synthetic``. Dates are filtered on ``reported_at``:
``date_from`` and ``date_to`` are inclusive and may be ``YYYY-MM`` (whole months) or dates.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Select, and_, select

from peelian.data.store import Store
from peelian.data.tables.force import (
    addresses,
    force_outcomes,
    intel_links,
    investigation_events,
    involvements,
    missing_episodes,
    occurrences,
    persons,
    victim_contacts,
)
from peelian.errors import ParameterError
from peelian.offences import FLAG_COLUMNS, normalise_ho_code
from peelian.schemas.months import parse_month

#: A select statement kept at its own type by the filters (``where`` returns the same type).
_Q = TypeVar("_Q", bound=Select[Any])

__all__ = [
    "OCCURRENCE_COLUMNS",
    "load_addresses",
    "load_force_outcomes",
    "load_intel_links",
    "load_investigation_events",
    "load_involvements",
    "load_missing_episodes",
    "load_occurrences",
    "load_persons",
    "load_victim_contacts",
]

#: Columns of :func:`load_occurrences`, in order.
OCCURRENCE_COLUMNS: tuple[str, ...] = (
    "force",
    "crime_ref",
    "ho_code",
    "offence_description",
    "policeuk_category",
    "reported_at",
    "committed_from",
    "committed_to",
    "month",
    "easting",
    "northing",
    "longitude",
    "latitude",
    "lsoa_code",
    "lsoa_vintage",
    *FLAG_COLUMNS,
    "synthetic",
    "time_precision",
    "location_precision",
)
_BOOL_FLAGS = [c for c in FLAG_COLUMNS if c != "hate_strands"]


def _bound(value: str | dt.date | None, *, end: bool) -> dt.datetime | None:
    """Inclusive bound -> datetime (end bounds become the start of the next day / month)."""
    if value is None:
        return None
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}([ T].*)?", value.strip()):
        value = parse_month(value, "date")  # the one month parser: "Aug-2021" is refused
    try:
        if isinstance(value, str) and len(value) == 7:
            start = pd.Period(value, freq="M").to_timestamp()
            return (start + pd.offsets.MonthBegin(1) if end else start).to_pydatetime()
        ts = pd.Timestamp(value)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"The date {value!r} is not a date or a YYYY-MM month.",
            "Use e.g. 2021-06 or 2021-06-30.",
        ) from exc
    if end and ts == ts.normalize():
        ts = ts + pd.Timedelta(days=1)
    return ts.to_pydatetime()


def _date_filter(query: _Q, column: Any, date_from: Any, date_to: Any) -> _Q:
    lo, hi = _bound(date_from, end=False), _bound(date_to, end=True)
    if lo is not None:
        query = query.where(column >= lo)
    if hi is not None:
        query = query.where(column < hi)
    return query


def _force_filter(query: _Q, table: Any, force: str | None) -> _Q:
    return query.where(table.c.force == force) if force else query


def _datetimes(frame: pd.DataFrame, *cols: str) -> pd.DataFrame:
    for c in cols:
        if c in frame.columns:
            frame[c] = pd.to_datetime(frame[c], errors="coerce")
    return frame


def load_occurrences(
    store: Store,
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    codes: Iterable[str] | None = None,
    force: str | None = None,
) -> pd.DataFrame:
    """Force occurrences, one row per crime (columns :data:`OCCURRENCE_COLUMNS`).

    ``codes`` keeps only these Home Office codes (e.g. ``offence_set("robbery").codes``).
    Flag columns are nullable booleans (``pd.BooleanDtype``); ``hate_strands`` is text.
    """
    q = select(*[occurrences.c[c] for c in OCCURRENCE_COLUMNS])
    q = _force_filter(q, occurrences, force)
    q = _date_filter(q, occurrences.c.reported_at, date_from, date_to)
    if codes is not None:
        wanted = sorted({normalise_ho_code(c) or str(c) for c in codes})
        q = q.where(occurrences.c.ho_code.in_(wanted))
    frame = store.read_frame(q.order_by(occurrences.c.reported_at, occurrences.c.crime_ref))
    frame = _datetimes(frame, "reported_at", "committed_from", "committed_to")
    for c in _BOOL_FLAGS:
        frame[c] = frame[c].astype("boolean")
    frame["synthetic"] = frame["synthetic"].astype(bool)
    for c in ("easting", "northing", "longitude", "latitude"):
        frame[c] = frame[c].astype(float)
    frame["lsoa_vintage"] = frame["lsoa_vintage"].astype("Int64")
    return frame


def load_persons(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """People: force, person_ref, birth_year, age_band, sex, ethnicity, synthetic."""
    cols = ["force", "person_ref", "birth_year", "age_band", "sex", "ethnicity", "synthetic"]
    q = _force_filter(select(*[persons.c[c] for c in cols]), persons, force)
    frame = store.read_frame(q.order_by(persons.c.person_ref))
    frame["birth_year"] = frame["birth_year"].astype("Int64")
    frame["synthetic"] = frame["synthetic"].astype(bool)
    return frame


def load_involvements(
    store: Store,
    *,
    force: str | None = None,
    roles: Iterable[str] | None = None,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
) -> pd.DataFrame:
    """Who was involved in which crime, with the person's details and age at the time.

    Columns: force, crime_ref, person_ref, role, reported_at, ho_code, birth_year, sex,
    ethnicity, age (year of reported_at minus birth year: may overstate the age by one year;
    ``<NA>`` when the birth year is unknown). Exactly what ``OffenceSet.mask`` needs.
    """
    q = select(
        involvements.c.force,
        involvements.c.crime_ref,
        involvements.c.person_ref,
        involvements.c.role,
        occurrences.c.reported_at,
        occurrences.c.ho_code,
        persons.c.birth_year,
        persons.c.sex,
        persons.c.ethnicity,
    ).select_from(
        involvements.join(
            occurrences,
            and_(
                occurrences.c.force == involvements.c.force,
                occurrences.c.crime_ref == involvements.c.crime_ref,
            ),
        ).outerjoin(
            persons,
            and_(
                persons.c.force == involvements.c.force,
                persons.c.person_ref == involvements.c.person_ref,
            ),
        )
    )
    q = _force_filter(q, involvements, force)
    q = _date_filter(q, occurrences.c.reported_at, date_from, date_to)
    if roles is not None:
        q = q.where(involvements.c.role.in_([r.lower() for r in roles]))
    frame = store.read_frame(q.order_by(involvements.c.crime_ref, involvements.c.person_ref))
    frame = _datetimes(frame, "reported_at")
    frame["birth_year"] = frame["birth_year"].astype("Int64")
    frame["age"] = (frame["reported_at"].dt.year.astype("Int64") - frame["birth_year"]).astype(
        "Int64"
    )
    return frame


def _simple(
    store: Store, table: Any, order: str, force: str | None, dates: tuple[str, ...]
) -> pd.DataFrame:
    cols = [c for c in table.c if c.name not in ("id", "file_id", "row_number")]
    q = _force_filter(select(*cols), table, force)
    frame = store.read_frame(q.order_by(table.c[order], table.c.id))
    return _datetimes(frame, *dates)


def load_investigation_events(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """Investigation events (the triggers of victim updates): force, crime_ref, person_ref,
    event_type (arrest | interview | charge | bail | rui | nfa | not_investigated), event_at."""
    return _simple(store, investigation_events, "event_at", force, ("event_at",))


def load_force_outcomes(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """Outcomes: force, crime_ref, outcome_code (Home Office outcome 1-22), outcome_date."""
    return _simple(store, force_outcomes, "crime_ref", force, ("outcome_date",))


def load_victim_contacts(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """Victim contacts: force, crime_ref, person_ref, contact_at, channel, contact_by, purpose,
    enhanced_rights."""
    frame = _simple(store, victim_contacts, "contact_at", force, ("contact_at",))
    frame["enhanced_rights"] = frame["enhanced_rights"].astype("boolean")
    return frame


def load_missing_episodes(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """Missing-person episodes: force, episode_ref, person_ref, reported_missing_at, found_at,
    risk_level, found_easting, found_northing."""
    return _simple(
        store, missing_episodes, "reported_missing_at", force, ("reported_missing_at", "found_at")
    )


def load_intel_links(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """Intelligence links: force, from_ref (person), to_ref, to_kind (person | address),
    link_type, since_date, note."""
    return _simple(store, intel_links, "from_ref", force, ("since_date",))


def load_addresses(store: Store, *, force: str | None = None) -> pd.DataFrame:
    """Addresses: force, address_ref, easting, northing, lsoa_code."""
    return _simple(store, addresses, "address_ref", force, ())
