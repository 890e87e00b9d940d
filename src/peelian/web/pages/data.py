"""The Data page: what is loaded, ingest batches with reconciliation, the quarantine.

Not cached: a view of person-level quarantined rows by an entitled role is audited each time
(:func:`peelian.web.services.status.quarantine_page`), and commands and server paths are shown
to admins only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from peelian.web.api._params import MAX_ID
from peelian.web.auth import SessionUser
from peelian.web.pages._helpers import add_page
from peelian.web.services import status

__all__ = ["router"]

router = APIRouter()


def data_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    q = request.query_params
    offset = max(0, int(q.get("offset", "0") or 0)) if q.get("offset", "0").isdigit() else 0
    reason = q.get("reason") or None
    admin = user.allows("admin")
    return {
        "title": "Data",
        "status": status.data_status(ctx, admin=admin),
        "batches": status.batches(ctx, limit=20, offset=0, admin=admin),
        "reasons": status.quarantine_reasons(ctx),
        "quarantine": status.quarantine_page(
            ctx,
            reason=reason,
            limit=50,
            offset=offset,
            with_raw=user.allows("analyst"),
            user=user,
        ),
        "reason": reason,
    }


#: The query parameters the page reads (validated and documented).
DATA_QUERY: dict[str, Any] = {
    "offset": Annotated[int | None, Query(ge=0, le=MAX_ID, description="Quarantine rows to skip")],
    "reason": Annotated[str | None, Query(max_length=200, description="Only this reason")],
}

add_page(router, "/data", "data.html", data_page, title="Data", cache=False, query=DATA_QUERY)
