"""``/api/people/...``: prioritised people (RFG / RFGV), cohorts, de-selections, the tasking list,
cohort counts and fairness distributions, as JSON (issue 15).

Every endpoint asks the casework policy (record kind ``nominal``) for the logged-in user; the
rules are :data:`ROUTE_POLICY` (the generated permission test covers them). Reads that disclose
people are **POSTs with the purpose in the body** (never in a URL or an access log), need the
``X-CSRF-Token`` header, and are audited with the purpose.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from peelian.web.api._params import MAX_ID
from peelian.web.api.casework import _CSRF, _LOGIN, _R, _R_CSV, csv_response, principal

__all__ = ["ROUTE_POLICY", "router"]

router = APIRouter(prefix="/api/people", tags=["people"])

#: (method, path) -> (action, record kind) of the casework policy; the web pages' rules too.
ROUTE_POLICY: dict[tuple[str, str], tuple[str, str]] = {
    ("GET", "/api/people/cohorts"): ("read", "nominal"),
    ("POST", "/api/people/rfg"): ("read", "nominal"),
    ("POST", "/api/people/rfg.csv"): ("export", "nominal"),
    ("POST", "/api/people/tasking"): ("read", "nominal"),
    ("POST", "/api/people/tasking/save"): ("create", "nominal"),
    ("POST", "/api/people/fairness"): ("read", "nominal"),
    ("POST", "/api/people/overview"): ("read", "nominal"),
    ("POST", "/api/people/deselections/search"): ("read", "nominal"),
    ("POST", "/api/people/deselections"): ("create", "nominal"),
    ("POST", "/api/people/deselections/{deselection_id}/end"): ("update", "nominal"),
    ("GET", "/people"): ("read", "nominal"),
    ("GET", "/people.json"): ("read", "nominal"),
    ("GET", "/people/tasking"): ("read", "nominal"),
    ("GET", "/people/tasking.json"): ("read", "nominal"),
    ("GET", "/people/fairness"): ("read", "nominal"),
    ("GET", "/people/fairness.json"): ("read", "nominal"),
    ("POST", "/people/deselections"): ("create", "nominal"),
}
DeselectionId = Annotated[int, Path(ge=1, le=MAX_ID)]
_Purpose = Field(min_length=1, max_length=2000, description="Why you need it (audited).")
_Cohort = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")


def _store(request: Request) -> Any:
    return request.app.state.ctx.store


class ListIn(BaseModel):
    cohort: str = _Cohort
    as_of: dt.date | None = None
    purpose: str = _Purpose
    limit: int = Field(default=500, ge=1, le=100_000)


class SaveIn(BaseModel):
    cohort: str = _Cohort
    as_of: dt.date
    purpose: str = _Purpose


class PurposeIn(BaseModel):
    purpose: str = _Purpose


class DeselectionIn(BaseModel):
    person_ref: str = Field(min_length=1, max_length=64)
    reason: Literal["custody", "deceased", "moved_away", "other"]
    start_date: dt.date
    end_date: dt.date | None = None
    cohort: str | None = Field(default=None, max_length=64, pattern=r"^[a-z0-9_]+$")
    note: str = Field(default="", max_length=4000)
    purpose: str = _Purpose


class EndIn(BaseModel):
    version: int = Field(ge=1)
    end_date: dt.date
    purpose: str = _Purpose


@router.get(
    "/cohorts", summary="The declared cohorts and the matrix", dependencies=[_LOGIN], responses=_R
)
def get_cohorts(request: Request) -> dict[str, Any]:
    from peelian.analysis.people import load_matrix
    from peelian.casework.people import cohort_catalogue
    from peelian.casework.policy import require as policy_require

    policy_require(principal(request), "read", "nominal")
    return {"cohorts": cohort_catalogue(), "matrix": load_matrix().describe()}


@router.post(
    "/rfg",
    summary="A cohort's RFG / RFGV list (audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_rfg(request: Request, body: ListIn) -> dict[str, Any]:
    from peelian.casework.people import cohort_list

    return cohort_list(
        _store(request),
        principal(request),
        body.cohort,
        as_of=body.as_of,
        purpose=body.purpose,
        limit=body.limit,
    )


@router.post(
    "/rfg.csv",
    summary="A cohort's RFG / RFGV list as CSV (export; audited)",
    dependencies=[_LOGIN, _CSRF],
    response_class=Response,
    responses=_R_CSV,
)
def post_rfg_csv(request: Request, body: ListIn) -> Response:
    from peelian.casework.people import PEOPLE_COLUMNS, cohort_list

    out = cohort_list(
        _store(request),
        principal(request),
        body.cohort,
        as_of=body.as_of,
        purpose=body.purpose,
        limit=body.limit,
        export=True,
    )
    return csv_response(out["people"], list(PEOPLE_COLUMNS), f"{body.cohort}-{out['as_of']}.csv")


@router.post(
    "/tasking",
    summary="The tasking list: entered, left and why (audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_tasking(request: Request, body: ListIn) -> dict[str, Any]:
    from peelian.casework.people_tasking import run_tasking

    return run_tasking(
        _store(request),
        principal(request),
        body.cohort,
        as_of=body.as_of or dt.date.today(),
        purpose=body.purpose,
    )


@router.post(
    "/tasking/save",
    summary="Save the tasking list for the next meeting",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_tasking_save(request: Request, body: SaveIn) -> dict[str, Any]:
    from peelian.casework.people_tasking import run_tasking

    return run_tasking(
        _store(request),
        principal(request),
        body.cohort,
        as_of=body.as_of,
        purpose=body.purpose,
        save=True,
    )


@router.post(
    "/fairness",
    summary="The list by age band, sex and ethnicity beside the population",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_fairness(request: Request, body: ListIn) -> dict[str, Any]:
    from peelian.casework.people_tasking import fairness

    return fairness(
        _store(request),
        principal(request),
        body.cohort,
        as_of=body.as_of or dt.date.today(),
        purpose=body.purpose,
    )


@router.post(
    "/overview",
    summary="A cohort's size by area and over time, referrals and interventions",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_overview(request: Request, body: ListIn) -> dict[str, Any]:
    from peelian.casework.people_tasking import cohort_overview

    return cohort_overview(
        _store(request),
        principal(request),
        body.cohort,
        as_of=body.as_of or dt.date.today(),
        purpose=body.purpose,
    )


@router.post(
    "/deselections/search",
    summary="Recorded de-selections (audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_deselections_search(request: Request, body: PurposeIn) -> dict[str, Any]:
    from peelian.casework.people_tasking import list_deselections

    return {
        "deselections": list_deselections(_store(request), principal(request), purpose=body.purpose)
    }


@router.post(
    "/deselections", summary="Record a de-selection", dependencies=[_LOGIN, _CSRF], responses=_R
)
def post_deselection(request: Request, body: DeselectionIn) -> dict[str, Any]:
    from peelian.casework.people_tasking import record_deselection

    return record_deselection(
        _store(request),
        principal(request),
        body.person_ref,
        body.reason,
        start_date=body.start_date,
        end_date=body.end_date,
        cohort=body.cohort,
        note=body.note,
        purpose=body.purpose,
    )


@router.post(
    "/deselections/{deselection_id}/end",
    summary="End a de-selection",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_deselection_end(
    request: Request, deselection_id: DeselectionId, body: EndIn
) -> dict[str, Any]:
    from peelian.casework.people_tasking import end_deselection

    return end_deselection(
        _store(request),
        principal(request),
        deselection_id,
        body.version,
        end_date=body.end_date,
        purpose=body.purpose,
    )
