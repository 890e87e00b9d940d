"""``/api/casework/interventions`` and ``/api/casework/referrals``: the interventions registry and
referrals as JSON.

Every endpoint asks the casework policy for the logged-in user (the rules for each route are in
:data:`peelian.web.api.casework.ROUTE_POLICY`). Reads that disclose a person (a referral, or the
target of a person or family intervention) are **POSTs with the purpose in the body**, so neither
the purpose nor a ``person_ref`` filter ever lands in a URL or an access log; they need the
``X-CSRF-Token`` header like every write. Writes name the ``version`` they read (409 if stale).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel, Field

from peelian.casework._vocab import (
    CONSENT,
    INTERVENTION_TYPES,
    REFERRAL_STATUSES,
    TARGET_KINDS,
    TIERS,
)
from peelian.web.api._params import MAX_ID
from peelian.web.api.casework import _CSRF, _LOGIN, _R, _R_CSV, csv_response, principal

__all__ = ["router"]

router = APIRouter(prefix="/api/casework", tags=["casework"])

if TYPE_CHECKING:
    Tier: TypeAlias = str
    InterventionType: TypeAlias = str
    TargetKind: TypeAlias = str
    Consent: TypeAlias = str
    ReferralStatus: TypeAlias = str
else:
    Tier = Literal[tuple(TIERS)]
    InterventionType = Literal[tuple(INTERVENTION_TYPES)]
    TargetKind = Literal[tuple(TARGET_KINDS)]
    Consent = Literal[tuple(CONSENT)]
    ReferralStatus = Literal[tuple(REFERRAL_STATUSES)]
InterventionId = Annotated[int, Path(ge=1, le=MAX_ID)]
ReferralId = Annotated[int, Path(ge=1, le=MAX_ID)]
_Purpose = Field(default=None, max_length=2000)


def _store(request: Request) -> Any:
    return request.app.state.ctx.store


# -- interventions ---------------------------------------------------------------------------


class InterventionIn(BaseModel):
    title: str = Field(min_length=3, max_length=200)
    tier: Tier
    intervention_type: InterventionType
    target_kind: TargetKind
    target_ref: str = Field(min_length=1, max_length=64)
    start_date: dt.date
    end_date: dt.date | None = None
    owner: str | None = Field(default=None, max_length=64)
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    funding_source: str | None = Field(default=None, max_length=200)
    problem_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    description: str = Field(default="", max_length=10_000)
    purpose: str | None = _Purpose


class InterventionUpdate(BaseModel):
    version: int = Field(ge=1, le=MAX_ID)
    purpose: str | None = _Purpose
    title: str | None = Field(default=None, min_length=3, max_length=200)
    tier: Tier | None = None
    intervention_type: InterventionType | None = None
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    owner: str | None = Field(default=None, max_length=64)
    funding_source: str | None = Field(default=None, max_length=200)
    problem_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    description: str | None = Field(default=None, max_length=10_000)


class PurposeIn(BaseModel):
    purpose: str = Field(min_length=1, max_length=2000)


INTERVENTION_COLUMNS = [
    "id",
    "title",
    "tier",
    "intervention_type",
    "target_kind",
    "target_ref",
    "target_hidden",
    "problem_id",
    "start_date",
    "end_date",
    "owner",
    "organisation",
    "funding_source",
    "version",
]


@router.get(
    "/interventions",
    summary="Interventions the user may read (person targets hidden)",
    dependencies=[_LOGIN],
    responses=_R,
)
def get_interventions(
    request: Request,
    tier: Annotated[Tier | None, Query()] = None,
    intervention_type: Annotated[InterventionType | None, Query()] = None,
    target_kind: Annotated[TargetKind | None, Query()] = None,
    active_on: dt.date | None = None,
    text: Annotated[str | None, Query(max_length=100)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> dict[str, Any]:
    from peelian.casework.interventions import list_interventions

    return list_interventions(
        _store(request),
        principal(request),
        tier=tier,
        intervention_type=intervention_type,
        target_kind=target_kind,
        active_on=active_on,
        text=text,
        limit=limit,
        offset=offset,
    )


@router.get(
    "/interventions/volumes",
    summary="Interventions per tier and type",
    dependencies=[_LOGIN],
    responses=_R,
)
def get_intervention_volumes(request: Request, on: dt.date | None = None) -> dict[str, Any]:
    from peelian.casework.interventions import volumes

    return {"volumes": volumes(_store(request), principal(request), on=on)}


@router.get(
    "/interventions.csv",
    summary="Interventions as CSV, without person targets (audited)",
    dependencies=[_LOGIN],
    response_class=Response,
    responses=_R_CSV,
)
def get_interventions_csv(request: Request) -> Response:
    from peelian.casework.interventions import list_interventions
    from peelian.casework.policy import require as policy_require
    from peelian.data.audit import record

    user = principal(request)
    policy_require(user, "export", "intervention")
    rows = list_interventions(_store(request), user, limit=1_000_000)["rows"]
    record(
        _store(request),
        user.username,
        "intervention.export",
        record_kind="intervention",
        detail={"rows": len(rows)},
    )
    return csv_response(rows, INTERVENTION_COLUMNS, "interventions.csv")


@router.post(
    "/interventions",
    summary="Register an intervention",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_intervention(request: Request, body: InterventionIn) -> dict[str, Any]:
    from peelian.casework.interventions import register_intervention

    return register_intervention(_store(request), principal(request), **body.model_dump())


@router.post(
    "/interventions/{intervention_id}/read",
    summary="One intervention; a person or family target is shown with the purpose (audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_intervention_read(
    request: Request, intervention_id: InterventionId, body: PurposeIn
) -> dict[str, Any]:
    from peelian.casework.interventions import get_intervention

    return get_intervention(
        _store(request), principal(request), intervention_id, purpose=body.purpose
    )


@router.post(
    "/interventions/{intervention_id}",
    summary="Change an intervention",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_intervention_update(
    request: Request, intervention_id: InterventionId, body: InterventionUpdate
) -> dict[str, Any]:
    from peelian.casework.interventions import update_intervention

    fields = body.model_dump(exclude={"version"})
    return update_intervention(
        _store(request), principal(request), intervention_id, body.version, **fields
    )


# -- referrals -------------------------------------------------------------------------------


class ReferralIn(BaseModel):
    person_ref: str = Field(min_length=3, max_length=64)
    organisation_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=10_000)
    consent: Consent
    consent_note: str | None = Field(default=None, max_length=4000)
    referred_on: dt.date | None = None
    intervention_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    purpose: str = Field(min_length=1, max_length=2000)


class ReferralSearch(BaseModel):
    purpose: str = Field(min_length=1, max_length=2000)
    status: ReferralStatus | None = None
    organisation_id: int | None = Field(default=None, ge=1, le=MAX_ID)
    person_ref: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=200, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_ID)


class ReferralUpdate(BaseModel):
    version: int = Field(ge=1, le=MAX_ID)
    purpose: str = Field(min_length=1, max_length=2000)
    status: ReferralStatus | None = None
    outcome: str | None = Field(default=None, max_length=10_000)
    reason: str | None = Field(default=None, max_length=10_000)
    intervention_id: int | None = Field(default=None, ge=1, le=MAX_ID)


@router.post("/referrals", summary="Make a referral", dependencies=[_LOGIN, _CSRF], responses=_R)
def post_referral(request: Request, body: ReferralIn) -> dict[str, Any]:
    from peelian.casework.referrals import make_referral

    return make_referral(_store(request), principal(request), **body.model_dump())


@router.post(
    "/referrals/search",
    summary="Referrals the user may read (needs a purpose; audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_referral_search(request: Request, body: ReferralSearch) -> dict[str, Any]:
    from peelian.casework.referrals import list_referrals

    return list_referrals(_store(request), principal(request), **body.model_dump())


@router.post(
    "/referrals/export",
    summary="Referrals as CSV (needs a purpose; audited)",
    dependencies=[_LOGIN, _CSRF],
    response_class=Response,
    responses=_R_CSV,
)
def post_referral_export(request: Request, body: PurposeIn) -> Response:
    from peelian.casework.referrals import EXPORT_COLUMNS, export_referrals

    rows = export_referrals(_store(request), principal(request), purpose=body.purpose)
    return csv_response(rows, EXPORT_COLUMNS, "referrals.csv")


@router.post(
    "/referrals/{referral_id}/read",
    summary="One referral (needs a purpose; audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_referral_read(
    request: Request, referral_id: ReferralId, body: PurposeIn
) -> dict[str, Any]:
    from peelian.casework.referrals import get_referral

    return get_referral(_store(request), principal(request), referral_id, purpose=body.purpose)


@router.post(
    "/referrals/{referral_id}",
    summary="Move a referral's status or record its outcome",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_referral_update(
    request: Request, referral_id: ReferralId, body: ReferralUpdate
) -> dict[str, Any]:
    from peelian.casework.referrals import update_referral

    fields = body.model_dump(exclude={"version"})
    return update_referral(_store(request), principal(request), referral_id, body.version, **fields)
