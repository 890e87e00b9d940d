"""Sessions, CSRF protection, login rate limiting and role checks.

- **Session**: a cookie ``peelian_session`` holding the username, signed with
  ``settings.secret_key`` by itsdangerous (``URLSafeTimedSerializer``, salt ``peelian.session``)
  and valid for ``SESSION_MAX_AGE`` seconds; ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` when
  the request came over HTTPS or the app runs in production on a host other than localhost. Every
  request re-checks that the user still exists and is enabled (removing a user ends their
  sessions within seconds).
- **CSRF**: double-submit token. A random token lives in the ``peelian_csrf`` cookie (HttpOnly,
  SameSite=Lax) and in a hidden ``csrf_token`` field of every form (or an ``X-CSRF-Token``
  header); a POST whose two values differ is refused with 403. The token is renewed at login.
- **Rate limit**: at most ``MAX_FAILURES`` failed logins per username and client address within
  ``FAILURE_WINDOW`` (persisted in ``login_attempts``, so it holds across restarts and workers);
  the next attempt is refused with 429 until the window has passed or a login succeeded.
- **Roles**: ``viewer`` < ``analyst`` < ``admin`` (:mod:`peelian.data.users`).
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from peelian.data.users import ROLES, User, recent_failures, role_allows, verify_user
from peelian.errors import AuthError
from peelian.web.errors import LoginRequired, RateLimited

__all__ = [
    "CSRF_COOKIE",
    "FAILURE_WINDOW",
    "MAX_FAILURES",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "SessionUser",
    "check_csrf",
    "csrf_token",
    "current_user",
    "login",
    "logout",
    "require",
]

SESSION_COOKIE = "peelian_session"
CSRF_COOKIE = "peelian_csrf"
SESSION_MAX_AGE = 12 * 3600
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(minutes=15)


class SessionUser:
    """The logged-in user of a request (``request.state.user``)."""

    __slots__ = ("role", "username")

    def __init__(self, username: str, role: str) -> None:
        self.username = username
        self.role = role

    def allows(self, role: str) -> bool:
        return role_allows(self.role, role)

    def to_dict(self) -> dict[str, str]:
        return {"username": self.username, "role": self.role}


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.ctx.settings.secret_key, salt="peelian.session")


def _secure(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    host = (request.url.hostname or "").lower()
    local = host in {"localhost", "127.0.0.1", "::1", "testserver"}
    return request.app.state.ctx.settings.env == "production" and not local


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "-"


def current_user(request: Request) -> SessionUser | None:
    """The user of this request's valid session, or None (cached on ``request.state``)."""
    if hasattr(request.state, "user"):
        return request.state.user  # type: ignore[no-any-return]
    user = None
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        try:
            data = _serializer(request).loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:
            data = None
        if isinstance(data, dict) and isinstance(data.get("u"), str):
            row = request.app.state.ctx.user_row(data["u"])
            if row is not None and row.enabled and row.role in ROLES:
                user = SessionUser(row.username, row.role)
    request.state.user = user
    return user


def require(role: str = "viewer") -> Callable[[Request], SessionUser]:
    """A FastAPI dependency: the logged-in user with at least ``role``, else 401/403."""

    async def dependency(request: Request) -> SessionUser:
        user = current_user(request)
        if user is None:
            raise LoginRequired("You need to log in to see this.", "Log in at /login.")
        if not user.allows(role):
            raise AuthError(
                f"This needs the {role} role; {user.username} is a {user.role}.",
                "Ask an admin to change your role (`peelian users add` with --role).",
            )
        return user

    dependency.__name__ = f"require_{role}"
    return dependency


def csrf_token(request: Request, response: Response | None = None) -> str:
    """This client's CSRF token (set as a cookie on ``response`` if it has none yet)."""
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    if response is not None and request.cookies.get(CSRF_COOKIE) != token:
        _set_cookie(request, response, CSRF_COOKIE, token, max_age=SESSION_MAX_AGE)
    return token


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse (403) a state-changing request whose form/header token does not match the cookie."""
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    given = submitted or request.headers.get("x-csrf-token") or ""
    if not cookie or not given or not hmac.compare_digest(cookie, given):
        raise AuthError(
            "The form's security token is missing or out of date (CSRF check).",
            "Reload the page and submit the form again.",
        )


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )


def login(request: Request, response: Response, username: str, password: str) -> User:
    """Check the rate limit and the password; on success set the session and a fresh CSRF
    token on ``response``. Raises :class:`RateLimited` or :class:`AuthError`."""
    ctx = request.app.state.ctx
    ip = client_ip(request)
    if recent_failures(ctx.store, username, ip, FAILURE_WINDOW) >= MAX_FAILURES:
        raise RateLimited(
            f"Too many failed logins for {username!r} from this address "
            f"({MAX_FAILURES} within {int(FAILURE_WINDOW.total_seconds() // 60)} minutes).",
            "Wait 15 minutes and try again, or ask an admin to reset your password.",
        )
    user = verify_user(ctx.store, username, password, ip=ip)
    ctx.forget_user(user.username)
    _set_cookie(
        request,
        response,
        SESSION_COOKIE,
        _serializer(request).dumps({"u": user.username}),
        max_age=SESSION_MAX_AGE,
    )
    _set_cookie(request, response, CSRF_COOKIE, secrets.token_urlsafe(32), SESSION_MAX_AGE)
    return user


def logout(request: Request, response: Response) -> None:
    """End the session (the cookie is deleted)."""
    response.delete_cookie(SESSION_COOKIE, path="/")


def template_globals(request: Request) -> dict[str, Any]:
    """What every template needs about the user and the CSRF token."""
    return {"user": current_user(request), "csrf_token": csrf_token(request)}
