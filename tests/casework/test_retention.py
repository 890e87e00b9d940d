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
