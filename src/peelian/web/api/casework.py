"""``/api/casework/...``: organisations, data-sharing agreements, problems (SARA) and the audit log.

Every endpoint asks the casework policy (:func:`peelian.casework.policy.allowed`) for the
logged-in user and their organisation; person-level reads need a ``purpose`` and are audited.
Writes need the ``X-CSRF-Token`` header (the ``peelian_csrf`` cookie's value) and name the
``version`` they read; a stale version answers 409 with the conflict message.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, Field

from peelian.casework._vocab import ORG_KINDS, PROBLEM_FOCUS, PROBLEM_STAGES, PROBLEM_STATUSES
from peelian.web.api import _schemas as S
from peelian.web.api._params import MAX_ID
from peelian.web.auth import check_csrf, require

__all__ = ["ROUTE_POLICY", "csv_response", "principal", "router"]

router = APIRouter(prefix="/api/casework", tags=["casework"])
_LOGIN = Depends(require("viewer"))


def _csrf_header(request: Request) -> None:
    """Writes need the CSRF token in the ``X-CSRF-Token`` header (checked before the body)."""
    check_csrf(request, None)


_CSRF = Depends(_csrf_header)
_R = {
    **S.responses(None, 403, 404, 422),
    409: {"model": S.ErrorBody, "description": "The record changed since it was read (conflict)."},
}
#: The CSV exports: text/csv, errors in the one JSON shape.
_R_CSV = S.responses(
    None, 403, 404, 422, content={"text/csv": {"schema": {"type": "string"}}}, json_route=False
)
#: Parameters with a fixed set of values are enums in the schema (issue 13 item 7); ids are
#: bounded to 64 bits (a larger one is a 422, not a 500).
#: The enums are built from the casework vocabulary at run time (one source of truth), which a
#: type checker cannot read: to mypy they are plain strings.
if TYPE_CHECKING:
    OrgKind: TypeAlias = str
    ProblemStatus: TypeAlias = str
    ProblemStage: TypeAlias = str
    ProblemFocus: TypeAlias = str
else:
    OrgKind = Literal[tuple(ORG_KINDS)]
    ProblemStatus = Literal[tuple(PROBLEM_STATUSES)]
    ProblemStage = Literal[tuple(PROBLEM_STAGES)]
    ProblemFocus = Literal[tuple(PROBLEM_FOCUS)]
ProblemId = Annotated[int, Path(ge=1, le=MAX_ID)]
ActionId = Annotated[int, Path(ge=1, le=MAX_ID)]


#: What each casework route asks the policy: (method, path) -> (action, record kind). The
#: permission test is generated from the app's route table and this map, so a new casework
#: route without a rule fails it. Paths with ``{problem_id}`` are checked on a place problem.
ROUTE_POLICY: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/api/casework/organisations"): ("read", "organisation"),
    ("POST", "/api/casework/organisations"): ("create", "organisation"),
    ("GET", "/api/casework/organisations.csv"): ("export", "organisation"),
    ("GET", "/api/casework/agreements"): ("read", "agreement"),
    ("POST", "/api/casework/agreements"): ("create", "agreement"),
    ("GET", "/api/casework/agreements.csv"): ("export", "agreement"),
    ("GET", "/api/casework/problems"): ("read", "problem"),
    ("POST", "/api/casework/problems"): ("create", "problem"),
    ("GET", "/api/casework/problems.csv"): ("export", "problem"),
    ("GET", "/api/casework/problems/{problem_id}"): ("read", "problem"),
    ("POST", "/api/casework/problems/{problem_id}"): ("update", "problem"),
    ("POST", "/api/casework/problems/{problem_id}/actions"): ("update", "problem"),
    ("POST", "/api/casework/actions/{action_id}"): ("update", "action"),
    ("POST", "/api/casework/problems/{problem_id}/assessment"): ("update", "problem"),
    ("POST", "/api/casework/problems/{problem_id}/close"): ("close", "problem"),
    ("GET", "/api/casework/worklist"): ("read", "problem"),
    ("GET", "/api/casework/worklist.csv"): ("export", "problem"),
    ("GET", "/api/casework/interventions"): ("read", "intervention"),
    ("GET", "/api/casework/interventions/volumes"): ("read", "intervention"),
    ("GET", "/api/casework/interventions.csv"): ("export", "intervention"),
    ("POST", "/api/casework/interventions"): ("create", "intervention"),
    ("POST", "/api/casework/interventions/{intervention_id}/read"): ("read", "intervention"),
    ("POST", "/api/casework/interventions/{intervention_id}"): ("update", "intervention"),
    ("POST", "/api/casework/referrals"): ("create", "referral"),
    ("POST", "/api/casework/referrals/search"): ("read", "referral"),
    ("POST", "/api/casework/referrals/export"): ("export", "referral"),
    ("POST", "/api/casework/referrals/{referral_id}/read"): ("read", "referral"),
    ("POST", "/api/casework/referrals/{referral_id}"): ("update", "referral"),
    ("POST", "/api/casework/interventions/{intervention_id}/outcomes"): ("read", "intervention"),
    ("POST", "/api/casework/referrals/{referral_id}/outcomes"): ("read", "referral"),
    ("GET", "/api/casework/outcomes/summary"): ("read", "intervention"),
    # the import asks the policy for the kind uploaded (and row by row); the rule here is create
    # organisation, the kind fewest roles may create
    ("POST", "/api/casework/import/{kind}"): ("create", "organisation"),
    ("GET", "/api/casework/audit"): ("read", "audit"),
    ("GET", "/api/casework/audit.csv"): ("export", "audit"),
    ("GET", "/casework/problems"): ("read", "problem"),
    ("GET", "/casework/problems.json"): ("read", "problem"),
    ("POST", "/casework/problems"): ("create", "problem"),
    ("GET", "/casework/problems/{problem_id}"): ("read", "problem"),
    ("GET", "/casework/problems/{problem_id}.json"): ("read", "problem"),
    ("POST", "/casework/problems/{problem_id}"): ("update", "problem"),
    ("GET", "/casework/organisations"): ("read", "organisation"),
    ("GET", "/casework/organisations.json"): ("read", "organisation"),
    ("POST", "/casework/organisations"): ("create", "organisation"),
    ("POST", "/casework/agreements"): ("create", "agreement"),
    ("GET", "/casework/audit"): ("read", "audit"),
    ("GET", "/casework/audit.json"): ("read", "audit"),
    ("GET", "/casework/interventions"): ("read", "intervention"),
    ("GET", "/casework/interventions.json"): ("read", "intervention"),
    ("GET", "/casework/interventions.csv"): ("export", "intervention"),
    ("POST", "/casework/interventions"): ("create", "intervention"),
    ("GET", "/casework/interventions/{intervention_id}"): ("read", "intervention"),
    ("GET", "/casework/interventions/{intervention_id}.json"): ("read", "intervention"),
    ("POST", "/casework/interventions/{intervention_id}"): ("update", "intervention"),
    ("GET", "/casework/referrals"): ("read", "referral"),
    ("GET", "/casework/referrals.json"): ("read", "referral"),
    ("POST", "/casework/referrals"): ("create", "referral"),
    ("POST", "/casework/referrals/search"): ("read", "referral"),
    ("POST", "/casework/referrals/search.json"): ("read", "referral"),
    ("POST", "/casework/referrals/export"): ("export", "referral"),
    ("GET", "/casework/referrals/{referral_id}"): ("read", "referral"),
    ("GET", "/casework/referrals/{referral_id}.json"): ("read", "referral"),
    ("POST", "/casework/referrals/{referral_id}/read"): ("read", "referral"),
    ("POST", "/casework/referrals/{referral_id}/read.json"): ("read", "referral"),
    ("POST", "/casework/referrals/{referral_id}"): ("update", "referral"),
    # the import page: the roles that may create some importable kind are exactly those that
    # may create interventions (tests/web/test_casework_import_page.py); the import itself asks
    # the policy for the kind uploaded, and row by row
    ("GET", "/casework/import"): ("create", "intervention"),
    ("GET", "/casework/import.json"): ("create", "intervention"),
    ("POST", "/casework/import"): ("create", "intervention"),
    ("POST", "/casework/import.json"): ("create", "intervention"),
}


def principal(request: Request) -> Any:
    """The policy's view of the logged-in user (role, organisation, agreements)."""
    from peelian.casework.policy import principal_for

    return principal_for(request.app.state.ctx.store, request.state.user)


def csv_response(rows: list[dict[str, Any]], columns: list[str], filename: str) -> Response:
    """Rows as a CSV download (lists joined with ';')."""
    import csv

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(columns)
    for r in rows:
        w.writerow(
            [";".join(map(str, v)) if isinstance(v := r.get(c), list) else v for c in columns]
        )
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _store(request: Request) -> Any:
    return request.app.state.ctx.store


# -- organisations and agreements ------------------------------------------------------------


class OrganisationIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    kind: str
    parent_id: int | None = None


class AgreementIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    purpose: str = Field(min_length=1, max_length=4000)
    lawful_basis: str = Field(min_length=1, max_length=2000)
    record_kinds: list[str]
    party_ids: list[int]
    start_date: dt.date
    end_date: dt.date | None = None


@router.get("/organisations", summary="Organisations", dependencies=[_LOGIN], responses=_R)
def get_organisations(
    request: Request,
    kind: Annotated[OrgKind | None, Query()] = None,
    text: Annotated[str | None, Query(max_length=100)] = None,
) -> dict[str, Any]:
    from peelian.casework.organisations import list_organisations

    return {
        "organisations": list_organisations(
            _store(request), principal(request), kind=kind, text=text
        )
    }


@router.post(
    "/organisations",
    summary="Add an organisation (admin)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_organisation(request: Request, body: OrganisationIn) -> dict[str, Any]:
    from peelian.casework.organisations import add_organisation

    return add_organisation(
        _store(request), principal(request), body.name, body.kind, parent_id=body.parent_id
    )


@router.get("/agreements", summary="Data-sharing agreements", dependencies=[_LOGIN], responses=_R)
def get_agreements(
    request: Request, live: bool = False, on: dt.date | None = None
) -> dict[str, Any]:
    from peelian.casework.organisations import list_agreements

    rows = list_agreements(_store(request), principal(request), on=on, live_only=live)
    return {"agreements": rows}


@router.post(
    "/agreements",
    summary="Record a data-sharing agreement (admin)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_agreement(request: Request, body: AgreementIn) -> dict[str, Any]:
    from peelian.casework.organisations import add_agreement

    return add_agreement(_store(request), principal(request), **body.model_dump())


# -- problems --------------------------------------------------------------------------------


class ProblemIn(BaseModel):
    title: str = Field(min_length=3, max_length=200)
    focus: Literal["place", "group", "theme"]
    description: str = Field(default="", max_length=10_000)
    names_people: bool = False
    area_code: str | None = Field(default=None, max_length=16)
    organisation_id: int | None = None
    owner: str | None = Field(default=None, max_length=64)
    evidence: dict[str, Any] | None = None
    review_date: dt.date | None = None
    purpose: str | None = Field(default=None, max_length=2000)


class ProblemUpdate(BaseModel):
    version: int
    purpose: str | None = Field(default=None, max_length=2000)
    title: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=10_000)
    stage: str | None = None
    status: str | None = None
    owner: str | None = Field(default=None, max_length=64)
    review_date: dt.date | None = None
    triangle: dict[str, str] | None = None
    evidence: dict[str, Any] | None = None
    area_code: str | None = Field(default=None, max_length=16)


class ActionIn(BaseModel):
    description: str = Field(min_length=1, max_length=4000)
    owner: str | None = Field(default=None, max_length=64)
    organisation_id: int | None = None
    due_date: dt.date | None = None
    status: str = "planned"
    purpose: str | None = Field(default=None, max_length=2000)


class ActionUpdate(BaseModel):
    version: int
    status: str | None = None
    due_date: dt.date | None = None
    owner: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=4000)


class AssessmentIn(BaseModel):
    version: int
    before_from: str = Field(pattern=r"^\d{4}-\d{2}$")
    before_to: str = Field(pattern=r"^\d{4}-\d{2}$")
    after_from: str = Field(pattern=r"^\d{4}-\d{2}$")
    after_to: str = Field(pattern=r"^\d{4}-\d{2}$")
    area_codes: list[str] | None = None
    comparison_codes: list[str] | None = None
    comparison_name: str = Field(default="", max_length=200)
    counts: dict[str, int] | None = None
    categories: list[str] | None = None
    purpose: str | None = Field(default=None, max_length=2000)


class CloseIn(BaseModel):
    version: int
    result: str = Field(min_length=1, max_length=10_000)
    purpose: str | None = Field(default=None, max_length=2000)


PROBLEM_COLUMNS = [
    "id",
    "title",
    "focus",
    "names_people",
    "stage",
    "status",
    "organisation",
    "owner",
    "area_code",
    "review_date",
    "opened_at",
    "closed_at",
    "result",
    "version",
]


@router.get("/problems", summary="Problems the user may read", dependencies=[_LOGIN], responses=_R)
def get_problems(
    request: Request,
    status: Annotated[ProblemStatus | None, Query()] = None,
    stage: Annotated[ProblemStage | None, Query()] = None,
    focus: Annotated[ProblemFocus | None, Query()] = None,
    text: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    from peelian.casework.problems import list_problems

    return list_problems(
        _store(request),
        principal(request),
        status=status,
        stage=stage,
        focus=focus,
        text=text,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/problems.csv",
    summary="Problems as CSV (audited)",
    dependencies=[_LOGIN],
    response_class=Response,
    responses=_R_CSV,
)
def get_problems_csv(request: Request) -> Response:
    from peelian.casework.policy import require as policy_require
    from peelian.casework.problems import list_problems
    from peelian.data.audit import record

    user = principal(request)
    policy_require(user, "export", "problem")
    rows = list_problems(_store(request), user, limit=1_000_000)["rows"]
    rows = [r for r in rows if r["record_kind"] == "problem"]  # person-level: per record only
    rows = [{**r, "names_people": "yes" if r.get("names_people") else "no"} for r in rows]
    record(
        _store(request),
        user.username,
        "problem.export",
        record_kind="problem",
        detail={"rows": len(rows)},
    )
    return csv_response(rows, PROBLEM_COLUMNS, "problems.csv")


@router.post("/problems", summary="Open a problem", dependencies=[_LOGIN, _CSRF], responses=_R)
def post_problem(request: Request, body: ProblemIn) -> dict[str, Any]:
    from peelian.casework.problems import open_problem

    return open_problem(_store(request), principal(request), **body.model_dump())


@router.get(
    "/problems/{problem_id}",
    summary="One problem (purpose needed if it names people)",
    dependencies=[_LOGIN],
    responses=_R,
)
def get_problem_api(
    request: Request,
    problem_id: ProblemId,
    purpose: Annotated[str | None, Query(max_length=2000)] = None,
) -> dict[str, Any]:
    from peelian.casework.problems import get_problem

    return get_problem(_store(request), principal(request), problem_id, purpose=purpose)


@router.post(
    "/problems/{problem_id}", summary="Change a problem", dependencies=[_LOGIN, _CSRF], responses=_R
)
def post_problem_update(
    request: Request, problem_id: ProblemId, body: ProblemUpdate
) -> dict[str, Any]:
    from peelian.casework.problems import update_problem

    fields = body.model_dump(exclude_unset=True)
    version = fields.pop("version")
    return update_problem(_store(request), principal(request), problem_id, version, **fields)


@router.post(
    "/problems/{problem_id}/actions",
    summary="Add a response action",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_action(request: Request, problem_id: ProblemId, body: ActionIn) -> dict[str, Any]:
    from peelian.casework.problems import add_action

    return add_action(_store(request), principal(request), problem_id, **body.model_dump())


@router.post(
    "/actions/{action_id}",
    summary="Change a response action",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_action_update(request: Request, action_id: ActionId, body: ActionUpdate) -> dict[str, Any]:
    from peelian.casework.problems import update_action

    fields = body.model_dump(exclude_unset=True)
    version = fields.pop("version")
    return update_action(_store(request), principal(request), action_id, version, **fields)


@router.post(
    "/problems/{problem_id}/assessment",
    summary="Assess a problem (exact tests)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_assessment(request: Request, problem_id: ProblemId, body: AssessmentIn) -> dict[str, Any]:
    from peelian.casework.assessment import assess_problem

    return assess_problem(
        _store(request),
        principal(request),
        problem_id,
        body.version,
        before=(body.before_from, body.before_to),
        after=(body.after_from, body.after_to),
        area_codes=body.area_codes,
        comparison_codes=body.comparison_codes,
        comparison_name=body.comparison_name,
        counts=body.counts,
        categories=body.categories,
        purpose=body.purpose,
    )


@router.post(
    "/problems/{problem_id}/close",
    summary="Close a problem with its result",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_close(request: Request, problem_id: ProblemId, body: CloseIn) -> dict[str, Any]:
    from peelian.casework.problems import close_problem

    return close_problem(
        _store(request),
        principal(request),
        problem_id,
        body.version,
        result=body.result,
        purpose=body.purpose,
    )


@router.get("/worklist", summary="Overdue reviews and actions", dependencies=[_LOGIN], responses=_R)
def get_worklist(request: Request, on: dt.date | None = None) -> dict[str, Any]:
    from peelian.casework.problems import overdue

    return overdue(_store(request), principal(request), on=on)


@router.get(
    "/worklist.csv",
    summary="Overdue reviews and actions as CSV",
    dependencies=[_LOGIN],
    response_class=Response,
    responses=_R_CSV,
)
def get_worklist_csv(request: Request) -> Response:
    from peelian.casework.policy import require as policy_require
    from peelian.casework.problems import overdue

    user = principal(request)
    policy_require(user, "export", "problem")
    work = overdue(_store(request), user)
    rows = [
        {
            "what": "review",
            "problem_id": r["id"],
            "problem": r["title"],
            "due": r["review_date"],
            "days_overdue": r["days_overdue"],
            "organisation": r["organisation"],
        }
        for r in work["reviews"]
    ] + [
        {
            "what": "action: " + a["description"],
            "problem_id": a["problem_id"],
            "problem": a["problem_title"],
            "due": a["due_date"],
            "days_overdue": a["days_overdue"],
            "organisation": a["organisation"],
        }
        for a in work["actions"]
    ]
    cols = ["what", "problem_id", "problem", "due", "days_overdue", "organisation"]
    return csv_response(rows, cols, "casework-worklist.csv")


# -- audit -----------------------------------------------------------------------------------


def audit_filter(
    username: str | None = None,
    action: str | None = None,
    record_kind: str | None = None,
    record_id: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    text: str | None = None,
) -> Any:
    """An :class:`~peelian.data.audit.AuditFilter` from query values (dates as whole days)."""
    from peelian.data.audit import AuditFilter

    def day(d: dt.date | None) -> dt.datetime | None:
        return None if d is None else dt.datetime(d.year, d.month, d.day)

    return AuditFilter(
        username=username or None,
        action=action or None,
        record_kind=record_kind or None,
        record_id=record_id or None,
        since=day(since),
        until=day(until + dt.timedelta(days=1)) if until else None,
        text=text or None,
    )


AuditQuery = Annotated[str | None, Query(max_length=128)]


@router.get(
    "/audit", summary="Search the audit log (auditor, admin)", dependencies=[_LOGIN], responses=_R
)
def get_audit(
    request: Request,
    username: AuditQuery = None,
    action: AuditQuery = None,
    record_kind: AuditQuery = None,
    record_id: AuditQuery = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    text: AuditQuery = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    from peelian.casework.policy import require as policy_require
    from peelian.data.audit import count, search

    policy_require(principal(request), "read", "audit")
    flt = audit_filter(username, action, record_kind, record_id, since, until, text)
    store = _store(request)
    return {
        "total": count(store, flt),
        "entries": search(store, flt, limit=limit, offset=offset),
        "filter": flt.to_dict(),
    }


@router.get(
    "/audit.csv",
    summary="Export the audit log as CSV (auditor, admin; audited)",
    dependencies=[_LOGIN],
    response_class=Response,
    responses=_R_CSV,
)
def get_audit_csv(
    request: Request,
    username: AuditQuery = None,
    action: AuditQuery = None,
    record_kind: AuditQuery = None,
    record_id: AuditQuery = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    text: AuditQuery = None,
) -> Response:
    from peelian.casework.policy import require as policy_require
    from peelian.data.audit import export_csv, record

    user = principal(request)
    policy_require(user, "export", "audit")
    flt = audit_filter(username, action, record_kind, record_id, since, until, text)
    buf = io.StringIO()
    n = export_csv(_store(request), buf, flt)
    record(
        _store(request),
        user.username,
        "audit.export",
        record_kind="audit",
        detail={**flt.to_dict(), "rows": n},
    )
    return Response(
        buf.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-log.csv"'},
    )


@router.get(
    "/organisations.csv",
    summary="Organisations as CSV",
    dependencies=[_LOGIN],
    response_class=Response,
    responses=_R_CSV,
)
def get_organisations_csv(request: Request) -> Response:
    from peelian.casework.organisations import list_organisations
    from peelian.casework.policy import require as policy_require

    user = principal(request)
    policy_require(user, "export", "organisation")
    rows = list_organisations(_store(request), user)
    return csv_response(
        rows, ["id", "name", "kind", "parent_id", "created_at"], "organisations.csv"
    )


@router.get(
    "/agreements.csv",
    summary="Data-sharing agreements as CSV",
    dependencies=[_LOGIN],
    response_class=Response,
    responses=_R_CSV,
)
def get_agreements_csv(request: Request) -> Response:
    from peelian.casework.organisations import list_agreements
    from peelian.casework.policy import require as policy_require

    user = principal(request)
    policy_require(user, "export", "agreement")
    rows = list_agreements(_store(request), user)
    cols = [
        "id",
        "title",
        "purpose",
        "lawful_basis",
        "record_kinds",
        "parties",
        "start_date",
        "end_date",
        "live",
        "version",
    ]
    return csv_response(rows, cols, "agreements.csv")
