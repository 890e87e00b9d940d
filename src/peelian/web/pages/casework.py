"""Casework pages: problems (SARA), one problem, organisations and agreements, the audit log.

Each page answers as JSON at its path plus ``.json`` (STYLE 19). What a user sees is decided by
the casework policy for their role and organisation (never by an ``if`` here); forms post with
the CSRF token and redirect back with a message (a conflict or a refused value is shown, not
lost). Pages are never cached: they show live records, and differ by organisation.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from peelian.casework._vocab import (
    ACTION_STATUSES,
    ORG_KINDS,
    PROBLEM_FOCUS,
    PROBLEM_STAGES,
    PROBLEM_STATUSES,
    RECORD_KINDS,
)
from peelian.casework.policy import allowed
from peelian.errors import ConflictError, NotFoundError, ParameterError
from peelian.web.api.casework import audit_filter, principal
from peelian.web.auth import SessionUser, check_csrf, require
from peelian.web.pages._helpers import add_page

__all__ = ["router"]

router = APIRouter()
_LOGIN = Depends(require("viewer"))
#: Overdue reviews and actions shown on the Problems page (each; the oldest first).
WORKLIST_SHOWN = 50
_SHAREABLE = {k: v for k, v in RECORD_KINDS.items() if k not in ("audit", "agreement")}


def _q(request: Request, name: str) -> str | None:
    value = (request.query_params.get(name) or "").strip()
    return value[:200] or None


def _back(path: str, message: str) -> Response:
    return RedirectResponse(f"{path}?message={quote(message[:500])}", status_code=303)


# -- problems --------------------------------------------------------------------------------


def problems_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.organisations import list_organisations
    from peelian.casework.problems import list_problems, overdue

    ctx, me = request.app.state.ctx, principal(request)
    filters = {k: _q(request, k) for k in ("status", "stage", "focus", "text")}
    found = list_problems(
        ctx.store,
        me,
        status=filters["status"],
        stage=filters["stage"],
        focus=filters["focus"],
        text=filters["text"],
    )
    work = overdue(ctx.store, me, limit=WORKLIST_SHOWN)  # the oldest; the CSV has them all
    can_create = allowed(me, "create", "problem", {"organisation_id": me.organisation_id})
    return {
        "title": "Problems",
        "filters": filters,
        "rows": found["rows"],
        "total": found["total"],
        "worklist": work,
        "can_create": can_create,
        "can_export": allowed(me, "export", "problem"),
        "choices": {
            "status": PROBLEM_STATUSES,
            "stage": PROBLEM_STAGES,
            "focus": PROBLEM_FOCUS,
        },
        "organisations": [
            {"id": o["id"], "name": o["name"]} for o in list_organisations(ctx.store, me)
        ]
        if allowed(me, "read", "organisation")
        else [],
        "empty": None
        if found["total"]
        else {
            "message": "No problems yet"
            + (" match these filters." if any(filters.values()) else "."),
            "command": "peelian casework problems open TITLE --focus place --area LSOA",
        },
        "message": _q(request, "message"),
        # the form filled from a link (e.g. "Open a problem" on the Hotspots page)
        "prefill": {
            k: _q(request, k) for k in ("title", "area_code", "hotspot_run_id", "emerging_class")
        },
    }


def problem_page(request: Request, user: SessionUser, problem_id: str) -> dict[str, Any]:
    from peelian.casework.organisations import list_organisations
    from peelian.casework.problems import TRIANGLE_SIDES, get_problem

    ctx, me = request.app.state.ctx, principal(request)
    pid = int(problem_id) if problem_id.isdigit() else -1
    purpose = _q(request, "purpose")
    base = {
        "title": f"Problem {pid}",
        "message": _q(request, "message"),
        "purpose": purpose,
        "triangle_sides": TRIANGLE_SIDES,
        "stages": PROBLEM_STAGES,
        "statuses": {k: v for k, v in PROBLEM_STATUSES.items() if k != "closed"},
        "action_statuses": ACTION_STATUSES,
    }
    try:
        problem = get_problem(ctx.store, me, pid, purpose=purpose)
    except ParameterError as exc:  # names people: ask why first
        return {**base, "needs_purpose": True, "reason": exc.message, "problem": None}
    kind = problem["record_kind"]
    orgs = list_organisations(ctx.store, me) if allowed(me, "read", "organisation") else []
    return {
        **base,
        "title": problem["title"],
        "needs_purpose": False,
        "problem": problem,
        "can_update": allowed(me, "update", kind, problem),
        "can_close": allowed(me, "close", kind, problem),
        "organisations": [{"id": o["id"], "name": o["name"]} for o in orgs],
    }


add_page(
    router,
    "/casework/problems",
    "casework_problems.html",
    problems_page,
    title="Problems",
    cache=False,
)
add_page(
    router,
    "/casework/problems/{problem_id}",
    "casework_problem.html",
    problem_page,
    title="Problem",
    cache=False,
)


def _form_errors(path: str, run: Any) -> Response:
    """Run a change; a refused value or a conflict goes back to the page as a message."""
    try:
        message = run()
    except (ParameterError, ConflictError, NotFoundError) as exc:
        message = f"{exc.message} {exc.hint or ''}".strip()
    return _back(path, message)


@router.post("/casework/problems", include_in_schema=False, dependencies=[_LOGIN])
def open_problem_submit(
    request: Request,
    title: Annotated[str, Form(max_length=200)],
    focus: Annotated[str, Form(max_length=16)],
    area_code: Annotated[str, Form(max_length=16)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    review_date: Annotated[str, Form(max_length=10)] = "",
    hotspot_run_id: Annotated[str, Form(max_length=12)] = "",
    measure: Annotated[str, Form(max_length=64)] = "",
    emerging_class: Annotated[str, Form(max_length=16)] = "",
    names_people: Annotated[str, Form(max_length=3)] = "",
    purpose: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from peelian.casework.problems import open_problem

    check_csrf(request, csrf_token)
    me = principal(request)
    evidence = {
        "hotspot_run_id": int(hotspot_run_id) if hotspot_run_id.strip().isdigit() else None,
        "measure": measure.strip() or None,
        "emerging_class": emerging_class.strip() or None,
    }

    def run() -> str:
        p = open_problem(
            request.app.state.ctx.store,
            me,
            title=title,
            focus=focus,
            description=description,
            area_code=area_code,
            review_date=review_date or None,
            evidence={k: v for k, v in evidence.items() if v is not None} or None,
            names_people=bool(names_people),
            purpose=purpose or None,
        )
        return f"Opened problem {p['id']}: {p['title']}."

    return _form_errors("/casework/problems", run)


@router.post("/casework/problems/{problem_id}", include_in_schema=False, dependencies=[_LOGIN])
def update_problem_submit(
    request: Request,
    problem_id: int,
    version: Annotated[int, Form()],
    op: Annotated[str, Form(max_length=16)],
    purpose: Annotated[str, Form(max_length=2000)] = "",
    stage: Annotated[str, Form(max_length=16)] = "",
    status: Annotated[str, Form(max_length=16)] = "",
    review_date: Annotated[str, Form(max_length=10)] = "",
    result: Annotated[str, Form(max_length=10_000)] = "",
    description: Annotated[str, Form(max_length=4000)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    organisation_id: Annotated[str, Form(max_length=12)] = "",
    due_date: Annotated[str, Form(max_length=10)] = "",
    action_id: Annotated[str, Form(max_length=12)] = "",
    before_from: Annotated[str, Form(max_length=7)] = "",
    before_to: Annotated[str, Form(max_length=7)] = "",
    after_from: Annotated[str, Form(max_length=7)] = "",
    after_to: Annotated[str, Form(max_length=7)] = "",
    area_codes: Annotated[str, Form(max_length=2000)] = "",
    comparison_codes: Annotated[str, Form(max_length=2000)] = "",
    comparison_name: Annotated[str, Form(max_length=200)] = "",
    victim: Annotated[str, Form(max_length=2000)] = "",
    guardian: Annotated[str, Form(max_length=2000)] = "",
    offender: Annotated[str, Form(max_length=2000)] = "",
    handler: Annotated[str, Form(max_length=2000)] = "",
    location: Annotated[str, Form(max_length=2000)] = "",
    manager: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from peelian.casework import assessment, problems

    check_csrf(request, csrf_token)
    store, me = request.app.state.ctx.store, principal(request)
    why = purpose.strip() or None
    path = f"/casework/problems/{problem_id}"
    path_q = path + (f"?{urlencode({'purpose': why})}&" if why else "?")

    def codes(text: str) -> list[str]:
        return [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]

    def run() -> str:
        if op == "stage":
            p = problems.update_problem(
                store,
                me,
                problem_id,
                version,
                purpose=why,
                stage=stage or None,
                status=status or None,
                review_date=review_date or None,
            )
            return f"Saved: {p['stage_label']}, {p['status_label']} (version {p['version']})."
        if op == "triangle":
            sides = {
                "victim": victim,
                "guardian": guardian,
                "offender": offender,
                "handler": handler,
                "location": location,
                "manager": manager,
            }
            problems.update_problem(store, me, problem_id, version, purpose=why, triangle=sides)
            return "Saved the problem analysis triangle."
        if op == "action":
            problems.add_action(
                store,
                me,
                problem_id,
                description=description,
                owner=owner or None,
                organisation_id=int(organisation_id) if organisation_id.isdigit() else None,
                due_date=due_date or None,
                purpose=why,
            )
            return "Added the action."
        if op == "action_status":
            problems.update_action(store, me, int(action_id or 0), version, status=status)
            return "Updated the action."
        if op == "assess":
            r = assessment.assess_problem(
                store,
                me,
                problem_id,
                version,
                before=(before_from, before_to),
                after=(after_from, after_to),
                area_codes=codes(area_codes) or None,
                comparison_codes=codes(comparison_codes),
                comparison_name=comparison_name,
                purpose=why,
            )
            return f"Assessed: {r['verdict']}."
        if op == "close":
            problems.close_problem(store, me, problem_id, version, result=result, purpose=why)
            return "Closed the problem."
        if op == "reopen":
            problems.reopen_problem(store, me, problem_id, version, purpose=why)
            return "Reopened the problem."
        raise ParameterError(f"Unknown form operation {op!r}.")

    response = _form_errors(path, run)
    response.headers["location"] = path_q + response.headers["location"].split("?", 1)[1]
    return response


# -- organisations and agreements ------------------------------------------------------------


def organisations_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.organisations import list_agreements, list_organisations

    ctx, me = request.app.state.ctx, principal(request)
    orgs = list_organisations(ctx.store, me)
    agreements = list_agreements(ctx.store, me) if allowed(me, "read", "agreement") else []
    return {
        "title": "Organisations and agreements",
        "organisations": orgs,
        "agreements": agreements,
        "today": dt.date.today(),
        "can_add_org": allowed(me, "create", "organisation"),
        "can_add_agreement": allowed(me, "create", "agreement"),
        "can_export": allowed(me, "export", "organisation"),
        "org_kinds": ORG_KINDS,
        "shareable": _SHAREABLE,
        "empty": None
        if orgs
        else {
            "message": "No organisations yet.",
            "command": 'peelian casework organisations add "Northumbria Police" --kind force',
        },
        "message": _q(request, "message"),
    }


add_page(
    router,
    "/casework/organisations",
    "casework_organisations.html",
    organisations_page,
    title="Organisations and agreements",
    cache=False,
)


@router.post("/casework/organisations", include_in_schema=False, dependencies=[_LOGIN])
def add_organisation_submit(
    request: Request,
    name: Annotated[str, Form(max_length=200)],
    kind: Annotated[str, Form(max_length=32)],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from peelian.casework.organisations import add_organisation

    check_csrf(request, csrf_token)
    me = principal(request)

    def run() -> str:
        o = add_organisation(request.app.state.ctx.store, me, name, kind)
        return f"Added {o['name']} ({o['kind_label']})."

    return _form_errors("/casework/organisations", run)


@router.post("/casework/agreements", include_in_schema=False, dependencies=[_LOGIN])
async def add_agreement_submit(request: Request) -> Response:
    from starlette.concurrency import run_in_threadpool

    from peelian.casework.organisations import add_agreement

    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    me = await run_in_threadpool(principal, request)

    def run() -> str:
        parties = [int(str(p)) for p in form.getlist("party_ids") if str(p).isdigit()]
        a = add_agreement(
            request.app.state.ctx.store,
            me,
            title=str(form.get("title") or "")[:200],
            purpose=str(form.get("purpose") or "")[:4000],
            lawful_basis=str(form.get("lawful_basis") or "")[:2000],
            record_kinds=[str(k) for k in form.getlist("record_kinds")],
            party_ids=parties,
            start_date=str(form.get("start_date") or "") or None,  # type: ignore[arg-type]
            end_date=str(form.get("end_date") or "") or None,
        )
        return f"Recorded agreement {a['id']}: {a['title']}."

    return await run_in_threadpool(_form_errors, "/casework/organisations", run)


# -- audit -----------------------------------------------------------------------------------


def audit_page(request: Request, user: SessionUser) -> dict[str, Any]:
    from peelian.casework.policy import require as policy_require
    from peelian.data.audit import count, search

    me = principal(request)
    policy_require(me, "read", "audit")
    names = ("username", "action", "record_kind", "record_id", "since", "until", "text")
    raw = {k: _q(request, k) for k in names}
    dates: dict[str, dt.date | None] = {}
    for k in ("since", "until"):
        value = raw[k]
        try:
            dates[k] = dt.date.fromisoformat(value) if value else None
        except ValueError as exc:
            raise ParameterError(f"'{k}' must be a date (YYYY-MM-DD). Got {raw[k]!r}.") from exc
    flt = audit_filter(
        raw["username"],
        raw["action"],
        raw["record_kind"],
        raw["record_id"],
        dates["since"],
        dates["until"],
        raw["text"],
    )
    store = request.app.state.ctx.store
    entries = search(store, flt, limit=200)
    query = urlencode({k: v for k, v in raw.items() if v})
    return {
        "title": "Audit log",
        "filters": raw,
        "total": count(store, flt),
        "entries": entries,
        "record_kinds": RECORD_KINDS,
        "csv_url": "/api/casework/audit.csv" + (f"?{query}" if query else ""),
        "empty": None
        if entries
        else {
            "message": "No audit entries match.",
            "command": "peelian audit search",
        },
    }


add_page(
    router, "/casework/audit", "casework_audit.html", audit_page, title="Audit log", cache=False
)
