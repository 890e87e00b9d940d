"""The application factory: ``create_app(settings)`` builds a new FastAPI app (nothing at import).

from peelian.config import get_settings
from peelian.web import create_app
app = create_app(get_settings())      # uvicorn.run(app, ...)
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from urllib.parse import urlparse

from fastapi import FastAPI, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peelian import __version__
from peelian.config import Settings
from peelian.data.store import Store, open_store
from peelian.errors import NotFoundError
from peelian.web._robust import RobustMiddleware
from peelian.web.auth import CSRF_COOKIE, SESSION_MAX_AGE, SessionState
from peelian.web.context import WebContext
from peelian.web.errors import install_error_handlers
from peelian.web.pages._helpers import OGL, sparkline_svg, to_json_script

__all__ = ["create_app"]

_HERE = Path(str(resources.files("peelian.web")))
TAGS = [
    {"name": "data", "description": "What is loaded: status, ingest batches, quarantine."},
    {"name": "areas", "description": "Areas, their hierarchy and boundaries."},
    {"name": "events", "description": "Event counts by month, category and area (aggregates)."},
    {"name": "measures", "description": "National Crime Measures with intervals and SPC."},
    {"name": "hotspots", "description": "Gi*, emerging hotspots and KDE results."},
    {"name": "forecasts", "description": "Backtests, forecasts and the Grip patrol plan."},
    {"name": "reports", "description": "The National Crime Measures report (HTML/PDF)."},
    {"name": "pages", "description": "The JSON behind each dashboard page (STYLE 19)."},
]


class _Asset:
    """A static file held in memory with its gzip form and an ETag (for the large vendor JS)."""

    def __init__(self, path: Path, media_type: str) -> None:
        self.path = path
        self.media_type = media_type
        self._raw: bytes | None = None
        self._gz: bytes | None = None
        self.etag = ""

    def response(self, request: Request) -> Response:
        if self._raw is None:
            self._raw = self.path.read_bytes()
            self._gz = gzip.compress(self._raw, compresslevel=6)
            self.etag = '"' + hashlib.sha256(self._raw).hexdigest()[:16] + '"'
        headers = {"Cache-Control": "public, max-age=86400", "ETag": self.etag}
        if request.headers.get("if-none-match") == self.etag:
            return Response(status_code=304, headers=headers)
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(self._gz, media_type=self.media_type, headers=headers)
        return Response(self._raw, media_type=self.media_type, headers=headers)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


def _docs_html() -> str:
    """Swagger UI's page for /docs, served from local assets."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="peelian API",
        swagger_js_url="/vendor/swagger/swagger-ui-bundle.js",
        swagger_css_url="/vendor/swagger/swagger-ui.css",
        swagger_favicon_url="/vendor/swagger/favicon-32x32.png",
        # no deep links: Swagger UI 4 nests their <a> inside each operation's <button>
        swagger_ui_parameters={"deepLinking": False},
    )
    # the page's language, and contrast fixes (axe-core checks /docs, decision 0017)
    html = bytes(page.body).decode().replace("<html>", '<html lang="en-GB">', 1)
    css = '<link type="text/css" rel="stylesheet" href="/static/docs.css">\n'
    return html.replace("<title>", css + "<title>", 1)


def _swagger_dir() -> Path:
    import swagger_ui_bundle

    return Path(swagger_ui_bundle.swagger_ui_path)


def _csp(settings: Settings, *, script_src: str = "'self'") -> str:
    """The Content-Security-Policy: scripts only from this server (no inline script, no eval)."""
    extra = ""
    if settings.tile_url:
        parsed = urlparse(settings.tile_url.replace("{", "").replace("}", ""))
        if parsed.scheme and parsed.netloc:
            extra = f" {parsed.scheme}://{parsed.netloc}"
    return (
        "default-src 'self'; "
        f"script-src {script_src}; "
        "style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data: blob:{extra}; "
        f"connect-src 'self'{extra}; "
        "worker-src 'self' blob:; child-src blob:; object-src 'none'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )


def _inline_script_hashes(html: str) -> str:
    """``'sha256-...'`` sources for each inline ``<script>`` of ``html`` (Swagger UI's start-up
    script), so /docs runs under a CSP without ``'unsafe-inline'``."""
    hashes = []
    for match in re.finditer(r"<script>(.*?)</script>", html, flags=re.S):
        digest = hashlib.sha256(match.group(1).encode()).digest()
        hashes.append(f"'sha256-{base64.b64encode(digest).decode()}'")
    return " ".join(hashes)


#: Paths whose responses keep their own public caching (versioned vendor and static assets).
_PUBLIC_PREFIXES = ("/static/", "/vendor/")


class _HeadersMiddleware:
    """Security headers on every response, ``Cache-Control: no-store`` on everything but the
    public assets, and the CSRF cookie for a client that had none (pure ASGI, cheaper than
    ``BaseHTTPMiddleware``)."""

    def __init__(self, app: ASGIApp, settings: Settings, csp: str, docs_csp: str) -> None:
        self.app = app
        self.headers = [
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "same-origin"),
            ("x-frame-options", "DENY"),
            ("cross-origin-opener-policy", "same-origin"),
            ("permissions-policy", "camera=(), microphone=(), geolocation=(), payment=()"),
        ]
        if settings.hsts:
            self.headers.append(
                ("strict-transport-security", "max-age=31536000; includeSubDomains")
            )
        self.csp = csp
        self.docs_csp = docs_csp
        self.secure = "; Secure" if settings.cookies_secure else ""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for key, value in self.headers:
                    headers.setdefault(key, value)
                headers.setdefault(
                    "content-security-policy", self.docs_csp if path == "/docs" else self.csp
                )
                if not path.startswith(_PUBLIC_PREFIXES):
                    headers.setdefault("cache-control", "no-store")
                new = scope.get("state", {}).get("new_csrf")
                cookies = " ".join(headers.getlist("set-cookie"))
                if new and CSRF_COOKIE not in cookies:
                    headers.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={new}; HttpOnly; Max-Age={SESSION_MAX_AGE}; Path=/; "
                        f"SameSite=lax{self.secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(settings: Settings, store: Store | None = None) -> FastAPI:
    """A new dashboard + API app on ``settings`` (or an already open ``store``).

    Without ``settings.secret_key`` the installation's generated secret is used; a weak secret
    is refused outside loopback development (:meth:`Settings.with_secret`).
    """
    settings = settings.with_secret()
    store = store or open_store(settings.resolved_database_url)
    ctx = WebContext(settings=settings, store=store)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        # Build the expensive caches in the background so the first visitor does not wait.
        threading.Thread(target=ctx.warm, name="peelian-warm", daemon=True).start()
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="peelian",
        version=__version__,
        description="Crime measures, hotspots, forecasts and the data behind them. "
        "Every endpoint needs a login (a session cookie from /login) and answers errors as "
        '`{"error": {"code", "message", "hint"}}`. Contains public sector information '
        "licensed under the Open Government Licence v3.0.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json",
        openapi_tags=TAGS,
    )
    app.state.ctx = ctx
    app.state.sessions = SessionState(settings.login_concurrency)
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    templates.env.globals.update(
        version=__version__,
        tile_url=settings.tile_url,
        sparkline=sparkline_svg,
        to_json=to_json_script,
        ogl=OGL,
    )
    app.state.templates = templates
    install_error_handlers(app)
    app.add_middleware(RobustMiddleware)  # inside the headers: 500s keep the connection

    docs_html = _docs_html()
    docs_csp = _csp(settings, script_src="'self' " + _inline_script_hashes(docs_html))
    app.add_middleware(_HeadersMiddleware, settings=settings, csp=_csp(settings), docs_csp=docs_csp)

    app.mount("/static", StaticFiles(directory=str(_HERE / "static")), name="static")
    plotly_js = _Asset(_plotly_js(), "application/javascript")
    swagger = _swagger_dir()
    swagger_assets = {
        "swagger-ui-bundle.js": _Asset(swagger / "swagger-ui-bundle.js", "application/javascript"),
        "swagger-ui.css": _Asset(swagger / "swagger-ui.css", "text/css"),
        "favicon-32x32.png": _Asset(swagger / "favicon-32x32.png", "image/png"),
    }

    @app.get("/vendor/plotly.min.js", include_in_schema=False)
    def _plotly(request: Request) -> Response:
        return plotly_js.response(request)

    @app.get("/vendor/swagger/{name}", include_in_schema=False)
    def _swagger(name: str, request: Request) -> Response:
        asset = swagger_assets.get(name)
        if asset is None:
            raise NotFoundError(f"There is no Swagger UI asset {name!r}.")
        return asset.response(request)

    @app.get("/docs", include_in_schema=False)
    def _docs() -> HTMLResponse:
        return HTMLResponse(docs_html)

    from peelian.web.api import routers as api_routers
    from peelian.web.openapi30 import install_openapi_30
    from peelian.web.pages import routers as page_routers

    for router in (*api_routers(), *page_routers()):
        app.include_router(router)
    install_openapi_30(app)  # the bundled Swagger UI 4 reads OpenAPI 3.0 only
    return app
