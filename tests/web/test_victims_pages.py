"""Victims' Code pages and API: a permission matrix generated from the route table and the
policy, the worklist's purpose and audit, urgency order, CSRF, and small-count suppression."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_seed import PASSWORD, login, lsoas

from peelian.analysis.victims.duties import compute_duties
from peelian.casework.policy import allowed, principal_for
from peelian.casework.victims import load_rules, save_duties
from peelian.data.accounts.users import add_user
from peelian.data.audit import AuditFilter, search
from peelian.web.api.victims import ROUTE_POLICY

TS = pd.Timestamp
ROLE_USERS = {
    "admin": "admin1",
    "analyst": "analyst1",
    "viewer": "viewer1",
    "supervisor": "vsuper1",
    "safeguarding": "vsafe1",
    "auditor": "vaudit1",
    "partner": "vpartner1",
}
AS_AT = dt.date(2023, 1, 10)  # a Tuesday


def _duties() -> Any:
    codes = [a["code"] for a in lsoas()]
    refs = [f"CR{i}" for i in range(12)]
    reported = [TS("2023-01-03 09:00")] * 6 + [TS("2023-01-09 09:00")] * 6
    occ = pd.DataFrame(
        {
            "crime_ref": refs,
            "reported_at": reported,
            "ho_code": ["28E"] * 12,
            "policeuk_category": ["Burglary"] * 12,
            "lsoa_code": [codes[i % 2] for i in range(12)],
            "domestic_abuse": pd.array([False] * 8 + [True] + [False] * 3, dtype="boolean"),
        }
    )
    victims = pd.DataFrame({"crime_ref": refs, "person_ref": [f"V{i}" for i in range(12)]})
    contacts = pd.DataFrame(
        {
            "crime_ref": refs[:8],
            "person_ref": [f"V{i}" for i in range(8)],
            "contact_at": [TS("2023-01-03 11:00")] * 6 + [TS("2023-01-09 11:00")] * 2,
            "channel": ["phone"] * 4 + ["email"] * 4,
            "contact_by": ["C1"] * 4 + ["C2"] * 4,
            "purpose": ["initial"] * 8,
            "enhanced_rights": pd.array([True, False] * 4, dtype="boolean"),
        }
    )
    return compute_duties(
        victims=victims,
        occurrences=occ,
        events=pd.DataFrame({"crime_ref": [], "event_type": [], "event_at": []}),
        outcomes=pd.DataFrame({"crime_ref": [], "outcome_date": []}),
        contacts=contacts,
        rules=load_rules("2020"),
        as_at=AS_AT,
    )


@pytest.fixture
def victims_run(store, app) -> int:
    for role, username in list(ROLE_USERS.items())[3:]:
        add_user(store, username, PASSWORD, role)
    return save_duties(store, _duties(), force="northumbria", synthetic=True)


@pytest.fixture
def as_user(app):  # type: ignore[no-untyped-def]
    clients: list[Iterator[TestClient]] = []

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


def _routes(app: Any) -> set[tuple[str, str]]:
    def flat(routes: list[Any]) -> Iterator[Any]:
        for r in routes:
            inner = getattr(r, "original_router", None)
            yield from flat(inner.routes) if inner is not None else [r]

    return {
        (m, r.path)
        for r in flat(app.routes)
        if isinstance(r, APIRoute) and r.path.startswith(("/victims", "/api/victims"))
        for m in r.methods
        if m in ("GET", "POST")
    }


def test_every_victims_route_has_a_policy_rule(app) -> None:
    routes = _routes(app)
    assert routes == set(ROUTE_POLICY), {
        "without a rule": sorted(routes - set(ROUTE_POLICY)),
        "rule without a route": sorted(set(ROUTE_POLICY) - routes),
    }


def test_get_routes_answer_as_the_policy_says_for_every_role(store, victims_run, as_user) -> None:
    gets = sorted(p for m, p in ROUTE_POLICY if m == "GET")
    query = {"/api/victims/due": "?from=2022-09-16&working_days=1"}
    anonymous = as_user(None)
    for path in gets:
        got = anonymous.get(path + query.get(path, ""), follow_redirects=False).status_code
        assert got in (401, 303), path
    mismatches = []
    for role, username in ROLE_USERS.items():
        client, me = as_user(username), principal_for(store, username)
        for path in gets:
            rule = ROUTE_POLICY[("GET", path)]
            expected = 200 if rule is None or allowed(me, *rule) else 403
            got = client.get(path + query.get(path, "")).status_code
            if got != expected:
                mismatches.append((role, path, expected, got))
    assert mismatches == []
    assert as_user("viewer1").get("/victims/worklist.json").status_code == 403


def test_due_endpoint_known_answer(victims_run, as_user) -> None:
    r = as_user("viewer1").get("/api/victims/due?from=2022-12-23&working_days=5").json()
    assert r["due"] == "2023-01-04"


def test_worklist_needs_a_purpose_is_audited_and_sorted_by_urgency(
    store, victims_run, as_user
) -> None:
    sup = as_user("vsuper1")
    asked = sup.get("/victims/worklist.json").json()
    assert asked["needs_purpose"] is True and asked["work"] is None
    page = sup.get("/victims/worklist.json?purpose=daily+review").json()["work"]
    # Tue 3 Jan reports (CR0-5, acknowledged that day): referrals due Thu 5 Jan, never made ->
    # 6 overdue; agreed updates due 31 Jan -> 6 later. Mon 9 Jan reports: CR6-7 acknowledged,
    # referrals due Wed 11 Jan (this week, 9-15 Jan) and updates due 6 Feb (later); CR8-11 not
    # contacted: referrals due 11 Jan (this week), acknowledgements due Mon 16 Jan (later),
    # except CR8, domestic abuse (enhanced rights derived): due Tue 10 Jan, today.
    assert page["as_at"] == "2023-01-10"
    assert page["counts"] == {"overdue": 6, "due_today": 1, "due_this_week": 6, "later": 11}
    rows = page["rows"]
    assert [r["bucket"] for r in rows][:6] == ["overdue"] * 6
    lates = [r["working_days_late"] for r in rows[:6]]
    assert lates == sorted(lates, reverse=True)
    assert all(r["team"] and r["command"] for r in rows)
    entries = search(store, AuditFilter(action="victim.worklist"))
    assert entries and entries[0]["purpose"] == "daily review"
    html = sup.get("/victims/worklist?purpose=daily+review")
    assert html.status_code == 200 and "Preferred contact" in html.text
    assert "Domestic" not in html.text and "Referral to victim support services" in html.text


def test_worklist_api_needs_csrf_and_purpose(victims_run, as_user) -> None:
    sup = as_user("vsuper1")
    assert sup.post("/api/victims/worklist", json={"purpose": "x"}).status_code == 403
    token = {"X-CSRF-Token": sup.cookies.get("peelian_csrf") or ""}
    assert sup.post("/api/victims/worklist", json={}, headers=token).status_code == 422
    r = sup.post(
        "/api/victims/worklist", json={"purpose": "check", "officer": "C1"}, headers=token
    ).json()
    # C1 contacted CR0-3: each has an overdue referral and an agreed update due later
    assert r["total"] == 8 and {x["officer"] for x in r["rows"]} == {"C1"}
    csv = sup.post("/api/victims/worklist.csv", json={"purpose": "export"}, headers=token)
    assert csv.status_code == 200 and csv.text.startswith("urgency,crime_ref,person_ref")


def test_compliance_suppresses_small_counts_for_viewers(victims_run, as_user) -> None:
    admin = as_user("admin1").get("/victims/compliance.json").json()
    viewer = as_user("viewer1").get("/victims/compliance.json").json()
    a = {r["duty"]: r for r in admin["comp"]["tables"]["by_duty"]}
    v = {r["duty"]: r for r in viewer["comp"]["tables"]["by_duty"]}
    # acknowledgements: CR0-7 met on time (8), CR8-11 not yet due (4)
    ack = a["acknowledgement"]
    assert (ack["due"], ack["on_time"], ack["overdue"], ack["not_yet_due"]) == (8, 8, 0, 4)
    assert a["referral"]["overdue"] == 6 and a["referral"]["rate"] == 0.0
    assert v["acknowledgement"].get("suppressed") and v["acknowledgement"]["rate"] is None
    page = as_user("viewer1").get("/victims/compliance")
    assert page.status_code == 200 and "suppressed (small numbers)" in page.text
    assert "95% interval (exact)" in page.text or "95% exact interval" in page.text
