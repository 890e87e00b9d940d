"""``/api/areas``: the area hierarchy, boundaries (GeoJSON) and area profiles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.api._params import AreaCode, AreaLevel, Limit, Offset
from peelian.web.auth import SessionUser, require
from peelian.web.services import areas
from peelian.web.services.disclosure import hidden_below
from peelian.web.services.profile import area_profile

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["areas"], dependencies=[Depends(require("viewer"))])


@router.get(
    "/areas",
    summary="Areas by level, parent and name",
    responses=S.responses(S.AreasPage, 422),
)
async def get_areas(
    request: Request,
    level: Annotated[AreaLevel | None, Query(description="The areas of one level")] = None,
    parent: Annotated[
        str | None, Query(max_length=16, description="Only the children of this code")
    ] = None,
    q: Annotated[str | None, Query(max_length=100, description="Name contains")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    params: dict[str, Any] = {
        "level": level,
        "parent": parent,
        "q": q,
        "limit": limit,
        "offset": offset,
    }
    return await cached_json(
        request, lambda: areas.areas_list(request.app.state.ctx, **params), params
    )


@router.get(
    "/geo/areas/{level}.geojson",
    summary="Boundaries of one level as GeoJSON (WGS84, simplified)",
    response_class=S.GeoJSONResponse,
    responses=S.responses(S.AreaFeatureCollection, 422, json_route=False),
)
def get_area_geojson(request: Request, level: AreaLevel) -> Response:
    body = areas.area_geojson(request.app.state.ctx, level)
    return Response(
        body, media_type="application/geo+json", headers={"Cache-Control": "private, max-age=300"}
    )


@router.get(
    "/areas/{code}",
    summary="One area with its ancestors and children",
    responses=S.responses(S.AreaDetail, 404, 422),
)
async def get_area(request: Request, code: AreaCode) -> Response:
    return await cached_json(
        request, lambda: areas.area_detail(request.app.state.ctx, code), {"code": code}
    )


@router.get(
    "/areas/{code}/profile",
    summary="An area's trend, categories and measures",
    responses=S.responses(S.AreaProfile, 404, 422),
)
async def get_area_profile(
    request: Request, code: AreaCode, user: SessionUser = Depends(require("viewer"))
) -> Response:
    # small person-derived counts are hidden for roles without person-level access
    hide = hidden_below(request.app.state.ctx, user)
    return await cached_json(
        request,
        lambda: area_profile(request.app.state.ctx, code, hidden_below=hide),
        {"code": code},
        vary_role=True,
    )
