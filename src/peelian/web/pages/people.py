"""People pages: a cohort's prioritised list (filters, CSV export), the 4-weekly tasking list, the
fairness distributions, and the de-selection form (issue 15).

Each page answers as JSON at its path plus ``.json``. Only roles the casework policy entitles to
``nominal`` records see them (the rules are in :data:`peelian.web.api.people.ROUTE_POLICY`);
a page asks for the purpose first and every view is audited with it. Never cached.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from peelian.analysis.people import DESELECTION_REASONS
from peelian.casework.policy import allowed
from peelian.casework.policy import require as policy_require
from peelian.errors import ConflictError, NotFoundError, ParameterError
from peelian.web.api.casework import principal
from peelian.web.auth import SessionUser, check_csrf, require
from peelian.web.pages._helpers import add_page

__all__ = ["router"]

router = APIRouter()
_LOGIN = Depends(require("viewer"))


def _q(request: Request, name: str, limit: int = 200) -> str | None:
    value = (request.query_params.get(name) or "").strip()
    return value[:limit] or None


def _filters(request: Request) -> dict[str, Any]:
    from peelian.casework.people import cohort_catalogue

    cohorts = {c["name"]: c for c in cohort_catalogue()}
    cohort = _q(request, "cohort", 64) or "matac"
    if cohort not in cohorts:
        raise NotFoundError(f"There is no cohort named {cohort!r}.", ", ".join(cohorts))
    as_of_text = _q(request, "as_of", 10)
    try:
        as_of = dt.date.fromisoformat(as_of_text) if as_of_text else dt.date.today()
    except ValueError as exc:
        raise ParameterError(f"The as-of date must be YYYY-MM-DD. Got {as_of_text!r}.") from exc
    area = _q(request, "area", 64)
    return {
        "cohort": cohort,
        "as_of": as_of,
        "area": area,
        "purpose": _q(request, "purpose", 2000),
        "cohorts": [
            {"name": c["name"], "label": c["label"], "kind": c["kind"]} for c in cohorts.values()
        ],
        "reasons": DESELECTION_REASONS,
    }


def _base(request: Request, title: str, action: str = "read") -> tuple[dict[str, Any], Any]:
    me = principal(request)
    policy_require(me, action, "nominal")
    f = _filters(request)
    base = {
        "title": title,
        "filters": {k: str(v) if k == "as_of" else v for k, v in f.items()},
        "needs_purpose": not f["purpose"],
        "can_export": allowed(me, "export", "nominal"),
        "can_deselect": allowed(me, "create", "nominal"),
        "message": _q(request, "message", 500),
    }
    return base, f


def people_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.people import cohort_list

    base, f = _base(request, "Prioritised people")
    if base["needs_purpose"]:
        return base
    out = cohort_list(
        request.app.state.ctx.store,
        principal(request),
        f["cohort"],
        as_of=f["as_of"],
        purpose=f["purpose"],
    )
    areas = sorted({p["area"] for p in out["people"] if p["area"]})
    if f["area"]:
        out["people"] = [p for p in out["people"] if p["area"] == f["area"]]
    empty = None
    if not out["people"]:
        empty = {
            "message": f"No one meets the {out['cohort']['label']} rule on {out['as_of']}"
            + (f" in {f['area']}." if f["area"] else "."),
            "command": "peelian ingest force (or peelian demo) to load force records",
        }
    return {**base, **out, "areas": areas, "empty": empty}


def tasking_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.people_tasking import run_tasking

    base, f = _base(request, "Tasking list")
    if base["needs_purpose"]:
        return base
    out = run_tasking(
        request.app.state.ctx.store,
        principal(request),
        f["cohort"],
        as_of=f["as_of"],
        purpose=f["purpose"],
    )
    return {**base, **out}


def fairness_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.people_tasking import fairness

    base, f = _base(request, "Fairness of the lists")
    if base["needs_purpose"]:
        return base
    out = fairness(
        request.app.state.ctx.store,
        principal(request),
        f["cohort"],
        as_of=f["as_of"],
        purpose=f["purpose"],
    )
    return {**base, **out}


add_page(
    router, "/people", "people_list.html", people_page, title="Prioritised people", cache=False
)
add_page(
    router,
    "/people/tasking",
    "people_tasking.html",
    tasking_page,
    title="Tasking list",
    cache=False,
)
add_page(
    router,
    "/people/fairness",
    "people_fairness.html",
    fairness_page,
    title="Fairness of the lists",
    cache=False,
)


@router.post("/people/deselections", include_in_schema=False, dependencies=[_LOGIN])
def deselect_submit(
    request: Request,
    person_ref: Annotated[str, Form(max_length=64)],
    reason: Annotated[str, Form(max_length=16)],
    start_date: Annotated[str, Form(max_length=10)],
    end_date: Annotated[str, Form(max_length=10)] = "",
    cohort: Annotated[str, Form(max_length=64)] = "",
    note: Annotated[str, Form(max_length=4000)] = "",
    purpose: Annotated[str, Form(max_length=2000)] = "",
    as_of: Annotated[str, Form(max_length=10)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from peelian.casework.people_tasking import record_deselection

    check_csrf(request, csrf_token)
    me = principal(request)
    policy_require(me, "create", "nominal")
    try:
        d = record_deselection(
            request.app.state.ctx.store,
            me,
            person_ref,
            reason,
            start_date=start_date,
            end_date=end_date or None,
            cohort=cohort or None,
            note=note,
            purpose=purpose,
        )
        message = f"De-selection {d['id']} recorded for {d['person_ref']}."
    except (ParameterError, ConflictError, NotFoundError) as exc:
        message = f"{exc.message} {exc.hint or ''}".strip()
    query = f"cohort={quote(cohort or 'matac')}&as_of={quote(as_of)}&purpose={quote(purpose)}"
    return RedirectResponse(f"/people?{query}&message={quote(message[:500])}", status_code=303)
