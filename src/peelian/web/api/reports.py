"""``/api/reports/ncpm``: the National Crime Measures report as HTML or PDF (analyst role)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.web.api import _schemas as S
from peelian.web.api._params import MONTH_PATTERN, ReportFormat
from peelian.web.auth import require

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["reports"])


@router.get(
    "/reports/ncpm",
    summary="Build the National Crime Measures report (analyst role)",
    response_class=Response,
    dependencies=[Depends(require("analyst"))],
    responses=S.responses(
        None,
        403,
        404,
        422,
        content={
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
            "text/html": {"schema": {"type": "string"}},
        },
        json_route=False,
    ),
)
def get_ncpm(
    request: Request,
    period_end: Annotated[
        str | None, Query(pattern=MONTH_PATTERN, description="YYYY-MM; default the latest")
    ] = None,
    format: Annotated[ReportFormat, Query(description="pdf or html")] = "pdf",
) -> Response:
    from peelian.data.users import audit
    from peelian.reports import build_ncpm_report

    ctx = request.app.state.ctx
    report = build_ncpm_report(ctx.store, period_end=period_end, fmt=format)
    filename = f"national-crime-measures-{report.period_end}.{format}"
    audit(ctx.store, request.state.user.username, "report.download", target=filename)
    media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
    disposition = "attachment" if format == "pdf" else "inline"
    return Response(
        report.content,
        media_type=media,
        headers={"Content-Disposition": f'{disposition}; filename="{filename}"'},
    )
