"""``/api/victims/...``: Victims' Code deadlines, worklists and compliance.

The worklists name crimes and pseudonymised victims (record kind ``victim``): they are POSTs
with the purpose in the body (never in a URL or an access log), need the ``X-CSRF-Token``
header, are allowed by the casework policy and audited. Compliance is aggregate: any logged-in
user, with small counts suppressed for roles without person access. Every route's rule is in
:data:`ROUTE_POLICY` (``None``: any logged-in user), which the generated permission test reads.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from peelian.web.api import _schemas as S
from peelian.web.api.casework import csv_response, principal
from peelian.web.auth import SessionUser, check_csrf, require

__all__ = ["ROUTE_POLICY", "compliance_view", "router"]

router = APIRouter(prefix="/api/victims", tags=["victims"])
_LOGIN = Depends(require("viewer"))

#: (method, path) -> (action, record kind) of the casework policy, or None (any login).
ROUTE_POLICY: dict[tuple[str, str], tuple[str, str] | None] = {
    ("GET", "/api/victims/due"): None,
    ("GET", "/api/victims/compliance"): None,
    ("POST", "/api/victims/worklist"): ("read", "victim"),
    ("POST", "/api/victims/worklist.csv"): ("export", "victim"),
    ("GET", "/api/victims/supervisor"): ("read", "victim"),
    ("GET", "/victims/worklist"): ("read", "victim"),
    ("GET", "/victims/worklist.json"): ("read", "victim"),
    ("GET", "/victims/supervisor"): ("read", "victim"),
    ("GET", "/victims/supervisor.json"): ("read", "victim"),
    ("GET", "/victims/compliance"): None,
    ("GET", "/victims/compliance.json"): None,
    ("GET", "/victims/compliance.csv"): None,
}

Bucket = Literal["overdue", "due_today", "due_this_week", "later"]
GroupBy = Literal["officer", "team", "command"]


def _csrf_header(request: Request) -> None:
    check_csrf(request, None)


class WorklistQuery(BaseModel):
    """A worklist request: why, and whose duties."""

    purpose: str = Field(min_length=1, max_length=2000)
    officer: str | None = Field(default=None, max_length=64)
    team: str | None = Field(default=None, max_length=128)
    command: str | None = Field(default=None, max_length=128)
    bucket: Bucket | None = None
    limit: int = Field(default=200, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=10_000_000)


@router.get(
    "/due",
    summary="The day a Victims' Code duty is due (N working days after the trigger)",
    responses=S.responses(None, 422),
)
def due(
    from_: Annotated[
        dt.date,
        Query(alias="from", description="The trigger's date (years 1990 to 2100, the calendar's)."),
    ],
    working_days: Annotated[int, Query(ge=0, le=1000, description="Working days allowed.")],
    user: SessionUser = _LOGIN,
) -> dict[str, Any]:
    from peelian.analysis.victims.calendar import CALENDAR_SOURCE, due_date

    day = due_date(from_, working_days)
    return {
        "from": from_.isoformat(),
        "working_days": working_days,
        "due": day.isoformat(),
        "calendar": CALENDAR_SOURCE,
    }


def compliance_view(ctx: Any, user: Any) -> dict[str, Any]:
    """The compliance tables for this user: rows with a count from 1 to threshold - 1 are
    suppressed whole (counts, rate and interval) for roles without person access."""
    from peelian.casework.victims import compliance
    from peelian.web.services.disclosure import hidden_below

    comp = compliance(ctx.store)
    threshold = hidden_below(ctx, user)
    if threshold is not None:
        for rows in comp["tables"].values():
            for r in rows:
                small = [r[k] for k in ("due", "on_time", "late", "overdue", "not_yet_due")]
                if any(0 < int(v) < threshold for v in small):
                    for k in ("on_time", "late", "overdue", "not_yet_due", "rate", "low", "high"):
                        r[k] = None
                    r["suppressed"] = True
                    if 0 < int(r["due"]) < threshold:
                        r["due"] = None
    comp["small_counts_hidden_below"] = threshold
    return comp


@router.get(
    "/compliance",
    summary="Victims' Code on-time rates with exact 95% intervals, by group and month",
    responses=S.responses(None, 404),
)
def compliance_api(request: Request, user: SessionUser = _LOGIN) -> dict[str, Any]:
    return compliance_view(request.app.state.ctx, user)


@router.post(
    "/worklist",
    summary="Open Victims' Code duties, most urgent first (needs a purpose; audited)",
    responses=S.responses(None, 403, 404, 422),
    dependencies=[Depends(_csrf_header)],
)
def worklist_api(
    request: Request, body: WorklistQuery, user: SessionUser = _LOGIN
) -> dict[str, Any]:
    from peelian.casework.victims import worklist

    return worklist(request.app.state.ctx.store, principal(request), **body.model_dump())


@router.post(
    "/worklist.csv",
    summary="The worklist as CSV (needs a purpose; audited as an export)",
    responses=S.responses(
        None, 403, 404, 422, content={"text/csv": {"schema": {"type": "string"}}}, json_route=False
    ),
    response_class=Response,
    dependencies=[Depends(_csrf_header)],
)
def worklist_csv(request: Request, body: WorklistQuery, user: SessionUser = _LOGIN) -> Response:
    from peelian.casework.victims import WORKLIST_COLUMNS, worklist

    w = worklist(request.app.state.ctx.store, principal(request), export=True, **body.model_dump())
    return csv_response(w["rows"], list(WORKLIST_COLUMNS), "victims-worklist.csv")


@router.get(
    "/supervisor",
    summary="Open Victims' Code duties per officer, team or command (the supervisor view)",
    responses=S.responses(None, 403, 404, 422),
)
def supervisor_api(
    request: Request,
    by: Annotated[GroupBy, Query(description="Group by officer, team or command.")] = "officer",
    user: SessionUser = _LOGIN,
) -> dict[str, Any]:
    from peelian.casework.victims import worklist_summary

    return worklist_summary(request.app.state.ctx.store, principal(request), by=by)
