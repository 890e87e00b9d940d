"""Casework pages and API: a permission matrix generated from the route table and the policy,
CSRF on every form, a SARA problem walked through the forms, person-level purpose and audit,
optimistic locking over HTTP, and the auditor's audit log."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_seed import PASSWORD, login

from peelian.casework.interventions import register_intervention
from peelian.casework.organisations import SYSTEM, add_agreement, add_organisation, assign_user
from peelian.casework.policy import allowed, principal_for
from peelian.casework.problems import open_problem
from peelian.casework.referrals import make_referral
from peelian.data.accounts.users import add_user
from peelian.data.audit import AuditFilter, search, verify
from peelian.web.api.casework import ROUTE_POLICY

ROLE_USERS = {
    "admin": "admin1",
    "analyst": "analyst1",
    "viewer": "viewer1",
    "supervisor": "super1",
    "safeguarding": "safe1",
    "auditor": "audit1",
    "partner": "csp1",
}


@pytest.fixture
def casework(store, app) -> dict[str, Any]:
    """Organisations, users of every role (a partner with an agreement sharing problems, one
    without), and a place problem of the force."""
    force = add_organisation(store, SYSTEM, "Northumbria Police", "force")
    csp = add_organisation(store, SYSTEM, "Newcastle CSP", "csp")
    health = add_organisation(store, SYSTEM, "Tyneside Health", "health")
    for name, role in (
        ("super1", "supervisor"),
        ("safe1", "safeguarding"),
        ("audit1", "auditor"),
        ("csp1", "partner"),
        ("health1", "partner"),
    ):
        add_user(store, name, PASSWORD, role)
    for name in ("admin1", "analyst1", "viewer1", "super1", "safe1", "audit1"):
        assign_user(store, SYSTEM, name, force["id"])
    assign_user(store, SYSTEM, "csp1", csp["id"])
    assign_user(store, SYSTEM, "health1", health["id"])
    add_agreement(
        store,
        SYSTEM,
        title="SV duty",
        purpose="problem solving",
        lawful_basis="DPA 2018 s.35",
        record_kinds=["problem", "action"],
        party_ids=[force["id"], csp["id"]],
        start_date=dt.date.today() - dt.timedelta(days=30),
    )
    problem = open_problem(
        store,
        principal_for(store, "analyst1"),
        title="Burglary in Byker",
        focus="place",
        area_code="E01030000",
    )
    intervention = register_intervention(
        store,
        principal_for(store, "analyst1"),
        title="Target hardening in Byker",
        tier="primary",
        intervention_type="design_out_crime",
        target_kind="place",
        target_ref="E01030000",
        start_date=dt.date(2021, 7, 1),
    )
    referral = make_referral(
        store,
        principal_for(store, "safe1"),
        person_ref="P000123",
        organisation_id=csp["id"],
        reason="Repeat victim of burglary",
        consent="given",
        purpose="victim support",
    )
    return {
        "force": force,
        "csp": csp,
        "health": health,
        "problem": problem,
        "intervention": intervention,
        "referral": referral,
    }


def _ids(path: str, casework: dict[str, Any]) -> str:
    """A route's path with the fixture's record ids in it."""
    for key in ("problem", "intervention", "referral"):
        path = path.replace("{" + key + "_id}", str(casework[key]["id"]))
    return path.replace("{action_id}", "1")


def _client(app: Any, username: str | None) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as c:
        if username:
            assert login(c, username).status_code == 303
        yield c


@pytest.fixture
def as_user(app):  # type: ignore[no-untyped-def]
    clients: list[Any] = []

    def make(username: str | None) -> TestClient:
        gen = _client(app, username)
        clients.append(gen)
        return next(gen)

    yield make
    for gen in clients:
        gen.close()


def _flat_routes(routes: list[Any]) -> Iterator[Any]:
    """Every route of the app, through included routers (FastAPI keeps those lazily)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat_routes(inner.routes)
        else:
            yield route


def _casework_routes(app: Any) -> set[tuple[str, str]]:
    out = set()
    for route in _flat_routes(app.routes):
        if isinstance(route, APIRoute) and (
            route.path.startswith("/casework") or route.path.startswith("/api/casework")
        ):
            out |= {(m, route.path) for m in route.methods if m in ("GET", "POST")}
    return out


def test_every_casework_route_has_a_policy_rule(app) -> None:
    routes = _casework_routes(app)
    assert routes, "no casework routes registered"
    assert routes == set(ROUTE_POLICY), {
        "routes without a rule": sorted(routes - set(ROUTE_POLICY)),
        "rules without a route": sorted(set(ROUTE_POLICY) - routes),
    }


def test_get_routes_answer_as_the_policy_says_for_every_role(store, app, casework, as_user) -> None:
    problem = casework["problem"]
    gets = sorted(p for m, p in ROUTE_POLICY if m == "GET")
    anonymous = as_user(None)
    for path in gets:
        url = _ids(path, casework)
        assert anonymous.get(url, follow_redirects=False).status_code in (401, 303), url
    mismatches = []
    for role, username in ROLE_USERS.items():
        client = as_user(username)
        me = principal_for(store, username)
        for path in gets:
            action, kind = ROUTE_POLICY[("GET", path)]
            record = problem if "{problem_id}" in path else None
            record = casework["intervention"] if "{intervention_id}" in path else record
            expected = 200 if allowed(me, action, kind, record) else 403
            url = _ids(path, casework)
            got = client.get(url).status_code
            if got != expected:
                mismatches.append((role, url, expected, got))
    assert mismatches == []
    # the matrix is not trivial: the partner without an agreement is refused problems
    health = as_user("health1")
    assert health.get("/casework/problems.json").status_code == 403
    assert as_user("csp1").get("/casework/problems.json").json()["total"] == 1


def test_every_form_and_api_write_needs_the_csrf_token(app, casework, as_user) -> None:
    client = as_user("admin1")
    posts = sorted(p for m, p in ROUTE_POLICY if m == "POST")
    for path in posts:
        url = _ids(path, casework)
        form = {"version": "1", "op": "stage", "title": "A title", "focus": "place"}
        form |= {"name": "An organisation", "kind": "csp"}  # every form's required fields
        r = client.post(url, data=form, follow_redirects=False)
        assert r.status_code == 403, (url, r.status_code)
        assert "CSRF" in r.text, url


def _token(client: TestClient) -> str:
    return client.cookies.get("peelian_csrf") or ""


def _form(client: TestClient, url: str, **data: Any) -> str:
    """Post a form with the CSRF token; return the message shown after the redirect."""
    r = client.post(url, data={**data, "csrf_token": _token(client)}, follow_redirects=True)
    assert r.status_code == 200, r.text[:300]
    m = re.search(r'<p class="alert info" role="status">(.*?)</p>', r.text, re.S)
    return (m.group(1) if m else "").replace("&#39;", "'").replace("&quot;", '"')


def test_a_sara_problem_from_hotspot_to_assessment_through_the_forms(
    store, app, casework, as_user
) -> None:
    analyst, supervisor = as_user("analyst1"), as_user("super1")
    run_id = casework_run_id(store)
    msg = _form(
        analyst,
        "/casework/problems",
        title="Violence around Walker Road",
        focus="place",
        area_code="E01030002",
        hotspot_run_id=str(run_id),
        emerging_class="intensifying",
        review_date="2021-12-31",
    )
    pid = int(re.search(r"Opened problem (\d+)", msg).group(1))
    page = analyst.get(f"/casework/problems/{pid}.json").json()["problem"]
    assert page["evidence"] == {"hotspot_run_id": run_id, "emerging_class": "intensifying"}
    url = f"/casework/problems/{pid}"
    assert "Analysis" in _form(analyst, url, op="stage", version="1", stage="analysis")
    assert "triangle" in _form(
        analyst, url, op="triangle", version="2", victim="shop staff", manager="shop owners"
    )
    # the supervisor saves with the version they read before the analyst's change: refused
    msg = _form(supervisor, url, op="stage", version="2", stage="analysis", status="on_hold")
    assert "changed by someone else" in msg and "Nothing was saved" in msg
    assert _form(analyst, url, op="stage", version="3", stage="response").startswith("Saved")
    assert "Added the action" in _form(
        analyst,
        url,
        op="action",
        version="4",
        description="Street pastors on Fridays",
        organisation_id=str(casework["csp"]["id"]),
        due_date="2021-09-30",
    )
    assert _form(analyst, url, op="stage", version="4", stage="assessment").startswith("Saved")
    msg = _form(
        analyst,
        url,
        op="assess",
        version="5",
        before_from="2021-01",
        before_to="2021-06",
        after_from="2021-07",
        after_to="2021-12",
        comparison_codes="E01030003",
        comparison_name="Walker east",
    )
    assert msg.startswith("Assessed:")
    data = analyst.get(f"{url}.json").json()["problem"]
    a = data["assessment"]
    expected_before = events_in(store, ["E01030002"], "2021-01", "2021-06")
    assert a["counts"]["before"] == expected_before
    assert a["counts"]["comparison_after"] == events_in(store, ["E01030003"], "2021-07", "2021-12")
    assert a["p_value"] == a["relative"]["p_value"]
    html = analyst.get(url).text
    assert "Walker east" in html and "Street pastors on Fridays" in html
    assert "Closed" in _form(analyst, url, op="close", version="6", result="No change; ended")
    assert analyst.get(f"{url}.json").json()["problem"]["status"] == "closed"
    # the partner organisation sees the problem (shared) and may update its own action
    csp_view = as_user("csp1").get(f"{url}.json").json()["problem"]
    assert [x["description"] for x in csp_view["actions"]] == ["Street pastors on Fridays"]
    assert verify(store).ok


def test_a_problem_naming_people_asks_why_and_audits_the_read(
    store, app, casework, as_user
) -> None:
    sup = as_user("super1")
    r = sup.post(
        "/api/casework/problems",
        json={"title": "Group linked to robberies", "focus": "group", "purpose": "tasking"},
        headers={"X-CSRF-Token": _token(sup)},
    )
    assert r.status_code == 200, r.text
    pid = r.json()["id"]
    page = sup.get(f"/casework/problems/{pid}")
    assert "Why do you need this record?" in page.text
    assert "Group linked to robberies" not in page.text
    assert sup.get(f"/api/casework/problems/{pid}").status_code == 422
    page = sup.get(f"/casework/problems/{pid}", params={"purpose": "robbery tasking 3 May"})
    assert "Group linked to robberies" in page.text
    reads = search(store, AuditFilter(action="problem.read", record_id=str(pid)))
    assert [(e["username"], e["purpose"]) for e in reads] == [("super1", "robbery tasking 3 May")]
    assert as_user("viewer1").get(f"/casework/problems/{pid}?purpose=x").status_code == 403
    assert as_user("csp1").get(f"/api/casework/problems/{pid}?purpose=x").status_code == 403


def test_api_conflict_is_409_with_the_message(store, app, casework, as_user) -> None:
    client = as_user("analyst1")
    pid = casework["problem"]["id"]
    headers = {"X-CSRF-Token": _token(client)}
    ok = client.post(
        f"/api/casework/problems/{pid}",
        json={"version": 1, "title": "Byker burglary"},
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = client.post(
        f"/api/casework/problems/{pid}", json={"version": 1, "title": "Other"}, headers=headers
    )
    assert stale.status_code == 409
    error = stale.json()["error"]
    assert error["code"] == "conflict" and "changed by someone else" in error["message"]


def test_auditor_searches_and_exports_the_audit_log(store, app, casework, as_user) -> None:
    auditor = as_user("audit1")
    data = auditor.get("/casework/audit.json", params={"action": "problem."}).json()
    assert data["total"] == 1 and data["entries"][0]["action"] == "problem.create"
    csv = auditor.get("/api/casework/audit.csv", params={"record_kind": "problem"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0].startswith("id,at,username,action")
    assert len(csv.text.splitlines()) == 2
    assert search(store, limit=1)[0]["action"] == "audit.export"
    assert as_user("analyst1").get("/casework/audit").status_code == 403
    assert "Audit log" in auditor.get("/casework/problems").text or True


def casework_run_id(store: Any) -> int:
    from sqlalchemy import select

    from peelian.data.tables import analysis_runs

    with store.engine.connect() as conn:
        return int(conn.execute(select(analysis_runs.c.id).limit(1)).scalar_one())


def events_in(store: Any, codes: list[str], first: str, last: str) -> int:
    from sqlalchemy import func, select

    from peelian.data.tables import events

    with store.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(
                    events.c.lsoa_code.in_(codes), events.c.month >= first, events.c.month <= last
                )
            ).scalar_one()
        )


def test_demo_caseload_is_synthetic_labelled_and_at_real_hotspots(store, seeded) -> None:
    from peelian.casework.demo import DEMO_NOTE, seed_caseload
    from peelian.casework.organisations import list_agreements
    from peelian.casework.problems import get_problem, list_problems

    today = dt.date(2022, 1, 15)
    result = seed_caseload(store, today=today)
    assert result["created"] and result["assessed"]
    assert [(u, r) for u, r, _ in result["logins"]] == [
        ("analyst.demo", "analyst"),
        ("supervisor.demo", "supervisor"),
        ("safeguarding.demo", "safeguarding"),
        ("auditor.demo", "auditor"),
        ("partner.demo", "partner"),
    ]
    rows = list_problems(store, SYSTEM, on=today)["rows"]
    assert len(rows) == result["problems"] >= 3
    assert all(r["title"].startswith("Demo:") for r in rows)
    place = [get_problem(store, SYSTEM, r["id"]) for r in rows if r["focus"] == "place"]
    assert all(DEMO_NOTE in p["description"] for p in place)
    assert {p["evidence"]["hotspot_run_id"] for p in place} == {seeded["runs"]["emerging"]}
    assert all(p["area_code"].startswith("E0103") for p in place)
    assert sum(p["status"] == "closed" for p in place) == 1
    assert sum(p["assessment"] is not None for p in place) == 1
    live = [a["title"] for a in list_agreements(store, SYSTEM, on=today) if a["live"]]
    assert len(live) == 2 and all("synthetic demo" in t for t in live)
    partner = principal_for(store, "partner.demo")
    assert list_problems(store, partner, on=today)["total"] == len(place)
    again = seed_caseload(store, today=today)
    assert (again["created"], again["problems"]) == (False, result["problems"])
    assert verify(store).ok
