"""People pages and API (issue 15): a permission matrix generated from the route table and
:data:`peelian.web.api.people.ROUTE_POLICY`, purpose and audit on every view and export, CSRF on
every POST, and the list's values over HTTP."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_seed import PASSWORD, login

from peelian.casework.organisations import SYSTEM, add_organisation, assign_user
from peelian.casework.policy import allowed, principal_for
from peelian.data.accounts.users import add_user
from peelian.data.audit import AuditFilter, search
from peelian.web.api.people import ROUTE_POLICY
from people_seed import AS_OF, MATAC_PEOPLE, seed_people

ROLE_USERS = {
    "admin": "admin1",
    "analyst": "analyst1",
    "viewer": "viewer1",
    "supervisor": "super1",
    "safeguarding": "safe1",
    "auditor": "audit1",
    "partner": "csp1",
}
BODY = {"cohort": "matac", "as_of": str(AS_OF), "purpose": "MATAC tasking test"}


@pytest.fixture
def people(store, app) -> None:
    force = add_organisation(store, SYSTEM, "Northumbria Police", "force")
    csp = add_organisation(store, SYSTEM, "Newcastle CSP", "csp")
    for name, role in (
        ("super1", "supervisor"),
        ("safe1", "safeguarding"),
        ("audit1", "auditor"),
        ("csp1", "partner"),
    ):
        add_user(store, name, PASSWORD, role)
    for name in ("admin1", "analyst1", "viewer1", "super1", "safe1", "audit1"):
        assign_user(store, SYSTEM, name, force["id"])
    assign_user(store, SYSTEM, "csp1", csp["id"])
    seed_people(store)


@pytest.fixture
def as_user(app):  # type: ignore[no-untyped-def]
    clients: list[Any] = []

    def make(username: str | None) -> TestClient:
        def gen() -> Iterator[TestClient]:
            with TestClient(app, raise_server_exceptions=False) as c:
                if username:
                    assert login(c, username).status_code == 303
                yield c

        g = gen()
        clients.append(g)
        return next(g)

    yield make
    for g in clients:
        g.close()


def _headers(client: TestClient) -> dict[str, str]:
    return {"X-CSRF-Token": client.cookies.get("peelian_csrf") or ""}


def _flat(routes: list[Any]) -> Iterator[Any]:
    for route in routes:
        inner = getattr(route, "original_router", None)
        yield from (_flat(inner.routes) if inner is not None else [route])


def test_every_people_route_has_a_policy_rule(app) -> None:
    routes = set()
    for route in _flat(app.routes):
        if isinstance(route, APIRoute) and route.path.startswith(("/people", "/api/people")):
            routes |= {(m, route.path) for m in route.methods if m in ("GET", "POST")}
    assert routes == set(ROUTE_POLICY), {
        "routes without a rule": sorted(routes - set(ROUTE_POLICY)),
        "rules without a route": sorted(set(ROUTE_POLICY) - routes),
    }


def test_routes_answer_as_the_policy_says_for_every_role(store, app, people, as_user) -> None:
    assert as_user(None).get("/people", follow_redirects=False).status_code in (401, 303)
    mismatches = []
    for role, username in ROLE_USERS.items():
        client, me = as_user(username), principal_for(store, username)
        for (method, path), (action, kind) in sorted(ROUTE_POLICY.items()):
            if (
                path
                in ("/people/deselections", "/api/people/deselections", "/api/people/tasking/save")
                or "{" in path
            ):
                continue  # writes: checked below
            expected = 200 if allowed(me, action, kind) else 403
            if method == "GET":
                got = client.get(path).status_code
            else:
                body = BODY if "deselections" not in path else {"purpose": "review"}
                got = client.post(path, json=body, headers=_headers(client)).status_code
            if got != expected:
                mismatches.append((role, method, path, expected, got))
    assert mismatches == []
    # not trivial: the partner and the viewer are refused, safeguarding sees the list
    assert (
        as_user("csp1")
        .post("/api/people/rfg", json=BODY, headers=_headers(as_user("csp1")))
        .status_code
        == 403
    )


def test_the_list_over_http_with_its_components_and_audit(store, app, people, as_user) -> None:
    safe = as_user("safe1")
    r = safe.post("/api/people/rfg", json=BODY, headers=_headers(safe))
    assert r.status_code == 200, r.text
    out = r.json()
    assert [p["person_ref"] for p in out["people"]] == MATAC_PEOPLE
    a = out["people"][0]
    assert (a["recency"], a["frequency"], a["gravity"], a["victims"], a["score"]) == (
        5.0,
        2.0,
        4.0,
        2.0,
        13.0,
    )
    entry = search(store, AuditFilter(action="people.list", username="safe1"))[0]
    assert entry["purpose"] == "MATAC tasking test" and entry["record_kind"] == "nominal"
    # the page: asks why first, then shows the list, the illustrative label and synthetic badge
    page = safe.get("/people?cohort=matac")
    assert page.status_code == 200 and "Say why you need them" in page.text
    page = safe.get(f"/people?cohort=matac&as_of={AS_OF}&purpose=page+review")
    assert "P-A" in page.text and "P-T" in page.text and "P-B" not in page.text
    assert "Illustrative" in page.text and "Synthetic data" in page.text
    assert search(store, AuditFilter(action="people.list", username="safe1"))[0]["purpose"] == (
        "page review"
    )
    data = safe.get(f"/people.json?cohort=matac&as_of={AS_OF}&purpose=json").json()
    assert data["total"] == 2 and data["excluded"]


def test_a_reading_without_purpose_is_refused(app, people, as_user) -> None:
    safe = as_user("safe1")
    r = safe.post("/api/people/rfg", json={**BODY, "purpose": ""}, headers=_headers(safe))
    assert r.status_code == 422


def test_csv_export_is_audited_as_an_export(store, app, people, as_user) -> None:
    sup = as_user("super1")
    r = sup.post("/api/people/rfg.csv", json=BODY, headers=_headers(sup))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["person_ref"] for row in rows] == MATAC_PEOPLE
    assert rows[0]["score"] == "13.0" and rows[0]["crime_refs"] == "C-A1;C-A2"
    assert search(store, AuditFilter(action="people.export"))[0]["username"] == "super1"
    analyst = as_user("analyst1")
    assert (
        analyst.post("/api/people/rfg.csv", json=BODY, headers=_headers(analyst)).status_code == 200
    )
    viewer = as_user("viewer1")
    assert (
        viewer.post("/api/people/rfg.csv", json=BODY, headers=_headers(viewer)).status_code == 403
    )


def test_every_post_needs_the_csrf_token(app, people, as_user) -> None:
    client = as_user("admin1")
    for method, path in ROUTE_POLICY:
        if method != "POST":
            continue
        url = path.replace("{deselection_id}", "1")
        if url.startswith("/api/"):
            r = client.post(url, json=BODY)
        else:  # the form: every required field, no token
            form = {"person_ref": "P-A", "reason": "custody", "start_date": "2022-06-25"}
            r = client.post(url, data=form)
        assert r.status_code == 403 and "CSRF" in r.text, url


def test_deselection_form_records_and_the_list_shows_why(store, app, people, as_user) -> None:
    safe = as_user("safe1")
    form = {
        "person_ref": "P-A",
        "reason": "moved_away",
        "start_date": "2022-06-25",
        "cohort": "matac",
        "purpose": "moved to Leeds",
        "csrf_token": safe.cookies.get("peelian_csrf") or "",
    }
    r = safe.post("/people/deselections", data=form)
    assert r.status_code == 200 and "De-selection 1 recorded for P-A" in r.text
    out = safe.post("/api/people/rfg", json=BODY, headers=_headers(safe)).json()
    assert [p["person_ref"] for p in out["people"]] == ["P-T"]
    assert out["deselected"][0]["reason_label"] == "Moved away (recorded, from 2022-06-25)"
    analyst = as_user("analyst1")  # may read, may not de-select
    form["csrf_token"] = analyst.cookies.get("peelian_csrf") or ""
    assert analyst.post("/people/deselections", data=form).status_code == 403
