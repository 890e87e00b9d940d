"""Victims' Code pages: the worklist (per officer, team or command), the supervisor view and
compliance (on-time rates with exact intervals and the monthly trend).

Each page answers as JSON at its path plus ``.json``; compliance also as ``.csv``. The worklist
and supervisor view are person-level (record kind ``victim``): the casework policy decides, the
worklist asks for a purpose first and every view is audited (so neither is cached). Rules for
every route are in :data:`peelian.web.api.victims.ROUTE_POLICY`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request

from peelian.errors import NotFoundError, ParameterError
from peelian.web.auth import SessionUser
from peelian.web.pages._helpers import add_page

__all__ = ["router"]

router = APIRouter()
_Text = Annotated[str | None, Query(max_length=200)]
_Bucket = Literal["overdue", "due_today", "due_this_week", "later"]
_GroupBy = Literal["officer", "team", "command"]
_EMPTY = {
    "message": "The Victims' Code duties have not been computed yet.",
    "command": "peelian victims duties --refresh",
}
_TABLES = (
    ("by_duty", "duty_label", "By duty"),
    ("by_duty_enhanced", "duty_label", "By duty and rights"),
    ("by_enhanced", "rights", "Enhanced rights or standard"),
    ("by_category", "policeuk_category", "By crime type"),
    ("by_sv_type", "sv_type", "By serious violence type"),
    ("by_command", "command", "By command (Community Safety Partnership area)"),
)


def _q(request: Request, name: str) -> str | None:
    value = (request.query_params.get(name) or "").strip()
    return value[:200] or None


def worklist_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.policy import require as policy_require
    from peelian.casework.victims import worklist
    from peelian.web.api.casework import principal

    ctx, me = request.app.state.ctx, principal(request)
    policy_require(me, "read", "victim")
    filters = {k: _q(request, k) for k in ("officer", "team", "command", "bucket")}
    purpose = _q(request, "purpose")
    base = {"title": "Victim contact worklist", "filters": filters, "purpose": purpose}
    try:
        w = worklist(
            ctx.store,
            me,
            purpose=purpose,
            officer=filters["officer"],
            team=filters["team"],
            command=filters["command"],
            bucket=filters["bucket"],
        )
    except NotFoundError as exc:
        return {
            **base,
            "needs_purpose": False,
            "work": None,
            "empty": _EMPTY | {"detail": exc.message},
        }
    except ParameterError as exc:
        if purpose:
            raise
        return {**base, "needs_purpose": True, "reason": exc.message, "work": None, "empty": None}
    return {**base, "needs_purpose": False, "work": w, "empty": None}


def supervisor_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.victims import worklist_summary
    from peelian.web.api.casework import principal

    by = _q(request, "by") or "officer"
    try:
        s = worklist_summary(request.app.state.ctx.store, principal(request), by=by)
    except NotFoundError:
        return {
            "title": "Victim contact: supervisor view",
            "by": by,
            "summary": None,
            "empty": _EMPTY,
        }
    return {"title": "Victim contact: supervisor view", "by": by, "summary": s, "empty": None}


def compliance_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.web.api.victims import compliance_view

    try:
        comp = compliance_view(request.app.state.ctx, user)
    except NotFoundError:
        return {"title": "Victims' Code compliance", "comp": None, "empty": _EMPTY, "tables": []}
    tables = [
        {"name": name, "key": key, "title": title, "rows": comp["tables"][name]}
        for name, key, title in _TABLES
    ]
    return {"title": "Victims' Code compliance", "comp": comp, "empty": None, "tables": tables}


def _compliance_csv(data: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for t in data.get("tables") or []:
        for r in t["rows"]:
            out.append(
                {
                    "table": t["title"],
                    "group": r.get(t["key"]),
                    **{
                        k: r.get(k)
                        for k in (
                            "due",
                            "on_time",
                            "late",
                            "overdue",
                            "not_yet_due",
                            "rate",
                            "low",
                            "high",
                        )
                    },
                }
            )
    return out


add_page(
    router,
    "/victims/worklist",
    "victims_worklist.html",
    worklist_page,
    title="Victim contact worklist",
    cache=False,
    query={
        "purpose": _Text,
        "officer": _Text,
        "team": _Text,
        "command": _Text,
        "bucket": _Bucket | None,
    },
)
add_page(
    router,
    "/victims/supervisor",
    "victims_supervisor.html",
    supervisor_page,
    title="Victim contact supervisor view",
    cache=False,
    query={"by": _GroupBy | None},
)
add_page(
    router,
    "/victims/compliance",
    "victims_compliance.html",
    compliance_page,
    title="Victims Code compliance",
    csv=_compliance_csv,
    csv_columns=(
        "table",
        "group",
        "due",
        "on_time",
        "late",
        "overdue",
        "not_yet_due",
        "rate",
        "low",
        "high",
    ),
)
