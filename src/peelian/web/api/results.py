"""``/api/hotspots``, ``/api/forecasts``, ``/api/backtests``, ``/api/grip``: persisted results
(``/api/hotspots/concentration``: how concentrated crime is across the cells).

Exports (CSV, GeoJSON) need the analyst role.
"""

from __future__ import annotations

import io
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.errors import ParameterError
from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.auth import require
from peelian.web.services import results
from peelian.web.services.common import MAX_LIMIT

__all__ = ["router"]

router = APIRouter(prefix="/api", dependencies=[Depends(require("viewer"))])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT)]
Offset = Annotated[int, Query(ge=0)]
Classification = Annotated[
    str | None,
    Query(description="gistar: hot/cold/none; emerging: a pattern; forecast: true/false"),
]


# Declared before /hotspots/{kind}, which would otherwise take "concentration" as a kind.
@router.get(
    "/hotspots/concentration",
    tags=["hotspots"],
    summary="Crime concentration: shares of crime and harm in the top cells, Gini, Lorenz curve",
    responses=S.responses(S.Concentration, 404, 422),
)
async def get_concentration(
    request: Request,
    name: Annotated[str | None, Query(description="Crime-set slug")] = None,
) -> Response:
    return await cached_json(request, lambda: results.concentration(request.app.state.ctx, name))


@router.get(
    "/hotspots/{kind}",
    tags=["hotspots"],
    summary="Cells of a gistar/emerging/kde run",
    responses=S.responses(S.HotspotCellsPage, 404, 422),
)
async def get_cells(
    request: Request,
    kind: str,
    name: Annotated[str | None, Query(description="Crime-set slug")] = None,
    classification: Classification = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    return await cached_json(
        request,
        lambda: results.hotspot_cells(
            request.app.state.ctx,
            kind,
            name,
            classification=classification,
            limit=limit,
            offset=offset,
        ),
    )


@router.get(
    "/hotspots/{kind}/cells.geojson",
    tags=["hotspots"],
    summary="Significant cells as GeoJSON (WGS84), at most max_cells",
    responses=S.responses(S.CellsFeatureCollection, 404, 422),
)
async def get_cells_geojson(
    request: Request,
    kind: str,
    name: str | None = None,
    classification: Classification = None,
    max_cells: Annotated[int, Query(ge=1, le=20000)] = 5000,
) -> Response:
    return await cached_json(
        request,
        lambda: results.cells_geojson(
            request.app.state.ctx, kind, name, classification=classification, max_cells=max_cells
        ),
    )


@router.get(
    "/exports/{kind}.{fmt}",
    tags=["hotspots"],
    summary="Export all cells of a run as CSV or GeoJSON (analyst role)",
    dependencies=[Depends(require("analyst"))],
    response_class=S.GeoJSONResponse,
    responses=S.responses(
        S.CellsFeatureCollection,
        403,
        404,
        422,
        content={"text/csv": {"schema": {"type": "string", "description": "fmt=csv"}}},
        json_route=False,
    ),
)
def export_cells(request: Request, kind: str, fmt: str, name: str | None = None) -> Response:
    ctx = request.app.state.ctx
    if fmt not in ("csv", "geojson"):
        raise ParameterError(f"The export format must be csv or geojson. Got {fmt!r}.")
    from peelian.data.users import audit

    data = results.hotspot_cells(ctx, kind, name, limit=1, offset=0)
    run = ctx.run(data["run"]["id"])
    cells = run.frames["cells"]
    filename = f"peelian-{kind}-{run.name}-run{run.id}.{fmt}"
    audit(ctx.store, request.state.user.username, "export", target=filename)
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "csv":
        buf = io.StringIO()
        frame = cells.drop(columns="geometry") if "geometry" in cells else cells
        frame.to_csv(buf, index=False)
        return Response(buf.getvalue(), media_type="text/csv", headers=headers)
    body = results.cells_geojson(ctx, kind, name, classification=None, max_cells=10**9)
    import json

    return Response(json.dumps(body), media_type="application/geo+json", headers=headers)


@router.get(
    "/forecasts",
    tags=["forecasts"],
    summary="The current forecast's cells by rank",
    responses=S.responses(S.ForecastPage, 404, 422),
)
async def get_forecast(
    request: Request,
    name: str | None = None,
    flagged: Annotated[str | None, Query(description="true or false")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    return await cached_json(
        request,
        lambda: results.hotspot_cells(
            request.app.state.ctx,
            "forecast",
            name,
            classification=flagged,
            limit=limit,
            offset=offset,
        ),
    )


@router.get(
    "/backtests",
    tags=["forecasts"],
    summary="Backtest scores per model and month",
    responses=S.responses(S.Backtest, 404, 422),
)
async def get_backtest(request: Request, name: str | None = None) -> Response:
    return await cached_json(request, lambda: results.backtest(request.app.state.ctx, name))


@router.get(
    "/grip",
    tags=["forecasts"],
    summary="The Grip patrol plan: hotspots and visits",
    responses=S.responses(S.GripPlan, 404),
)
async def get_grip(request: Request) -> Response:
    return await cached_json(request, lambda: results.grip_plan(request.app.state.ctx))
