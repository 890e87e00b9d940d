"""CSV import of casework records: the column contract, every row through the domain's rules,
rejections kept with reasons (never values), totals that reconcile, audit, permissions, dry run,
and export -> import round trips."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from peelian.casework.importing import (
    CONTRACTS,
    WITHHELD,
    contract_table,
    import_csv,
    write_rejects,
)
from peelian.casework.interventions import list_interventions, register_intervention
from peelian.casework.organisations import SYSTEM, list_agreements, list_organisations
from peelian.casework.policy import principal_for
from peelian.casework.referrals import export_referrals, make_referral
from peelian.cli import app
from peelian.data.audit import AuditFilter, search, verify
from peelian.data.store import open_store
from peelian.data.tables import audit_log, referrals
from peelian.errors import AuthError, ParameterError

PURPOSE = "migrating the partnership spreadsheet"
YESTERDAY = (dt.date.today() - dt.timedelta(days=1)).isoformat()

REFERRALS_CSV = f"""person_ref,organisation,reason,consent,consent_note,referred_on
P000123,Newcastle CSP,Repeat victim of ASB at home,given,,{YESTERDAY}
P000124,Tyneside Health,Alcohol-related assaults,not_sought,Risk of serious harm; DPA 2018 s.35,15/03/2026
Ali Smith,Newcastle CSP,Named in a disorder report,given,,{YESTERDAY}
P000125,Nowhere Trust,Youth diversion,given,,{YESTERDAY}
P000126,Newcastle CSP,Missing episodes,refused,,{YESTERDAY}
P000127,Newcastle CSP,Knife carrying,given,,2999-01-01

P000128,Tyneside Health,Self-harm concerns,maybe,,{YESTERDAY}
"""


def _count(store, table) -> int:  # type: ignore[no-untyped-def]
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def test_referrals_import_keeps_every_rejected_row_with_its_reason(store, orgs) -> None:
    sup = principal_for(store, "super1")
    report = import_csv(store, sup, "referral", REFERRALS_CSV.encode(), purpose=PURPOSE)
    assert (report.rows_read, report.created, len(report.rejected)) == (7, 2, 5)
    assert report.reconciles and report.blank_lines == 1
    assert _count(store, referrals) == 2
    reasons = {r.row: (r.field, r.why) for r in report.rejected}
    assert sorted(reasons) == [4, 5, 6, 7, 9]  # spreadsheet rows: header is row 1
    assert reasons[4][0] == "person_ref" and "pseudonymised" in reasons[4][1]
    assert reasons[5] == ("organisation", "organisation names no organisation in the store.")
    assert reasons[6][0] == "consent_note"
    assert reasons[7][0] == "referred_on" and "future" in reasons[7][1]
    assert reasons[9] == ("consent", "consent is not one of the allowed values.")
    # no value of a row is echoed in a reason or a fix (and so never in a log or an error)
    text = json.dumps(report.as_dict())
    for secret in ("Ali Smith", "Nowhere Trust", "Missing episodes", "P000126", "2999-01-01"):
        assert secret not in text
    assert all(r.fix for r in report.rejected)
    # the created rows are real referrals: dates parsed (DD/MM/YYYY too), consent note kept
    rows = export_referrals(store, sup, purpose="check import")
    assert sorted((r["person_ref"], str(r["referred_on"])) for r in rows) == [
        ("P000123", YESTERDAY),
        ("P000124", "2026-03-15"),
    ]
    # audited: the import (who, purpose, counts, file hash) and each created referral
    entry = search(store, AuditFilter(action="casework.import"))[0]
    assert entry["username"] == "super1" and entry["purpose"] == PURPOSE
    detail = entry["detail"] if isinstance(entry["detail"], dict) else json.loads(entry["detail"])
    assert (detail["rows_read"], detail["created"], detail["rejected"]) == (7, 2, 5)
    assert detail["rejected_by_field"]["consent"] == 1 and len(detail["sha256"]) == 64
    creates = search(store, AuditFilter(action="referral.create"))
    assert len(creates) == 2 and {e["purpose"] for e in creates} == {PURPOSE}
    assert verify(store).ok


def test_the_rejects_file_holds_the_rows_to_correct(store, orgs, tmp_path) -> None:
    report = import_csv(store, SYSTEM, "referral", REFERRALS_CSV, purpose=PURPOSE)
    path = tmp_path / "rejects.csv"
    assert write_rejects(report, path) == 5
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert [r["row"] for r in rows] == ["4", "5", "6", "7", "9"]
    assert rows[0]["person_ref"] == "Ali Smith" and rows[0]["field"] == "person_ref"
    # fixing the rejected rows and importing them again creates only those
    fixed = path.read_text(encoding="utf-8").replace("Ali Smith", "P000200")
    again = import_csv(
        store,
        SYSTEM,
        "referral",
        "\n".join(",".join(r) for r in _without_report_cols(fixed)),
        purpose=PURPOSE,
    )
    assert (again.created, len(again.rejected)) == (1, 4)


def _without_report_cols(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text)))
    return [r[4:] for r in rows]


def test_person_level_import_needs_the_policy(store, orgs) -> None:
    for username in ("analyst1", "viewer1", "audit1"):
        with pytest.raises(AuthError, match="may not create referrals"):
            import_csv(
                store, principal_for(store, username), "referral", REFERRALS_CSV, purpose=PURPOSE
            )
    assert _count(store, referrals) == 0
    # an analyst may import interventions, but not one aimed at a person (reading people)
    data = (
        "title,tier,intervention_type,target_kind,target_ref,start_date\n"
        "Bus station patrols,primary,patrol,place,E01008305,2026-01-05\n"
        "Mentoring for P1,secondary,diversion_pathway,person,P000001,2026-01-05\n"
    )
    report = import_csv(store, principal_for(store, "analyst1"), "intervention", data, purpose="x")
    assert report.created == 1 and [r.row for r in report.rejected] == [3]
    assert "may not read people" in report.rejected[0].why


def test_a_file_that_breaks_the_contract_is_refused_whole(store, orgs) -> None:
    with pytest.raises(ParameterError, match="missing required columns: consent"):
        import_csv(store, SYSTEM, "referral", "person_ref,organisation,reason\n", purpose="x")
    with pytest.raises(ParameterError, match="unknown columns: colour"):
        import_csv(store, SYSTEM, "organisation", "name,kind,colour\nA,csp,red\n", purpose="x")
    with pytest.raises(ParameterError, match="not UTF-8"):
        import_csv(store, SYSTEM, "organisation", b"name,kind\n\xff\xfe,csp\n", purpose="x")
    with pytest.raises(ParameterError, match="empty"):
        import_csv(store, SYSTEM, "organisation", "", purpose="x")
    with pytest.raises(ParameterError, match="purpose"):
        import_csv(store, SYSTEM, "organisation", "name,kind\nA,csp\n", purpose=" ")
    assert len(list_organisations(store, SYSTEM)) == 3


def test_organisations_and_agreements_with_labels_parents_and_short_rows(store, orgs) -> None:
    data = (
        "\ufeffName,Kind,Parent\n"  # a spreadsheet's BOM and capitalised header
        "Northern Area Command,Police command,Northumbria Police\n"
        "Byker Neighbourhood Team,command,Northern Area Command\n"
        "Newcastle CSP,csp,\n"  # a duplicate name: the domain's rule
        "Too,many,cells,here\n"
        "Walker Youth Club,voluntary\n"  # a short row: the missing cell is blank
    )
    report = import_csv(store, SYSTEM, "organisation", data.encode(), purpose="set-up")
    assert (report.rows_read, report.created) == (5, 3) and report.reconciles
    assert [(r.row, r.field) for r in report.rejected] == [(4, "name"), (5, "(row)")]
    assert "already exists" in report.rejected[0].why
    by_name = {o["name"]: o for o in list_organisations(store, SYSTEM)}
    assert (
        by_name["Byker Neighbourhood Team"]["parent_id"] == by_name["Northern Area Command"]["id"]
    )
    assert by_name["Northern Area Command"]["kind"] == "command"
    agreements_csv = (
        "title,purpose,lawful_basis,record_kinds,parties,start_date,end_date\n"
        "Youth diversion,Diversion panel,DPA 2018 s.35,referral;person,"
        "Northumbria Police;Walker Youth Club,2026-01-01,2026-12-31\n"
        "Broken,Diversion,DPA 2018 s.35,audit,Northumbria Police;Newcastle CSP,2026-01-01,\n"
        "Backwards,Diversion,DPA 2018 s.35,problem,Northumbria Police;Newcastle CSP,"
        "2026-02-01,2026-01-01\n"
    )
    report = import_csv(store, SYSTEM, "agreement", agreements_csv, purpose="set-up")
    assert report.created == 1 and [(r.row, r.field) for r in report.rejected] == [
        (3, "record_kinds"),
        (4, "end_date"),
    ]
    (youth,) = list_agreements(store, SYSTEM, on=dt.date(2026, 6, 1))
    assert youth["parties"] == ["Northumbria Police", "Walker Youth Club"]
    assert youth["record_kinds"] == ["person", "referral"]


def test_dry_run_checks_every_row_and_writes_nothing_but_its_audit(store, orgs) -> None:
    before = _count(store, audit_log)
    report = import_csv(store, SYSTEM, "referral", REFERRALS_CSV, purpose=PURPOSE, dry_run=True)
    assert (report.created, len(report.rejected), report.dry_run) == (2, 5, True)
    assert report.as_dict()["created_ids"] == []
    assert _count(store, referrals) == 0
    assert _count(store, audit_log) == before + 1
    assert search(store, AuditFilter(action="casework.import.dry_run"))[0]["purpose"] == PURPOSE
    # the same file for real gives the same answer
    real = import_csv(store, SYSTEM, "referral", REFERRALS_CSV, purpose=PURPOSE)
    assert [r.as_dict() for r in real.rejected] == [r.as_dict() for r in report.rejected]


def test_dry_run_sees_the_interventions_the_file_names(store, orgs) -> None:
    i = register_intervention(
        store,
        SYSTEM,
        title="Knife crime education",
        tier="primary",
        intervention_type="education_programme",
        target_kind="place",
        target_ref="E01008305",
        start_date="2026-01-01",
    )
    data = (
        "person_ref,organisation_id,reason,consent,intervention_id\n"
        f"P000300,{orgs['csp']['id']},Attends the programme,given,{i['id']}\n"
        f"P000301,{orgs['csp']['id']},Attends the programme,given,{i['id'] + 99}\n"
    )
    report = import_csv(store, SYSTEM, "referral", data, purpose=PURPOSE, dry_run=True)
    assert report.created == 1 and [(r.row, r.field) for r in report.rejected] == [
        (3, "intervention_id")
    ]


def test_export_then_import_round_trips(store, orgs, tmp_path) -> None:
    """Export organisations, agreements, interventions and referrals with the CLI, import
    them into a fresh store with the CLI: the same records come back."""
    runner = CliRunner()
    url = str(store.engine.url.render_as_string(hide_password=False))
    register_intervention(
        store,
        SYSTEM,
        title="Design out crime at Shields Road",
        tier="primary",
        intervention_type="design_out_crime",
        target_kind="place",
        target_ref="E01008305",
        start_date="2026-02-01",
        end_date="2026-08-31",
        funding_source="Safer Streets 5",
        organisation_id=orgs["csp"]["id"],
    )
    register_intervention(
        store,
        SYSTEM,
        title="Custody navigator",
        tier="tertiary",
        intervention_type="diversion_pathway",
        target_kind="person",
        target_ref="P000777",
        start_date="2026-03-01",
        purpose="set-up",
    )
    make_referral(
        store,
        SYSTEM,
        person_ref="P000777",
        organisation_id=orgs["health"]["id"],
        reason="Alcohol use",
        consent="given",
        purpose="set-up",
        referred_on=YESTERDAY,
    )
    files = {}
    for kind, cmd in (
        ("organisation", ["organisations", "export"]),
        ("intervention", ["interventions", "export"]),
        ("referral", ["referrals", "export", "--purpose", "round trip"]),
    ):
        files[kind] = tmp_path / f"{kind}.csv"
        r = runner.invoke(app, ["casework", *cmd, "--out", str(files[kind]), "--db", url])
        assert r.exit_code == 0, r.output
    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    fresh = open_store(fresh_url)
    results = {}
    for kind in ("organisation", "intervention", "referral"):
        r = runner.invoke(
            app,
            ["casework", "import", kind, str(files[kind]), "--purpose", "round trip"]
            + ["--db", fresh_url, "--json", "--rejects", str(tmp_path / f"{kind}.rejects.csv")],
        )
        assert r.exit_code == 0, r.output
        results[kind] = json.loads(r.output)
    assert results["organisation"]["created"] == 3 and results["organisation"]["reconciles"]
    assert [o["name"] for o in list_organisations(fresh, SYSTEM)] == [
        o["name"] for o in list_organisations(store, SYSTEM)
    ]
    # the person target was withheld by the export: rejected with why, never dropped
    assert (results["intervention"]["created"], results["intervention"]["rejected"]) == (1, 1)
    assert "withheld" in results["intervention"]["rejections"][0]["why"]
    (place,) = list_interventions(fresh, SYSTEM)["rows"]
    keys = ("title", "tier", "intervention_type", "target_ref", "start_date", "end_date")
    orig = next(r for r in list_interventions(store, SYSTEM)["rows"] if r["target_kind"] == "place")
    assert {k: place[k] for k in keys} == {k: orig[k] for k in keys}
    assert place["organisation"] == "Newcastle CSP" and place["funding_source"] == "Safer Streets 5"
    assert results["referral"]["created"] == 1
    (ref,) = export_referrals(fresh, SYSTEM, purpose="check")
    assert (ref["person_ref"], ref["organisation"], str(ref["referred_on"])) == (
        "P000777",
        "Tyneside Health",
        YESTERDAY,
    )
    fresh.dispose()


def test_problems_export_then_import_keeps_the_problems_naming_people(store, orgs, tmp_path):  # type: ignore[no-untyped-def]
    """The problems export writes names_people, so a place problem naming people re-imports
    as person-level (before the column it came back as a place problem anyone could read)."""
    from peelian.casework.problems import list_problems, open_problem

    runner = CliRunner()
    url = str(store.engine.url.render_as_string(hide_password=False))
    analyst = principal_for(store, "analyst1")
    open_problem(
        store, analyst, title="Shop theft on Shields Road", focus="place", area_code="E01008305"
    )
    open_problem(
        store,
        analyst,
        title="Dealing from a flat on Walker Road",
        focus="place",
        area_code="E01008400",
        names_people=True,
        purpose="set-up",
    )
    open_problem(store, analyst, title="Youths at Walker Park", focus="group", purpose="set-up")
    out = tmp_path / "problems.csv"
    r = runner.invoke(app, ["casework", "problems", "export", "--out", str(out), "--db", url])
    assert r.exit_code == 0, r.output
    exported = {row["title"]: row["names_people"] for row in csv.DictReader(out.open())}
    assert exported == {
        "Shop theft on Shields Road": "no",
        "Dealing from a flat on Walker Road": "yes",
        "Youths at Walker Park": "yes",
    }
    fresh_url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    fresh = open_store(fresh_url)
    for kind, path in (("organisation", tmp_path / "orgs.csv"), ("problem", out)):
        if kind == "organisation":
            r = runner.invoke(
                app, ["casework", "organisations", "export", "--out", str(path), "--db", url]
            )
            assert r.exit_code == 0, r.output
        r = runner.invoke(
            app,
            [
                "casework",
                "import",
                kind,
                str(path),
                "--purpose",
                "round trip",
                "--db",
                fresh_url,
                "--json",
            ],
        )
        assert r.exit_code == 0, r.output
    result = json.loads(r.output)
    assert (result["rows_read"], result["created"], result["rejected"]) == (3, 3, 0)
    back = {p["title"]: p for p in list_problems(fresh, SYSTEM)["rows"]}
    assert {t: (p["focus"], p["names_people"], p["record_kind"]) for t, p in back.items()} == {
        "Shop theft on Shields Road": ("place", False, "problem"),
        "Dealing from a flat on Walker Road": ("place", True, "problem_person"),
        "Youths at Walker Park": ("group", True, "problem_person"),
    }
    fresh.dispose()


def test_cli_import_reports_and_writes_rejects_beside_the_file(store, db_url, orgs, tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "refs.csv"
    path.write_text(REFERRALS_CSV, encoding="utf-8")
    runner = CliRunner()
    r = runner.invoke(
        app, ["casework", "import", "referral", str(path), "--purpose", PURPOSE, "--db", db_url]
    )
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "7 rows read: 2 created, 5 rejected" in out and "Ali Smith" not in out
    rejects = tmp_path / "refs.rejects.csv"
    assert rejects.exists() and "Ali Smith" in rejects.read_text(encoding="utf-8")
    r = runner.invoke(
        app, ["casework", "import", "referral", str(path), "--db", db_url, "--dry-run"]
    )
    assert r.exit_code == 2 and "--purpose" in r.output
    r = runner.invoke(
        app,
        ["casework", "import", "referral", str(path), "--purpose", "x", "--db", db_url]
        + ["--user", "viewer1", "--json"],
    )
    assert r.exit_code == 8 and json.loads(r.output)["error"]["code"]


def test_every_contract_is_documented() -> None:
    text = (Path(__file__).parents[2] / "docs" / "guide" / "casework.md").read_text("utf-8")
    for kind, contract in CONTRACTS.items():
        assert f"peelian casework import {kind}" in text
        for col in contract.columns:
            assert f"`{col.name}`" in text, (kind, col.name)
        assert contract_table(kind)[0]["required"] in ("yes", "no")
    assert WITHHELD == "[value withheld]"


def test_api_upload_needs_csrf_and_the_policy_and_reports_rejections(store, orgs, tmp_path):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from peelian.config import Settings
    from peelian.web import create_app

    settings = Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)
    app = create_app(settings, store=store)
    url = "/api/casework/import/referral"
    files = {"file": ("refs.csv", REFERRALS_CSV.encode(), "text/csv")}
    with TestClient(app, raise_server_exceptions=False) as c:
        c.get("/login")
        c.post(
            "/login",
            data={
                "username": "safe1",
                "password": "a long test passphrase",  # tests/casework/conftest.py
                "csrf_token": c.cookies.get("peelian_csrf"),
                "next": "/",
            },
        )
        token = {"X-CSRF-Token": c.cookies.get("peelian_csrf") or ""}
        r = c.post(url, files=files, data={"purpose": PURPOSE})
        assert r.status_code == 403 and "CSRF" in r.text
        r = c.post(url, files=files, data={"purpose": PURPOSE, "dry_run": "true"}, headers=token)
        assert r.status_code == 200, r.text
        assert (r.json()["created"], r.json()["rejected"], r.json()["dry_run"]) == (2, 5, True)
        r = c.post(url, files=files, data={"purpose": PURPOSE}, headers=token)
        body = r.json()
        assert (body["rows_read"], body["created"], body["reconciles"]) == (7, 2, True)
        assert [x["row"] for x in body["rejections"]] == [4, 5, 6, 7, 9]
        assert "Ali Smith" not in r.text and "Missing episodes" not in r.text
        r = c.post(
            "/api/casework/import/referral",
            files={"file": ("x.csv", b"person_ref\nP1\n", "text/csv")},
            data={"purpose": PURPOSE},
            headers=token,
        )
        assert r.status_code == 422 and "missing required columns" in r.json()["error"]["message"]
        r = c.post(
            "/api/casework/import/organisation", files=files, data={"purpose": "x"}, headers=token
        )
        assert r.status_code == 403  # safeguarding may not create organisations
    assert _count(store, referrals) == 2


def test_the_guide_example_runs_as_printed(db_url, tmp_path) -> None:
    """The CSV files of the casework guide's example, imported with the commands it shows."""
    import re

    guide = (Path(__file__).parents[2] / "docs" / "guide" / "casework.md").read_text("utf-8")
    section = guide.split("### An example", 1)[1].split("## Retention review", 1)[0]
    orgs_csv, refs_csv = re.findall(r"```csv\n(.*?)```", section, re.S)
    (tmp_path / "organisations.csv").write_text(orgs_csv, encoding="utf-8")
    (tmp_path / "referrals.csv").write_text(refs_csv, encoding="utf-8")
    runner = CliRunner()
    base = ["casework", "import", "--db", db_url]
    r = runner.invoke(
        app,
        [*base[:2], "organisation", str(tmp_path / "organisations.csv")]
        + ["--purpose", "set-up", *base[2:]],
    )
    assert r.exit_code == 0 and "3 rows read: 3 created, 0 rejected." in r.output, r.output
    r = runner.invoke(
        app,
        [*base[:2], "referral", str(tmp_path / "referrals.csv")]
        + ["--purpose", "migrating the 2026 referrals sheet", *base[2:]],
    )
    printed = "".join(r.output.split())  # Rich wraps lines anywhere
    expected = section.split("prints\n", 1)[1].split("## ", 1)[0]
    expected = "".join(expected.split()).replace(
        "referrals.rejects.csv", str(tmp_path / "referrals.rejects.csv")
    )
    assert r.exit_code == 0 and printed == expected, (printed, expected)


def test_problems_import_with_people_needs_the_right_to_create_them(store, orgs) -> None:
    from peelian.casework.problems import list_problems

    data = (
        "title,focus,names_people,area_code,organisation,review_date,stage\n"
        "Shop theft on Northumberland Street,place,no,E01008305,Newcastle CSP,2026-06-30,analysis\n"
        "Youths gathering at Walker Park,group,,E01008400,,2026-05-01,scanning\n"
        "Drug dealing at the Metro station,A place,yes,,,31/05/2026,\n"
        "Bad focus,somewhere,,,,,\n"
        "Untitled,place,perhaps,,,,\n"
    )
    analyst = principal_for(store, "analyst1")  # may create problems naming people, not close
    report = import_csv(store, analyst, "problem", data, purpose="tasking meeting")
    assert (report.rows_read, report.created, report.reconciles) == (5, 3, True)
    assert [(r.row, r.field) for r in report.rejected] == [(5, "focus"), (6, "names_people")]
    assert report.ignored_columns == {
        "stage": "an imported problem opens at scanning; move it on in the app"
    }
    rows = {p["title"]: p for p in list_problems(store, SYSTEM)["rows"]}
    shop = rows["Shop theft on Northumberland Street"]
    assert (shop["organisation_id"], str(shop["review_date"]), shop["stage"]) == (
        orgs["csp"]["id"],
        "2026-06-30",
        "scanning",
    )
    assert rows["Drug dealing at the Metro station"]["record_kind"] == "problem_person"
    assert rows["Youths gathering at Walker Park"]["organisation_id"] == orgs["force"]["id"]
    # a viewer may create none: the file is refused whole
    with pytest.raises(AuthError):
        import_csv(store, principal_for(store, "viewer1"), "problem", data, purpose="x")
