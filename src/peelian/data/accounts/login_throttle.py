"""Login throttling: exponential backoff per account and per address, decided atomically with
the attempt, before any password is hashed (OWASP ASVS 2.2.1; NIST SP 800-63B 5.2.2).

Each login first *reserves* an attempt: under one lock, the recent failures of the account and
of the address are counted (a reservation counts as a failure until it succeeds), and either the
attempt is refused with the time left to wait, or a reservation row is written. So 20 concurrent
wrong passwords for one account cannot all be checked: the first few are, the rest are refused.

- **Backoff, not lockout**: the first ``free`` failures within ``WINDOW`` cost nothing; after that
  each attempt must wait ``base * 2**(failures - free)`` seconds after the last failure, capped at
  ``cap``. A refused attempt is not a failure and does not restart the wait, so once the delay has
  passed the right password works again: nobody can lock an account for longer than ``cap``.
- **Per account** (any address, so guessing one password from many addresses is slowed) and
  **per address** (any username, so spraying many usernames from one address is slowed). A
  success clears the account's failures; the address keeps its count for the window.
- The rows live in ``login_attempts``, so the limits hold across restarts and workers (the lock
  makes the decision atomic within a process; between processes a reservation is visible as soon
  as it is committed).
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
from dataclasses import dataclass

from sqlalchemy import delete, func, insert, select, update

from peelian.data.store import Store
from peelian.data.tables import login_attempts
from peelian.errors import AuthError, PeelianError

__all__ = [
    "ACCOUNT",
    "ADDRESS",
    "WINDOW",
    "Backoff",
    "LoginBusy",
    "PasswordGate",
    "TooManyAttempts",
    "check_blocked",
    "clear_blocked",
    "finish_attempt",
    "reserve_attempt",
]

#: Failures older than this are forgotten.
WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Backoff:
    """``free`` failures cost nothing; then wait ``base * 2**(n - free)`` s, at most ``cap`` s."""

    free: int
    base: float
    cap: float

    def delay(self, failures: int) -> float:
        """Seconds to wait after the last failure, given ``failures`` recent failures."""
        if failures < self.free:
            return 0.0
        return float(min(self.cap, self.base * 2 ** min(failures - self.free, 30)))


#: Per username: 5 free, then 1 s, 2 s, 4 s ... at most 15 minutes.
ACCOUNT = Backoff(free=5, base=1.0, cap=900.0)
#: Per client address over all usernames: 20 free, then 1 s, 2 s ... at most 15 minutes.
ADDRESS = Backoff(free=20, base=1.0, cap=900.0)


class TooManyAttempts(AuthError):
    """Too many failed logins recently for this account or from this address (HTTP 429)."""

    http_status = 429
    code = "rate_limited"

    def __init__(self, message: str, hint: str | None = None, *, retry_after: int = 1) -> None:
        super().__init__(message, hint)
        self.retry_after = max(1, int(retry_after))


class LoginBusy(PeelianError):
    """Every password-check slot is taken (HTTP 503): refused before any hashing."""

    http_status = 503
    code = "busy"
    exit_code = 8
    retry_after = 1


class PasswordGate:
    """A cap on password checks running at once (argon2id costs ~64 MiB and a core for a few
    hundred milliseconds): ``concurrency`` run, at most ``max_waiting`` more wait up to
    ``timeout`` seconds for a slot, and anything beyond is refused at once (:class:`LoginBusy`)
    without hashing. So a flood of logins cannot take more than ``concurrency`` cores."""

    def __init__(
        self, concurrency: int, *, max_waiting: int | None = None, timeout: float = 2.0
    ) -> None:
        self.concurrency = concurrency
        self.max_waiting = 4 * concurrency if max_waiting is None else max_waiting
        self.timeout = timeout
        self._slots = threading.BoundedSemaphore(concurrency)
        self._lock = threading.Lock()
        self._waiting = 0

    def enter(self) -> bool:
        """Take a slot (True), or False if none is free in time or too many already wait."""
        if self._slots.acquire(blocking=False):
            return True
        with self._lock:
            if self._waiting >= self.max_waiting:
                return False
            self._waiting += 1
        try:
            return self._slots.acquire(timeout=self.timeout)
        finally:
            with self._lock:
                self._waiting -= 1

    def leave(self) -> None:
        """Give the slot back."""
        self._slots.release()


_LOCK = threading.Lock()
_LAST_PURGE = [0.0]
#: Accounts and addresses known to be waiting, until when (monotonic): refused from memory,
#: without the lock or the store, so a flood of throttled logins costs next to nothing.
_BLOCKED: dict[tuple[str, str, str], float] = {}
_MAX_BLOCKED = 10_000


def check_blocked(store: Store, username: str, ip: str) -> None:
    """Raise :class:`TooManyAttempts` at once if this account or address is known (in this
    process) to be inside its backoff wait; otherwise do nothing (the store decides)."""
    now = time.monotonic()
    keys = (
        ((store.url, "a", ip[:64]), "this address"),
        ((store.url, "u", username[:64]), "this account"),
    )
    for key, which in keys:
        until = _BLOCKED.get(key)
        if until is not None and until > now:
            raise _refusal(which, until - now)


def _refusal(which: str, wait: float) -> TooManyAttempts:
    return TooManyAttempts(
        f"Too many failed logins recently for {which}.",
        f"Wait {_human(wait)} and try again (the wait doubles with each further failure); "
        "ask an admin to reset a forgotten password.",
        retry_after=math.ceil(wait),
    )


def clear_blocked() -> None:
    """Forget the in-memory waits (the store still decides on the next attempt)."""
    _BLOCKED.clear()


def _block(key: tuple[str, str, str], wait: float) -> None:
    now = time.monotonic()
    if len(_BLOCKED) >= _MAX_BLOCKED:
        for k in [k for k, until in _BLOCKED.items() if until <= now]:
            _BLOCKED.pop(k, None)
        if len(_BLOCKED) >= _MAX_BLOCKED:
            _BLOCKED.clear()
    _BLOCKED[key] = now + wait


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _wait(conn: object, where: list, backoff: Backoff, now: dt.datetime) -> float:
    """Seconds still to wait for the failures matching ``where``."""
    n, last = conn.execute(  # type: ignore[attr-defined]
        select(func.count(), func.max(login_attempts.c.at)).where(
            *where, login_attempts.c.success.is_(False)
        )
    ).one()
    if not n or last is None:
        return 0.0
    ready = last + dt.timedelta(seconds=backoff.delay(int(n)))
    return max(0.0, (ready - now).total_seconds())


def reserve_attempt(
    store: Store,
    username: str,
    ip: str,
    *,
    account: Backoff | None = None,
    address: Backoff | None = None,
) -> int:
    """Reserve a login attempt; returns its id for :func:`finish_attempt`, or raises
    :class:`TooManyAttempts` (with ``retry_after`` seconds) without recording anything.
    ``account`` and ``address`` default to :data:`ACCOUNT` and :data:`ADDRESS`."""
    username, ip = username[:64], ip[:64]
    account, address = account or ACCOUNT, address or ADDRESS
    check_blocked(store, username, ip)
    with _LOCK:
        now = _now()
        since = now - WINDOW
        with store.begin() as conn:
            last_ok = conn.execute(
                select(func.max(login_attempts.c.at)).where(
                    login_attempts.c.username == username,
                    login_attempts.c.success.is_(True),
                    login_attempts.c.at >= since,
                )
            ).scalar()
            if last_ok is not None:
                acct = [login_attempts.c.username == username, login_attempts.c.at > last_ok]
            else:
                acct = [login_attempts.c.username == username, login_attempts.c.at >= since]
            wait_account = _wait(conn, acct, account, now)
            wait_address = _wait(
                conn, [login_attempts.c.ip == ip, login_attempts.c.at >= since], address, now
            )
            wait = max(wait_account, wait_address)
            if wait > 0:
                if wait_account > 0:
                    _block((store.url, "u", username), wait_account)
                if wait_address > 0:
                    _block((store.url, "a", ip), wait_address)
                which = "this account" if wait_account >= wait_address else "this address"
                raise _refusal(which, wait)
            attempt_id = conn.execute(
                insert(login_attempts).returning(login_attempts.c.id),
                {"username": username, "ip": ip, "at": now, "success": False},
            ).scalar_one()
        _purge(store)
    return int(attempt_id)


def finish_attempt(store: Store, attempt_id: int, *, success: bool | None) -> None:
    """Record the outcome of a reserved attempt at this time; ``success=None`` cancels it."""
    with store.begin() as conn:
        if success is None:
            conn.execute(delete(login_attempts).where(login_attempts.c.id == attempt_id))
        else:
            conn.execute(
                update(login_attempts)
                .where(login_attempts.c.id == attempt_id)
                .values(success=success, at=_now())
            )


def _human(seconds: float) -> str:
    seconds = math.ceil(seconds)
    if seconds < 90:
        return f"{seconds} second" + ("s" if seconds != 1 else "")
    return f"{math.ceil(seconds / 60)} minutes"


def _purge(store: Store) -> None:
    """Forget attempts older than a day (at most every ten minutes)."""
    mono = time.monotonic()
    if mono - _LAST_PURGE[0] < 600:
        return
    _LAST_PURGE[0] = mono
    with store.begin() as conn:
        conn.execute(
            delete(login_attempts).where(login_attempts.c.at < _now() - dt.timedelta(days=1))
        )
