"""Casework pages: the interventions registry (a list with search, filters, paging and CSV; one
intervention with its forms).

Each page answers as JSON at its path plus ``.json`` (STYLE 19). What a user sees is decided by
the casework policy (:func:`peelian.casework.policy.allowed`). An intervention is not personal
data, but the *target* of a person or family intervention is: the page hides it, and a user who
may read people can show it by giving a purpose in a POST form (so the purpose never lands in a
URL or an access log; the disclosure is audited). Forms carry the CSRF token and the record's
``version`` (optimistic locking: a stale save is refused with a message, never lost).

The referrals pages are in :mod:`peelian.web.pages.casework_referrals`; the helpers both use
(form rendering, number and date parsing, outcomes) are here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import RedirectResponse

from peelian.casework._vocab import INTERVENTION_TYPES, TARGET_KINDS, TIERS
from peelian.casework.policy import Principal, allowed
from peelian.errors import AuthError, ConflictError, NotFoundError, ParameterError
from peelian.web.api.casework import csv_response, principal
from peelian.web.auth import SessionUser, check_csrf, csrf_token, current_user, require
from peelian.web.pages._helpers import add_page, install_filters
from peelian.web.services.common import jsonable

__all__ = ["PAGE_SIZE", "STATUSES", "outcomes_for", "render", "router"]

router = APIRouter()
_LOGIN = Depends(require("viewer"))
#: Rows per page of a casework list.
PAGE_SIZE = 50
#: An intervention's status, from its dates on the day the page is shown.
STATUSES: dict[str, str] = {
    "planned": "Planned (not started yet)",
    "active": "Active",
    "ended": "Ended",
}
_FILTERS = (
    "tier",
    "intervention_type",
    "status",
    "organisation_id",
    "active_from",
    "active_to",
    "text",
)
_CSV_COLUMNS = [
    "id",
    "title",
    "tier",
    "intervention_type",
    "target_kind",
    "target_ref",
    "status",
    "problem_id",
    "start_date",
    "end_date",
    "owner",
    "organisation",
    "funding_source",
    "version",
]
_OUTCOMES_CAVEAT = (
    "Before and after counts describe what happened around the intervention; they do not show "
    "that it caused the change (no comparison with similar people or places who did not "
    "receive it)."
)


# -- shared helpers --------------------------------------------------------------------------


def q(request: Request, name: str) -> str | None:
    """A query parameter, trimmed and capped (None if blank)."""
    value = (request.query_params.get(name) or "").strip()
    return value[:200] or None


def number(value: str | None, what: str) -> int | None:
    """A whole number from a form or query value (None if blank), else a clear error."""
    text = (value or "").strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 18:
        raise ParameterError(f"{what} must be a whole number. Got {text[:40]!r}.")
    return int(text)


def day(value: str | None, what: str) -> dt.date | None:
    """A date (YYYY-MM-DD) from a form or query value (None if blank), else a clear error."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ParameterError(
            f"{what} must be a date (YYYY-MM-DD). Got {text[:40]!r}.", "E.g. 2026-04-01."
        ) from exc


def choice(value: str | None, choices: dict[str, str], what: str) -> str | None:
    """``value`` if it is one of ``choices`` (None if blank), else an error naming them."""
    if not value:
        return None
    if value not in choices:
        raise ParameterError(
            f"{what} must be one of: {', '.join(choices.values())}. Got {value[:40]!r}."
        )
    return value


def render(
    request: Request, template: str, data: dict[str, Any], *, json_url: str | None = None
) -> Response:
    """A page rendered from ``data`` (for forms answered in place, e.g. a person-level read
    whose purpose came in a POST body): the same context as :func:`add_page` gives."""
    install_filters(request.app.state.templates.env)
    context = {
        "data": jsonable(data),
        "user": current_user(request),
        "csrf_token": csrf_token(request),
        "title": data.get("title", ""),
        "json_url": json_url,
        "nav": request.url.path,
    }
    response = request.app.state.templates.TemplateResponse(request, template, context)
    response.headers["Cache-Control"] = "no-store"
    return response


def back(path: str, message: str) -> Response:
    """Redirect (303) to ``path`` with a message to show."""
    sep = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{sep}message={quote(message[:500])}", status_code=303)


def error_text(exc: ParameterError | ConflictError | NotFoundError | AuthError) -> str:
    return f"{exc.message} {exc.hint or ''}".strip()


def outcomes_for(store: Any, me: Principal, kind: str, record_id: int, **kw: Any) -> Any:
    """The before/after outcomes of an intervention or referral from
    :mod:`peelian.casework.outcomes`, with the caveat; ``{"available": False, ...}`` when
    the user may not see them."""
    from peelian.casework import outcomes

    fn = getattr(outcomes, f"{kind}_outcomes", None)
    if fn is None:
        return {"available": False, "reason": "No outcomes for this record kind.", "caveat": ""}
    try:
        result = fn(store, me, record_id, **kw)
    except (ParameterError, NotFoundError, AuthError) as exc:
        return {"available": False, "reason": error_text(exc), "caveat": _OUTCOMES_CAVEAT}
    return {"available": True, "result": result, "caveat": _OUTCOMES_CAVEAT}


def _status(rec: dict[str, Any], today: dt.date) -> str:
    if rec["start_date"] > today:
        return "planned"
    end = rec["end_date"]
    return "ended" if end is not None and end < today else "active"


def _organisations(store: Any, me: Principal) -> list[dict[str, Any]]:
    from peelian.casework.organisations import list_organisations

    if not allowed(me, "read", "organisation"):
        return []
    return [{"id": o["id"], "name": o["name"]} for o in list_organisations(store, me)]


# -- the list --------------------------------------------------------------------------------


def _filtered(
    request: Request, me: Principal, limit: int = 10**9, offset: int = 0
) -> tuple[dict[str, Any], list[dict[str, Any]], int]:
    """The filters (as given), the interventions matching them, newest first (``limit`` of
    them from ``offset``: the database filters, counts and pages), and how many match."""
    from peelian.casework.interventions import list_interventions

    raw = {k: q(request, k) for k in _FILTERS}
    tier = choice(raw["tier"], TIERS, "Tier")
    kind = choice(raw["intervention_type"], INTERVENTION_TYPES, "Type")
    status = choice(raw["status"], STATUSES, "Status")
    org = number(raw["organisation_id"], "Organisation")
    first, last = day(raw["active_from"], "Active from"), day(raw["active_to"], "Active to")
    if first and last and last < first:
        raise ParameterError(
            f"'Active to' ({last}) is before 'Active from' ({first}).",
            "The range is the days an intervention ran on.",
        )
    today = dt.date.today()
    found = list_interventions(
        request.app.state.ctx.store,
        me,
        tier=tier,
        intervention_type=kind,
        organisation_id=org,
        text=raw["text"][:100] if raw["text"] else None,
        status=status,
        active_from=first,
        active_to=last,
        limit=limit,
        offset=offset,
        on=today,
    )
    rows = found["rows"]
    for r in rows:
        r["status"] = _status(r, today)
        r["status_label"] = STATUSES[r["status"]]
    return raw, rows, int(found["total"])


def interventions_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx, me = request.app.state.ctx, principal(request)
    page = number(q(request, "page"), "Page") or 1
    raw, rows, total = _filtered(request, me, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    pages = max(1, -(-total // PAGE_SIZE))
    if page > pages:  # past the end: the last page
        page = pages
        raw, rows, total = _filtered(request, me, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    kept = {k: v for k, v in raw.items() if v}

    def url(n: int) -> str:
        return "/casework/interventions?" + urlencode({**kept, "page": n})

    return {
        "title": "Interventions",
        "filters": raw,
        "rows": rows,
        "total": total,
        "page": page,
        "pages": pages,
        "prev_url": url(page - 1) if page > 1 else None,
        "next_url": url(page + 1) if page < pages else None,
        "csv_url": "/casework/interventions.csv" + (f"?{urlencode(kept)}" if kept else ""),
        "can_create": allowed(
            me, "create", "intervention", {"organisation_id": me.organisation_id}
        ),
        "can_export": allowed(me, "export", "intervention"),
        "may_target_people": allowed(me, "read", "person", {"organisation_id": me.organisation_id}),
        "choices": {
            "tier": TIERS,
            "intervention_type": INTERVENTION_TYPES,
            "status": STATUSES,
            "target_kind": TARGET_KINDS,
        },
        "organisations": _organisations(ctx.store, me),
        "empty": None
        if rows
        else {
            "message": "No interventions"
            + (" match these filters." if kept else " are registered yet."),
            "command": "peelian casework interventions add TITLE --tier primary "
            "--type patrol --target-kind place --target E01008305 --start 2026-04-01",
        },
        "message": q(request, "message"),
    }


add_page(
    router,
    "/casework/interventions",
    "casework_interventions.html",
    interventions_page,
    title="Interventions",
    cache=False,
)


@router.get("/casework/interventions.csv", include_in_schema=False, dependencies=[_LOGIN])
def interventions_csv(request: Request) -> Response:
    """The filtered list as CSV, without person targets; the export is audited."""
    from peelian.casework.policy import require as policy_require
    from peelian.data.audit import record

    me = principal(request)
    policy_require(me, "export", "intervention")
    raw, rows, _ = _filtered(request, me)
    record(
        request.app.state.ctx.store,
        me.username,
        "intervention.export",
        record_kind="intervention",
        detail={"rows": len(rows), "filters": sorted(k for k, v in raw.items() if v)},
    )
    return csv_response(rows, _CSV_COLUMNS, "interventions.csv")


@router.post("/casework/interventions", include_in_schema=False, dependencies=[_LOGIN])
def register_submit(
    request: Request,
    title: Annotated[str, Form(max_length=200)] = "",
    tier: Annotated[str, Form(max_length=32)] = "",
    intervention_type: Annotated[str, Form(max_length=32)] = "",
    target_kind: Annotated[str, Form(max_length=16)] = "",
    target_ref: Annotated[str, Form(max_length=64)] = "",
    start_date: Annotated[str, Form(max_length=10)] = "",
    end_date: Annotated[str, Form(max_length=10)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    organisation_id: Annotated[str, Form(max_length=18)] = "",
    funding_source: Annotated[str, Form(max_length=200)] = "",
    problem_id: Annotated[str, Form(max_length=18)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    purpose: Annotated[str, Form(max_length=2000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    from peelian.casework.interventions import register_intervention

    check_csrf(request, csrf_token)
    me = principal(request)
    try:
        rec = register_intervention(
            request.app.state.ctx.store,
            me,
            title=title,
            tier=choice(tier, TIERS, "Tier") or "",
            intervention_type=choice(intervention_type, INTERVENTION_TYPES, "Type") or "",
            target_kind=choice(target_kind, TARGET_KINDS, "Target") or "",
            target_ref=target_ref,
            start_date=day(start_date, "Start date") or _missing("Start date"),
            end_date=day(end_date, "End date"),
            owner=owner or None,
            organisation_id=number(organisation_id, "Organisation"),
            funding_source=funding_source or None,
            problem_id=number(problem_id, "Problem"),
            description=description,
            purpose=purpose or None,
        )
    except (ParameterError, ConflictError, NotFoundError) as exc:
        return back("/casework/interventions", error_text(exc))
    return back(
        f"/casework/interventions/{rec['id']}",
        f"Registered intervention {rec['id']}: {rec['title']}.",
    )


def _missing(what: str) -> dt.date:
    raise ParameterError(f"{what} is needed (YYYY-MM-DD).")


# -- one intervention ------------------------------------------------------------------------


def _detail(
    request: Request, me: Principal, rec: dict[str, Any], *, purpose: str | None
) -> dict[str, Any]:
    store = request.app.state.ctx.store
    rec["status"] = _status(rec, dt.date.today())
    rec["status_label"] = STATUSES[rec["status"]]
    shown = rec["personal"] and not rec["target_hidden"]
    return {
        "title": rec["title"],
        "intervention": rec,
        "purpose": purpose if shown else None,
        "can_update": allowed(me, "update", "intervention", rec),
        "can_close": allowed(me, "close", "intervention", rec),
        "can_see_target": rec["personal"] and allowed(me, "read", "person", rec),
        "choices": {"tier": TIERS, "intervention_type": INTERVENTION_TYPES},
        "outcomes": outcomes_for(
            store, me, "intervention", rec["id"], **({"purpose": purpose} if shown else {})
        )
        if not rec["personal"] or shown
        else {
            "available": False,
            "reason": "Outcomes of a person or family intervention are person-level: show the "
            "target with a purpose to see them.",
            "caveat": _OUTCOMES_CAVEAT,
        },
        "message": q(request, "message"),
    }


def intervention_page(request: Request, user: SessionUser, intervention_id: str) -> dict[str, Any]:
    from peelian.casework.interventions import get_intervention

    me = principal(request)
    iid = int(intervention_id) if intervention_id.isdigit() and len(intervention_id) < 19 else -1
    rec = get_intervention(request.app.state.ctx.store, me, iid)
    return _detail(request, me, rec, purpose=None)


add_page(
    router,
    "/casework/interventions/{intervention_id}",
    "casework_intervention.html",
    intervention_page,
    title="Intervention",
    cache=False,
)


@router.post(
    "/casework/interventions/{intervention_id}", include_in_schema=False, dependencies=[_LOGIN]
)
def intervention_submit(
    request: Request,
    intervention_id: int,
    op: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[str, Form(max_length=18)] = "",
    purpose: Annotated[str, Form(max_length=2000)] = "",
    title: Annotated[str, Form(max_length=200)] = "",
    tier: Annotated[str, Form(max_length=32)] = "",
    intervention_type: Annotated[str, Form(max_length=32)] = "",
    start_date: Annotated[str, Form(max_length=10)] = "",
    end_date: Annotated[str, Form(max_length=10)] = "",
    owner: Annotated[str, Form(max_length=64)] = "",
    funding_source: Annotated[str, Form(max_length=200)] = "",
    description: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """``op``: ``read`` (show the target, with the purpose; answered in place), ``update``
    (the details) or ``end`` (end it on a date); the last two redirect back with a message."""
    from peelian.casework import interventions as iv

    check_csrf(request, csrf_token)
    store, me = request.app.state.ctx.store, principal(request)
    path = f"/casework/interventions/{intervention_id}"
    why = purpose.strip() or None
    if op == "read":
        if not why:
            return back(path, "Say why you need to see the target (the purpose is audited).")
        rec = iv.get_intervention(store, me, intervention_id, purpose=why)
        data = _detail(request, me, rec, purpose=why)
        if rec["target_hidden"]:
            data["message"] = "Your role may not see the people this intervention is aimed at."
        return render(request, "casework_intervention.html", data)

    def run() -> str:
        ver = number(version, "Version") or 0
        if op == "update":
            rec = iv.update_intervention(
                store,
                me,
                intervention_id,
                ver,
                purpose=why,
                title=title,
                tier=choice(tier, TIERS, "Tier"),
                intervention_type=choice(intervention_type, INTERVENTION_TYPES, "Type"),
                start_date=day(start_date, "Start date"),
                end_date=day(end_date, "End date"),
                owner=owner,
                funding_source=funding_source,
                description=description,
            )
            return f"Saved intervention {rec['id']} (version {rec['version']})."
        if op == "end":
            rec = iv.end_intervention(
                store, me, intervention_id, ver, end_date=day(end_date, "End date"), purpose=why
            )
            return f"Ended the intervention on {rec['end_date']} (version {rec['version']})."
        raise ParameterError(f"Unknown form operation {op[:20]!r}.", "Use the page's forms.")

    return _run(path, run)


def _run(path: str, run: Callable[[], str]) -> Response:
    try:
        message = run()
    except (ParameterError, ConflictError, NotFoundError) as exc:
        message = error_text(exc)
    return back(path, message)
