"""Server-rendered pages (Jinja2); each also answers as JSON at ``<path>.json`` (STYLE 19)."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["routers"]


def routers() -> list[APIRouter]:
    from peelian.web.pages import (
        admin,
        analysis,
        casework,
        casework_import,
        casework_interventions,
        casework_referrals,
        dashboard,
        data,
        login,
        people,
        victims,
    )

    return [
        login.router,
        dashboard.router,
        analysis.router,
        data.router,
        admin.router,
        casework.router,
        casework_import.router,
        casework_interventions.router,
        casework_referrals.router,
        people.router,
        victims.router,
    ]
