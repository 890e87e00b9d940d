"""An area's profile: where it sits, its monthly trend, its categories and its measures."""

from __future__ import annotations

from typing import Any

from peelian.errors import NotFoundError
from peelian.web.context import WebContext
from peelian.web.services import events
from peelian.web.services.areas import area_detail
from peelian.web.services.results import measures_values

__all__ = ["area_profile"]


def area_profile(ctx: WebContext, code: str, hidden_below: int | None = None) -> dict[str, Any]:
    """The area, its monthly event counts, counts per category and its measure values (with
    small person-derived counts hidden below ``hidden_below``, see
    :mod:`peelian.web.services.disclosure`)."""
    area = area_detail(ctx, code)
    trend = events.counts(ctx, by="month", area=code, limit=1000)
    categories = events.counts(ctx, by="category", area=code, limit=1000)
    measures: dict[str, Any]
    try:
        found = measures_values(ctx, area_code=code, limit=1000, hidden_below=hidden_below)
        measures = {
            "items": found["items"],
            "computed": True,
            "small_counts": found["small_counts"],
        }
    except NotFoundError as exc:
        measures = {"items": [], "computed": False, "hint": exc.hint}
    return {
        "area": area,
        "trend": trend["items"],
        "categories": categories["items"],
        "total_events": trend["total_events"],
        "measures": measures,
    }
