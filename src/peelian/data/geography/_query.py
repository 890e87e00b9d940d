"""Read the areas hierarchy back: frames with geometry, force boundaries, children, lookups."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import select

from peelian.data.store import Store
from peelian.data.tables import area_deprivation, area_ethnicity, area_population, areas
from peelian.errors import NotFoundError, ParameterError

__all__ = [
    "CHILD_LEVEL",
    "area",
    "area_children",
    "area_lookup",
    "areas_frame",
    "deprivation_frame",
    "ethnicity_frame",
    "force_boundary",
    "population_frame",
]

LEVELS = ("lsoa11", "lsoa21", "ward", "csp", "force")
#: The next level down the main hierarchy (LSOA 2011 hangs off the CSP, beside it).
CHILD_LEVEL = {"force": "csp", "csp": "ward", "ward": "lsoa21"}
_HINT = "Run `peelian areas load` (no argument loads the bundled Northumbria demo data)."
FRAME_COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "ward_code",
    "csp_code",
    "force_code",
    "population",
    "population_year",
    "imd_decile",
    "imd_rank",
    "imd_score",
    "imd_version",
    "rural_urban",
    "area_km2",
    "centroid_easting",
    "centroid_northing",
    "geometry_source",
]


def _check_level(level: str, *, fn: str) -> None:
    if level not in LEVELS:
        raise ParameterError(
            f"The 'level' parameter of {fn} must be one of {', '.join(LEVELS)}. Got {level!r}."
        )


def _frame(store: Store, stmt: Any, with_geometry: bool) -> Any:
    import geopandas as gpd
    import shapely

    frame = store.read_frame(stmt)
    for col in ("population", "population_year", "imd_decile", "imd_rank", "imd_version"):
        if col in frame:
            frame[col] = pd.array(pd.to_numeric(frame[col]), dtype="Int64")
    for col in ("imd_score", "area_km2", "centroid_easting", "centroid_northing"):
        if col in frame:
            frame[col] = pd.to_numeric(frame[col]).astype(float)
    if not with_geometry:
        return frame
    wkb = frame.pop("geometry_wkb")
    geoms = shapely.from_wkb([w if isinstance(w, str) else None for w in wkb])
    return gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:27700")


def areas_frame(
    store: Store, level: str, with_geometry: bool = True, *, force_code: str | None = None
) -> Any:
    """Every area of a level as a GeoDataFrame in EPSG:27700 (a DataFrame without geometry).

    Columns: code, name, level, parent_code, ward_code, csp_code, force_code, population (latest
    mid-year estimate loaded; LSOA 2021 and above apportioned, see docs/guide/geography.md),
    population_year, imd_decile, imd_rank, imd_score, imd_version, rural_urban, area_km2,
    centroid_easting, centroid_northing, geometry_source, geometry. Sorted by code.
    ``force_code`` keeps only the areas of one force.
    """
    _check_level(level, fn="areas_frame")
    cols = [areas.c[c] for c in FRAME_COLUMNS]
    if with_geometry:
        cols.append(areas.c.geometry_wkb)
    stmt = select(*cols).where(areas.c.level == level).order_by(areas.c.code)
    if force_code is not None:
        stmt = stmt.where(areas.c.force_code == force_code)
    frame = _frame(store, stmt, with_geometry)
    if frame.empty:
        where = f" in force {force_code}" if force_code else ""
        raise NotFoundError(f"No {level} areas{where} are loaded.", _HINT)
    return frame


def area(store: Store, code: str, level: str | None = None) -> dict[str, Any]:
    """One area's row (without geometry) as a dict; the highest level wins if ``level`` is None
    and the code exists at two levels (an unchanged LSOA is both lsoa11 and lsoa21)."""
    stmt = select(*[areas.c[c] for c in FRAME_COLUMNS]).where(areas.c.code == code)
    if level is not None:
        _check_level(level, fn="area")
        stmt = stmt.where(areas.c.level == level)
    frame = _frame(store, stmt, False)
    if frame.empty:
        raise NotFoundError(
            f"No area with code {code!r}{f' at level {level}' if level else ''}.", _HINT
        )
    frame["_order"] = frame["level"].map({lv: i for i, lv in enumerate(LEVELS)})
    rec = frame.sort_values("_order").iloc[-1].drop("_order").to_dict()
    return {k: (None if v is pd.NA else v) for k, v in rec.items()}


def force_boundary(store: Store, force_code: str = "E23000007") -> Any:
    """The force area's boundary as a shapely (Multi)Polygon in EPSG:27700."""
    import shapely

    wkb = store.read_frame(
        select(areas.c.geometry_wkb).where(areas.c.level == "force", areas.c.code == force_code)
    )
    if wkb.empty or not isinstance(wkb.iat[0, 0], str):
        raise NotFoundError(f"No boundary is loaded for force {force_code}.", _HINT)
    return shapely.from_wkb(wkb.iat[0, 0])


def area_children(
    store: Store, code: str, level: str | None = None, *, with_geometry: bool = False
) -> Any:
    """The areas directly below ``code``: a force's CSPs, a CSP's wards, a ward's LSOA 2021s.

    ``level`` picks another level under it (e.g. ``area_children(store, csp, "lsoa11")`` or
    every ``lsoa21`` in a force), using the ward/csp/force code columns.
    """
    parent = area(store, code)
    target = level or CHILD_LEVEL.get(parent["level"])
    if target is None:
        raise ParameterError(f"Area {code} is an {parent['level']}: it has no areas below it.")
    _check_level(target, fn="area_children")
    column = {"ward": areas.c.ward_code, "csp": areas.c.csp_code, "force": areas.c.force_code}.get(
        parent["level"]
    )
    if column is None:
        raise ParameterError(f"Area {code} is an {parent['level']}: it has no areas below it.")
    cols = [areas.c[c] for c in FRAME_COLUMNS] + ([areas.c.geometry_wkb] if with_geometry else [])
    stmt = select(*cols).where(areas.c.level == target, column == code).order_by(areas.c.code)
    return _frame(store, stmt, with_geometry)


def area_lookup(store: Store) -> pd.DataFrame:
    """LSOA (2011 and 2021) -> ward, CSP and force codes: code, level, ward_code, csp_code,
    force_code. Join events on (lsoa_code, lsoa vintage) to label them with their areas."""
    stmt = (
        select(areas.c.code, areas.c.level, areas.c.ward_code, areas.c.csp_code, areas.c.force_code)
        .where(areas.c.level.in_(("lsoa11", "lsoa21")))
        .order_by(areas.c.level, areas.c.code)
    )
    return store.read_frame(stmt)


def population_frame(store: Store, level: str, year: int | None = None) -> pd.DataFrame:
    """Population by single year of age (90 = 90 and over): code, year, age, population.

    LSOA 2011 as published by the ONS; LSOA 2021 apportioned; ward/CSP/force summed.
    """
    _check_level(level, fn="population_frame")
    t = area_population
    stmt = select(t.c.code, t.c.year, t.c.age, t.c.population).where(t.c.level == level)
    if year is not None:
        stmt = stmt.where(t.c.year == year)
    frame = store.read_frame(stmt.order_by(t.c.code, t.c.year, t.c.age))
    if frame.empty:
        raise NotFoundError(
            f"No population is loaded for {level}{f' in {year}' if year else ''}.", _HINT
        )
    return frame.astype({"year": int, "age": int, "population": int})


def ethnicity_frame(store: Store, level: str = "lsoa21") -> pd.DataFrame:
    """Census 2021 usual residents by ethnic group (5 groups): code, ethnic_group, residents,
    total_residents, share."""
    _check_level(level, fn="ethnicity_frame")
    t = area_ethnicity
    stmt = select(t.c.code, t.c.ethnic_group, t.c.residents, t.c.total_residents).where(
        t.c.level == level
    )
    frame = store.read_frame(stmt.order_by(t.c.code, t.c.ethnic_group))
    if frame.empty:
        raise NotFoundError(f"No Census 2021 ethnicity is loaded for {level}.", _HINT)
    frame["share"] = frame["residents"] / frame["total_residents"]
    return frame


def deprivation_frame(store: Store, level: str, version: int | None = None) -> pd.DataFrame:
    """IMD by domain: code, version, domain, decile (1 = most deprived), rank, score."""
    _check_level(level, fn="deprivation_frame")
    t = area_deprivation
    stmt = select(t.c.code, t.c.version, t.c.domain, t.c.decile, t.c.rank, t.c.score).where(
        t.c.level == level
    )
    if version is not None:
        stmt = stmt.where(t.c.version == version)
    frame = store.read_frame(stmt.order_by(t.c.code, t.c.domain))
    if frame.empty:
        raise NotFoundError(f"No deprivation (IMD) is loaded for {level}.", _HINT)
    return frame
