"""Retention review: due dates from the packaged periods, erasure keeps outline and audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from peelian.casework.policy import principal_for
from peelian.casework.problems import add_action, get_problem, open_problem
from peelian.casework.retention import (
    REMOVED,
    _add_months,
    due_for_review,
    erase_problem,
    keep_problem,
    retention_rules,
)
from peelian.data.audit import AuditFilter, search, verify
from peelian.data.tables import problems
from peelian.errors import AuthError, ParameterError


def test_the_default_periods_are_labelled_illustrative() -> None:
    rule = retention_rules()["problem_person"]
    assert rule.review_after_months == 72 and "Illustrative" in rule.basis
    assert _add_months(dt.date(2020, 2, 29), 72) == dt.date(2026, 2, 28)
    assert _add_months(dt.date(2020, 1, 31), 1) == dt.date(2020, 2, 29)


def _group_problem(store):  # type: ignore[no-untyped-def]
    sup = principal_for(store, "super1")
    p = open_problem(store, sup, title="Ali Smith and associates", focus="group", purpose="tasking")
    add_action(
        store, sup, p["id"], description="Visit Ali Smith at home", owner="pc1", purpose="tasking"
    )
    with store.begin() as conn:  # last activity seven years ago
        conn.execute(
            update(problems)
            .where(problems.c.id == p["id"])
            .values(updated_at=dt.datetime(2019, 5, 1, 12))
        )
    return sup, p


def test_review_worklist_and_erasure(store, orgs) -> None:
    sup, p = _group_problem(store)
    place = open_problem(store, sup, title="Shop theft, Grainger St", focus="place")
    due = due_for_review(store, sup, on=dt.date(2026, 1, 1))
    assert [(d["id"], d["review_due"]) for d in due] == [(p["id"], dt.date(2025, 5, 1))]
    assert due_for_review(store, sup, on=dt.date(2025, 4, 30)) == []
    assert due_for_review(store, principal_for(store, "viewer1"), on=dt.date(2026, 1, 1)) == []
    with pytest.raises(AuthError):
        erase_problem(store, principal_for(store, "analyst1"), p["id"], 1, purpose="review")
    with pytest.raises(ParameterError, match="does not name people"):
        erase_problem(store, sup, place["id"], 1, purpose="review")
    report = erase_problem(store, sup, p["id"], 1, purpose="retention review 2026")
    assert report["actions"] == 1 and "title" in report["fields"]
    after = get_problem(store, sup, p["id"])  # no longer person-level: no purpose needed
    assert after["title"] == f"Problem {p['id']} (personal data removed)"
    assert after["actions"][0]["description"] == REMOVED
    assert after["erased_at"] is not None and after["record_kind"] == "problem"
    assert "Ali Smith" not in str(after)
    # the audit entries about it are all still there, and the chain holds
    entries = search(store, AuditFilter(record_id=str(p["id"]), record_kind="problem_person"))
    assert [e["action"] for e in sorted(entries, key=lambda e: e["id"])] == [
        "problem.create",
        "problem.erase",
    ]
    assert verify(store).ok
    assert due_for_review(store, sup, on=dt.date(2026, 1, 1)) == []


def test_keeping_is_recorded_and_restarts_the_clock(store, orgs) -> None:
    sup, p = _group_problem(store)
    kept = keep_problem(store, sup, p["id"], 1, reason="linked to an ongoing investigation")
    assert kept["version"] == 2
    assert due_for_review(store, sup, on=dt.date.today()) == []
    entry = search(store, AuditFilter(action="problem.retain"))[0]
    assert entry["purpose"] == "linked to an ongoing investigation"


def _old_referral_and_interventions(store, orgs):  # type: ignore[no-untyped-def]
    """A closed referral and a person intervention last touched in 2019, and an old place
    intervention (no personal data: never reviewed)."""
    from peelian.casework.interventions import register_intervention
    from peelian.casework.referrals import make_referral, update_referral
    from peelian.data.tables import interventions, referrals

    sup = principal_for(store, "super1")
    ref = make_referral(
        store,
        sup,
        person_ref="P000123",
        organisation_id=orgs["health"]["id"],
        reason="Alcohol-related assaults, repeat",
        consent="not_sought",
        consent_note="Risk of serious harm; DPA 2018 s.35",
        referred_on="2019-01-10",
        purpose="set-up",
    )
    update_referral(store, sup, ref["id"], 1, purpose="set-up", status="declined", outcome="No")
    person = register_intervention(
        store,
        sup,
        title="Mentoring for P000123",
        tier="tertiary",
        intervention_type="diversion_pathway",
        target_kind="person",
        target_ref="P000123",
        start_date="2018-09-01",
        end_date="2019-03-31",
        description="Weekly sessions with P000123",
        purpose="set-up",
    )
    place = register_intervention(
        store,
        sup,
        title="Alley gating, Heaton",
        tier="primary",
        intervention_type="design_out_crime",
        target_kind="place",
        target_ref="E01008305",
        start_date="2018-09-01",
        end_date="2019-03-31",
    )
    with store.begin() as conn:
        conn.execute(
            update(referrals)
            .where(referrals.c.id == ref["id"])
            .values(updated_at=dt.datetime(2019, 2, 1, 9), closed_at=None)
        )
        conn.execute(
            update(interventions)
            .where(interventions.c.id.in_([person["id"], place["id"]]))
            .values(updated_at=dt.datetime(2019, 1, 15, 9))
        )
    return sup, ref, person, place


def test_referrals_and_person_interventions_are_reviewed_and_erased(store, orgs) -> None:
    from peelian.casework.interventions import get_intervention
    from peelian.casework.referrals import export_referrals, get_referral
    from peelian.casework.retention import ERASED_REF, erase_record

    sup, ref, person, place = _old_referral_and_interventions(store, orgs)
    due = due_for_review(store, sup, on=dt.date(2026, 1, 1))
    # last activity: the referral's change (2019-02-01); the intervention's end (2019-03-31)
    assert [(d["record_kind"], d["id"], d["review_due"]) for d in due] == [
        ("referral", ref["id"], dt.date(2025, 2, 1)),
        ("intervention", person["id"], dt.date(2025, 3, 31)),
    ]
    assert "P000123" not in str(due)
    assert due_for_review(store, sup, on=dt.date(2025, 2, 28))[0]["record_kind"] == "referral"
    assert len(due_for_review(store, sup, on=dt.date(2025, 2, 28))) == 1
    # an analyst may close neither referrals nor read people: nothing for them to review
    assert due_for_review(store, principal_for(store, "analyst1"), on=dt.date(2026, 1, 1)) == []
    with pytest.raises(AuthError):
        erase_record(store, principal_for(store, "analyst1"), "referral", ref["id"], 2, purpose="x")
    report = erase_record(store, sup, "referral", ref["id"], 2, purpose="retention review 2026")
    assert report["fields"] == ["person_ref", "reason", "consent_note", "outcome"]
    after = get_referral(store, sup, ref["id"], purpose="check erasure")
    assert (after["person_ref"], after["reason"], after["outcome"]) == (None, None, REMOVED)
    assert after["status"] == "declined" and after["erased_at"] is not None  # still counts
    assert "P000123" not in str(export_referrals(store, sup, purpose="check"))
    with pytest.raises(ParameterError, match="no personal data"):
        erase_record(store, sup, "intervention", place["id"], 1, purpose="review")
    report = erase_record(store, sup, "intervention", person["id"], 1, purpose="review 2026")
    assert report["fields"] == ["target_ref", "title", "description"]
    shown = get_intervention(store, sup, person["id"], purpose="check erasure")
    assert shown["target_ref"] == ERASED_REF and "P000123" not in str(shown)
    assert (shown["tier"], shown["intervention_type"], str(shown["end_date"])) == (
        "tertiary",
        "diversion_pathway",
        "2019-03-31",
    )
    assert due_for_review(store, sup, on=dt.date(2026, 1, 1)) == []
    # every audit entry is kept: create, update, reads, and the erasures
    actions = [e["action"] for e in search(store, AuditFilter(record_kind="referral"))]
    assert {"referral.create", "referral.update", "referral.read", "referral.erase"} <= set(actions)
    erased = search(store, AuditFilter(action="intervention.erase"))
    assert erased[0]["purpose"] == "review 2026" and erased[0]["record_id"] == str(person["id"])
    assert verify(store).ok


def test_keeping_a_referral_restarts_its_clock_and_rules_are_configurable(store, orgs) -> None:
    from peelian.casework.retention import keep_record, load_retention_rules

    sup, ref, person, _ = _old_referral_and_interventions(store, orgs)
    kept = keep_record(store, sup, "referral", ref["id"], 2, reason="ongoing safeguarding plan")
    assert kept["version"] == 3
    due = due_for_review(store, sup, on=dt.date(2026, 1, 1))
    assert [(d["record_kind"], d["id"]) for d in due] == [("intervention", person["id"])]
    assert search(store, AuditFilter(action="referral.retain"))[0]["purpose"] == (
        "ongoing safeguarding plan"
    )
    local = (
        "record_kind,review_after_months,basis\n"
        'problem_person,72,"Force policy"\n'
        'referral,24,"Force policy: two years"\n'
        'intervention,120,"Force policy: ten years"\n'
    )
    rules = load_retention_rules(local)
    assert rules["referral"].review_after_months == 24
    assert due_for_review(store, sup, on=dt.date(2026, 1, 1), rules=rules) == []
    # the kept referral is due 24 months after today; the intervention 2029-03-31 (its end + 120)
    on = max(dt.date(2029, 4, 1), dt.date.today() + dt.timedelta(days=800))
    later = due_for_review(store, sup, on=on, rules=rules)
    assert {d["record_kind"]: (d["basis"], d["review_due"]) for d in later} == {
        "referral": ("Force policy: two years", _add_months(dt.date.today(), 24)),
        "intervention": ("Force policy: ten years", dt.date(2029, 3, 31)),
    }
    with pytest.raises(ParameterError, match="no period for intervention"):
        load_retention_rules(local.replace('intervention,120,"Force policy: ten years"\n', ""))
    with pytest.raises(ParameterError, match=">= 1"):
        load_retention_rules(local.replace("referral,24", "referral,0"))
    default = retention_rules()
    assert default["intervention"].review_after_months == 72
    assert all("Illustrative" in r.basis for r in default.values())


def test_cli_retention_lists_and_erases_referrals(store, db_url, orgs) -> None:
    import json

    from typer.testing import CliRunner

    from peelian.cli import app

    _, ref, person, _ = _old_referral_and_interventions(store, orgs)
    runner = CliRunner()
    r = runner.invoke(
        app, ["casework", "retention", "due", "--on", "2026-01-01", "--db", db_url, "--json"]
    )
    assert r.exit_code == 0, r.output
    body = json.loads(r.output)
    assert [(d["record_kind"], d["id"]) for d in body["due"]] == [
        ("referral", ref["id"]),
        ("intervention", person["id"]),
    ]
    r = runner.invoke(
        app,
        ["casework", "retention", "erase", str(ref["id"]), "--kind", "referral", "--version", "2"]
        + ["--purpose", "retention review 2026", "--db", db_url],
    )
    assert r.exit_code == 0 and "person_ref, reason" in r.output, r.output
    r = runner.invoke(app, ["casework", "retention", "due", "--on", "2026-01-01", "--db", db_url])
    assert "1 due (0 problems, 0 referrals, 1 interventions)." in " ".join(r.output.split())
