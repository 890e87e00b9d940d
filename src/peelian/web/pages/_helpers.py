"""Rendering helpers for the pages: HTML or the page's JSON (STYLE 19), empty states, sparklines."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from peelian.errors import NotFoundError
from peelian.schemas.formatting import jinja_filters
from peelian.web.auth import SessionUser, csrf_token, require
from peelian.web.services.common import jsonable

__all__ = ["add_page", "attempt", "install_filters", "sparkline_svg", "to_json_script"]

OGL = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Contains OS data © Crown copyright and database right. Source: data.police.uk, ONS."
)


def install_filters(env: Any) -> None:
    """Register the one formatter (:mod:`peelian.schemas.formatting`) as Jinja filters."""
    if "fmt_interval" not in env.filters:
        env.filters.update(jinja_filters())


def attempt(build: Callable[[], Any]) -> tuple[Any, dict[str, Any] | None]:
    """``(value, None)``, or ``(None, empty_state)`` when a result kind is not computed yet."""
    try:
        return build(), None
    except NotFoundError as exc:
        return None, {"message": exc.message, "hint": exc.hint}


def add_page(
    router: APIRouter,
    path: str,
    template: str,
    build: Callable[..., dict[str, Any]],
    *,
    role: str = "viewer",
    title: str,
    cache: bool = True,
    csv: Callable[[dict[str, Any]], list[dict[str, Any]]] | None = None,
    csv_columns: tuple[str, ...] | None = None,
    query: dict[str, Any] | None = None,
) -> None:
    """Register ``path`` (HTML) and ``path.json`` (the same data as JSON) on ``router``, and
    ``path.csv`` when ``csv`` picks the page's table rows from its data.

    ``build(request, user, **path_params)`` returns the page's data. With ``cache`` the data is
    built once per data version, query and role (pages only read persisted results), so the
    CSV holds exactly what the page shows to this user (suppressed small counts included).

    ``query`` declares the query parameters ``build`` reads (name -> annotation, e.g. a
    ``Literal``): FastAPI validates them, the OpenAPI schema lists them (with the path's own
    parameters), and the cache keys on them only - never on the raw query string.
    """
    dep = require(role)
    query = query or {}

    async def data_for(request: Request, user: SessionUser) -> dict[str, Any]:
        ctx = request.app.state.ctx
        sent = tuple((k, request.query_params.get(k)) for k in sorted(query))
        key = ("page", path, tuple(sorted(request.path_params.items())), sent, user.role)
        version = ctx.data_version() if cache else None
        data: dict[str, Any] | None = ctx.cached_response(key, version) if cache else None
        if data is not None:
            return data
        params = dict(request.path_params)
        built: dict[str, Any] = await run_in_threadpool(
            lambda: jsonable(build(request, user, **params))
        )
        if cache:
            ctx.store_response(key, version, built)
        return built

    @_declaring(path, query, dep)
    async def html(request: Request, user: SessionUser = Depends(dep)) -> Response:
        data = await data_for(request, user)
        install_filters(request.app.state.templates.env)
        context = {
            "data": data,
            "user": user,
            "csrf_token": csrf_token(request),
            "title": data.get("title", title),
            "json_url": _json_url(request),
            "nav": request.url.path,
        }
        return request.app.state.templates.TemplateResponse(request, template, context)

    @_declaring(path, query, dep)
    async def as_json(request: Request, user: SessionUser = Depends(dep)) -> Response:
        return JSONResponse(await data_for(request, user))

    @_declaring(path, query, dep)
    async def as_csv(request: Request, user: SessionUser = Depends(dep)) -> Response:
        rows = csv(await data_for(request, user)) if csv else []
        return Response(
            rows_to_csv(rows, csv_columns),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{title.lower()}.csv"'},
        )

    name = template.removesuffix(".html")
    json_path = "/index.json" if path == "/" else f"{path}.json"
    if csv is not None:
        router.add_api_route(
            "/index.csv" if path == "/" else f"{path}.csv",
            as_csv,
            methods=["GET"],
            tags=["pages"],
            name=f"{name}_csv",
            summary=f"The table of the {title} page as CSV",
            response_class=Response,
            responses=_page_responses(csv=True),
        )
    router.add_api_route(
        json_path,
        as_json,
        methods=["GET"],
        tags=["pages"],
        name=f"{name}_json",
        summary=f"The data of the {title} page",
        responses=_page_responses(),
    )
    router.add_api_route(path, html, methods=["GET"], include_in_schema=False, name=name)


def rows_to_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] | None = None) -> str:
    """Rows as CSV text: ``columns`` in that order (those present), else every key seen. A
    suppressed count is written as its display text (``<5``), never as the hidden value."""
    import csv as _csv
    import io

    keys = list(columns or dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    writer = _csv.writer(buf, lineterminator="\n")
    writer.writerow(keys)
    for r in rows:
        out = []
        for k in keys:
            v = r.get(f"{k}_display") or r.get(k)
            out.append("" if v is None else v)
        writer.writerow(out)
    return buf.getvalue()


def _page_responses(csv: bool = False) -> dict[int | str, dict[str, Any]]:
    """The statuses a page's JSON or CSV answers, documented: 401 without a login, 403 when the
    role or policy refuses, 404 for an unknown area, measure or record, 422 for a bad parameter."""
    from peelian.web.api._schemas import responses

    if not csv:
        return responses(None, 403, 404, 422)
    content = {"text/csv": {"schema": {"type": "string"}}}
    return responses(None, 403, 404, 422, content=content, json_route=False)


def _declaring(
    path: str, query: dict[str, Any], dep: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a page endpoint ``(request, user)`` a signature that declares the path's parameters
    and the page's ``query`` parameters, so FastAPI validates and documents them."""
    import inspect
    import re
    from typing import Annotated

    from fastapi import Path

    kw = inspect.Parameter.KEYWORD_ONLY
    params = [
        inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request),
        inspect.Parameter("user", kw, default=Depends(dep), annotation=SessionUser),
    ]
    for name in re.findall(r"{(\w+)}", path):
        params.append(inspect.Parameter(name, kw, annotation=Annotated[str, Path(max_length=64)]))
    for name, annotation in query.items():
        params.append(inspect.Parameter(name, kw, default=None, annotation=annotation))

    def wrap(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        async def declared(request: Request, user: SessionUser, **_: Any) -> Response:
            return await endpoint(request, user)

        declared.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
        declared.__name__ = endpoint.__name__
        return declared

    return wrap


def _json_url(request: Request) -> str:
    path = request.url.path
    url = ("/index" if path == "/" else path) + ".json"
    return url + (f"?{request.url.query}" if request.url.query else "")


def to_json_script(value: Any) -> Markup:
    """A value as JSON safe to put inside ``<script type="application/json">``."""
    text = json.dumps(value, separators=(",", ":"), default=str)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def sparkline_svg(points: list[dict[str, Any]], *, width: int = 140, height: int = 32) -> Markup:
    """A tiny SPC sparkline as inline SVG: the monthly counts, the centre line, and the months
    with an SPC signal as red dots (no JavaScript, so the overview renders instantly)."""
    values = [p.get("count") for p in points if p.get("count") is not None]
    if len(values) < 2:
        return Markup('<span class="muted">no series</span>')
    lo = min([*values, *(p["lcl"] for p in points if p.get("lcl") is not None)])
    hi = max([*values, *(p["ucl"] for p in points if p.get("ucl") is not None)])
    span = (hi - lo) or 1.0
    n = len(points)

    def xy(i: int, v: float) -> str:
        return (
            f"{2 + i * (width - 4) / (n - 1):.1f},{height - 2 - (v - lo) / span * (height - 4):.1f}"
        )

    line = " ".join(xy(i, p["count"]) for i, p in enumerate(points) if p.get("count") is not None)
    parts = [f'<polyline class="spark-line" points="{line}"/>']
    centres = [float(p["centre"]) for p in points if p.get("centre") is not None]
    if len(centres) == len(points):
        cl = " ".join(xy(i, c) for i, c in enumerate(centres))
        parts.insert(0, f'<polyline class="spark-centre" points="{cl}"/>')
    for i, p in enumerate(points):
        if p.get("signal") and p.get("count") is not None:
            x, y = xy(i, p["count"]).split(",")
            parts.append(f'<circle class="spark-signal" cx="{x}" cy="{y}" r="2.5"/>')
    last, first = points[-1].get("month", ""), points[0].get("month", "")
    label = f"Monthly counts {first} to {last}; red dots mark SPC signals"
    return Markup(
        f'<svg class="sparkline" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{label}"><title>{label}</title>{"".join(parts)}</svg>'
    )
