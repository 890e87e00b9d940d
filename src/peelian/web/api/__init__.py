"""The JSON API, one router per area (``/api/...``). Every endpoint needs a login; errors have
one shape (:mod:`peelian.web.errors`); lists are paged with ``limit`` (max 1000) and ``offset``."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    from peelian.web.api import (
        areas,
        casework,
        casework_import,
        casework_interventions,
        casework_outcomes,
        data,
        events,
        measures,
        people,
        reports,
        results,
        victims,
    )

    return [
        data.router,
        areas.router,
        events.router,
        measures.router,
        results.router,
        reports.router,
        casework.router,
        casework_interventions.router,
        casework_import.router,
        casework_outcomes.router,
        people.router,
        victims.router,
    ]
