"""Server-side login sessions: created at login, revocable, with an absolute and an idle limit.

The cookie carries a random 256-bit token; the ``sessions`` table keeps only its SHA-256, so a
copy of the database (or a backup) cannot be replayed as cookies (OWASP ASVS 3.2, 3.3).

- **Absolute lifetime**: ``SESSION_MAX_AGE`` (12 hours) from login, whatever the activity.
- **Idle timeout**: a session unused for longer than the deployment's idle limit ends
  (``PEELIAN_SESSION_IDLE_MINUTES``, default 30). ``last_seen_at`` is written at most once per
  ``TOUCH_EVERY`` so a busy dashboard does not write on every request.
- **Revocation**: :func:`revoke_session` (logout) and :func:`revoke_sessions` (every session of
  a user: password change, disabling or removing the user). Revoked rows are kept (with the
  reason) until :func:`purge_sessions` removes old ones.

    token = create_session(store, "inspector.jones", ip="10.0.0.1")   # the cookie value
    found = find_session(store, token, idle=dt.timedelta(minutes=30))  # SessionRecord or None
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, or_, select, update
from sqlalchemy.engine import Connection

from peelian.data.store import Store
from peelian.data.tables import sessions

__all__ = [
    "SESSION_MAX_AGE",
    "TOUCH_EVERY",
    "SessionRecord",
    "create_session",
    "find_session",
    "is_live",
    "list_sessions",
    "purge_sessions",
    "revocation_generation",
    "revoke_session",
    "revoke_sessions",
    "token_hash",
    "touch_session",
]

#: Absolute session lifetime (ASVS 3.3.2 allows up to 12 hours for L2 re-authentication).
SESSION_MAX_AGE = dt.timedelta(hours=12)
#: ``last_seen_at`` is updated at most this often (so the idle limit has this much slack).
TOUCH_EVERY = dt.timedelta(seconds=60)

# Bumped on every revocation in this process, so in-process caches of sessions drop them at once.
_generation = itertools.count(1)
_current = [0]


@dataclass(frozen=True)
class SessionRecord:
    """A live session (never carries the token itself)."""

    id: int
    username: str
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def token_hash(token: str) -> str:
    """The SHA-256 (hex) under which a session token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


def revocation_generation() -> int:
    """A number that changes whenever this process revokes a session (for caches)."""
    return _current[0]


def _bump() -> None:
    _current[0] = next(_generation)


def create_session(store: Store, username: str, *, ip: str | None = None) -> str:
    """Start a session for ``username``; returns the token (the cookie value)."""
    token = secrets.token_urlsafe(32)
    now = _now()
    with store.begin() as conn:
        conn.execute(
            insert(sessions),
            {
                "token_hash": token_hash(token),
                "username": username,
                "created_at": now,
                "last_seen_at": now,
                "expires_at": now + SESSION_MAX_AGE,
                "ip": (ip or "")[:64] or None,
            },
        )
    return token


def find_session(
    store: Store, token: str, *, idle: dt.timedelta, now: dt.datetime | None = None
) -> SessionRecord | None:
    """The live session of ``token``, or None if it is unknown, revoked, past its absolute
    lifetime or idle for longer than ``idle``."""
    if not token or len(token) > 128:
        return None
    with store.engine.connect() as conn:
        row = conn.execute(
            select(sessions).where(sessions.c.token_hash == token_hash(token))
        ).first()
    if row is None:
        return None
    record = SessionRecord(
        id=int(row.id),
        username=row.username,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )
    return record if row.revoked_at is None and is_live(record, idle=idle, now=now) else None


def is_live(record: SessionRecord, *, idle: dt.timedelta, now: dt.datetime | None = None) -> bool:
    """True if ``record`` is within its absolute lifetime and its idle limit."""
    now = now or _now()
    return now < record.expires_at and now - record.last_seen_at <= idle


def touch_session(store: Store, session_id: int, *, now: dt.datetime | None = None) -> None:
    """Record activity on a session (callers do this at most once per ``TOUCH_EVERY``)."""
    with store.begin() as conn:
        conn.execute(
            update(sessions)
            .where(sessions.c.id == session_id, sessions.c.revoked_at.is_(None))
            .values(last_seen_at=now or _now())
        )


def revoke_session(store: Store, token: str, *, reason: str = "logout") -> str | None:
    """End one session; returns its username (None if it was unknown or already ended)."""
    if not token or len(token) > 128:
        return None
    with store.begin() as conn:
        row = conn.execute(
            select(sessions.c.id, sessions.c.username).where(
                sessions.c.token_hash == token_hash(token), sessions.c.revoked_at.is_(None)
            )
        ).first()
        if row is None:
            return None
        conn.execute(
            update(sessions)
            .where(sessions.c.id == row.id)
            .values(revoked_at=_now(), revoked_reason=reason[:32])
        )
    _bump()
    return str(row.username)


def revoke_sessions(
    store_or_conn: Store | Connection, username: str, *, reason: str = "admin"
) -> int:
    """End every open session of ``username`` (password change, disabling or removing the
    user); returns how many were open. Takes a store or a connection inside a transaction."""
    stmt = (
        update(sessions)
        .where(sessions.c.username == username, sessions.c.revoked_at.is_(None))
        .values(revoked_at=_now(), revoked_reason=reason[:32])
    )
    if isinstance(store_or_conn, Store):
        with store_or_conn.begin() as conn:
            n = conn.execute(stmt).rowcount
    else:
        n = store_or_conn.execute(stmt).rowcount
    _bump()
    return int(n or 0)


def list_sessions(store: Store, username: str) -> list[dict[str, Any]]:
    """The sessions of a user, newest first (without tokens)."""
    q = (
        select(
            sessions.c.id,
            sessions.c.created_at,
            sessions.c.last_seen_at,
            sessions.c.expires_at,
            sessions.c.revoked_at,
            sessions.c.revoked_reason,
            sessions.c.ip,
        )
        .where(sessions.c.username == username)
        .order_by(sessions.c.id.desc())
    )
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def purge_sessions(store: Store, *, older_than: dt.timedelta = dt.timedelta(days=7)) -> int:
    """Delete sessions that ended (revoked or expired) more than ``older_than`` ago."""
    cutoff = _now() - older_than
    with store.begin() as conn:
        n = conn.execute(
            delete(sessions).where(
                or_(sessions.c.expires_at < cutoff, sessions.c.revoked_at < cutoff)
            )
        ).rowcount
    return int(n or 0)
