"""``/login`` and ``/logout`` (forms with CSRF tokens; login attempts are throttled with
exponential backoff and a cap on concurrent password checks, see :mod:`peelian.web.auth`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from peelian.errors import AuthError
from peelian.web.auth import (
    audit_rate_limited,
    check_csrf,
    csrf_token,
    current_user,
    login,
    logout,
    refuse_if_waiting,
)
from peelian.web.errors import LoginBusy, RateLimited
from peelian.web.pages._helpers import OGL

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths (no open redirect to another host)."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


def _form(
    request: Request, *, error: str | None, status: int, next_url: str, username: str = ""
) -> Response:
    return request.app.state.templates.TemplateResponse(
        request,
        "login.html",
        {
            "title": "Log in",
            "error": error,
            "next": next_url,
            "username": username,
            "csrf_token": csrf_token(request),
            "user": None,
            "ogl": OGL,
        },
        status_code=status,
    )


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    if current_user(request) is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return _form(request, error=None, status=200, next_url=_safe_next(next))


@router.post("/login")
async def login_submit(
    request: Request,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    csrf_token_field: Annotated[str, Form(alias="csrf_token")] = "",
    next: Annotated[str, Form()] = "/",
) -> Response:
    check_csrf(request, csrf_token_field, login_form=True)
    target = _safe_next(next)
    response = RedirectResponse(target, status_code=303)
    try:
        try:  # a login known to be waiting is refused here, without a thread or the store
            refuse_if_waiting(request, username.strip())
        except RateLimited as exc:
            await run_in_threadpool(audit_rate_limited, request, username.strip(), exc)
            raise
        await run_in_threadpool(login, request, response, username.strip(), password)
    except (RateLimited, LoginBusy) as exc:
        resp = _form(
            request,
            error=f"{exc.message} {exc.hint}",
            status=exc.http_status,
            next_url=target,
            username=username,
        )
        resp.headers["Retry-After"] = str(exc.retry_after)
        return resp
    except AuthError as exc:
        return _form(
            request,
            error=f"{exc.message} {exc.hint}",
            status=401,
            next_url=target,
            username=username,
        )
    return response


@router.post("/logout")
def logout_submit(
    request: Request, csrf_token_field: Annotated[str, Form(alias="csrf_token")] = ""
) -> Response:
    check_csrf(request, csrf_token_field)
    response = RedirectResponse("/login", status_code=303)
    logout(request, response)
    return response
