"""``POST /api/casework/import/{kind}``: upload a CSV file of organisations, data-sharing
agreements, problems, interventions or referrals (the column contract per kind is in the casework
guide, and :data:`peelian.casework.importing.CONTRACTS`).

The upload is a multipart form: ``file`` (the CSV, at most :data:`MAX_BYTES`), ``purpose`` (why;
audited with the counts) and ``dry_run`` (check every row, write nothing). It needs the
``X-CSRF-Token`` header like every API write. The answer is the import report: rows read,
created, rejected (each with its spreadsheet row number, field, why and how to fix, never the
row's values) and whether the totals reconcile. A file that cannot be read, or whose header breaks
the contract, is a 422 with nothing imported; a user who may not create the kind at all gets 403.
The route's rule in :data:`peelian.web.api.casework.ROUTE_POLICY` is the weakest kind's (create
``organisation``); the import asks the policy for the kind actually uploaded, and row by row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, File, Form, Path, Request, UploadFile

from peelian.casework.import_contracts import KINDS
from peelian.errors import ParameterError
from peelian.web.api.casework import _CSRF, _LOGIN, _R, principal

__all__ = ["MAX_BYTES", "router"]

router = APIRouter(prefix="/api/casework", tags=["casework"])

#: The largest file the upload takes (a larger one is a 422 saying to split it).
MAX_BYTES = 20 * 1024 * 1024

if TYPE_CHECKING:
    ImportKind: TypeAlias = str
else:
    ImportKind = Literal[tuple(KINDS)]


@router.post(
    "/import/{kind}",
    summary="Import records of one kind from a CSV file (rejected rows reported with reasons)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
async def post_import(
    request: Request,
    kind: Annotated[ImportKind, Path()],
    file: Annotated[UploadFile, File(description="The CSV file (UTF-8, header row first).")],
    purpose: Annotated[str, Form(min_length=1, max_length=2000)],
    dry_run: Annotated[bool, Form()] = False,
) -> dict[str, Any]:
    from starlette.concurrency import run_in_threadpool

    from peelian.casework.importing import import_csv

    data = await file.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ParameterError(
            f"The file is larger than {MAX_BYTES // (1024 * 1024)} MB. Nothing was imported.",
            "Split it into smaller files, or use `peelian casework import` on the server.",
        )
    store = request.app.state.ctx.store
    actor = await run_in_threadpool(principal, request)
    report = await run_in_threadpool(
        import_csv, store, actor, kind, data, purpose=purpose, dry_run=dry_run
    )
    return report.as_dict()
