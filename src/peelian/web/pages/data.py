"""The Data page: what is loaded, ingest batches with reconciliation, the quarantine."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

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
    return {
        "title": "Data",
        "status": status.data_status(ctx),
        "batches": status.batches(ctx, limit=20, offset=0),
        "reasons": status.quarantine_reasons(ctx),
        "quarantine": status.quarantine_page(
            ctx, reason=reason, limit=50, offset=offset, with_raw=user.allows("analyst")
        ),
        "reason": reason,
    }


add_page(router, "/data", "data.html", data_page, title="Data")
