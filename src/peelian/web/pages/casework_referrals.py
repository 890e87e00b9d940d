"""Casework pages: referrals (who referred whom to which organisation, consent, status,
outcome).

A referral is person-level (DPA 2018 Part 3): every list, read, change and export needs a
purpose and is audited. The purpose is asked for in a form and sent in a POST body, never in a
URL (as the referrals API does): ``GET /casework/referrals`` and ``GET
/casework/referrals/{id}`` ask for it; the list and the record are answered in place by the POST
(and as JSON by the same POST to ``....json``). Which referrals a user sees is the policy's
decision (a partner sees only referrals to their own organisation, under a live agreement that
shares referrals); *who* a referral is about is shown only to users the policy lets read
``person`` records of the referring organisation. Changes name the ``version`` they read.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import JSONResponse

from peelian.casework._vocab import CONSENT, REFERRAL_STATUSES, label
from peelian.casework.policy import Principal, allowed, load_policy
from peelian.casework.policy import require as policy_require
from peelian.errors import ConflictError, NotFoundError, ParameterError
from peelian.web.api.casework import csv_response, principal
from peelian.web.auth import SessionUser, check_csrf, require
from peelian.web.pages._helpers import _page_responses, add_page
from peelian.web.pages.casework_interventions import (
    PAGE_SIZE,
    choice,
    day,
    error_text,
    number,
    outcomes_for,
    q,
    render,
)
from peelian.web.services.common import jsonable

__all__ = ["router"]

router = APIRouter()
_LOGIN = Depends(require("viewer"))
_Text = Annotated[str, Form(max_length=2000)]
_LIST = "casework_referrals.html"
_ONE = "casework_referral.html"
_EXPORT_COLUMNS = [
    "id",
    "person_ref",
    "organisation",
    "from_organisation",
    "referred_by",
    "referred_on",
    "reason",
    "consent",
    "consent_note",
    "status",
    "outcome",
    "intervention_id",
    "version",
]


def _may(me: Principal, action: str, rec: dict[str, Any]) -> bool:
    """The policy for one referral (an ``own``/``shared`` scope: referrals to the user's own
    organisation only), as :mod:`peelian.casework.referrals` decides."""
    if not allowed(me, action, "referral", rec):
        return False
    scope = load_policy().get((me.role, "referral", action), "none")
    return scope == "all" or rec.get("organisation_id") == me.organisation_id


def _sees_person(me: Principal, rec: dict[str, Any], action: str = "read") -> bool:
    """Whether the user may see who the referral is about: the policy's ``person`` rule for the
    organisation that holds the record (the referrer's)."""
    org = rec.get("from_organisation_id") or rec.get("organisation_id")
    return allowed(me, action, "person", {"organisation_id": org})


def _shown(me: Principal, rec: dict[str, Any]) -> dict[str, Any]:
    out = dict(rec)
    out["person_hidden"] = not _sees_person(me, rec)
    if out["person_hidden"]:
        out["person_ref"] = None
    return out


def _base(request: Request, me: Principal, **extra: Any) -> dict[str, Any]:
    """What the referrals page shows before the purpose is given (nothing person-level)."""
    from peelian.casework.organisations import list_organisations

    store = request.app.state.ctx.store
    policy_require(me, "read", "referral")
    orgs = list_organisations(store, me) if allowed(me, "read", "organisation") else []
    data: dict[str, Any] = {
        "title": "Referrals",
        "needs_purpose": True,
        "purpose": None,
        "filters": {},
        "form": {},
        "rows": [],
        "total": 0,
        "statuses": REFERRAL_STATUSES,
        "consent": CONSENT,
        "organisations": [{"id": o["id"], "name": o["name"]} for o in orgs],
        "can_create": allowed(me, "create", "referral", {"organisation_id": me.organisation_id}),
        "can_export": allowed(me, "export", "referral"),
        "may_search_person": allowed(me, "read", "person", {"organisation_id": me.organisation_id}),
        "message": q(request, "message"),
    }
    return {**data, **extra}


def referrals_page(request: Request, user: SessionUser) -> dict[str, Any]:
    return _base(request, principal(request))


add_page(router, "/casework/referrals", _LIST, referrals_page, title="Referrals", cache=False)


def _search(request: Request, me: Principal, form: dict[str, str]) -> dict[str, Any]:
    """The referrals list for the form's purpose and filters (the listing is audited)."""
    from peelian.casework.referrals import list_referrals

    status = choice(form.get("status"), REFERRAL_STATUSES, "Status")
    org = number(form.get("organisation_id"), "Organisation")
    first, last = day(form.get("referred_from"), "From"), day(form.get("referred_to"), "To")
    if first and last and last < first:
        raise ParameterError(f"'To' ({last}) is before 'From' ({first}).")
    person = (form.get("person_ref") or "").strip() or None
    if person and not allowed(me, "read", "person", {"organisation_id": me.organisation_id}):
        raise ParameterError(
            "Your role may not search referrals by person.", "Search by status or date."
        )
    text = (form.get("text") or "").strip().lower()

    def one_page(page: int) -> dict[str, Any]:  # the database filters, counts and pages
        return list_referrals(
            request.app.state.ctx.store,
            me,
            purpose=form.get("purpose"),
            status=status,
            organisation_id=org,
            person_ref=person,
            referred_from=first,
            referred_to=last,
            text=text or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )

    page = number(form.get("page"), "Page") or 1
    found = one_page(page)
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    if page > pages:  # past the end: the last page
        page = pages
        found = one_page(page)
    rows, total = found["rows"], int(found["total"])
    kept = {k: v for k, v in form.items() if v and k not in ("purpose", "page", "csrf_token")}
    return _base(
        request,
        me,
        needs_purpose=False,
        purpose=form["purpose"].strip(),
        filters=kept,
        rows=[_shown(me, r) for r in rows],
        total=total,
        page=page,
        pages=pages,
        empty=None
        if rows
        else {
            "message": "No referrals" + (" match these filters." if kept else " yet."),
            "command": "peelian casework referrals make PERSON_REF --to ORGANISATION_ID "
            '--reason "..." --consent given --purpose "..."',
        },
    )


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    check_csrf(request, str(form.get("csrf_token") or ""))
    return {k: str(v)[:10_000] for k, v in form.items() if isinstance(v, str)}


async def _answer(request: Request, template: str, build: Any, as_json: bool) -> Response:
    from starlette.concurrency import run_in_threadpool

    data = await run_in_threadpool(build)
    if as_json:
        return JSONResponse(jsonable(data), headers={"Cache-Control": "no-store"})
    return render(request, template, data)


@router.post("/casework/referrals/search", include_in_schema=False, dependencies=[_LOGIN])
async def search_submit(request: Request) -> Response:
    return await _search_answer(request, as_json=False)


@router.post(
    "/casework/referrals/search.json",
    tags=["pages"],
    summary="The data of the Referrals page (form body: purpose and filters; audited)",
    dependencies=[_LOGIN],
    responses=_page_responses(),
)
async def search_json(request: Request) -> Response:
    return await _search_answer(request, as_json=True)


async def _search_answer(request: Request, *, as_json: bool) -> Response:
    form = await _form(request)

    def build() -> dict[str, Any]:
        me = principal(request)
        try:
            return _search(request, me, form)
        except (ParameterError, NotFoundError) as exc:
            return _base(request, me, message=error_text(exc), filters=form)

    return await _answer(request, _LIST, build, as_json)


@router.post("/casework/referrals", include_in_schema=False, dependencies=[_LOGIN])
async def make_submit(request: Request) -> Response:
    """Make a referral; answered with the referral (or the form again, with the message)."""
    from peelian.casework.referrals import make_referral

    form = await _form(request)

    def build() -> tuple[str, dict[str, Any]]:
        me = principal(request)
        try:
            rec = make_referral(
                request.app.state.ctx.store,
                me,
                person_ref=form.get("person_ref", ""),
                organisation_id=number(form.get("organisation_id"), "Organisation") or 0,
                reason=form.get("reason", ""),
                consent=choice(form.get("consent"), CONSENT, "Consent") or "",
                consent_note=form.get("consent_note") or None,
                referred_on=day(form.get("referred_on"), "Referred on"),
                intervention_id=number(form.get("intervention_id"), "Intervention"),
                purpose=form.get("purpose"),
            )
        except (ParameterError, NotFoundError) as exc:
            keep = {k: v for k, v in form.items() if k != "csrf_token"}
            return _LIST, _base(request, me, message=error_text(exc), form=keep)
        message = f"Made referral {rec['id']} to {rec['organisation']}."
        return _ONE, _detail(request, me, int(rec["id"]), form["purpose"], message)

    from starlette.concurrency import run_in_threadpool

    template, data = await run_in_threadpool(build)
    return render(request, template, data)


@router.post("/casework/referrals/export", include_in_schema=False, dependencies=[_LOGIN])
async def export_submit(request: Request) -> Response:
    """The referrals the user may export, as CSV, for the form's purpose (audited); who each
    is about is left blank where the user may not export people."""
    from starlette.concurrency import run_in_threadpool

    from peelian.casework.referrals import export_referrals

    form = await _form(request)

    def build() -> Response:
        me = principal(request)
        rows = export_referrals(
            request.app.state.ctx.store, me, purpose=form.get("purpose"), on=dt.date.today()
        )
        rows = [
            {**r, "person_ref": r["person_ref"] if _sees_person(me, r, "export") else None}
            for r in rows
        ]
        return csv_response(rows, _EXPORT_COLUMNS, "referrals.csv")

    return await run_in_threadpool(build)


# -- one referral ----------------------------------------------------------------------------


def _detail(
    request: Request, me: Principal, referral_id: int, purpose: str | None, message: str | None
) -> dict[str, Any]:
    """One referral for a purpose (the read is audited), with what this user may do to it."""
    from peelian.casework.referrals import get_referral

    store = request.app.state.ctx.store
    rec = get_referral(store, me, referral_id, purpose=purpose)
    shown = _shown(me, rec)
    may_close = _may(me, "close", rec)
    nexts = [s for s in rec["next_statuses"] if s != "closed" or may_close]
    return {
        "title": f"Referral {referral_id}",
        "needs_purpose": False,
        "id": referral_id,
        "purpose": (purpose or "").strip(),
        "referral": shown,
        "can_update": _may(me, "update", rec) and bool(rec["next_statuses"]),
        "next_statuses": {s: label(s) for s in nexts},
        "outcomes": outcomes_for(store, me, "referral", referral_id, purpose=purpose)
        if not shown["person_hidden"]
        else {
            "available": False,
            "reason": "Your role may not see who this referral is about, so not their "
            "offending or victimisation either.",
            "caveat": "",
        },
        "message": message,
    }


def referral_page(request: Request, user: SessionUser, referral_id: str) -> dict[str, Any]:
    """Before the purpose: which referral, and the question (nothing person-level)."""
    policy_require(principal(request), "read", "referral")
    rid = int(referral_id) if referral_id.isdigit() and len(referral_id) < 19 else -1
    return {
        "title": f"Referral {rid}",
        "needs_purpose": True,
        "id": rid,
        "reason": "A referral names a person: say why you need to read it (the purpose is "
        "written to the audit log with your name).",
        "message": q(request, "message"),
    }


add_page(
    router,
    "/casework/referrals/{referral_id}",
    _ONE,
    referral_page,
    title="Referral",
    cache=False,
)


@router.post(
    "/casework/referrals/{referral_id}/read", include_in_schema=False, dependencies=[_LOGIN]
)
async def read_submit(request: Request, referral_id: int) -> Response:
    return await _read_answer(request, referral_id, as_json=False)


@router.post(
    "/casework/referrals/{referral_id}/read.json",
    tags=["pages"],
    summary="The data of the Referral page (form body: purpose; audited)",
    dependencies=[_LOGIN],
    responses=_page_responses(),
)
async def read_json(request: Request, referral_id: int) -> Response:
    return await _read_answer(request, referral_id, as_json=True)


async def _read_answer(request: Request, referral_id: int, *, as_json: bool) -> Response:
    form = await _form(request)

    def build() -> dict[str, Any]:
        me = principal(request)
        try:
            return _detail(request, me, referral_id, form.get("purpose"), None)
        except ParameterError as exc:
            page = referral_page(request, None, str(referral_id))  # type: ignore[arg-type]
            return {**page, "message": error_text(exc)}

    return await _answer(request, _ONE, build, as_json)


@router.post("/casework/referrals/{referral_id}", include_in_schema=False, dependencies=[_LOGIN])
def update_submit(
    request: Request,
    referral_id: int,
    op: Annotated[str, Form(max_length=16)] = "",
    version: Annotated[str, Form(max_length=18)] = "",
    purpose: _Text = "",
    status: Annotated[str, Form(max_length=16)] = "",
    outcome: Annotated[str, Form(max_length=10_000)] = "",
    reason: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """``op``: ``status`` (move it on, with the outcome when declining or closing),
    ``outcome`` (record what came of it) or ``reason`` (correct it). Answered in place with
    the referral and the message (a refusal or a conflict is shown, nothing is lost)."""
    from peelian.casework.referrals import update_referral

    check_csrf(request, csrf_token)
    store, me = request.app.state.ctx.store, principal(request)
    why = purpose.strip() or None
    try:
        ver = number(version, "Version") or 0
        if op == "status":
            fields: dict[str, Any] = {
                "status": choice(status, REFERRAL_STATUSES, "Status")
                or _need("Choose the new status."),
                "outcome": outcome.strip() or None,
            }
        elif op == "outcome":
            fields = {"outcome": outcome.strip() or _need("Write the outcome.")}
        elif op == "reason":
            fields = {"reason": reason}
        else:
            raise ParameterError(f"Unknown form operation {op[:20]!r}.", "Use the page's forms.")
        rec = update_referral(store, me, referral_id, ver, purpose=why, **fields)
        message = f"Saved: {rec['status_label'].lower()} (version {rec['version']})."
        if op == "outcome":
            message = f"Recorded the outcome (version {rec['version']})."
    except (ParameterError, ConflictError, NotFoundError) as exc:
        message = error_text(exc)
    try:
        data = _detail(request, me, referral_id, why, message)
    except ParameterError:  # no purpose: ask for it, with the message
        data = {**referral_page(request, None, str(referral_id)), "message": message}  # type: ignore[arg-type]
    return render(request, _ONE, data)


def _need(message: str) -> str:
    raise ParameterError(message)
