"""The client's real address, and security events written to the audit log.

- :func:`client_ip`: the TCP peer's address; ``X-Forwarded-For`` is believed only when the peer
  is one of ``PEELIAN_TRUSTED_PROXIES`` (then the right-most address that is not a trusted proxy
  is the client's). So a client cannot choose the address that rate limits and the audit log see.
- :func:`security_event`: one audit entry (logout, forbidden, rate limited ...). Repeats of the
  same event (same action, user, address and target) within ``COALESCE_SECONDS`` are counted, not
  written one by one, and the count travels with the next entry written for that event
  (``detail.repeats``): a flood of refused requests cannot flood the audit log or slow the app.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from collections import OrderedDict
from typing import Any

from fastapi import Request

__all__ = ["COALESCE_SECONDS", "client_ip", "security_event"]

log = logging.getLogger(__name__)

#: Identical security events within this many seconds are summarised in one entry.
COALESCE_SECONDS = 10.0
_MAX_KEYS = 4096
_lock = threading.Lock()
_recent: OrderedDict[tuple[Any, ...], list[float]] = OrderedDict()


def client_ip(request: Request) -> str:
    """The client's address: the peer, or (only behind a trusted proxy) the right-most
    ``X-Forwarded-For`` entry that is not itself a trusted proxy."""
    peer = request.client.host if request.client else "-"
    networks = request.app.state.ctx.settings.trusted_proxy_networks
    if not networks or not _in(peer, networks):
        return peer
    forwarded = ",".join(request.headers.getlist("x-forwarded-for"))
    hops = [h.strip() for h in forwarded.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _valid(hop):
            return peer  # a garbled header: keep the address we know
        if not _in(hop, networks):
            return hop
    return hops[0] if hops else peer


def _valid(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _in(text: str, networks: tuple[Any, ...]) -> bool:
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(addr in net for net in networks)


def security_event(
    request: Request,
    action: str,
    *,
    username: str | None = None,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    coalesce: bool = True,
    per_address: bool = False,
) -> None:
    """Write a security event to the audit log with the client's real address (best effort:
    a failure to write is logged, never turned into an error for the client). With
    ``per_address`` repeats from one address are summarised whatever the username (a spray of
    usernames writes one entry per interval, naming the first)."""
    from peelian.data.accounts.users import audit

    ip = client_ip(request)
    target = (target or "")[:128] or None
    username = (username or "")[:64] or None
    repeats = 0
    if coalesce:
        who = None if per_address else username
        key = (id(request.app), action, who, ip, target)
        now = time.monotonic()
        with _lock:
            entry = _recent.get(key)
            if entry is not None and now - entry[0] < COALESCE_SECONDS:
                entry[1] += 1
                return
            repeats = int(entry[1]) if entry is not None else 0
            _recent[key] = [now, 0]
            _recent.move_to_end(key)
            while len(_recent) > _MAX_KEYS:
                _recent.popitem(last=False)
    if repeats:
        detail = {**(detail or {}), "repeats": repeats}
    try:
        audit(request.app.state.ctx.store, username, action, target=target, ip=ip, detail=detail)
    except Exception:  # the audit store failing must not turn a 403 into a 500
        log.exception("could not write the audit entry %s", action)
