"""Referrals: consent, status transitions, purpose and audit of every read, list, change and
export, partners under live agreements, optimistic locking, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from typer.testing import CliRunner

from peelian.casework.organisations import SYSTEM, add_agreement
from peelian.casework.policy import principal_for
from peelian.casework.referrals import (
    export_referrals,
    get_referral,
    list_referrals,
    make_referral,
    update_referral,
)
from peelian.data.audit import AuditFilter, count, search, verify
from peelian.errors import AuthError, ConflictError, NotFoundError, ParameterError


def _refer(store, orgs, who="safe1", to="health", **kw):
    args = {
        "person_ref": "P000123",
        "organisation_id": orgs[to]["id"],
        "reason": "Repeat missing episodes; mental health concerns",
        "consent": "given",
        "purpose": "safeguarding referral",
        "referred_on": "2026-05-04",
    }
    args.update(kw)
    return make_referral(store, principal_for(store, who), **args)


def _share(store, orgs, *parties: str) -> None:
    add_agreement(
        store,
        SYSTEM,
        title="Safeguarding partnership",
        purpose="safeguarding",
        lawful_basis="DPA 2018 s.35; Children Act 2004 s.11",
        record_kinds=["referral"],
        party_ids=[orgs[p]["id"] for p in parties],
        start_date=dt.date.today() - dt.timedelta(days=1),
    )


def test_a_referral_is_made_with_consent_and_audited(store, orgs) -> None:
    r = _refer(store, orgs)
    assert (r["status"], r["version"], r["organisation"], r["from_organisation"]) == (
        "made",
        1,
        "Tyneside Health",
        "Northumbria Police",
    )
    assert (r["referred_by"], r["referred_on"], r["consent_label"], r["next_statuses"]) == (
        "safe1",
        dt.date(2026, 5, 4),
        "Consent given",
        ["accepted", "declined"],
    )
    [entry] = search(store, AuditFilter(action="referral.create"))
    assert (entry["record_id"], entry["purpose"]) == (str(r["id"]), "safeguarding referral")
    assert "P000123" not in json.dumps(entry, default=str)  # the audit names the record only


def test_consent_reason_person_ref_and_dates_are_checked(store, orgs) -> None:
    with pytest.raises(ParameterError, match="say why you need to record it"):
        _refer(store, orgs, purpose=" ")
    with pytest.raises(ParameterError, match="Consent not sought: record why"):
        _refer(store, orgs, consent="not_sought")
    with pytest.raises(ParameterError, match="Consent refused: record why"):
        _refer(store, orgs, consent="refused")
    with pytest.raises(ParameterError, match="'consent' parameter .* must be one of given"):
        _refer(store, orgs, consent="implied")
    with pytest.raises(ParameterError, match="pseudonymised reference"):
        _refer(store, orgs, person_ref="Jane Doe")
    with pytest.raises(ParameterError, match="in the future"):
        _refer(store, orgs, referred_on=dt.date.today() + dt.timedelta(days=2))
    with pytest.raises(NotFoundError, match="no organisation 999 to refer to"):
        _refer(store, orgs, organisation_id=999)
    with pytest.raises(AuthError, match="analyst1 \\(analyst\\) may not create referrals"):
        _refer(store, orgs, who="analyst1")
    assert count(store, AuditFilter(action="referral.create")) == 0  # nothing half-written
    r = _refer(store, orgs, consent="not_sought", consent_note="risk of serious harm")
    assert (r["consent"], r["consent_note"]) == ("not_sought", "risk of serious harm")


def test_status_moves_only_along_the_transition_table(store, orgs) -> None:
    safe = principal_for(store, "safe1")
    r = _refer(store, orgs)
    with pytest.raises(ParameterError, match="made can become accepted or declined, not closed"):
        update_referral(store, safe, r["id"], 1, purpose="triage", status="closed")
    with pytest.raises(ParameterError, match="declined needs its outcome"):
        update_referral(store, safe, r["id"], 1, purpose="triage", status="declined")
    r = update_referral(store, safe, r["id"], 1, purpose="triage", status="accepted")
    assert (r["status"], r["version"], r["next_statuses"]) == (
        "accepted",
        2,
        ["in_progress", "closed"],
    )
    r = update_referral(store, safe, r["id"], 2, purpose="review", status="in_progress")
    r = update_referral(
        store, safe, r["id"], 3, purpose="review", status="closed", outcome="Engaged 12 weeks"
    )
    assert (r["status"], r["outcome"], r["closed_at"] is not None) == (
        "closed",
        "Engaged 12 weeks",
        True,
    )
    with pytest.raises(ParameterError, match="is closed: it cannot change"):
        update_referral(store, safe, r["id"], 4, purpose="review", outcome="more")
    d = _refer(store, orgs)
    d = update_referral(
        store, safe, d["id"], 1, purpose="triage", status="declined", outcome="Not eligible"
    )
    assert (d["status"], d["next_statuses"]) == ("declined", [])
    trail = [
        (e["action"], e["detail"].get("status"))
        for e in sorted(search(store, AuditFilter(record_kind="referral")), key=lambda e: e["id"])
        if e["record_id"] == str(r["id"])
    ]
    assert trail == [
        ("referral.create", None),
        ("referral.update", "accepted"),
        ("referral.update", "in_progress"),
        ("referral.close", "closed"),
    ]
    assert verify(store).ok


def test_every_read_and_list_needs_a_purpose_and_is_audited(store, orgs) -> None:
    r = _refer(store, orgs)
    sup = principal_for(store, "super1")
    with pytest.raises(ParameterError, match="say why you need to read"):
        get_referral(store, sup, r["id"], purpose=None)
    with pytest.raises(ParameterError, match="say why you need to list"):
        list_referrals(store, sup, purpose="")
    assert get_referral(store, sup, r["id"], purpose="case review")["person_ref"] == "P000123"
    found = list_referrals(store, sup, purpose="weekly triage", person_ref="P000123")
    assert [x["id"] for x in found["rows"]] == [r["id"]]
    [read] = search(store, AuditFilter(action="referral.read"))
    [listed] = search(store, AuditFilter(action="referral.list"))
    assert (read["username"], read["purpose"]) == ("super1", "case review")
    assert listed["detail"] == {"ids": [r["id"]], "filters": ["person_ref"]}
    for who in ("analyst1", "viewer1", "audit1"):
        with pytest.raises(AuthError, match=f"{who} .* may not read referrals"):
            list_referrals(store, principal_for(store, who), purpose="curious")
        with pytest.raises(AuthError):
            get_referral(store, principal_for(store, who), r["id"], purpose="curious")
    assert count(store, AuditFilter(action="referral.read")) == 1  # refusals read nothing


def test_a_partner_sees_only_referrals_to_their_organisation_under_a_live_agreement(
    store, orgs
) -> None:
    to_health = _refer(store, orgs, to="health")
    to_csp = _refer(store, orgs, to="csp")
    health = principal_for(store, "health1")
    with pytest.raises(AuthError):  # no agreement yet
        get_referral(store, health, to_health["id"], purpose="triage")
    _share(store, orgs, "force", "health", "csp")
    health = principal_for(store, "health1")
    rows = list_referrals(store, health, purpose="triage")["rows"]
    assert [x["id"] for x in rows] == [to_health["id"]]  # not the CSP's, though it is a party
    with pytest.raises(AuthError, match="only referrals to their own organisation"):
        get_referral(store, health, to_csp["id"], purpose="triage")
    accepted = update_referral(
        store, health, to_health["id"], 1, purpose="triage", status="accepted"
    )
    assert accepted["status"] == "accepted"
    with pytest.raises(AuthError, match="may not close"):
        update_referral(
            store, health, to_health["id"], 2, purpose="done", status="closed", outcome="ok"
        )
    with pytest.raises(AuthError, match="may not export referrals"):
        export_referrals(store, health, purpose="report")
    own = _refer(store, orgs, who="health1", to="csp", reason="Housing need")
    assert (own["from_organisation"], own["organisation"]) == ("Tyneside Health", "Newcastle CSP")


def test_two_users_changing_the_same_referral_cannot_overwrite_each_other(store, orgs) -> None:
    r = _refer(store, orgs)
    a, b = principal_for(store, "safe1"), principal_for(store, "super1")
    update_referral(store, a, r["id"], 1, purpose="triage", status="accepted")
    with pytest.raises(ConflictError, match="changed by someone else since you opened it"):
        update_referral(
            store, b, r["id"], 1, purpose="triage", status="declined", outcome="No capacity"
        )
    assert get_referral(store, b, r["id"], purpose="check")["status"] == "accepted"
    assert count(store, AuditFilter(action="referral.update")) == 1


def test_export_and_cli(store, orgs, db_url, tmp_path) -> None:
    from peelian.cli import app

    _refer(store, orgs)
    rows = export_referrals(store, principal_for(store, "super1"), purpose="quarterly return")
    assert [x["person_ref"] for x in rows] == ["P000123"]
    [e] = search(store, AuditFilter(action="referral.export"))
    assert (e["purpose"], e["detail"]) == ("quarterly return", {"rows": 1})

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["casework", "referrals", *args, "--db", db_url])

    health = str(orgs["health"]["id"])
    r = run("add", "P000999", "--to", health, "--reason", "Drug use", "--consent", "given")
    assert r.exit_code == 2 and "say why you need to record it" in r.output
    r = run(
        "add", "P000999", "--to", health, "--reason", "Drug use", "--consent", "given",
        "--purpose", "custody referral", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    new = json.loads(r.output)
    r = run("update", str(new["id"]), "--version", "1", "--status", "closed", "--purpose", "x")
    assert r.exit_code == 2 and "can become accepted or declined" in r.output
    r = run("update", str(new["id"]), "--version", "1", "--status", "accepted", "--purpose", "x")
    assert r.exit_code == 0, r.output
    r = run("list", "--purpose", "triage", "--status", "accepted", "--json")
    assert [x["person_ref"] for x in json.loads(r.output)["rows"]] == ["P000999"]
    out = tmp_path / "r.csv"
    r = run("export", "--out", str(out), "--purpose", "return")
    assert r.exit_code == 0, r.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("id,person_ref,organisation,from_organisation")
    assert len(lines) == 3


@pytest.fixture
def api(store, orgs, tmp_path):  # type: ignore[no-untyped-def]
    """Log-in TestClients on an app over the casework store (no seeded analysis data needed)."""
    from fastapi.testclient import TestClient

    from peelian.config import Settings
    from peelian.web import create_app

    app = create_app(
        Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32), store=store
    )
    opened: list[TestClient] = []

    def as_user(username: str) -> TestClient:
        c = TestClient(app, raise_server_exceptions=False).__enter__()
        opened.append(c)
        c.get("/login")
        r = c.post(
            "/login",
            data={
                "username": username,
                "password": "a long test passphrase",  # tests/casework/conftest.py
                "csrf_token": c.cookies.get("peelian_csrf"),
                "next": "/",
            },
            follow_redirects=False,
        )
        assert r.status_code == 303
        c.headers["X-CSRF-Token"] = c.cookies.get("peelian_csrf") or ""
        return c

    yield as_user
    for c in opened:
        c.__exit__(None, None, None)


def test_a_referral_from_creation_to_outcome_over_the_api_as_two_users(store, orgs, api) -> None:
    _share(store, orgs, "force", "health")
    safe, health = api("safe1"), api("health1")
    body = {
        "person_ref": "P000777",
        "organisation_id": orgs["health"]["id"],
        "reason": "Alcohol-related assaults",
        "consent": "given",
        "purpose": "custody referral",
    }
    made = safe.post("/api/casework/referrals", json=body)
    assert made.status_code == 200, made.text
    rid = made.json()["id"]
    no_purpose = health.post("/api/casework/referrals/search", json={"purpose": ""})
    assert no_purpose.status_code == 422
    found = health.post("/api/casework/referrals/search", json={"purpose": "triage"}).json()
    assert [(r["id"], r["person_ref"]) for r in found["rows"]] == [(rid, "P000777")]
    ok = health.post(
        f"/api/casework/referrals/{rid}",
        json={"version": 1, "purpose": "triage", "status": "accepted"},
    )
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    stale = safe.post(
        f"/api/casework/referrals/{rid}",
        json={"version": 1, "purpose": "x", "status": "declined", "outcome": "no"},
    )
    assert (
        stale.status_code == 409 and "changed by someone else" in stale.json()["error"]["message"]
    )
    refused = health.post(
        f"/api/casework/referrals/{rid}",
        json={"version": 2, "purpose": "done", "status": "closed", "outcome": "Engaged"},
    )
    assert refused.status_code == 403
    closed = safe.post(
        f"/api/casework/referrals/{rid}",
        json={"version": 2, "purpose": "review", "status": "closed", "outcome": "Engaged"},
    )
    assert (closed.json()["status"], closed.json()["outcome"]) == ("closed", "Engaged")
    one = safe.post(f"/api/casework/referrals/{rid}/read", json={"purpose": "audit check"})
    assert one.json()["next_statuses"] == []
    csv = safe.post("/api/casework/referrals/export", json={"purpose": "return"})
    assert csv.status_code == 200 and csv.text.splitlines()[1].startswith(f"{rid},P000777,")
    assert (
        api("analyst1").post("/api/casework/referrals/search", json={"purpose": "x"}).status_code
        == 403
    )
    actions = [
        e["action"]
        for e in sorted(search(store, AuditFilter(record_kind="referral")), key=lambda e: e["id"])
    ]
    assert actions == [
        "referral.create",
        "referral.list",
        "referral.update",
        "referral.close",
        "referral.read",
        "referral.export",
    ]  # the refused and stale writes and the refused search left nothing


def test_interventions_over_the_api(store, orgs, api) -> None:
    analyst = api("analyst1")
    body = {
        "title": "Hotspot patrols, Byker",
        "tier": "primary",
        "intervention_type": "patrol",
        "target_kind": "place",
        "target_ref": "E01008305",
        "start_date": "2026-03-01",
    }
    made = analyst.post("/api/casework/interventions", json=body)
    assert made.status_code == 200, made.text
    iid = made.json()["id"]
    bad = analyst.post("/api/casework/interventions", json={**body, "tier": "fourth"})
    assert bad.status_code == 422
    listed = api("viewer1").get("/api/casework/interventions", params={"tier": "primary"}).json()
    assert [r["id"] for r in listed["rows"]] == [iid]
    vols = analyst.get("/api/casework/interventions/volumes").json()["volumes"]
    assert [(v["tier"], v["intervention_type"]) for v in vols if v["interventions"]] == [
        ("primary", "patrol")
    ]
    upd = analyst.post(
        f"/api/casework/interventions/{iid}", json={"version": 1, "end_date": "2026-08-31"}
    )
    assert upd.status_code == 200 and upd.json()["end_date"] == "2026-08-31"
    assert (
        analyst.post(
            f"/api/casework/interventions/{iid}", json={"version": 1, "owner": "x"}
        ).status_code
        == 409
    )
    csv = analyst.get("/api/casework/interventions.csv")
    assert csv.status_code == 200 and len(csv.text.splitlines()) == 2
    assert api("audit1").get("/api/casework/interventions").status_code == 403
