"""The casework import page: the column contracts shown with human labels, an upload as an
analyst (problems) and as safeguarding (referrals) with the exact counts and the rejected rows
listed without their values, the import audited with its purpose, a viewer refused, CSRF, and
the page's rule in the route table true to the policy."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from test_a11y import page_routes
from web_seed import PASSWORD, login

from peelian.casework.import_contracts import CONTRACTS, KINDS
from peelian.casework.organisations import SYSTEM, add_organisation, assign_user
from peelian.casework.policy import Principal, allowed
from peelian.data.accounts.users import ROLES, add_user
from peelian.data.audit import AuditFilter, search, verify
from peelian.data.tables import problems, referrals
from peelian.web.api.casework import ROUTE_POLICY

PURPOSE = "migrating the partnership spreadsheet"
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()

PROBLEMS_CSV = (
    "title,focus,names_people,area_code,organisation,review_date,stage\n"
    "Shop theft on Northumberland Street,place,no,E01008305,Newcastle CSP,2026-06-30,analysis\n"
    "Youths gathering at Walker Park,group,,E01008400,,2026-05-01,scanning\n"
    "Drug dealing at the Metro station,A place,yes,,,31/05/2026,\n"
    "Bad focus,somewhere,,,,,\n"
    "Untitled,place,perhaps,,,,\n"
)
REFERRALS_CSV = f"""person_ref,organisation,reason,consent,consent_note,referred_on
P000123,Newcastle CSP,Repeat victim of ASB at home,given,,{YESTERDAY}
P000124,Tyneside Health,Alcohol-related assaults,not_sought,Risk of serious harm; DPA 2018 s.35,15/03/2026
Ali Smith,Newcastle CSP,Named in a disorder report,given,,{YESTERDAY}
P000125,Nowhere Trust,Youth diversion,given,,{YESTERDAY}
P000126,Newcastle CSP,Missing episodes,refused,,{YESTERDAY}
P000127,Newcastle CSP,Knife carrying,given,,2999-01-01

P000128,Tyneside Health,Self-harm concerns,maybe,,{YESTERDAY}
"""
#: Values of the rejected rows: none may appear on the page, in its JSON or its rejects CSV.
REJECTED_VALUES = ("Ali Smith", "Nowhere Trust", "Missing episodes", "P000126", "2999-01-01")


@pytest.fixture
def orgs(store, seeded) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    force = add_organisation(store, SYSTEM, "Northumbria Police", "force")
    csp = add_organisation(store, SYSTEM, "Newcastle CSP", "csp")
    health = add_organisation(store, SYSTEM, "Tyneside Health", "health")
    add_user(store, "safe1", PASSWORD, "safeguarding")
    for name in ("admin1", "analyst1", "viewer1", "safe1"):
        assign_user(store, SYSTEM, name, force["id"])
    return {"force": force, "csp": csp, "health": health}


@pytest.fixture
def as_user(app):  # type: ignore[no-untyped-def]
    clients: list[Iterator[TestClient]] = []

    def make(username: str) -> TestClient:
        def gen() -> Iterator[TestClient]:
            with TestClient(app, raise_server_exceptions=False) as c:
                assert login(c, username).status_code == 303
                yield c

        g = gen()
        clients.append(g)
        return next(g)

    yield make
    for g in clients:
        g.close()


def _count(store: Any, table: Any) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _upload(
    client: TestClient, kind: str, text: str, *, dry_run: bool = False, token: bool = True
) -> Any:
    data = {"kind": kind, "purpose": PURPOSE}
    if dry_run:
        data["dry_run"] = "yes"
    if token:
        data["csrf_token"] = client.cookies.get("peelian_csrf") or ""
    files = {"file": (f"{kind}s.csv", text.encode(), "text/csv")}
    return client.post("/casework/import", data=data, files=files)


def _shown(html: str) -> dict[str, Any]:
    """The counts and the rejects table as the page shows them."""
    counts = {
        k: int(re.search(rf'id="rows-{k}">([\d,]+)<', html).group(1).replace(",", ""))  # type: ignore[union-attr]
        for k in ("read", "created", "rejected")
    }
    table = re.search(r'<table id="rejects-table">(.*?)</table>', html, re.S)
    rows = re.findall(r'<th scope="row" class="num">(\d+)</th><td>.*?<code>(\w+)</code>', html)
    return {**counts, "rows": [(int(n), f) for n, f in rows], "table": table}


def test_the_page_lists_each_kind_with_its_column_contract(orgs, as_user) -> None:
    analyst = as_user("analyst1")
    data = analyst.get("/casework/import.json").json()
    kinds = {k["kind"]: k for k in data["kinds"]}
    assert list(kinds) == list(KINDS)
    assert {k: v["can_create"] for k, v in kinds.items()} == {
        "organisation": False,
        "agreement": False,
        "problem": True,
        "intervention": True,
        "referral": False,
    }
    assert kinds["referral"]["label"] == "Referrals" and kinds["referral"]["person_level"]
    ref_cols = {c["column"]: c for c in kinds["referral"]["columns"]}
    assert list(ref_cols)[: len(CONTRACTS["referral"].columns)] == CONTRACTS["referral"].names
    assert ref_cols["person_ref"] == {
        "column": "person_ref",
        "label": "Person reference",
        "required": "Required",
        "holds": "the force's pseudonymised person reference, never a name",
    }
    assert ref_cols["organisation_id"]["label"] == "Organisation number"
    assert ref_cols["status"]["required"] == "Read past (export only)"
    html = analyst.get("/casework/import").text
    # a form (with its CSRF token) for the kinds the analyst may create, none for the others
    forms = re.findall(r'name="kind" value="(\w+)"', html)
    assert forms == ["problem", "intervention"]
    import_forms = re.findall(
        r'<form method="post" action="/casework/import"(.*?)</form>', html, re.S
    )
    assert len(import_forms) == 2
    assert all('name="csrf_token" value="' in f and 'type="file"' in f for f in import_forms)
    assert '<th scope="row">Person reference</th><td><code>person_ref</code>' in html
    # linked from the list pages
    assert 'href="/casework/import"' in analyst.get("/casework/problems").text


def test_an_analyst_imports_problems_and_sees_the_exact_report(store, orgs, as_user) -> None:
    analyst = as_user("analyst1")
    before = _count(store, problems)
    r = _upload(analyst, "problem", PROBLEMS_CSV, dry_run=True)
    assert r.status_code == 200, r.text[:500]
    shown = _shown(r.text)
    assert (shown["read"], shown["created"], shown["rejected"]) == (5, 3, 2)
    assert "Dry run:" in r.text and _count(store, problems) == before  # nothing saved
    r = _upload(analyst, "problem", PROBLEMS_CSV)
    assert r.status_code == 200, r.text[:500]
    shown = _shown(r.text)
    assert (shown["read"], shown["created"], shown["rejected"]) == (5, 3, 2)
    assert shown["rows"] == [(5, "focus"), (6, "names_people")]
    assert "focus is not one of the allowed values." in r.text and "How to fix" in r.text
    table = shown["table"].group(1)
    for value in ("Bad focus", "somewhere", "perhaps", "Untitled"):
        assert value not in table
    assert _count(store, problems) == before + 3
    # audited: the dry run and the import, each with the user and the purpose
    entries = search(store, AuditFilter(action="casework.import"))
    (entry,) = [e for e in entries if e["action"] == "casework.import"]  # and a dry run
    assert entry["username"] == "analyst1"
    assert entry["purpose"] == PURPOSE
    detail = entry["detail"] if isinstance(entry["detail"], dict) else json.loads(entry["detail"])
    assert (detail["rows_read"], detail["created"], detail["rejected"]) == (5, 3, 2)
    dry = search(store, AuditFilter(action="casework.import.dry_run"))
    assert [(e["username"], e["purpose"]) for e in dry] == [("analyst1", PURPOSE)]
    assert verify(store).ok


def test_safeguarding_imports_referrals_without_any_value_shown(store, orgs, as_user) -> None:
    safe = as_user("safe1")
    r = _upload(safe, "referral", REFERRALS_CSV)
    assert r.status_code == 200, r.text[:500]
    shown = _shown(r.text)
    assert (shown["read"], shown["created"], shown["rejected"]) == (7, 2, 5)
    assert [n for n, _ in shown["rows"]] == [4, 5, 6, 7, 9]
    assert dict(shown["rows"])[9] == "consent" and dict(shown["rows"])[4] == "person_ref"
    assert "Blank lines skipped: 1." in r.text and "The totals reconcile" in r.text
    for value in REJECTED_VALUES:
        assert value not in r.text
    assert _count(store, referrals) == 2
    # the rejects download: the same table as CSV (row, field, why, fix), no values
    href = re.search(r'href="data:text/csv;charset=utf-8,([^"]+)" download', r.text).group(1)  # type: ignore[union-attr]
    rows = list(csv.DictReader(io.StringIO(unquote(href.replace("&amp;", "&")))))
    assert [(int(x["row"]), x["field"]) for x in rows] == shown["rows"]
    assert list(rows[0]) == ["row", "field", "why", "fix"] and all(x["fix"] for x in rows)
    for value in REJECTED_VALUES:
        assert value not in unquote(href)
    # the JSON twin answers the same report
    token = safe.cookies.get("peelian_csrf") or ""
    r = safe.post(
        "/casework/import.json",
        data={"kind": "referral", "purpose": PURPOSE, "dry_run": "yes", "csrf_token": token},
        files={"file": ("r.csv", REFERRALS_CSV.encode(), "text/csv")},
    )
    rep = r.json()["report"]
    assert (rep["rows_read"], rep["created"], rep["rejected"], rep["dry_run"]) == (7, 2, 5, True)
    assert _count(store, referrals) == 2
    entries = search(store, AuditFilter(action="casework.import"))
    assert sorted((e["action"], e["username"], e["purpose"]) for e in entries) == [
        ("casework.import", "safe1", PURPOSE),
        ("casework.import.dry_run", "safe1", PURPOSE),
    ]


def test_a_file_that_breaks_the_contract_or_a_kind_not_allowed_is_explained(
    store, orgs, as_user
) -> None:
    safe = as_user("safe1")
    r = _upload(safe, "referral", "person_ref\nP000001\n")
    assert r.status_code == 200 and "missing required columns: reason, consent" in r.text
    assert 'id="import-report"' not in r.text
    r = _upload(safe, "organisation", "name,kind\nNew Trust,voluntary\n")
    assert "may not create" in r.text and 'id="import-report"' not in r.text
    assert _count(store, referrals) == 0


def test_a_viewer_is_refused_and_imports_nothing(store, orgs, as_user) -> None:
    viewer = as_user("viewer1")
    assert viewer.get("/casework/import").status_code == 403
    assert viewer.get("/casework/import.json").status_code == 403
    r = _upload(viewer, "problem", PROBLEMS_CSV)
    assert r.status_code == 403 and "may not create any casework records" in r.text
    assert 'href="/casework/import"' not in viewer.get("/casework/problems").text
    assert _count(store, problems) == 0
    assert search(store, AuditFilter(action="casework.import")) == []


def test_the_import_form_needs_the_csrf_token(store, orgs, as_user) -> None:
    analyst = as_user("analyst1")
    for url in ("/casework/import", "/casework/import.json"):
        r = analyst.post(
            url,
            data={"kind": "problem", "purpose": PURPOSE},
            files={"file": ("p.csv", PROBLEMS_CSV.encode(), "text/csv")},
        )
        assert r.status_code == 403 and "CSRF" in r.text, url
    assert _count(store, problems) == 0
    assert search(store, AuditFilter(action="casework.import")) == []


def test_the_page_rule_is_true_to_the_policy_for_every_role() -> None:
    """The route table's rule (create intervention) admits exactly the roles that may create
    some importable kind, so the generated matrix tests what the page does."""
    for rule in ("/casework/import", "/casework/import.json"):
        assert ROUTE_POLICY[("GET", rule)] == ("create", "intervention")
        assert ROUTE_POLICY[("POST", rule)] == ("create", "intervention")
    for role in ROLES:
        for org in (1, None):
            me = Principal("u", role, org, ())
            some = any(allowed(me, "create", CONTRACTS[k].record_kind) for k in KINDS)
            assert some == allowed(me, "create", "intervention"), (role, org)


def test_the_accessibility_check_opens_the_page(app) -> None:
    """tests/web/test_a11y.py checks every page of the route table; the import page is one."""
    assert "/casework/import" in page_routes(app)
