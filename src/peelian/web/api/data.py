"""``/api/status``, ``/api/batches``, ``/api/quarantine``: what is loaded and its provenance.

Batch commands and server paths are shown to admins only; raw quarantined rows of person-level
files only to the role :func:`peelian.web.services.status.can_see_raw_person_rows` entitles,
and each such view is audited (decision 0010)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from peelian.web.api import _schemas as S
from peelian.web.api._cache import cached_json
from peelian.web.api._params import MAX_ID, BatchId
from peelian.web.auth import SessionUser, require
from peelian.web.services import status
from peelian.web.services.common import MAX_LIMIT, jsonable
from peelian.web.services.results import result_runs

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["data"], dependencies=[Depends(require("viewer"))])
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (max 1000).")]
Offset = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")]
Viewer = Annotated[SessionUser, Depends(require("viewer"))]


@router.get(
    "/status",
    summary="What is loaded: forces, months, rows per kind and category",
    responses=S.responses(S.DataStatus),
)
async def get_status(request: Request, user: Viewer) -> Response:
    admin = user.allows("admin")  # batch commands and server paths are for admins only
    return await cached_json(
        request, lambda: status.data_status(request.app.state.ctx, admin=admin), {}, vary_role=True
    )


@router.get(
    "/results",
    summary="Which result kinds are computed (and the command for the rest)",
    responses=S.responses(S.ResultKinds),
)
async def get_results(request: Request) -> Response:
    return await cached_json(request, lambda: result_runs(request.app.state.ctx), {})


@router.get(
    "/batches",
    summary="Ingest batches with their files and reconciliation",
    responses=S.responses(S.BatchesPage, 422),
)
async def get_batches(
    request: Request, user: Viewer, limit: Limit = 20, offset: Offset = 0
) -> Response:
    admin = user.allows("admin")
    return await cached_json(
        request,
        lambda: status.batches(request.app.state.ctx, limit=limit, offset=offset, admin=admin),
        {"limit": limit, "offset": offset},
        vary_role=True,
    )


@router.get(
    "/batches/{batch_id}",
    summary="One ingest batch with all its files",
    responses=S.responses(S.BatchDetail, 404, 422),
)
async def get_batch(request: Request, user: Viewer, batch_id: BatchId) -> Response:
    admin = user.allows("admin")
    return await cached_json(
        request,
        lambda: status.batch_detail(request.app.state.ctx, batch_id, admin=admin),
        {"batch_id": batch_id},
        vary_role=True,
    )


@router.get(
    "/quarantine/reasons",
    summary="Quarantined rows per reason and file kind",
    responses=S.responses(S.QuarantineReasons),
)
async def get_quarantine_reasons(request: Request) -> Response:
    return await cached_json(
        request, lambda: {"reasons": status.quarantine_reasons(request.app.state.ctx)}, {}
    )


@router.get(
    "/quarantine",
    summary="Quarantined rows with their reason (raw rows: police.uk for analysts and admins, "
    "person-level files for entitled roles only, audited)",
    responses=S.responses(S.QuarantinePage, 422),
)
async def get_quarantine(
    request: Request,
    user: Viewer,
    reason: Annotated[str | None, Query(max_length=200)] = None,
    batch_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Response:
    def build() -> dict[str, Any]:
        return status.quarantine_page(
            request.app.state.ctx,
            reason=reason,
            batch_id=batch_id,
            limit=limit,
            offset=offset,
            with_raw=user.allows("analyst"),
            user=user,
        )

    if status.can_see_raw_person_rows(user):  # every view of person rows is audited: no cache
        return JSONResponse(jsonable(await run_in_threadpool(build)))
    return await cached_json(
        request,
        build,
        {"reason": reason, "batch_id": batch_id, "limit": limit, "offset": offset},
        vary_role=True,
    )
