"""``/api/events/counts``: aggregates of events by month, category or area (never single rows)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.auth import require
from peelian.web.services import events
from peelian.web.services.common import MAX_LIMIT

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["events"], dependencies=[Depends(require("viewer"))])


@router.get(
    "/events/counts",
    summary="Event counts and CCHI harm by month, category or area",
    responses=S.responses(S.EventCountsPage, 422),
)
async def get_counts(
    request: Request,
    by: Annotated[str, Query(description="month, category or area")] = "month",
    level: Annotated[str, Query(description="For by=area: lsoa21, ward, csp, force")] = "csp",
    month_from: Annotated[str | None, Query(description="YYYY-MM")] = None,
    month_to: Annotated[str | None, Query(description="YYYY-MM")] = None,
    category: Annotated[str | None, Query(description="police.uk category slug")] = None,
    area: Annotated[str | None, Query(description="Only events in this area code")] = None,
    force: Annotated[str | None, Query(description="Force slug, e.g. northumbria")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 1000,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Response:
    return await cached_json(
        request,
        lambda: events.counts(
            request.app.state.ctx,
            by=by,
            level=level,
            month_from=month_from,
            month_to=month_to,
            category=category,
            area=area,
            force=force,
            limit=limit,
            offset=offset,
        ),
    )


@router.get(
    "/events/map",
    summary="One value per area for the choropleth map",
    responses=S.responses(S.MapValues, 422),
)
async def get_map_values(
    request: Request,
    level: Annotated[str, Query(description="lsoa21 or ward (or csp)")] = "ward",
    metric: Annotated[
        str, Query(description="count, rate (per 1,000 residents) or harm")
    ] = "count",
    month_from: Annotated[str | None, Query(description="YYYY-MM")] = None,
    month_to: Annotated[str | None, Query(description="YYYY-MM")] = None,
    category: Annotated[str | None, Query()] = None,
) -> Response:
    def build() -> dict[str, Any]:
        values = events.area_values(
            request.app.state.ctx,
            level=level,
            metric=metric,
            month_from=month_from,
            month_to=month_to,
            category=category,
        )
        return {"level": level, "metric": metric, "items": values}

    return await cached_json(request, build)
