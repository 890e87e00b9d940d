"""One permission matrix for every route of the app, generated from the route table.

Each route is one of three kinds, and a route that is none of them fails the build:

- **public**: the few routes anyone may reach (login, static assets, the docs shell);
- **role-gated**: a ``require(role)`` dependency (aggregate pages and their API); the matrix
  asks every role and expects exactly what :func:`peelian.data.accounts.users.role_allows` says;
- **policy-gated**: a rule in a ``ROUTE_POLICY`` table of a web module (casework, people,
  victims), whose role x organisation x record matrix is tested beside that table
  (``tests/web/test_casework_pages.py`` and its siblings).
"""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route
from web_seed import PASSWORD, login, lsoas

import peelian.web.api
import peelian.web.pages
from peelian.data.accounts.users import ROLES, add_user, role_allows

#: Routes anyone may reach, each with the reason.
PUBLIC: dict[tuple[str, str], str] = {
    ("GET", "/login"): "the login form",
    ("POST", "/login"): "signing in",
    ("POST", "/logout"): "signing out ends the caller's own session only",
    ("GET", "/docs"): "the API docs shell",
    ("GET", "/openapi.json"): "the API's schema: routes and parameters, no data",
    ("GET", "/vendor/plotly.min.js"): "Plotly's JavaScript, served from the installed package",
    ("GET", "/vendor/swagger/{name}"): "Swagger UI's assets, served from the installed package",
}


def _flat_routes(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat_routes(inner.routes)
        else:
            yield route


def _required_role(route: APIRoute) -> str | None:
    """The role of the route's ``require(role)`` dependency (its own or its router's)."""
    stack = [route.dependant]
    while stack:
        dep = stack.pop()
        name = getattr(dep.call, "__name__", "")
        if name.startswith("require_"):
            return name.removeprefix("require_")
        stack.extend(dep.dependencies)
    return None


def route_policies() -> dict[tuple[str, str], tuple[str, str]]:
    """Every ``ROUTE_POLICY`` table of the web layer, merged."""
    out: dict[tuple[str, str], tuple[str, str]] = {}
    for package in (peelian.web.api, peelian.web.pages):
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            out |= getattr(module, "ROUTE_POLICY", {})
    return out


def classify(app: Any) -> dict[tuple[str, str], str]:
    """(method, path) -> 'public' | 'role:<role>' | 'policy' | 'UNRULED'."""
    policies = route_policies()
    out: dict[tuple[str, str], str] = {}
    for route in _flat_routes(app.routes):
        if isinstance(route, Mount):
            out[("GET", route.path + "/{path}")] = "public"  # static files
            continue
        if not isinstance(route, APIRoute | Route):
            continue
        for method in sorted((route.methods or set()) - {"HEAD", "OPTIONS"}):
            key = (method, route.path)
            if key in PUBLIC:
                out[key] = "public"
            elif key in policies:
                out[key] = "policy"
            elif isinstance(route, APIRoute) and (role := _required_role(route)):
                out[key] = f"role:{role}"
            else:
                out[key] = "UNRULED"
    return out


def test_every_route_has_a_rule(app) -> None:
    kinds = classify(app)
    unruled = sorted(k for k, v in kinds.items() if v == "UNRULED")
    assert unruled == [], "routes with no permission rule (add require(role) or a ROUTE_POLICY)"
    # the matrix is not trivial: all three kinds are present, and most routes need a login
    counts = {v.split(":")[0]: 0 for v in kinds.values()}
    for v in kinds.values():
        counts[v.split(":")[0]] += 1
    assert counts["role"] > 40 and counts["policy"] > 20 and counts["public"] < 15, counts


def test_public_table_names_only_real_routes(app) -> None:
    kinds = classify(app)
    stale = sorted(k for k in PUBLIC if k not in kinds)
    assert stale == []


def _sample_path(path: str, params: dict[str, str]) -> str | None:
    names = re.findall(r"{(\w+)(?::\w+)?}", path)
    for name in names:
        if name not in params:
            return None
        path = re.sub(r"{" + name + r"(?::\w+)?}", params[name], path)
    return path


def _enum_samples(app: Any) -> dict[tuple[str, str], dict[str, str]]:
    """A valid value of each enumerated path parameter, from the OpenAPI schema."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            values = {}
            for p in op.get("parameters", []):
                schema = p.get("schema", {})
                enum = schema.get("enum") or [
                    e for s in schema.get("anyOf", []) for e in s.get("enum", [])
                ]
                if p.get("in") == "path" and enum:
                    values[p["name"]] = str(enum[0])
            out[(method.upper(), path)] = values
    return out


@pytest.fixture
def every_role(store, app) -> Iterator[dict[str, TestClient]]:
    clients: dict[str, TestClient] = {}
    stack = []
    for role in ROLES:
        name = f"{role}1"
        if role not in ("admin", "analyst", "viewer"):
            add_user(store, name, PASSWORD, role)
        c = TestClient(app, raise_server_exceptions=False)
        c.__enter__()
        stack.append(c)
        assert login(c, name).status_code == 303, role
        clients[role] = c
    yield clients
    for c in stack:
        c.__exit__(None, None, None)


def test_role_gated_gets_answer_as_the_role_ladder_says_for_every_role(app, every_role) -> None:
    kinds = classify(app)
    enums = _enum_samples(app)
    lsoa = lsoas()[0]["code"]
    anonymous = TestClient(app, raise_server_exceptions=False)
    mismatches: list[tuple[str, str, int, int]] = []
    checked = 0
    for (method, path), kind in sorted(kinds.items()):
        if method != "GET" or not kind.startswith("role:"):
            continue
        need = kind.removeprefix("role:")
        url = _sample_path(path, {"code": lsoa, **enums.get((method, path), {})})
        if url is None:
            continue
        checked += 1
        got = anonymous.get(url, follow_redirects=False).status_code
        if got not in (401, 303):
            mismatches.append(("anonymous", url, 401, got))
        for role, client in every_role.items():
            expected = 200 if role_allows(role, need) else 403
            got = client.get(url, follow_redirects=False).status_code
            if got != expected:
                mismatches.append((role, url, expected, got))
    assert checked > 40, checked
    assert mismatches == []


def test_role_gated_posts_refuse_every_role_below_the_rule(app, every_role) -> None:
    kinds = classify(app)
    posts = {k: v for k, v in kinds.items() if k[0] == "POST" and v.startswith("role:")}
    assert ("POST", "/admin/users") in posts
    anonymous = TestClient(app, raise_server_exceptions=False)
    mismatches = []
    for (_, path), kind in sorted(posts.items()):
        need = kind.removeprefix("role:")
        url = _sample_path(path, {"username": "viewer1", "action": "disable"})
        assert url is not None, path
        got = anonymous.post(url, data={}, follow_redirects=False).status_code
        if got not in (401, 303, 403):
            mismatches.append(("anonymous", url, got))
        for role, client in every_role.items():
            if role_allows(role, need):
                continue
            token = client.cookies.get("peelian_csrf") or ""
            got = client.post(url, data={"csrf_token": token}, follow_redirects=False).status_code
            if got != 403:
                mismatches.append((role, url, got))
    assert mismatches == []
    # and the viewer the posts named is untouched: still enabled, still able to log in
    assert every_role["viewer"].get("/api/status").status_code == 200
