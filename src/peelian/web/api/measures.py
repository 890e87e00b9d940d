"""``/api/measures``: measure values with intervals and assessments, and SPC monthly series."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.auth import require
from peelian.web.services import results
from peelian.web.services.common import MAX_LIMIT

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["measures"], dependencies=[Depends(require("viewer"))])


@router.get(
    "/measures/catalogue",
    summary="Each measure: label, unit, source, good direction",
    responses=S.responses(S.MeasuresCatalogue, 404),
)
async def get_catalogue(request: Request) -> Response:
    return await cached_json(request, lambda: results.measures_catalogue(request.app.state.ctx))


@router.get(
    "/measures",
    summary="Measure values (force level unless an area filter is given)",
    responses=S.responses(S.MeasuresPage, 404, 422),
)
async def get_measures(
    request: Request,
    measure: Annotated[str | None, Query(description="Measure id")] = None,
    area_level: Annotated[str | None, Query(description="force, csp, ward or lsoa")] = None,
    area_code: Annotated[str | None, Query()] = None,
    parent: Annotated[str | None, Query(description="The areas one level below this code")] = None,
    assessment: Annotated[
        str | None, Query(description="improving, worsening or no significant change")
    ] = None,
    significant: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return await cached_json(
        request,
        lambda: results.measures_values(
            request.app.state.ctx,
            measure=measure,
            area_level=area_level,
            area_code=area_code,
            parent=parent,
            assessment=assessment,
            significant=significant,
            limit=limit,
            offset=offset,
        ),
    )


@router.get(
    "/measures/{measure}/monthly",
    summary="Monthly counts with SPC limits and signals",
    responses=S.responses(S.MeasureMonthly, 404, 422),
)
async def get_monthly(
    request: Request, measure: str, area_code: Annotated[str | None, Query()] = None
) -> Response:
    return await cached_json(
        request, lambda: results.measure_monthly(request.app.state.ctx, measure, area_code)
    )
