"""The web layer's one response cache: bounded, and keyed only on validated parameters.

Results only change when a job saves a run or an ingest finishes (the data version), so the same
request answers from memory until then. The cache is a least-recently-used map bounded both by
entries and by bytes (:class:`ResponseCache`, held by the app's
:class:`~peelian.web.context.WebContext`), so no stream of requests can grow server memory
beyond its bound.

The key is the route's path *template* and the parameters after FastAPI has validated them
(enums, bounded integers, patterns), never the raw query string: a junk parameter (``?x=1``,
``?_=timestamp``) or a different spelling of the same values answers from the same entry
instead of computing and storing another copy (issue 11 item 7; issue 13 item 2).

Authentication runs before this (as a dependency), so a cached body is never served to someone
not allowed to see it; bodies that differ by role use ``vary_role``.
"""

from __future__ import annotations

import enum
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from peelian.web.services.common import jsonable

__all__ = ["ResponseCache", "cache_key", "cached_json", "declared_params"]

#: Default bounds of the response cache: entries, and bytes of the bodies held.
MAX_ENTRIES = 512
MAX_BYTES = 64 * 2**20


class ResponseCache:
    """A thread-safe LRU of ``(data version, body)`` per key, at most ``max_entries`` entries
    and ``max_bytes`` bytes of bodies (a body larger than ``max_bytes`` is not kept)."""

    def __init__(self, max_entries: int = MAX_ENTRIES, max_bytes: int = MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def nbytes(self) -> int:
        """Bytes of the bodies held."""
        return self._bytes

    def get(self, key: Hashable, version: Any) -> Any:
        """The body kept for ``key`` if it was built for ``version``, else None."""
        with self._lock:
            hit = self._items.get(key)
            if hit is None or hit[0] != version:
                return None
            self._items.move_to_end(key)
            return hit[1]

    def put(self, key: Hashable, version: Any, body: Any) -> None:
        """Keep ``body`` (bytes, or JSON-able data sized by its JSON text), evicting the least
        recently used entries beyond the bounds."""
        size = len(body) if isinstance(body, bytes | str) else _json_size(body)
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[2]
            if size > self.max_bytes:
                return
            self._items[key] = (version, body, size)
            self._bytes += size
            while len(self._items) > self.max_entries or self._bytes > self.max_bytes:
                _, (_, _, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._bytes = 0


def _json_size(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), default=str))


def _plain(value: Any) -> Hashable:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple | set | frozenset):
        return tuple(_plain(v) for v in value)
    return value


def declared_params(request: Request) -> dict[str, Any]:
    """The request's path parameters and the query parameters its route declares (by name,
    as sent): what identifies a request when the route does not pass its validated values."""
    out: dict[str, Any] = dict(request.path_params)
    dependant = getattr(request.scope.get("route"), "dependant", None)
    for name in _query_names(dependant) if dependant is not None else ():
        if name in request.query_params:
            out[name] = tuple(request.query_params.getlist(name))
    return out


def _query_names(dependant: Any) -> set[str]:
    names = {field.alias for field in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def cache_key(
    request: Request, params: Mapping[str, Any] | None, *, role: str = "", prefix: str = "resp"
) -> tuple[Hashable, ...]:
    """``(prefix, route template, sorted params, role)``: what identifies a response.

    ``params`` are the endpoint's own arguments after validation (path and query); None takes
    :func:`declared_params`. Parameters whose value is None are left out, and undeclared query
    parameters never count, so a cache-busting ``?_=123`` answers from the same entry."""
    if params is None:
        params = declared_params(request)
    route = request.scope.get("route")
    template = getattr(route, "path", None) or request.url.path
    items = tuple(sorted((k, _plain(v)) for k, v in params.items() if v is not None))
    return (prefix, template, items, role)


async def cached_json(
    request: Request,
    build: Callable[[], Any],
    params: Mapping[str, Any] | None = None,
    *,
    vary_role: bool = False,
) -> Response:
    """The JSON response of ``build()``, from memory when the same route was asked the same
    validated ``params`` (by the same role, with ``vary_role``) in this data version. Routes pass
    their validated arguments as ``params``; without them the declared parameters as sent
    count (:func:`declared_params`)."""
    ctx = request.app.state.ctx
    user = getattr(request.state, "user", None)
    key = cache_key(request, params, role=user.role if vary_role and user else "")
    version = ctx.data_version()  # a database query at most every VERSION_TTL seconds
    body = ctx.responses.get(key, version)
    if body is None:

        def render() -> bytes:
            return json.dumps(jsonable(build()), separators=(",", ":")).encode()

        body = await run_in_threadpool(render)
        ctx.responses.put(key, version, body)
    return Response(body, media_type="application/json")
