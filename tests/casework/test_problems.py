"""SARA problems: workflow, person-level purpose and audit, actions, worklist, assessment,
optimistic locking and all-or-nothing writes, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from peelian.casework.assessment import assess_counts, assess_problem
from peelian.casework.organisations import SYSTEM, add_agreement
from peelian.casework.policy import principal_for
from peelian.casework.problems import (
    add_action,
    close_problem,
    get_problem,
    list_problems,
    open_problem,
    overdue,
    reopen_problem,
    update_action,
    update_problem,
)
from peelian.data.audit import AuditFilter, count, search, verify
from peelian.errors import AuthError, ConflictError, NotFoundError, ParameterError


def _place(store, who="analyst1", **kw):
    args = {
        "title": "Burglary around Shieldfield flats",
        "focus": "place",
        "area_code": "E01008305",
    }
    args.update(kw)
    return open_problem(store, principal_for(store, who), **args)


def test_a_problem_walks_through_sara_one_stage_at_a_time(store, orgs) -> None:
    analyst = principal_for(store, "analyst1")
    p = _place(store, review_date="2026-06-01")
    assert (p["stage"], p["status"], p["version"], p["record_kind"]) == (
        "scanning",
        "open",
        1,
        "problem",
    )
    assert p["organisation"] == "Northumbria Police"
    with pytest.raises(ParameterError, match="one stage at a time: from Scanning the next is"):
        update_problem(store, analyst, p["id"], 1, stage="response")
    p = update_problem(
        store,
        analyst,
        p["id"],
        1,
        stage="analysis",
        triangle={"victim": "students in HMOs", "manager": "letting agents"},
    )
    assert (p["stage"], p["version"]) == ("analysis", 2)
    assert p["triangle"] == {"victim": "students in HMOs", "manager": "letting agents"}
    with pytest.raises(ParameterError, match="Unknown sides"):
        update_problem(store, analyst, p["id"], 2, triangle={"suspect": "x"})
    p = update_problem(store, analyst, p["id"], 2, stage="scanning")  # back is fine
    assert p["stage"] == "scanning"
    with pytest.raises(ParameterError, match="needs its result"):
        close_problem(store, analyst, p["id"], 3, result=" ")
    p = close_problem(store, analyst, p["id"], 3, result="Fell 40%; gating kept")
    assert (p["status"], p["result"], p["version"]) == ("closed", "Fell 40%; gating kept", 4)
    with pytest.raises(ParameterError, match="is closed"):
        update_problem(store, analyst, p["id"], 4, title="New title")
    p = reopen_problem(store, analyst, p["id"], 4)
    assert p["status"] == "open"
    actions = [e["action"] for e in sorted(search(store), key=lambda e: e["id"])]
    assert actions[-5:] == [
        "problem.create",
        "problem.update",
        "problem.update",
        "problem.close",
        "problem.reopen",
    ]
    assert verify(store).ok


def test_two_users_editing_the_same_problem_cannot_overwrite_each_other(store, orgs) -> None:
    p = _place(store)
    a, b = principal_for(store, "analyst1"), principal_for(store, "super1")
    update_problem(store, a, p["id"], p["version"], title="Burglary, Shieldfield (students)")
    with pytest.raises(ConflictError, match="changed by someone else since you opened it"):
        update_problem(store, b, p["id"], p["version"], title="Burglary near the flats")
    assert get_problem(store, a, p["id"])["title"] == "Burglary, Shieldfield (students)"
    assert count(store, AuditFilter(action="problem.update")) == 1  # the refused one left none


def test_scanning_evidence_is_checked(store, orgs) -> None:
    with pytest.raises(NotFoundError, match="no analysis run 999"):
        _place(store, evidence={"hotspot_run_id": 999})
    with pytest.raises(ParameterError, match="emerging hotspot class"):
        _place(store, evidence={"emerging_class": "spiky"})
    with pytest.raises(ParameterError, match="Unknown scanning evidence"):
        _place(store, evidence={"rumour": "x"})
    p = _place(
        store,
        evidence={
            "measure": "burglary",
            "emerging_class": "intensifying",
            "map_selection": [-1.6, 54.97, -1.59, 54.98],
        },
    )
    assert p["evidence"] == {
        "measure": "burglary",
        "emerging_class": "intensifying",
        "map_selection": [-1.6, 54.97, -1.59, 54.98],
    }
    assert list_problems(store, SYSTEM)["total"] == 1  # the refused ones left nothing


def test_a_problem_naming_people_needs_a_purpose_and_every_read_is_audited(store, orgs) -> None:
    sup = principal_for(store, "super1")
    with pytest.raises(ParameterError, match="names people: say why"):
        open_problem(store, sup, title="Group linked to knife crime", focus="group")
    p = open_problem(
        store, sup, title="Group linked to knife crime", focus="group", purpose="tasking"
    )
    assert p["record_kind"] == "problem_person"
    with pytest.raises(ParameterError, match="say why you need to read"):
        get_problem(store, sup, p["id"])
    got = get_problem(store, sup, p["id"], purpose="tasking meeting 12 May")
    assert got["title"] == "Group linked to knife crime"
    reads = search(store, AuditFilter(action="problem.read"))
    assert [(e["username"], e["record_id"], e["purpose"]) for e in reads] == [
        ("super1", str(p["id"]), "tasking meeting 12 May")
    ]
    with pytest.raises(AuthError, match="may not read problems naming people"):
        get_problem(store, principal_for(store, "viewer1"), p["id"], purpose="curious")
    # viewers' lists leave it out; analysts see it without its text
    assert list_problems(store, principal_for(store, "viewer1"))["total"] == 0
    row = list_problems(store, principal_for(store, "analyst1"))["rows"][0]
    assert (row["title"], row["description"], row["triangle"]) == (
        "Group linked to knife crime",
        "",
        None,
    )


def test_partner_sees_problems_only_under_a_live_agreement(store, orgs) -> None:
    p = _place(store)
    csp = principal_for(store, "csp1")
    with pytest.raises(AuthError, match="csp1 \\(partner\\) may not read problems"):
        list_problems(store, csp)
    with pytest.raises(AuthError):
        get_problem(store, csp, p["id"])
    add_agreement(
        store,
        SYSTEM,
        title="SV duty",
        purpose="problem solving",
        lawful_basis="DPA 2018 s.35",
        record_kinds=["problem"],
        party_ids=[orgs["force"]["id"], orgs["csp"]["id"]],
        start_date=dt.date.today() - dt.timedelta(days=1),
    )
    csp = principal_for(store, "csp1")
    assert [r["id"] for r in list_problems(store, csp)["rows"]] == [p["id"]]
    assert get_problem(store, csp, p["id"])["id"] == p["id"]
    with pytest.raises(AuthError):  # not a party
        get_problem(store, principal_for(store, "health1"), p["id"])


def test_actions_worklist_and_all_or_nothing(store, orgs) -> None:
    analyst = principal_for(store, "analyst1")
    p = _place(store, review_date="2026-05-01")
    a1 = add_action(
        store,
        analyst,
        p["id"],
        description="Gate the alley behind Stoddart St",
        owner="csp1",
        organisation_id=orgs["csp"]["id"],
        due_date="2026-05-10",
    )
    add_action(store, analyst, p["id"], description="Property marking", due_date="2026-07-01")
    before = count(store)
    with pytest.raises(NotFoundError, match="no organisation 999"):
        add_action(store, analyst, p["id"], description="x", organisation_id=999)
    assert count(store) == before  # no audit entry for the failed write
    assert len(get_problem(store, analyst, p["id"])["actions"]) == 2
    work = overdue(store, analyst, on=dt.date(2026, 6, 1))
    assert [(r["id"], r["days_overdue"]) for r in work["reviews"]] == [(p["id"], 31)]
    assert [(a["id"], a["days_overdue"], a["organisation"]) for a in work["actions"]] == [
        (a1["id"], 22, "Newcastle CSP")
    ]
    # a partner may update their own organisation's actions (policy: own), even unshared
    csp = principal_for(store, "csp1")
    done = update_action(store, csp, a1["id"], 1, status="done")
    assert done["version"] == 2
    with pytest.raises(ConflictError):
        update_action(store, analyst, a1["id"], 1, status="dropped")
    assert overdue(store, analyst, on=dt.date(2026, 6, 1))["actions"] == []


def test_assessment_uses_the_exact_tests(store, orgs) -> None:
    r = assess_counts(18, 13, 40, 41, months_before=6, months_after=6)
    # the problem area: 13 after vs 18 before, the known answer of compare_counts(13, 18)
    assert round(r["area"]["p_value"], 3) == 0.473
    assert r["area"]["rate_ratio"] == pytest.approx(13 / 18)
    # relative: (13/18) / (41/40)
    assert r["relative"]["rate_ratio"] == pytest.approx((13 / 18) / (41 / 40))
    assert r["verdict"] == "no change beyond the comparison area"
    assert r["verdict_from"] == "relative" and r["p_value"] == r["relative"]["p_value"]
    big = assess_counts(120, 50, 100, 105, months_before=12, months_after=12)
    assert big["verdict"] == "fell more than the comparison area"
    assert big["p_value"] < 0.001 and big["ci_ratio"][1] < 1
    p = _place(store)
    analyst = principal_for(store, "analyst1")
    with pytest.raises(ParameterError, match="must end before the after period"):
        assess_problem(
            store,
            analyst,
            p["id"],
            1,
            before=("2025-01", "2025-06"),
            after=("2025-06", "2025-12"),
            counts={"before": 1, "after": 1, "comparison_before": 1, "comparison_after": 1},
        )
    result = assess_problem(
        store,
        analyst,
        p["id"],
        1,
        before=("2025-01", "2025-12"),
        after=("2026-01", "2026-12"),
        counts={"before": 120, "after": 50, "comparison_before": 100, "comparison_after": 105},
        comparison_name="Heaton",
    )
    assert result["verdict"] == "fell more than the comparison area"
    stored = get_problem(store, analyst, p["id"])
    assert stored["assessment"]["counts"]["after"] == 50 and stored["version"] == 2
    assert stored["assessment"]["relative"]["p_value"] == result["p_value"]
