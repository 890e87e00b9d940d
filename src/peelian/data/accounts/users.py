"""Dashboard users: add, verify, list, disable and remove them; record login attempts and the
audit log.

Passwords are hashed with argon2id (argon2-cffi's ``PasswordHasher`` with its RFC 9106 "low
memory" defaults); the plain password is never stored or logged. A login is throttled before
any hashing (:mod:`peelian.data.accounts.login_throttle`) and may be given a gate (a semaphore) that caps
how many passwords are checked at once. A password change, disabling or removing a user ends all
their sessions (:func:`peelian.data.accounts.sessions.revoke_sessions`). Roles:

- ``viewer``: reads the dashboard pages and the aggregate JSON API;
- ``analyst``: also downloads exports (CSV/GeoJSON), the report, and sees quarantined rows;
- ``admin``: also manages users and reads the audit log.

    add_user(store, "inspector.jones", "a long passphrase", "analyst")
    user = verify_user(store, "inspector.jones", "a long passphrase")   # User or AuthError
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from peelian.data.accounts.login_throttle import (
    LoginBusy,
    PasswordGate,
    finish_attempt,
    reserve_attempt,
)
from peelian.data.accounts.sessions import revoke_sessions
from peelian.data.store import Store
from peelian.data.tables import login_attempts, users
from peelian.errors import AuthError, NotFoundError, ParameterError

__all__ = [
    "DEMO_USERNAME",
    "MIN_PASSWORD_LENGTH",
    "PAGE_LEVEL",
    "ROLES",
    "User",
    "add_user",
    "audit",
    "ensure_demo_user",
    "get_user",
    "list_audit",
    "list_users",
    "recent_failures",
    "record_login_attempt",
    "remove_user",
    "revoke_sessions",
    "role_allows",
    "set_enabled",
    "set_password",
    "verify_user",
]

#: Roles. The first three form the page hierarchy (viewer < analyst < admin); the casework
#: roles map onto it for the aggregate pages (:data:`PAGE_LEVEL`), and what they may do with
#: casework records is decided by the casework policy (``peelian.casework.policy``).
ROLES: tuple[str, ...] = (
    "viewer",
    "analyst",
    "admin",
    "supervisor",
    "safeguarding",
    "partner",
    "auditor",
)
#: Each role's level on the page hierarchy: supervisor and safeguarding count as analyst,
#: auditor and partner as viewer (partners see only aggregate pages; casework records only
#: through a live data-sharing agreement).
PAGE_LEVEL: dict[str, int] = {
    "viewer": 1,
    "partner": 1,
    "auditor": 1,
    "analyst": 2,
    "supervisor": 2,
    "safeguarding": 2,
    "admin": 3,
}
MIN_PASSWORD_LENGTH = 10
DEMO_USERNAME = "demo"
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,63}$")
_HASHER = PasswordHasher()
#: A hash of a random password, verified against when the user does not exist, so a login with
#: an unknown username takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class User:
    """A dashboard user (never carries the password hash out of this module)."""

    id: int
    username: str
    role: str
    enabled: bool
    created_at: dt.datetime
    last_login_at: dt.datetime | None

    def allows(self, role: str) -> bool:
        """True if this user's role is at least ``role``."""
        return role_allows(self.role, role)


def role_allows(have: str, need: str) -> bool:
    """True if role ``have`` includes the permissions of role ``need``.

    For ``need`` in the page hierarchy (viewer, analyst, admin) this compares
    :data:`PAGE_LEVEL`; any other ``need`` (e.g. ``auditor``) is met by that role or admin.
    """
    if have not in PAGE_LEVEL or need not in PAGE_LEVEL:
        return False
    if need in ("viewer", "analyst", "admin"):
        return PAGE_LEVEL[have] >= PAGE_LEVEL[need]
    return have in (need, "admin")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise ParameterError(
            f"The role must be one of {', '.join(ROLES)}. Got {role!r}.",
            "viewer reads, analyst also exports and downloads reports, admin manages users.",
        )


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ParameterError(
            f"The password is too short ({len(password)} characters); "
            f"at least {MIN_PASSWORD_LENGTH} are needed.",
            "Use a passphrase of several words.",
        )


def _user(row: Any) -> User:
    return User(
        id=int(row.id),
        username=row.username,
        role=row.role,
        enabled=bool(row.enabled),
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def add_user(
    store: Store, username: str, password: str, role: str, *, actor: str | None = None
) -> User:
    """Create a user with an argon2id password hash; :class:`ParameterError` if it exists."""
    if not _USERNAME.match(username or ""):
        raise ParameterError(
            f"The username {username!r} is not valid.",
            "Use 2-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit.",
        )
    _check_role(role)
    _check_password(password)
    now = _now()
    try:
        with store.begin() as conn:
            conn.execute(
                insert(users),
                {
                    "username": username,
                    "password_hash": _HASHER.hash(password),
                    "role": role,
                    "enabled": True,
                    "created_at": now,
                },
            )
            _audit(conn, actor, "user.add", username, None, {"role": role})
    except IntegrityError as exc:
        raise ParameterError(
            f"A user named {username!r} already exists.",
            "Choose another name, or remove the user first with `peelian users remove`.",
        ) from exc
    return get_user(store, username)


def get_user(store: Store, username: str) -> User:
    """The user named ``username``; :class:`NotFoundError` if there is none."""
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    if row is None:
        raise NotFoundError(
            f"There is no user named {username!r}.", "List users with `peelian users list`."
        )
    return _user(row)


def list_users(store: Store) -> list[User]:
    """All users, by username."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(users).order_by(users.c.username)).all()
    return [_user(r) for r in rows]


def remove_user(store: Store, username: str, *, actor: str | None = None) -> None:
    """Delete a user and end all their sessions."""
    with store.begin() as conn:
        n = conn.execute(delete(users).where(users.c.username == username)).rowcount
        if not n:
            raise NotFoundError(
                f"There is no user named {username!r}.", "List users with `peelian users list`."
            )
        ended = revoke_sessions(conn, username, reason="removed")
        _audit(conn, actor, "user.remove", username, None, {"sessions_revoked": ended})


def set_password(store: Store, username: str, password: str, *, actor: str | None = None) -> None:
    """Replace a user's password and end all their sessions (they log in again)."""
    _check_password(password)
    with store.begin() as conn:
        n = conn.execute(
            update(users)
            .where(users.c.username == username)
            .values(password_hash=_HASHER.hash(password))
        ).rowcount
        if not n:
            raise NotFoundError(
                f"There is no user named {username!r}.", "List users with `peelian users list`."
            )
        ended = revoke_sessions(conn, username, reason="password")
        _audit(conn, actor, "user.password", username, None, {"sessions_revoked": ended})


def set_enabled(store: Store, username: str, enabled: bool, *, actor: str | None = None) -> None:
    """Enable or disable a user; disabling ends all their sessions."""
    with store.begin() as conn:
        n = conn.execute(
            update(users).where(users.c.username == username).values(enabled=enabled)
        ).rowcount
        if not n:
            raise NotFoundError(
                f"There is no user named {username!r}.", "List users with `peelian users list`."
            )
        detail: dict[str, Any] = {}
        if not enabled:
            detail["sessions_revoked"] = revoke_sessions(conn, username, reason="disabled")
        _audit(conn, actor, "user.enable" if enabled else "user.disable", username, None, detail)


def verify_user(
    store: Store,
    username: str,
    password: str,
    *,
    ip: str = "-",
    gate: PasswordGate | None = None,
) -> User:
    """The user if ``password`` is theirs, else :class:`AuthError` (the same message whether the
    user exists or not).

    First reserves the attempt with the throttle (:class:`TooManyAttempts`, HTTP 429, without
    hashing); then takes a slot of ``gate`` if given (:class:`LoginBusy`, HTTP 503, without
    hashing, when no slot frees in time; the attempt counts as a failure); then checks the
    password and records the outcome and, on success, the login."""
    attempt = reserve_attempt(store, username, ip)
    if gate is not None and not gate.enter():
        # kept as a failure: a flood refused here still spends its throttle allowance
        finish_attempt(store, attempt, success=False)
        raise LoginBusy(
            "The server is busy checking other logins.", "Try again in a second or two."
        )
    try:
        row, ok = _check_password_hash(store, username, password)
    finally:
        if gate is not None:
            gate.leave()
    now = _now()
    with store.begin() as conn:
        # the outcome's time: a failure's backoff runs from when the failure was known
        conn.execute(
            update(login_attempts).where(login_attempts.c.id == attempt).values(success=ok, at=now)
        )
        if ok:
            conn.execute(update(users).where(users.c.id == row.id).values(last_login_at=now))
            if _HASHER.check_needs_rehash(row.password_hash):
                conn.execute(
                    update(users)
                    .where(users.c.id == row.id)
                    .values(password_hash=_HASHER.hash(password))
                )
        _audit(conn, username[:64], "login" if ok else "login.failed", None, ip, None)
    if not ok:
        raise AuthError(
            "The username or password is not right.",
            "Check both and try again; ask an admin to reset a forgotten password.",
        )
    return get_user(store, username)


def _check_password_hash(store: Store, username: str, password: str) -> tuple[Any, bool]:
    """(the user's row or None, whether ``password`` is right and the user enabled)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.username == username)).first()
    try:
        ok: bool = _HASHER.verify(row.password_hash if row is not None else _DUMMY_HASH, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        ok = False
    return row, bool(ok and row is not None and row.enabled)


def record_login_attempt(store: Store, username: str, ip: str, success: bool) -> None:
    """Record a login attempt (``verify_user`` does this itself)."""
    with store.begin() as conn:
        conn.execute(
            insert(login_attempts),
            {"username": username[:64], "ip": ip[:64], "at": _now(), "success": success},
        )


def recent_failures(store: Store, username: str, ip: str, window: dt.timedelta) -> int:
    """Failed logins for this username from this IP within ``window`` since the last success."""
    since = _now() - window
    with store.engine.connect() as conn:
        last_ok = conn.execute(
            select(func.max(login_attempts.c.at)).where(
                login_attempts.c.username == username[:64],
                login_attempts.c.ip == ip[:64],
                login_attempts.c.success.is_(True),
                login_attempts.c.at >= since,
            )
        ).scalar()
        return int(
            conn.execute(
                select(func.count()).where(
                    login_attempts.c.username == username[:64],
                    login_attempts.c.ip == ip[:64],
                    login_attempts.c.success.is_(False),
                    login_attempts.c.at >= (last_ok or since),
                )
            ).scalar_one()
        )


def _audit(
    conn: Any,
    username: str | None,
    action: str,
    target: str | None,
    ip: str | None,
    detail: dict[str, Any] | None,
) -> None:
    from peelian.data.audit import append

    append(conn, username, action, target=target, ip=ip, detail=detail)


def audit(
    store: Store,
    username: str | None,
    action: str,
    *,
    target: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    record_kind: str | None = None,
    record_id: str | int | None = None,
    purpose: str | None = None,
) -> None:
    """Append one entry to the tamper-evident audit log (who did what, to what, from where,
    why); see :mod:`peelian.data.audit`."""
    from peelian.data.audit import record

    record(
        store,
        username,
        action,
        target=target,
        ip=ip,
        detail=detail,
        record_kind=record_kind,
        record_id=record_id,
        purpose=purpose,
    )


def list_audit(store: Store, *, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Audit entries, newest first."""
    from peelian.data.audit import search

    return search(store, limit=limit, offset=offset)


def ensure_demo_user(store: Store, *, password: str | None = None) -> tuple[str, str]:
    """Create (or reset) the demo login, an admin named ``demo``; returns (username, password).

    ``peelian demo`` calls this and prints the login. The password is random unless given.
    """
    password = password or secrets.token_urlsafe(12)
    try:
        get_user(store, DEMO_USERNAME)
    except NotFoundError:
        add_user(store, DEMO_USERNAME, password, "admin", actor="peelian demo")
    else:
        set_password(store, DEMO_USERNAME, password, actor="peelian demo")
    return DEMO_USERNAME, password
