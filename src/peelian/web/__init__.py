"""peelian.web: the dashboard and JSON API (FastAPI, server-rendered Jinja2 pages, Plotly).

    from peelian.config import get_settings
    from peelian.web import create_app
    app = create_app(get_settings())

Nothing is created at import time. See ``docs/guide/dashboard.md``.
"""

from __future__ import annotations

from peelian.web._app import create_app

__all__ = ["create_app"]
