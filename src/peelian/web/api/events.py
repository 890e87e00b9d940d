"""``/api/events/counts``: aggregates of events by month, category or area (never single rows)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.api._params import EventsBy, EventsLevel, Limit, MapLevel, MapMetric, Month, Offset
from peelian.web.auth import require
from peelian.web.services import events

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["events"], dependencies=[Depends(require("viewer"))])
Category = Annotated[
    str | None, Query(max_length=100, description="police.uk category, e.g. Burglary")
]


@router.get(
    "/events/counts",
    summary="Event counts and CCHI harm by month, category or area",
    responses=S.responses(S.EventCountsPage, 422),
)
async def get_counts(
    request: Request,
    by: Annotated[EventsBy, Query(description="Group by month, category or area")] = "month",
    level: Annotated[EventsLevel, Query(description="For by=area: the area level")] = "csp",
    month_from: Month = None,
    month_to: Month = None,
    category: Category = None,
    area: Annotated[
        str | None, Query(max_length=16, description="Only events in this area code")
    ] = None,
    force: Annotated[
        str | None,
        Query(pattern=r"^[a-z0-9-]{1,60}$", description="Force slug, e.g. northumbria"),
    ] = None,
    limit: Limit = 1000,
    offset: Offset = 0,
) -> Response:
    params: dict[str, Any] = {
        "by": by,
        "level": level,
        "month_from": month_from,
        "month_to": month_to,
        "category": category,
        "area": area,
        "force": force,
        "limit": limit,
        "offset": offset,
    }
    return await cached_json(
        request, lambda: events.counts(request.app.state.ctx, **params), params
    )


@router.get(
    "/events/map",
    summary="One value per area for the choropleth map",
    responses=S.responses(S.MapValues, 422),
)
async def get_map_values(
    request: Request,
    level: Annotated[MapLevel, Query(description="The area level")] = "ward",
    metric: Annotated[
        MapMetric, Query(description="count, rate (per 1,000 residents) or harm")
    ] = "count",
    month_from: Month = None,
    month_to: Month = None,
    category: Category = None,
) -> Response:
    params: dict[str, Any] = {
        "level": level,
        "metric": metric,
        "month_from": month_from,
        "month_to": month_to,
        "category": category,
    }

    def build() -> dict[str, Any]:
        values = events.area_values(request.app.state.ctx, **params)
        return {"level": level, "metric": metric, "items": values}

    return await cached_json(request, build, params)
