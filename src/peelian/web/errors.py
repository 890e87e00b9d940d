"""One error shape everywhere: ``{"error": {"code", "message", "hint"}}`` (from
:meth:`peelian.errors.PeelianError.to_dict`), for domain errors, 404/405/422/500 and auth errors.

API paths (``/api/...``, ``*.json``, ``/openapi.json``) always answer JSON. Page requests get an
HTML page with the same three fields; a page that needs a login redirects to ``/login``.
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from peelian.data.accounts.login_throttle import LoginBusy, TooManyAttempts
from peelian.errors import AuthError, PeelianError

__all__ = [
    "LoginBusy",
    "LoginRequired",
    "RateLimited",
    "error_body",
    "install_error_handlers",
    "wants_json",
]

log = logging.getLogger(__name__)


class LoginRequired(AuthError):
    """No valid session: log in first."""

    http_status = 401
    code = "unauthenticated"


#: Too many failed logins for this account or from this address (HTTP 429, ``retry_after``).
RateLimited = TooManyAttempts


_HTTP_CODES = {
    400: ("bad_request", "The request is malformed.", None),
    401: ("unauthenticated", "You need to log in.", "Log in at /login."),
    403: ("forbidden", "You do not have permission for this.", None),
    404: (
        "not_found",
        "There is nothing at this address.",
        "See /docs for the API and the navigation bar for the pages.",
    ),
    405: ("method_not_allowed", "This address does not accept this method.", "See /docs."),
    413: ("too_large", "The request is too large.", None),
}


def error_body(code: str, message: str, hint: str | None = None) -> dict[str, Any]:
    """The error shape, as a dict."""
    return {"error": {"code": code, "message": message, "hint": hint}}


def wants_json(request: Request) -> bool:
    """True for API paths and for clients that do not ask for HTML."""
    path = request.url.path
    if path.startswith("/api/") or path.endswith(".json") or path == "/docs":
        return True
    return "text/html" not in request.headers.get("accept", "")


def _respond(request: Request, status: int, body: dict[str, Any]) -> Response:
    if status == 401 and not wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    if wants_json(request):
        return JSONResponse(body, status_code=status)
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {"status": status, "error": body["error"], "user": getattr(request.state, "user", None)},
        status_code=status,
    )


def _validation_message(exc: RequestValidationError) -> tuple[str, str]:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path", "body"))
        parts.append(f"'{loc}': {err.get('msg', 'invalid')}")
    message = "The request has invalid parameters: " + "; ".join(parts) + "."
    return message, "See /docs for each parameter's type and allowed values."


def _audit_forbidden(request: Request, exc: AuthError) -> None:
    """Audit a 403 with who, where from and what was refused (repeats are summarised)."""
    from peelian.web.security_events import security_event

    user = getattr(request.state, "user", None)
    security_event(
        request,
        "forbidden",
        username=getattr(user, "username", None),
        target=f"{request.method} {request.url.path}",
        detail={"reason": exc.message[:200]},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers that give every error the same shape."""

    @app.exception_handler(PeelianError)
    async def _peelian(request: Request, exc: PeelianError) -> Response:
        if isinstance(exc, AuthError) and exc.http_status == 403:
            await run_in_threadpool(_audit_forbidden, request, exc)
        response = _respond(request, exc.http_status, {"error": exc.to_dict()})
        if isinstance(exc, (TooManyAttempts, LoginBusy)):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        message, hint = _validation_message(exc)
        return _respond(request, 422, error_body("invalid_parameter", message, hint))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code, message, hint = _HTTP_CODES.get(
            exc.status_code, ("http_error", str(exc.detail), None)
        )
        if isinstance(exc.detail, str) and exc.status_code not in (404, 405):
            message = exc.detail
        return _respond(request, exc.status_code, error_body(code, message, hint))

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        log.exception("internal error on %s %s", request.method, request.url.path)
        body = error_body(
            "internal_error",
            f"Internal error ({type(exc).__name__}). This is a bug in peelian.",
            "Please report it with the address you opened; the server log has the details.",
        )
        return _respond(request, 500, body)
