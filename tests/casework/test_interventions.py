"""The interventions registry: vocabulary, targets, person-level disclosure with purpose and
audit, optimistic locking and all-or-nothing writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from peelian.casework.interventions import (
    end_intervention,
    get_intervention,
    list_interventions,
    register_intervention,
    update_intervention,
    volumes,
)
from peelian.casework.organisations import SYSTEM, add_agreement
from peelian.casework.policy import principal_for
from peelian.casework.problems import open_problem
from peelian.data.audit import AuditFilter, count, search, verify
from peelian.errors import AuthError, ConflictError, NotFoundError, ParameterError


def _place(store, who="analyst1", **kw):
    args = {
        "title": "Gating alleys behind Shieldfield flats",
        "tier": "primary",
        "intervention_type": "design_out_crime",
        "target_kind": "place",
        "target_ref": "e01008305",
        "start_date": "2026-03-01",
        "funding_source": "Safer Streets round 5",
    }
    args.update(kw)
    return register_intervention(store, principal_for(store, who), **args)


def _person(store, who="safe1", **kw):
    args = {
        "title": "Diversion for a young person",
        "tier": "secondary",
        "intervention_type": "diversion_pathway",
        "target_kind": "person",
        "target_ref": "P000123",
        "start_date": "2026-02-10",
        "purpose": "diversion panel 10 Feb",
    }
    args.update(kw)
    return register_intervention(store, principal_for(store, who), **args)


def test_a_place_intervention_is_registered_with_labels_and_audited(store, orgs) -> None:
    i = _place(store, end_date="2026-09-30")
    assert (i["tier"], i["intervention_type"], i["target_kind"], i["target_ref"]) == (
        "primary",
        "design_out_crime",
        "place",
        "E01008305",
    )
    assert (i["tier_label"], i["type_label"], i["organisation"], i["owner"]) == (
        "Primary (before harm)",
        "Design out crime",
        "Northumbria Police",
        "analyst1",
    )
    assert (i["version"], i["target_hidden"], i["funding_source"]) == (
        1,
        False,
        "Safer Streets round 5",
    )
    analyst = principal_for(store, "analyst1")
    assert get_intervention(store, analyst, i["id"], on=dt.date(2026, 5, 1))["active"] is True
    assert get_intervention(store, analyst, i["id"], on=dt.date(2026, 10, 1))["active"] is False
    [entry] = search(store, AuditFilter(action="intervention.create"))
    assert (entry["username"], entry["record_id"]) == ("analyst1", str(i["id"]))
    assert verify(store).ok


def test_vocabulary_dates_and_targets_are_checked(store, orgs) -> None:
    with pytest.raises(ParameterError, match="'tier' parameter .* must be one of primary"):
        _place(store, tier="quaternary")
    with pytest.raises(ParameterError, match="intervention_type"):
        _place(store, intervention_type="arrest")
    with pytest.raises(ParameterError, match="A place target is an LSOA code"):
        _place(store, target_ref="Shieldfield")
    with pytest.raises(ParameterError, match="before the start date"):
        _place(store, end_date="2026-01-01")
    with pytest.raises(NotFoundError, match="no problem 99 to target"):
        _place(store, target_ref="problem:99")
    with pytest.raises(NotFoundError, match="no problem 98 to link"):
        _place(store, problem_id=98)
    with pytest.raises(ParameterError, match="pseudonymised reference"):
        _person(store, target_ref="John Smith")
    assert list_interventions(store, SYSTEM)["total"] == 0  # nothing half-written
    assert count(store, AuditFilter(action="intervention.create")) == 0
    p = open_problem(
        store, principal_for(store, "analyst1"), title="Burglary Shieldfield", focus="place"
    )
    i = _place(store, target_ref=f"problem:{p['id']}", problem_id=p["id"])
    assert (i["target_ref"], i["problem_id"]) == (f"problem:{p['id']}", p["id"])


def test_a_person_target_is_disclosed_only_with_purpose_to_entitled_roles(store, orgs) -> None:
    with pytest.raises(ParameterError, match="aimed at a person: say why"):
        _person(store, purpose=None)
    with pytest.raises(AuthError, match="analyst1 \\(analyst\\) may not read people"):
        _person(store, who="analyst1")
    i = _person(store)
    assert i["target_ref"] == "P000123"
    safe, analyst = principal_for(store, "safe1"), principal_for(store, "analyst1")
    hidden = get_intervention(store, safe, i["id"])  # no purpose: the person stays hidden
    assert (hidden["target_ref"], hidden["target_hidden"]) == (None, True)
    shown = get_intervention(store, safe, i["id"], purpose="safeguarding review")
    assert shown["target_ref"] == "P000123"
    seen = get_intervention(store, analyst, i["id"], purpose="curious")
    assert (seen["target_ref"], seen["title"]) == (None, "Diversion for a young person")
    reads = search(store, AuditFilter(action="intervention.read"))
    assert [(e["username"], e["purpose"]) for e in reads] == [("safe1", "safeguarding review")]
    [created] = search(store, AuditFilter(action="intervention.create"))
    assert created["purpose"] == "diversion panel 10 Feb"
    rows = list_interventions(store, safe)["rows"]
    assert [(r["target_ref"], r["target_hidden"]) for r in rows] == [(None, True)]
    with pytest.raises(ParameterError, match="say why you need to change"):
        update_intervention(store, safe, i["id"], 1, title="Diversion (youth)")


def test_who_may_read_and_partners_under_agreements(store, orgs) -> None:
    i = _place(store)
    assert list_interventions(store, principal_for(store, "viewer1"))["total"] == 1
    with pytest.raises(AuthError, match="audit1 \\(auditor\\) may not read interventions"):
        list_interventions(store, principal_for(store, "audit1"))
    with pytest.raises(AuthError, match="csp1 \\(partner\\) may not read interventions"):
        list_interventions(store, principal_for(store, "csp1"))
    add_agreement(
        store,
        SYSTEM,
        title="Prevention partnership",
        purpose="prevention",
        lawful_basis="DPA 2018 s.35",
        record_kinds=["intervention"],
        party_ids=[orgs["force"]["id"], orgs["csp"]["id"]],
        start_date=dt.date.today() - dt.timedelta(days=1),
    )
    csp = principal_for(store, "csp1")
    assert [r["id"] for r in list_interventions(store, csp)["rows"]] == [i["id"]]
    with pytest.raises(AuthError):  # not a party
        get_intervention(store, principal_for(store, "health1"), i["id"])
    with pytest.raises(AuthError, match="may not update interventions of this organisation"):
        update_intervention(store, csp, i["id"], 1, title="Gating alleys (phase 2)")
    own = _place(store, who="csp1", title="CSP youth outreach", tier="secondary")
    assert own["organisation"] == "Newcastle CSP"
    with pytest.raises(AuthError, match="may not close"):
        end_intervention(store, principal_for(store, "analyst1"), i["id"], 1)


def test_two_users_editing_the_same_intervention_cannot_overwrite_each_other(store, orgs) -> None:
    i = _place(store)
    a, b = principal_for(store, "analyst1"), principal_for(store, "super1")
    j = update_intervention(store, a, i["id"], 1, funding_source="PCC fund", end_date="2026-12-31")
    assert (j["version"], j["funding_source"], j["end_date"]) == (
        2,
        "PCC fund",
        dt.date(2026, 12, 31),
    )
    with pytest.raises(ConflictError, match="changed by someone else since you opened it"):
        update_intervention(store, b, i["id"], 1, funding_source="VRU core")
    assert count(store, AuditFilter(action="intervention.update")) == 1
    ended = end_intervention(store, b, i["id"], 2, end_date="2026-06-30")
    assert (ended["end_date"], ended["version"]) == (dt.date(2026, 6, 30), 3)
    [entry] = search(store, AuditFilter(action="intervention.update"))
    assert entry["detail"] == {"fields": ["end_date", "funding_source"]}


def test_filters_and_volumes_per_tier_and_type(store, orgs) -> None:
    _place(store)
    _place(store, title="Hotspot patrols", intervention_type="patrol", end_date="2026-04-30")
    _person(store)
    analyst = principal_for(store, "analyst1")
    assert list_interventions(store, analyst, tier="primary")["total"] == 2
    assert list_interventions(store, analyst, intervention_type="patrol")["total"] == 1
    assert list_interventions(store, analyst, target_kind="person")["total"] == 1
    assert list_interventions(store, analyst, active_on="2026-05-15")["total"] == 2
    assert list_interventions(store, analyst, text="gating")["total"] == 1
    assert list_interventions(store, analyst, text="safer streets")["total"] == 2  # both place ones
    table = volumes(store, analyst, on=dt.date(2026, 5, 15))
    assert len(table) == 3 * 8
    got = {(r["tier"], r["intervention_type"]): r for r in table if r["interventions"]}
    assert {
        k: (v["interventions"], v["active"], v["personal_targets"]) for k, v in got.items()
    } == {
        ("primary", "design_out_crime"): (1, 1, 0),
        ("primary", "patrol"): (1, 0, 0),
        ("secondary", "diversion_pathway"): (1, 1, 1),
    }


def test_cli_registers_lists_and_exports_without_person_targets(store, db_url, tmp_path) -> None:
    import json

    from typer.testing import CliRunner

    from peelian.cli import app

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(app, ["casework", "interventions", *args, "--db", db_url])

    r = run(
        "add", "Gating alleys", "--tier", "primary", "--type", "design_out_crime",
        "--target-kind", "place", "--target", "E01008305", "--start", "2026-03-01",
        "--funding", "Safer Streets 5", "--json",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["target_ref"] == "E01008305"
    r = run(
        "add", "Diversion", "--tier", "secondary", "--type", "diversion_pathway",
        "--target-kind", "person", "--target", "P000123", "--start", "2026-02-10",
    )  # fmt: skip
    assert r.exit_code == 2 and "say why you need to record it" in r.output
    r = run(
        "add", "Diversion", "--tier", "secondary", "--type", "diversion_pathway",
        "--target-kind", "person", "--target", "P000123", "--start", "2026-02-10",
        "--purpose", "diversion panel",
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    r = run("update", "1", "--version", "1", "--end", "2026-01-01")
    assert r.exit_code == 2 and "before the start date" in r.output
    r = run("volumes", "--on", "2026-05-01", "--json")
    got = {
        (v["tier"], v["intervention_type"]): v["active"]
        for v in json.loads(r.output)["volumes"]
        if v["interventions"]
    }
    assert got == {("primary", "design_out_crime"): 1, ("secondary", "diversion_pathway"): 1}
    out = tmp_path / "i.csv"
    assert run("export", "--out", str(out)).exit_code == 0
    lines = out.read_text().splitlines()
    assert lines[0].startswith("id,title,tier,intervention_type,target_kind,target_ref")
    assert len(lines) == 3 and "P000123" not in out.read_text()
    assert search(store, AuditFilter(action="intervention.export"))[0]["detail"] == {"rows": 2}


def test_new_vocabulary_keeps_the_older_labels() -> None:
    from peelian.casework._vocab import TARGET_KINDS, label

    # 'person' and 'group' are also a record kind and a problem focus: their labels stay
    assert (label("person"), label("group"), label("closed")) == (
        "People",
        "A group of people",
        "Closed",
    )
    assert (TARGET_KINDS["person"], label("not_sought"), label("design_out_crime")) == (
        "A person",
        "Consent not sought",
        "Design out crime",
    )
