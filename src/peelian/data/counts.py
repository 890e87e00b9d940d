"""The aggregates the measures engine, the jobs and the pages need, read from the store with SQL.

- :func:`area_counts` -- the one read path for police.uk counts: per force, month, category and
  published LSOA, placed in its LSOA 2021 by the one rule of decision 0015 (unlocated rows kept
  with a null LSOA). Every page and endpoint that shows a count by month, category or area
  reads it; nothing above the data layer groups raw events.
- :func:`policeuk_counts` -- the same counts summed per month, LSOA 2021 and category (what
  the measures engine reads).
- :func:`force_measure_frame` -- force occurrences for the offence sets: aggregated per month,
  LSOA, Home Office code and flag set in SQL, or one row per crime (with involvements) when a
  set needs the people involved (age, sex).
- :func:`source_months` -- the months each source has data for (so a window counts only when
  its source covers it).
- :func:`measure_areas` -- the areas hierarchy (every level, no geometry) with populations, and
  the ONS LSOA 2011 -> 2021 lookup.
- :func:`population_by_year` -- residents per area and calendar year (summed over ages), for
  u-charts whose exposure changes from year to year.
- :func:`external_series` -- partner-supplied monthly series (e.g. hospital admissions), as
  imported by :mod:`peelian.data.ingest.external`.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, or_, select

from peelian.data.count_cache import cache_key, data_version, read_counts, sql_text, write_counts
from peelian.data.geography import Lsoa21Rule, geography_version, lsoa21_rule
from peelian.data.results import latest_result, list_results
from peelian.data.store import Store
from peelian.data.tables import area_population, areas, events, lsoa_lookup, occurrences
from peelian.data.tables.surveys import survey_responses
from peelian.errors import NotFoundError
from peelian.offences import BOOLEAN_FLAG_COLUMNS
from peelian.schemas.months import check_month_range

__all__ = [
    "AREA_COUNT_COLUMNS",
    "EXTERNAL_KIND",
    "area_counts",
    "external_series",
    "force_measure_frame",
    "measure_areas",
    "policeuk_counts",
    "population_by_year",
    "source_months",
]

EXTERNAL_KIND = "external_series"
_FLAGS = BOOLEAN_FLAG_COLUMNS


#: Columns of :func:`area_counts` (more may be added, none renamed).
AREA_COUNT_COLUMNS = (
    "force",
    "month",
    "category",
    "lsoa_code",
    "lsoa_vintage",
    "lsoa21_code",
    "lsoa21_rule",
    "n",
)
_BASE = ("force", "month", "category", "lsoa_code", "lsoa_vintage")


def area_counts(store: Store, *, cache: bool = True) -> pd.DataFrame:
    """The one read path for police.uk aggregates: events per force, month, category and
    published LSOA, each placed in its LSOA 2021 by the one rule of decision 0015
    (:func:`peelian.data.geography.lsoa21_rule`).

    Columns :data:`AREA_COUNT_COLUMNS`: ``lsoa_code``/``lsoa_vintage`` as published (missing
    when unlocated), ``lsoa21_code`` (missing when it cannot be placed), ``lsoa21_rule``
    (published, lookup, point, unplaced) and ``n``. A split 2011 LSOA's events are counted per
    published location, so each goes whole to the successor that contains it. The measures,
    the jobs and every page read their counts from here (or from :func:`policeuk_counts`,
    which sums this frame); with ``cache`` the frame is kept until new police.uk data or new
    boundaries land (decision 0008)."""
    rule = lsoa21_rule(store, with_shapes=False)
    split = sorted(rule.split)
    e = events.c
    base = [e[c] for c in _BASE]
    n = func.count().label("n")
    q1 = select(*base, n)
    if split:
        q1 = q1.where(
            or_(
                e.lsoa_code.is_(None),
                e.lsoa_vintage.is_(None),
                e.lsoa_vintage != 2011,
                e.lsoa_code.not_in(split),
            )
        )
    q1 = q1.group_by(*base)
    q2 = (
        select(*base, e.easting, e.northing, n)
        .where(e.lsoa_vintage == 2011, e.lsoa_code.in_(split))
        .group_by(*base, e.easting, e.northing)
    )
    if not cache:
        return _typed(_place(store, rule, q1, q2 if split else None))
    geo = geography_version(store)
    key = cache_key(store, f"area-counts|{geo}|{sql_text(store, q2)}", q1)
    version = data_version(store, "policeuk")
    frame = read_counts(store, [key], version).get(key)
    if frame is None:
        frame = _place(store, rule, q1, q2 if split else None)
        write_counts(store, {key: ("area-counts", frame)}, version)
    return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The same dtypes whether counted now or read back from the cache's Parquet."""
    out = frame.copy()
    for c in ("force", "month", "category", "lsoa_code", "lsoa21_code", "lsoa21_rule"):
        col = out[c].astype(object)
        out[c] = col.where(col.notna(), None).astype(object)
    out["lsoa_vintage"] = pd.array(pd.to_numeric(out["lsoa_vintage"]), dtype="Int16")
    out["n"] = out["n"].astype("int64")
    return out.reset_index(drop=True)


def _place(store: Store, rule: Lsoa21Rule, q1: Any, q2: Any | None) -> pd.DataFrame:
    if q2 is not None:
        rule = lsoa21_rule(store)  # with the successors' boundaries
    parts = [store.read_frame(q1, raw=True)]
    if q2 is not None:
        parts.append(store.read_frame(q2, raw=True))
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    frame["n"] = pd.to_numeric(frame["n"]).astype("int64")
    frame["lsoa_vintage"] = pd.array(
        pd.to_numeric(frame["lsoa_vintage"], errors="coerce"), dtype="Int16"
    )
    placed = rule.place(frame)
    frame["lsoa21_code"] = placed["lsoa21_code"]
    frame["lsoa21_rule"] = placed["lsoa21_rule"]
    keys = [*_BASE, "lsoa21_code", "lsoa21_rule"]
    out = frame.groupby(keys, dropna=False, sort=True, observed=True)["n"].sum().reset_index()
    return out[list(AREA_COUNT_COLUMNS)]


def policeuk_counts(
    store: Store,
    *,
    force: str | None = None,
    month_from: str | None = None,
    month_to: str | None = None,
    cache: bool = True,
) -> pd.DataFrame:
    """month, lsoa_code, lsoa_vintage, category, n -- street crimes and ASB per LSOA and month,
    summed from :func:`area_counts`: ``lsoa_code`` is the LSOA 2021 where the rule of decision
    0015 places the events (vintage 2021), else the code as published (unlocated rows keep a
    missing LSOA), so the measures count exactly what the pages show.

    With ``cache`` the counts are kept until new data land (decision 0008)."""
    month_from, month_to = check_month_range(month_from, month_to)
    frame = area_counts(store, cache=cache)
    if force:
        frame = frame[frame["force"] == force]
    if month_from:
        frame = frame[frame["month"] >= month_from]
    if month_to:
        frame = frame[frame["month"] <= month_to]
    placed = frame["lsoa21_code"].notna()
    out = pd.DataFrame(
        {
            "month": frame["month"],
            "lsoa_code": frame["lsoa21_code"].where(placed, frame["lsoa_code"]),
            "lsoa_vintage": frame["lsoa_vintage"].where(~placed, 2021),
            "category": frame["category"],
            "n": frame["n"],
        }
    )
    keys = ["month", "category", "lsoa_code", "lsoa_vintage"]
    out = out.groupby(keys, dropna=False, sort=True)["n"].sum().reset_index()
    out["n"] = out["n"].astype("int64")
    return out[["month", "lsoa_code", "lsoa_vintage", "category", "n"]]


def source_months(store: Store, *, force: str | None = None) -> dict[str, list[str]]:
    """{"policeuk": months in events, "force": months in occurrences, "survey": months with
    survey responses} (only sources that have data)."""
    out: dict[str, list[str]] = {}
    q = select(events.c.month).distinct()
    if force:
        q = q.where(events.c.force == force)
    months = sorted(store.read_frame(q)["month"].astype(str))
    if months:
        out["policeuk"] = months
    fm = sorted(store.read_frame(select(occurrences.c.month).distinct())["month"].astype(str))
    if fm:
        # a force extract covers every month from its first to its last record
        out["force"] = [str(x) for x in pd.period_range(fm[0], fm[-1], freq="M")]
    sm = store.read_frame(select(survey_responses.c.month).distinct())["month"].dropna()
    if len(sm):
        out["survey"] = sorted(sm.astype(str))
    return out


def force_measure_frame(
    store: Store, *, needs_people: bool = False, force: str | None = None
) -> tuple[pd.DataFrame | None, pd.DataFrame | None]:
    """Force occurrences for :func:`peelian.analysis.measures.measure_counts` (the pandas path;
    the measures job counts in SQL with :func:`peelian.data.offence_sql.force_measure_counts`).

    Without ``needs_people``: one row per (month, LSOA, HO code, police.uk category, flags) with
    the count ``n`` (a SQL GROUP BY). With it: one row per crime and the involvements frame.
    Returns ``(None, None)`` when no force records are loaded.
    """
    occ = occurrences
    with store.engine.connect() as conn:
        if conn.execute(select(func.count()).select_from(occ)).scalar_one() == 0:
            return None, None
    if needs_people:
        from peelian.data.force_frames import load_involvements, load_occurrences

        frame = load_occurrences(store, force=force)
        return frame, load_involvements(store, force=force)
    keys = [
        occ.c.month,
        occ.c.lsoa_code,
        occ.c.ho_code,
        occ.c.policeuk_category,
        occ.c.hate_strands,
        *[occ.c[f] for f in _FLAGS],
    ]
    q = select(*keys, func.count().label("n"))
    if force:
        q = q.where(occ.c.force == force)
    frame = store.read_frame(q.group_by(*keys))
    frame["n"] = frame["n"].astype("int64")
    for f in _FLAGS:
        frame[f] = frame[f].astype("boolean")
    return frame, None


def measure_areas(store: Store) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(areas, lookup): every area (code, level, name, parent_code, ward_code, csp_code,
    force_code, population) and the LSOA 2011 -> 2021 lookup."""
    cols = [
        areas.c[c]
        for c in (
            "code",
            "level",
            "name",
            "parent_code",
            "ward_code",
            "csp_code",
            "force_code",
            "population",
        )
    ]
    frame = store.read_frame(select(*cols).order_by(areas.c.level, areas.c.code))
    if frame.empty:
        raise NotFoundError(
            "No areas are loaded, so measures cannot be placed in CSPs, wards and LSOAs.",
            "Run `peelian areas load` (or `peelian demo`) first.",
        )
    frame["population"] = pd.to_numeric(frame["population"], errors="coerce").astype(float)
    lookup = store.read_frame(
        select(lsoa_lookup.c.lsoa11_code, lsoa_lookup.c.lsoa21_code, lsoa_lookup.c.change_code)
    )
    return frame, lookup


def population_by_year(store: Store) -> pd.DataFrame:
    """level, code, year, population: the published residents of each area in each year (the
    single-year-of-age table summed), empty when no population by age has been loaded."""
    ap = area_population
    q = select(
        ap.c.level, ap.c.code, ap.c.year, func.sum(ap.c.population).label("population")
    ).group_by(ap.c.level, ap.c.code, ap.c.year)
    frame = store.read_frame(q)
    frame["year"] = pd.to_numeric(frame["year"]).astype("int64")
    frame["population"] = pd.to_numeric(frame["population"]).astype(float)
    return frame


def external_series(store: Store) -> pd.DataFrame | None:
    """Every imported external series (the newest import of each), or ``None``."""
    runs = list_results(store, EXTERNAL_KIND)
    if runs.empty:
        return None
    parts: list[pd.DataFrame] = []
    for name in runs["name"].unique():
        parts.append(latest_result(store, EXTERNAL_KIND, str(name)).frames["series"])
    return pd.concat(parts, ignore_index=True) if parts else None
