"""Retention review: when person-level casework records are due for review, and erasing their
personal data while keeping the record's outline and every audit entry.

Review periods per record kind are data (``peelian/casework/data/retention.csv``): an
illustrative default in the spirit of the Management of Police Information review schedule
(MoPI group 3, "all records will normally be held for a minimum of six years"), labelled as such
and to be set locally. A record is due when that many months have passed since its last activity
(its last change, or its closing). A reviewer then either erases its personal data
(:func:`erase_problem`) or records why it is kept (:func:`keep_problem`; the APP on retention asks
that decisions to retain be recorded); both are audited with the reviewer's purpose.

Erasing a problem that names people blanks its title, description, triangle and result and its
actions' descriptions and owners, marks it as no longer naming people, and stamps ``erased_at``;
the record's id, dates, stage, status, organisation, evidence and assessment counts (aggregates)
stay, and the audit log keeps every entry about it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import select, update

from peelian.casework._records import now, update_versioned, write
from peelian.casework.policy import Principal, allowed, require
from peelian.casework.problems import get_problem, need_purpose
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import problem_actions, problems
from peelian.errors import ParameterError

__all__ = ["RetentionRule", "due_for_review", "erase_problem", "keep_problem", "retention_rules"]

REMOVED = "[personal data removed at retention review]"


@dataclass(frozen=True)
class RetentionRule:
    """How long after its last activity a record kind is due for review, and why."""

    record_kind: str
    review_after_months: int
    basis: str


@lru_cache(maxsize=1)
def retention_rules() -> dict[str, RetentionRule]:
    """The packaged review periods by record kind."""
    text = (resources.files("peelian.casework") / "data" / "retention.csv").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    rules = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        months = int(row["review_after_months"])
        if months < 1:
            raise ParameterError(f"Retention period for {row['record_kind']} must be >= 1 month.")
        rules[row["record_kind"]] = RetentionRule(row["record_kind"], months, row["basis"])
    return rules


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def due_for_review(
    store: Store, actor: Principal, *, on: dt.date | None = None
) -> list[dict[str, Any]]:
    """Person-level problems whose review date (last activity + the kind's period) has come,
    that ``actor`` may close, oldest first; each with its ``review_due`` and the rule's basis."""
    today = on or dt.date.today()
    rule = retention_rules()["problem_person"]
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(
                problems.c.id,
                problems.c.title,
                problems.c.organisation_id,
                problems.c.status,
                problems.c.updated_at,
                problems.c.closed_at,
                problems.c.version,
            ).where(problems.c.names_people.is_(True), problems.c.erased_at.is_(None))
        ).all()
    out = []
    for r in rows:
        last = max(x for x in (r.updated_at, r.closed_at) if x is not None).date()
        due = _add_months(last, rule.review_after_months)
        record = {"organisation_id": r.organisation_id}
        if due <= today and allowed(actor, "close", "problem_person", record, today):
            out.append(
                {
                    "id": int(r.id),
                    "title": r.title,
                    "status": r.status,
                    "last_activity": last,
                    "review_due": due,
                    "version": int(r.version),
                    "record_kind": "problem_person",
                    "basis": rule.basis,
                }
            )
    return sorted(out, key=lambda x: (x["review_due"], x["id"]))


def erase_problem(
    store: Store, actor: Principal, problem_id: int, version: int, *, purpose: str
) -> dict[str, Any]:
    """Remove the personal data of a problem naming people (see the module docstring); returns
    a report of what was removed. The audit entries about it are kept."""
    problem = get_problem(store, actor, problem_id, audit_read=False)
    if problem["record_kind"] != "problem_person":
        raise ParameterError(
            f"Problem {problem_id} does not name people; there is no personal data to erase."
        )
    require(actor, "close", "problem_person", problem)
    why = need_purpose("problem_person", purpose, "erase")
    stamp = now()
    with write(store) as conn:
        update_versioned(
            conn,
            problems,
            problem_id,
            version,
            {
                "title": f"Problem {problem_id} (personal data removed)",
                "description": "",
                "triangle": None,
                "result": REMOVED if problem["result"] else None,
                "owner": None,
                "names_people": False,
                "erased_at": stamp,
                "updated_at": stamp,
                "updated_by": actor.username,
            },
            what="problem",
        )
        n_actions = conn.execute(
            update(problem_actions)
            .where(problem_actions.c.problem_id == problem_id)
            .values(
                description=REMOVED,
                owner=None,
                updated_at=stamp,
                updated_by=actor.username,
                version=problem_actions.c.version + 1,
            )
        ).rowcount
        report = {
            "problem_id": problem_id,
            "erased_at": stamp.isoformat(timespec="seconds"),
            "fields": ["title", "description", "triangle", "result", "owner"],
            "actions": int(n_actions),
        }
        append(
            conn,
            actor.username,
            "problem.erase",
            record_kind="problem_person",
            record_id=problem_id,
            purpose=why,
            detail=report,
        )
    return report


def keep_problem(
    store: Store, actor: Principal, problem_id: int, version: int, *, reason: str
) -> dict[str, Any]:
    """Record a decision to keep a problem naming people past its review date (the review
    clock restarts from now, as the decision is the record's latest activity)."""
    problem = get_problem(store, actor, problem_id, audit_read=False)
    require(actor, "close", problem["record_kind"], problem)
    why = need_purpose("problem_person", reason, "keep")
    with write(store) as conn:
        new_version = update_versioned(
            conn,
            problems,
            problem_id,
            version,
            {"updated_at": now(), "updated_by": actor.username},
            what="problem",
        )
        append(
            conn,
            actor.username,
            "problem.retain",
            record_kind=problem["record_kind"],
            record_id=problem_id,
            purpose=why,
        )
    return {"problem_id": problem_id, "version": new_version, "kept_because": why}
