"""Areas and their hierarchy (LSOA -> ward -> CSP -> force) and their boundaries as GeoJSON."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
from sqlalchemy import select

from peelian.data.tables import areas
from peelian.errors import NotFoundError, ParameterError
from peelian.web.context import WebContext
from peelian.web.services.common import page, records

__all__ = [
    "LEVELS",
    "area_detail",
    "area_geojson",
    "areas_frame",
    "areas_list",
    "lsoa_parents",
]

#: Levels of the hierarchy, from the top.
LEVELS: tuple[str, ...] = ("force", "csp", "ward", "lsoa21")
ALL_LEVELS: tuple[str, ...] = (*LEVELS, "lsoa11")
_CHILD = {"force": "csp", "csp": "ward", "ward": "lsoa21"}
_COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "ward_code",
    "csp_code",
    "force_code",
    "population",
    "imd_decile",
    "imd_score",
    "area_km2",
]
#: Douglas-Peucker tolerance (metres, EPSG:27700) of the boundaries sent to the browser.
SIMPLIFY_M = {"force": 60.0, "csp": 40.0, "ward": 15.0, "lsoa21": 8.0, "lsoa11": 8.0}


def _check_level(level: str) -> None:
    if level not in ALL_LEVELS:
        raise ParameterError(
            f"The 'level' parameter must be one of {', '.join(ALL_LEVELS)}. Got {level!r}.",
            "lsoa21 -> ward -> csp (Community Safety Partnership) -> force.",
        )


def areas_frame(ctx: WebContext) -> pd.DataFrame:
    """Every area without geometry (cached per data version)."""

    def build() -> pd.DataFrame:
        return ctx.store.read_frame(select(*[areas.c[c] for c in _COLUMNS]))

    return ctx.derived("areas_frame", build)


def lsoa_parents(ctx: WebContext) -> pd.DataFrame:
    """lsoa21_code, ward_code, csp_code, force_code of every loaded LSOA 2021.

    Records are placed in their LSOA 2021 by the data layer (the one rule of decision 0015,
    :func:`peelian.data.geography.lsoa21_rule`); this only climbs the hierarchy from there.
    """

    def build() -> pd.DataFrame:
        frame = areas_frame(ctx)
        l21 = frame[frame["level"] == "lsoa21"][["code", "ward_code", "csp_code", "force_code"]]
        return l21.rename(columns={"code": "lsoa21_code"}).drop_duplicates("lsoa21_code")

    return ctx.derived("lsoa_parents", build)


def areas_list(
    ctx: WebContext,
    *,
    level: str | None = None,
    parent: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Areas filtered by level, parent code and a name search, by name."""
    frame = areas_frame(ctx)
    if level:
        _check_level(level)
        frame = frame[frame["level"] == level]
    if parent:
        frame = frame[frame["parent_code"] == parent]
    if q:
        frame = frame[frame["name"].str.contains(q, case=False, regex=False)]
    frame = frame.sort_values(["level", "name"])
    return page(frame, limit, offset, _COLUMNS)


def _one(ctx: WebContext, code: str) -> dict[str, Any]:
    frame = areas_frame(ctx)
    rows = frame[(frame["code"] == code) & (frame["level"] != "lsoa11")]
    if rows.empty:
        rows = frame[frame["code"] == code]
    if rows.empty:
        raise NotFoundError(
            f"There is no area with code {code!r}.",
            "Find codes at /api/areas?q=NAME, or load boundaries with `peelian areas load`.",
        )
    return records(rows.head(1), _COLUMNS)[0]


def area_detail(ctx: WebContext, code: str) -> dict[str, Any]:
    """An area with its ancestors (nearest first) and its children (by name)."""
    area = _one(ctx, code)
    ancestors = []
    parent = area.get("parent_code")
    seen = {code}
    while parent and parent not in seen:
        seen.add(parent)
        try:
            up = _one(ctx, parent)
        except NotFoundError:
            break
        ancestors.append({k: up[k] for k in ("code", "name", "level")})
        parent = up.get("parent_code")
    child_level = _CHILD.get(area["level"])
    children: list[dict[str, Any]] = []
    if child_level:
        frame = areas_frame(ctx)
        kids = frame[(frame["level"] == child_level) & (frame["parent_code"] == code)]
        children = records(kids.sort_values("name"), ["code", "name", "level", "population"])
    return {
        **area,
        "ancestors": ancestors,
        "child_level": child_level,
        "children": children,
    }


def _geojson_bytes(ctx: WebContext, level: str) -> bytes:
    import geopandas as gpd
    from shapely import wkb

    frame = ctx.store.read_frame(
        select(areas.c.code, areas.c.name, areas.c.geometry_wkb).where(areas.c.level == level)
    )
    frame = frame[frame["geometry_wkb"].notna()]
    if frame.empty:
        return json.dumps({"type": "FeatureCollection", "features": []}).encode()
    geoms = [wkb.loads(bytes.fromhex(h)) for h in frame["geometry_wkb"]]
    gdf = gpd.GeoDataFrame(
        frame[["code", "name"]].reset_index(drop=True), geometry=geoms, crs="EPSG:27700"
    )
    gdf["geometry"] = gdf.geometry.simplify(SIMPLIFY_M.get(level, 10.0), preserve_topology=True)
    gdf = gdf.to_crs("EPSG:4326")
    features = []
    for code, name, geom in zip(gdf["code"], gdf["name"], gdf.geometry, strict=True):
        features.append(
            {
                "type": "Feature",
                "id": code,
                "properties": {"code": code, "name": name},
                "geometry": _rounded(geom.__geo_interface__),
            }
        )
    collection = {"type": "FeatureCollection", "features": features}
    return json.dumps(collection, separators=(",", ":")).encode()


def _rounded(geo: dict[str, Any], digits: int = 5) -> dict[str, Any]:
    """Coordinates rounded to ``digits`` decimals (1e-5 degrees is about 1 m)."""

    def rnd(obj: Any) -> Any:
        if isinstance(obj, list | tuple):
            if obj and isinstance(obj[0], float | int):
                return [round(float(v), digits) for v in obj]
            return [rnd(v) for v in obj]
        return obj

    return {"type": geo["type"], "coordinates": rnd(geo["coordinates"])}


def area_geojson(ctx: WebContext, level: str) -> bytes:
    """The boundaries of one level as GeoJSON bytes (WGS84, simplified, cached)."""
    _check_level(level)
    return ctx.derived(("geojson", level), lambda: _geojson_bytes(ctx, level))
