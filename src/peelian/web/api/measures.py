"""``/api/measures``: measure values with intervals and assessments, and SPC monthly series."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.api._params import Assessment, Limit, MeasureLevel, Offset
from peelian.web.auth import SessionUser, require
from peelian.web.services import results
from peelian.web.services.disclosure import hidden_below

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["measures"], dependencies=[Depends(require("viewer"))])
MeasureId = Annotated[str, Path(max_length=80, description="Measure id, e.g. neighbourhood-crime")]
Code = Annotated[str | None, Query(max_length=16, description="ONS area code")]


@router.get(
    "/measures/catalogue",
    summary="Each measure: label, unit, source, good direction",
    responses=S.responses(S.MeasuresCatalogue, 404),
)
async def get_catalogue(request: Request) -> Response:
    return await cached_json(request, lambda: results.measures_catalogue(request.app.state.ctx), {})


@router.get(
    "/measures",
    summary="Measure values (force level unless an area filter is given)",
    responses=S.responses(S.MeasuresPage, 404, 422),
)
async def get_measures(
    request: Request,
    measure: Annotated[str | None, Query(max_length=80, description="Measure id")] = None,
    area_level: Annotated[MeasureLevel | None, Query(description="Only this level")] = None,
    area_code: Code = None,
    parent: Annotated[
        str | None, Query(max_length=16, description="The areas one level below this code")
    ] = None,
    assessment: Annotated[Assessment | None, Query(description="Only this assessment")] = None,
    significant: bool | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
    user: SessionUser = Depends(require("viewer")),
) -> Response:
    # small person-derived counts are hidden for roles without person-level access
    hide = hidden_below(request.app.state.ctx, user)
    params: dict[str, Any] = {
        "measure": measure,
        "area_level": area_level,
        "area_code": area_code,
        "parent": parent,
        "assessment": assessment,
        "significant": significant,
        "limit": limit,
        "offset": offset,
    }
    return await cached_json(
        request,
        lambda: results.measures_values(request.app.state.ctx, **params, hidden_below=hide),
        params,
        vary_role=True,
    )


@router.get(
    "/measures/{measure}/monthly",
    summary="Monthly counts with SPC limits and signals",
    responses=S.responses(S.MeasureMonthly, 404, 422),
)
async def get_monthly(
    request: Request,
    measure: MeasureId,
    area_code: Code = None,
    user: SessionUser = Depends(require("viewer")),
) -> Response:
    hide = hidden_below(request.app.state.ctx, user)
    return await cached_json(
        request,
        lambda: results.measure_monthly(request.app.state.ctx, measure, area_code, hide),
        {"measure": measure, "area_code": area_code},
        vary_role=True,
    )
