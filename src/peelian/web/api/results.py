"""``/api/hotspots``, ``/api/forecasts``, ``/api/backtests``, ``/api/grip``: persisted results
(``/api/hotspots/concentration``: how concentrated crime is across the cells).

Exports (CSV, GeoJSON) need the analyst role.
"""

from __future__ import annotations

import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.api._params import (
    MAX_MAP_CELLS,
    CrimeSet,
    EmergingPattern,
    ExportFormat,
    ForecastFlag,
    GistarClass,
    HotspotKind,
    Limit,
    Offset,
)
from peelian.web.auth import require
from peelian.web.services import results

__all__ = ["router"]

router = APIRouter(prefix="/api", dependencies=[Depends(require("viewer"))])
Classification = Annotated[
    GistarClass | EmergingPattern | ForecastFlag | None,
    Query(
        description="gistar: hot, cold or none; emerging: an emerging hot spot pattern; "
        "forecast: true (flagged) or false"
    ),
]


# Declared before /hotspots/{kind}; "concentration" is not a kind (``kind`` is an enum of
# gistar, emerging, kde and forecast), so the schema and the routing agree.
@router.get(
    "/hotspots/concentration",
    tags=["hotspots"],
    summary="Crime concentration: shares of crime and harm in the top cells, Gini, Lorenz curve",
    responses=S.responses(S.Concentration, 404, 422),
)
async def get_concentration(request: Request, name: CrimeSet = None) -> Response:
    return await cached_json(
        request, lambda: results.concentration(request.app.state.ctx, name), {"name": name}
    )


@router.get(
    "/hotspots/{kind}",
    tags=["hotspots"],
    summary="Cells of a gistar/emerging/kde run (or the forecast)",
    responses=S.responses(S.HotspotCellsPage, 404, 422),
)
async def get_cells(
    request: Request,
    kind: HotspotKind,
    name: CrimeSet = None,
    classification: Classification = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    params: dict[str, Any] = {"classification": classification, "limit": limit, "offset": offset}
    return await cached_json(
        request,
        lambda: results.hotspot_cells(request.app.state.ctx, kind, name, **params),
        {"kind": kind, "name": name, **params},
    )


@router.get(
    "/hotspots/{kind}/cells.geojson",
    tags=["hotspots"],
    summary="Significant cells as GeoJSON (WGS84), at most max_cells",
    responses=S.responses(S.CellsFeatureCollection, 404, 422),
)
async def get_cells_geojson(
    request: Request,
    kind: HotspotKind,
    name: CrimeSet = None,
    classification: Classification = None,
    max_cells: Annotated[
        int, Query(ge=1, le=MAX_MAP_CELLS, description="At most this many cells")
    ] = 5000,
) -> Response:
    def build() -> dict[str, Any]:
        # One derived GeoJSON per run and class (at the largest map size), cut to max_cells
        # here: max_cells never multiplies what the server keeps.
        full = results.cells_geojson(
            request.app.state.ctx,
            kind,
            name,
            classification=classification,
            max_cells=MAX_MAP_CELLS,
        )
        features = full["features"]
        truncated = bool(full.get("truncated")) or len(features) > max_cells
        return {**full, "features": features[:max_cells], "truncated": truncated}

    params: dict[str, Any] = {"kind": kind, "name": name, "classification": classification}
    return await cached_json(request, build, {**params, "max_cells": max_cells})


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
def export_cells(
    request: Request, kind: HotspotKind, fmt: ExportFormat, name: CrimeSet = None
) -> Response:
    ctx = request.app.state.ctx
    from peelian.data.accounts.users import audit

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
    name: CrimeSet = None,
    flagged: Annotated[bool | None, Query(description="Only flagged (or unflagged) cells")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Response:
    params: dict[str, Any] = {"name": name, "flagged": flagged, "limit": limit, "offset": offset}
    classification = None if flagged is None else str(flagged).lower()
    return await cached_json(
        request,
        lambda: results.hotspot_cells(
            request.app.state.ctx,
            "forecast",
            name,
            classification=classification,
            limit=limit,
            offset=offset,
        ),
        params,
    )


@router.get(
    "/backtests",
    tags=["forecasts"],
    summary="Backtest scores per model and month",
    responses=S.responses(S.Backtest, 404, 422),
)
async def get_backtest(request: Request, name: CrimeSet = None) -> Response:
    return await cached_json(
        request, lambda: results.backtest(request.app.state.ctx, name), {"name": name}
    )


@router.get(
    "/grip",
    tags=["forecasts"],
    summary="The Grip patrol plan: hotspots and visits",
    responses=S.responses(S.GripPlan, 404),
)
async def get_grip(request: Request) -> Response:
    return await cached_json(request, lambda: results.grip_plan(request.app.state.ctx), {})
