"""Cached JSON responses: a GET's body is serialised once per data version and query.

Results only change when a job saves a run or an ingest finishes (the data version), so the
same request answers from memory until then; the cache holds at most
``WebContext.max_cached_responses`` bodies. Authentication runs before this (as a dependency),
so a cached body is never served to someone not allowed to see it; bodies that differ by role
use ``vary_role``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from peelian.web.services.common import jsonable

__all__ = ["cached_json"]


async def cached_json(
    request: Request, build: Callable[[], Any], *, vary_role: bool = False
) -> Response:
    """The JSON response of ``build()``, from memory when this request was answered before."""
    ctx = request.app.state.ctx
    user = getattr(request.state, "user", None)
    key = ("resp", request.url.path, request.url.query, user.role if vary_role and user else "")
    version = ctx.data_version()  # a database query at most every VERSION_TTL seconds
    body = ctx.cached_response(key, version)
    if body is None:

        def render() -> bytes:
            return json.dumps(jsonable(build()), separators=(",", ":")).encode()

        body = await run_in_threadpool(render)
        ctx.store_response(key, version, body)
    return Response(body, media_type="application/json")
