"""``peelian casework`` and ``peelian audit`` commands."""

from __future__ import annotations

import json

from sqlalchemy import update
from typer.testing import CliRunner

from peelian.cli import app
from peelian.data.audit import search
from peelian.data.tables import audit_log

runner = CliRunner()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def test_organisations_agreements_and_a_stale_version(store, db_url, tmp_path) -> None:
    r = _run(
        "casework",
        "organisations",
        "add",
        "Northumbria Police",
        "--kind",
        "force",
        "--db",
        db_url,
        "--json",
    )
    assert r.exit_code == 0, r.output
    force = json.loads(r.output)["id"]
    r = _run("casework", "organisations", "add", "Newcastle CSP", "--kind", "csp", "--db", db_url)
    assert r.exit_code == 0 and "Community Safety Partnership" in r.output
    r = _run("casework", "organisations", "add", "Xanadu", "--kind", "council", "--db", db_url)
    assert r.exit_code == 2 and "must be one of force" in r.output
    r = _run("casework", "organisations", "list", "--db", db_url, "--json")
    orgs = json.loads(r.output)["organisations"]
    assert [o["name"] for o in orgs] == ["Newcastle CSP", "Northumbria Police"]
    csp = orgs[0]["id"]
    r = _run(
        "casework",
        "agreements",
        "add",
        "--title",
        "SV duty",
        "--purpose",
        "Serious violence",
        "--lawful-basis",
        "DPA 2018 s.35",
        "--kinds",
        "problem,referral",
        "--party",
        str(force),
        "--party",
        str(csp),
        "--start",
        "2026-04-01",
        "--db",
        db_url,
        "--json",
    )
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)
    assert (a["version"], a["record_kinds"]) == (1, ["problem", "referral"])
    r = _run(
        "casework",
        "agreements",
        "end",
        str(a["id"]),
        "--on",
        "2027-03-31",
        "--version",
        "1",
        "--db",
        db_url,
    )
    assert r.exit_code == 0 and "2027-03-31 (version 2)" in r.output
    r = _run(
        "casework",
        "agreements",
        "end",
        str(a["id"]),
        "--on",
        "2027-06-30",
        "--version",
        "1",
        "--db",
        db_url,
    )
    assert r.exit_code == 4 and "changed by someone else" in r.output
    out = tmp_path / "agreements.csv"
    r = _run("casework", "agreements", "export", "--out", str(out), "--db", db_url)
    lines = out.read_text().splitlines()
    assert lines[0].startswith("id,title,purpose") and "problem;referral" in lines[1]


def test_audit_verify_search_and_export(store, db_url, tmp_path) -> None:
    from peelian.data.accounts.users import audit

    for i in range(4):
        audit(store, "sg1", "referral.read", record_kind="referral", record_id=i, purpose="review")
    r = _run("audit", "verify", "--db", db_url)
    assert r.exit_code == 0 and "4 entries verified" in r.output
    r = _run("audit", "search", "--record", "2", "--db", db_url, "--json")
    found = json.loads(r.output)
    assert found["total"] == 1 and found["entries"][0]["record_id"] == "2"
    out = tmp_path / "audit.csv"
    r = _run("audit", "export", "--user", "sg1", "--out", str(out), "--db", db_url)
    assert r.exit_code == 0 and len(out.read_text().splitlines()) == 5
    assert search(store, limit=1)[0]["action"] == "audit.export"  # the export is audited
    victim = sorted(e["id"] for e in search(store))[1]
    with store.begin() as conn:
        conn.execute(update(audit_log).where(audit_log.c.id == victim).values(purpose="none"))
    r = _run("audit", "verify", "--db", db_url, "--json")
    assert r.exit_code == 4
    assert json.loads(r.output)["first_broken_id"] == victim
