"""``/api/reports/ncpm``: the National Crime Measures report as HTML or PDF (analyst role)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from peelian.errors import NotFoundError
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
    from peelian.data.accounts.users import audit
    from peelian.reports import build_ncpm_report

    ctx = request.app.state.ctx
    _check_period(ctx, period_end)
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


def _check_period(ctx: Any, period_end: str | None) -> None:
    """:class:`NotFoundError` (404, with the command) when the latest measures run was not
    computed for ``period_end``: a well-formed month the store has no report for is not found,
    not an invalid parameter."""
    values = ctx.latest("measures", "all").frames.get("values")
    if period_end is None or values is None or values.empty:
        return
    periods = sorted(values["period_end"].astype(str).unique())
    if period_end not in periods:
        raise NotFoundError(
            f"There is no report for {period_end}: the measures were computed for period end "
            f"{', '.join(periods)}.",
            f"Compute them with `peelian measures --period-end {period_end} --save`, or ask for "
            f"period_end={periods[-1]}.",
        )
