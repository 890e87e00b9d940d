"""``/api/status``, ``/api/batches``, ``/api/quarantine``: what is loaded and its provenance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.auth import SessionUser, require
from peelian.web.services import status
from peelian.web.services.common import MAX_LIMIT
from peelian.web.services.results import result_runs

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["data"], dependencies=[Depends(require("viewer"))])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (max 1000).")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]


@router.get(
    "/status",
    summary="What is loaded: forces, months, rows per kind and category",
    responses=S.responses(S.DataStatus),
)
async def get_status(request: Request) -> Response:
    return await cached_json(request, lambda: status.data_status(request.app.state.ctx))


@router.get(
    "/results",
    summary="Which result kinds are computed (and the command for the rest)",
    responses=S.responses(S.ResultKinds),
)
async def get_results(request: Request) -> Response:
    return await cached_json(request, lambda: result_runs(request.app.state.ctx))


@router.get(
    "/batches",
    summary="Ingest batches with their files and reconciliation",
    responses=S.responses(S.BatchesPage, 422),
)
async def get_batches(request: Request, limit: Limit = 20, offset: Offset = 0) -> Response:
    return await cached_json(
        request, lambda: status.batches(request.app.state.ctx, limit=limit, offset=offset)
    )


@router.get(
    "/batches/{batch_id}",
    summary="One ingest batch with all its files",
    responses=S.responses(S.BatchDetail, 404, 422),
)
async def get_batch(request: Request, batch_id: int) -> Response:
    return await cached_json(request, lambda: status.batch_detail(request.app.state.ctx, batch_id))


@router.get(
    "/quarantine/reasons",
    summary="Quarantined rows per reason and file kind",
    responses=S.responses(S.QuarantineReasons),
)
async def get_quarantine_reasons(request: Request) -> Response:
    return await cached_json(
        request, lambda: {"reasons": status.quarantine_reasons(request.app.state.ctx)}
    )


@router.get(
    "/quarantine",
    summary="Quarantined rows with their reason (the raw row for analysts and admins only)",
    responses=S.responses(S.QuarantinePage, 422),
)
async def get_quarantine(
    request: Request,
    user: Annotated[SessionUser, Depends(require("viewer"))],
    reason: str | None = None,
    batch_id: int | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    return await cached_json(
        request,
        lambda: status.quarantine_page(
            request.app.state.ctx,
            reason=reason,
            batch_id=batch_id,
            limit=limit,
            offset=offset,
            with_raw=user.allows("analyst"),
        ),
        vary_role=True,
    )
