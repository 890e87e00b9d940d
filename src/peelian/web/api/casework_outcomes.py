"""``/api/casework/.../outcomes``: outcome tracking of interventions and referrals as JSON
(issue 14 item 3; :mod:`peelian.casework.outcomes`).

A person's outcomes are person-level: they are **POSTs with the purpose in the body** (so the
purpose never lands in a URL or an access log), need the ``X-CSRF-Token`` header, the right to
read the record and people, and are audited. A place's outcomes need no purpose (same POST, the
purpose may be left out). The summary per tier and type is a GET (``?format=csv`` for the CSV,
which needs the export right and is audited); person-derived small counts are hidden for roles
that do not see them (:func:`peelian.web.services.disclosure.hidden_below`). The rules of each
route are in :data:`peelian.web.api.casework.ROUTE_POLICY`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, Field

from peelian.web.api._params import MAX_ID
from peelian.web.api.casework import _CSRF, _LOGIN, _R, csv_response, principal

__all__ = ["router"]

router = APIRouter(prefix="/api/casework", tags=["casework"])
InterventionId = Annotated[int, Path(ge=1, le=MAX_ID)]
ReferralId = Annotated[int, Path(ge=1, le=MAX_ID)]


class OutcomePurpose(BaseModel):
    purpose: str | None = Field(default=None, max_length=2000)


class ReferralOutcomePurpose(BaseModel):
    purpose: str = Field(min_length=1, max_length=2000)


def _store(request: Request) -> Any:
    return request.app.state.ctx.store


@router.post(
    "/interventions/{intervention_id}/outcomes",
    summary="An intervention's outcomes before and after (a person's need a purpose; audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_intervention_outcomes(
    request: Request, intervention_id: InterventionId, body: OutcomePurpose
) -> dict[str, Any]:
    from peelian.casework.outcomes import intervention_outcomes

    return intervention_outcomes(
        _store(request), principal(request), intervention_id, purpose=body.purpose
    )


@router.post(
    "/referrals/{referral_id}/outcomes",
    summary="The referred person's offending and victimisation before and after (audited)",
    dependencies=[_LOGIN, _CSRF],
    responses=_R,
)
def post_referral_outcomes(
    request: Request, referral_id: ReferralId, body: ReferralOutcomePurpose
) -> dict[str, Any]:
    from peelian.casework.outcomes import referral_outcomes

    return referral_outcomes(_store(request), principal(request), referral_id, purpose=body.purpose)


@router.get(
    "/outcomes/summary",
    summary="Outcomes per prevention tier and intervention type (CSV with ?format=csv)",
    dependencies=[_LOGIN],
    responses={
        **_R,
        200: {
            "description": "The summary (JSON), or its rows as CSV with ?format=csv.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
    },
)
def get_outcome_summary(
    request: Request,
    format: Annotated[Literal["json", "csv"], Query()] = "json",
    level: Annotated[float, Query(ge=0.5, le=0.999)] = 0.95,
) -> Any:
    from peelian.casework.outcomes_summary import OUTCOME_COLUMNS, outcome_rows, outcome_summary
    from peelian.web.services.disclosure import hidden_below

    hide = hidden_below(request.app.state.ctx, request.state.user)
    summary = outcome_summary(
        _store(request),
        principal(request),
        hide_below=hide,
        level=level,
        export=format == "csv",
    )
    if format == "csv":
        return csv_response(outcome_rows(summary), OUTCOME_COLUMNS, "outcomes-summary.csv")
    return summary
