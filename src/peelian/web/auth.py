"""Sessions, CSRF protection, login throttling and role checks.

- **Session**: server-side (:mod:`peelian.data.accounts.sessions`). The ``peelian_session`` cookie holds
  a random token signed with ``settings.secret_key`` (so a forged cookie is refused before any
  database read); the table keeps only the token's SHA-256. A session ends at logout, when the
  user's password changes or the user is disabled or removed, after ``SESSION_MAX_AGE`` (12 h)
  and after ``PEELIAN_SESSION_IDLE_MINUTES`` of inactivity. Activity is written at most once a
  minute; a session is re-read from the store at most every ``SESSION_RECHECK`` seconds (at once
  after a revocation in this process). Every request also re-checks that the user exists, is
  enabled, and has a known role. Login always starts a new session (no fixation).
- **Cookies**: ``HttpOnly``, ``SameSite=Lax``, and ``Secure`` unless the deployment is loopback
  development (``Settings.cookies_secure``: a setting, never the request's Host header).
- **CSRF**: a logged-in user's token is an HMAC of their session token (bound to the session and
  new at every login); before login a random token in the ``peelian_csrf`` cookie is compared
  with the form's (double submit). Forms send it as ``csrf_token``, scripts as ``X-CSRF-Token``.
- **Login throttling**: exponential backoff per account and per address, decided atomically with
  the attempt before any hashing (:mod:`peelian.data.accounts.login_throttle`, HTTP 429), and at most
  ``PEELIAN_LOGIN_CONCURRENCY`` password checks at once (HTTP 503 beyond, without hashing).
- **Roles**: :mod:`peelian.data.accounts.users` (``require(role)``).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, Signer

from peelian.data.accounts.login_throttle import (
    LoginBusy,
    PasswordGate,
    TooManyAttempts,
    check_blocked,
)
from peelian.data.accounts.sessions import (
    TOUCH_EVERY,
    SessionRecord,
    create_session,
    find_session,
    is_live,
    revocation_generation,
    revoke_session,
    token_hash,
    touch_session,
)
from peelian.data.accounts.users import ROLES, User, role_allows, verify_user
from peelian.errors import AuthError
from peelian.web.errors import LoginRequired
from peelian.web.security_events import client_ip, security_event

__all__ = [
    "CSRF_COOKIE",
    "SESSION_COOKIE",
    "SESSION_MAX_AGE",
    "SESSION_RECHECK",
    "SessionState",
    "SessionUser",
    "audit_rate_limited",
    "check_csrf",
    "client_ip",
    "csrf_token",
    "current_user",
    "login",
    "logout",
    "refuse_if_waiting",
    "require",
]

SESSION_COOKIE = "peelian_session"
CSRF_COOKIE = "peelian_csrf"
SESSION_MAX_AGE = 12 * 3600
#: Seconds a looked-up session is trusted before it is read from the store again.
SESSION_RECHECK = 2.0
_CACHE_SIZE = 4096


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


class SessionState:
    """Per-app state (``app.state.sessions``): the session cache and the password-check gate."""

    def __init__(self, concurrency: int) -> None:
        self.gate = PasswordGate(concurrency)
        self.cache: OrderedDict[str, tuple[float, int, SessionRecord]] = OrderedDict()
        self.lock = threading.Lock()


def _state(request: Request) -> SessionState:
    return request.app.state.sessions


def _secret(request: Request) -> str:
    return str(request.app.state.ctx.settings.secret_key)


def _signer(request: Request) -> Signer:
    return Signer(_secret(request), salt="peelian.session.v2")


def _idle(request: Request) -> dt.timedelta:
    return dt.timedelta(minutes=request.app.state.ctx.settings.session_idle_minutes)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _session(request: Request, token: str) -> SessionRecord | None:
    """The live session of ``token`` (cached briefly; touched at most once a minute)."""
    ctx = request.app.state.ctx
    state = _state(request)
    key = token_hash(token)
    mono, gen, now, idle = time.monotonic(), revocation_generation(), _now(), _idle(request)
    hit = state.cache.get(key)
    record = None
    if hit is not None and mono - hit[0] < SESSION_RECHECK and hit[1] == gen:
        record = hit[2] if is_live(hit[2], idle=idle, now=now) else None
    else:
        record = find_session(ctx.store, token, idle=idle, now=now)
    if record is not None and now - record.last_seen_at >= TOUCH_EVERY:
        touch_session(ctx.store, record.id, now=now)
        record = SessionRecord(
            record.id, record.username, record.created_at, now, record.expires_at
        )
        hit = None
    with state.lock:
        if record is None:
            state.cache.pop(key, None)
        elif hit is None or hit[2] is not record:
            state.cache[key] = (mono, gen, record)
            state.cache.move_to_end(key)
            while len(state.cache) > _CACHE_SIZE:
                state.cache.popitem(last=False)
    return record


def _cookie_token(request: Request) -> str | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw or len(raw) > 256:
        return None
    try:
        return _signer(request).unsign(raw).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def current_user(request: Request) -> SessionUser | None:
    """The user of this request's live session, or None (cached on ``request.state``)."""
    if hasattr(request.state, "user"):
        return request.state.user
    user = None
    token = _cookie_token(request)
    record = _session(request, token) if token else None
    if record is not None:
        row = request.app.state.ctx.user_row(record.username)
        if row is not None and row.enabled and row.role in ROLES:
            user = SessionUser(row.username, row.role)
            request.state.session_token = token
    request.state.user = user
    return user


def require(role: str = "viewer") -> Callable[[Request], Any]:
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


def _bound_token(request: Request, session_token: str) -> str:
    mac = hmac.new(_secret(request).encode(), b"csrf|" + session_token.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def csrf_token(request: Request, response: Response | None = None) -> str:
    """This client's CSRF token: bound to the session when logged in, else the random token
    of the ``peelian_csrf`` cookie (set on ``response``, or by the middleware, if new)."""
    if current_user(request) is not None:
        return _bound_token(request, request.state.session_token)
    token = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "new_csrf", None)
    if not token:
        token = secrets.token_urlsafe(32)
        request.state.new_csrf = token
    if response is not None and request.cookies.get(CSRF_COOKIE) != token:
        _set_cookie(request, response, CSRF_COOKIE, token)
    return token


def check_csrf(request: Request, submitted: str | None, *, login_form: bool = False) -> None:
    """Refuse (403) a state-changing request whose form/header token is not this session's
    (or, before login, does not match the ``peelian_csrf`` cookie). The login form
    (``login_form=True``) also accepts the pre-login token when a session is still open."""
    given = submitted or request.headers.get("x-csrf-token") or ""
    expected = [request.cookies.get(CSRF_COOKIE) or ""]
    if current_user(request) is not None:
        bound = _bound_token(request, request.state.session_token)
        expected = [bound, *expected] if login_form else [bound]
    ok = any(e and hmac.compare_digest(e.encode(), given.encode()) for e in expected)
    if not given or not ok:
        raise AuthError(
            "The form's security token is missing or out of date (CSRF check).",
            "Reload the page and submit the form again.",
        )


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.app.state.ctx.settings.cookies_secure,
        path="/",
    )


def login(request: Request, response: Response, username: str, password: str) -> User:
    """Throttle, check the password and, on success, start a new session and a new CSRF token
    on ``response``. Raises :class:`RateLimited` (429), :class:`LoginBusy` (503) or
    :class:`AuthError`."""
    ctx = request.app.state.ctx
    ip = client_ip(request)
    try:
        user = verify_user(ctx.store, username, password, ip=ip, gate=_state(request).gate)
    except TooManyAttempts as exc:
        audit_rate_limited(request, username, exc)
        raise
    except LoginBusy:
        security_event(request, "login.busy", username=username, per_address=True)
        raise
    old = _cookie_token(request)
    if old:
        revoke_session(ctx.store, old, reason="new login")
    ctx.forget_user(user.username)
    token = create_session(ctx.store, user.username, ip=ip)
    _set_cookie(request, response, SESSION_COOKIE, _signer(request).sign(token).decode())
    _set_cookie(request, response, CSRF_COOKIE, _bound_token(request, token))
    return user


def refuse_if_waiting(request: Request, username: str) -> None:
    """Raise :class:`RateLimited` at once, from memory (no lock, no store, no thread), if this
    account or address is known to be inside its backoff wait: the cheap path of a flood."""
    check_blocked(request.app.state.ctx.store, username, client_ip(request))


def audit_rate_limited(request: Request, username: str, exc: TooManyAttempts) -> None:
    """Audit a throttled login (repeats from one address within seconds are summarised)."""
    security_event(
        request,
        "login.rate_limited",
        username=username,
        detail={"retry_after": exc.retry_after},
        per_address=True,
    )


def logout(request: Request, response: Response) -> None:
    """End the session: revoked in the store, cookies deleted, the logout audited."""
    user = current_user(request)
    token = _cookie_token(request)
    if token:
        revoke_session(request.app.state.ctx.store, token, reason="logout")
    if user is not None:
        security_event(request, "logout", username=user.username, coalesce=False)
    secure = request.app.state.ctx.settings.cookies_secure
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="lax")


def template_globals(request: Request) -> dict[str, Any]:
    """What every template needs about the user and the CSRF token."""
    return {"user": current_user(request), "csrf_token": csrf_token(request)}
