"""Retention review: when person-level casework records are due for review, and erasing their
personal data while keeping the record's outline and every audit entry.

Three kinds of record hold personal data and are reviewed: problems naming people
(``problem_person``), referrals (``referral``) and interventions aimed at a person or a family
(``intervention``). Review periods per record kind are data (``peelian/casework/data/
retention.csv``, or a local file of the same shape: :func:`load_retention_rules`): an
illustrative default in the spirit of the Management of Police Information review schedule
(MoPI group 3, "all records will normally be held for a minimum of six years"), labelled as such
and to be set locally. A record is due when that many months have passed since its last activity
(its last change, its closing, or an intervention's end date). A reviewer then either erases its
personal data (:func:`erase_record`) or records why it is kept (:func:`keep_record`; the APP on
retention asks that decisions to retain be recorded, and the clock restarts); both need the close
permission on the record and are audited with the reviewer's purpose, and erasing returns a
report of what was removed.

What erasing removes, and what stays:

- a **problem** naming people: its title, description, triangle, result and owner, and its
  actions' descriptions and owners; it is marked as no longer naming people and stamped
  ``erased_at``. Its id, dates, stage, status, organisation, evidence and assessment counts stay.
- a **referral**: the person reference, the reason, the consent note and the outcome; stamped
  ``erased_at``. Its id, dates, organisations, consent, status and who referred stay, so the
  referral still counts in volumes and outcomes by status.
- an **intervention** aimed at a person or family: the target reference (set to
  :data:`ERASED_REF`), the title (which may name the person) and the description. Its tier, type,
  target kind, dates, owner, organisation and funding stay. The erasure's time is in its audit
  entry (the table has no ``erased_at`` column; adding one would refuse existing pre-release
  stores).

The audit log keeps every entry about every record.
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
from peelian.casework._vocab import RECORD_KINDS
from peelian.casework.policy import Principal, allowed, require
from peelian.casework.problems import get_problem, need_purpose
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import interventions, organisations, problem_actions, problems, referrals
from peelian.errors import NotFoundError, ParameterError

__all__ = [
    "ERASED_REF",
    "REMOVED",
    "REVIEWED_KINDS",
    "RetentionRule",
    "due_for_review",
    "erase_intervention",
    "erase_problem",
    "erase_record",
    "erase_referral",
    "keep_problem",
    "keep_record",
    "load_retention_rules",
    "retention_rules",
]

REMOVED = "[personal data removed at retention review]"
#: The target reference of an intervention whose person or family target has been erased.
ERASED_REF = "[removed]"
#: The record kinds the review covers, and the rule each is reviewed under.
REVIEWED_KINDS: tuple[str, ...] = ("problem_person", "referral", "intervention")


@dataclass(frozen=True)
class RetentionRule:
    """How long after its last activity a record kind is due for review, and why."""

    record_kind: str
    review_after_months: int
    basis: str


def load_retention_rules(text: str | None = None) -> dict[str, RetentionRule]:
    """Review periods by record kind, from ``text`` (a CSV: record_kind, review_after_months,
    basis; ``#`` lines are comments) or the packaged default. Refuses an unknown kind, a period
    under one month, a blank basis, a repeated kind, or a file missing a reviewed kind."""
    if text is None:
        return retention_rules()
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    rules: dict[str, RetentionRule] = {}
    for n, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=2):
        kind = (row.get("record_kind") or "").strip()
        months = (row.get("review_after_months") or "").strip()
        basis = (row.get("basis") or "").strip()
        if kind not in RECORD_KINDS or kind in rules:
            raise ParameterError(
                f"Retention rule {n} names an unknown or repeated record kind ({kind!r}).",
                f"Use one row each for {', '.join(REVIEWED_KINDS)}.",
            )
        if not months.isdigit() or int(months) < 1 or not basis:
            raise ParameterError(
                f"Retention rule {n} ({kind}) needs review_after_months >= 1 and a basis.",
                'E.g. referral,72,"Force policy 2026: six years from the last activity".',
            )
        rules[kind] = RetentionRule(kind, int(months), basis)
    missing = [k for k in REVIEWED_KINDS if k not in rules]
    if missing:
        raise ParameterError(
            f"The retention rules have no period for {', '.join(missing)}.",
            "Give every reviewed record kind a row.",
        )
    return rules


@lru_cache(maxsize=1)
def retention_rules() -> dict[str, RetentionRule]:
    """The packaged review periods by record kind (an illustrative, MoPI-inspired default)."""
    text = (resources.files("peelian.casework") / "data" / "retention.csv").read_text("utf-8")
    return load_retention_rules(text)


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover


def _last(*moments: dt.datetime | dt.date | None) -> dt.date:
    days = [m.date() if isinstance(m, dt.datetime) else m for m in moments if m is not None]
    return max(days)


def _candidates(conn: Any) -> list[dict[str, Any]]:
    """Every not-yet-erased record holding personal data, with its last activity."""
    names = {
        int(r.id): r.name for r in conn.execute(select(organisations.c.id, organisations.c.name))
    }
    out = []
    p, r, i = problems.c, referrals.c, interventions.c
    for row in conn.execute(
        select(
            p.id, p.title, p.organisation_id, p.status, p.updated_at, p.closed_at, p.version
        ).where(p.names_people.is_(True), p.erased_at.is_(None))
    ):
        out.append(
            {
                "record_kind": "problem_person",
                "id": int(row.id),
                "title": row.title,
                "status": row.status,
                "organisation_id": row.organisation_id,
                "last_activity": _last(row.updated_at, row.closed_at),
                "version": int(row.version),
            }
        )
    for row in conn.execute(
        select(r.id, r.organisation_id, r.status, r.updated_at, r.closed_at, r.version).where(
            r.erased_at.is_(None)
        )
    ):
        out.append(
            {
                "record_kind": "referral",
                "id": int(row.id),
                "title": f"Referral {row.id} to {names.get(row.organisation_id, '?')}",
                "status": row.status,
                "organisation_id": row.organisation_id,
                "last_activity": _last(row.updated_at, row.closed_at),
                "version": int(row.version),
            }
        )
    for row in conn.execute(
        select(i.id, i.target_kind, i.organisation_id, i.end_date, i.updated_at, i.version).where(
            i.target_kind.in_(("person", "family")), i.target_ref != ERASED_REF
        )
    ):
        out.append(
            {
                "record_kind": "intervention",
                "id": int(row.id),
                "title": f"Intervention {row.id} aimed at a {row.target_kind}",  # a title may name them
                "status": "ended" if row.end_date is not None else "ongoing",
                "organisation_id": row.organisation_id,
                "last_activity": _last(row.updated_at, row.end_date),
                "version": int(row.version),
            }
        )
    return out


def _may_review(actor: Principal, item: dict[str, Any], on: dt.date) -> bool:
    kind = item["record_kind"]
    if not allowed(actor, "close", kind, item, on):
        return False
    return kind != "intervention" or allowed(actor, "read", "person", item, on)


def due_for_review(
    store: Store,
    actor: Principal,
    *,
    on: dt.date | None = None,
    rules: dict[str, RetentionRule] | None = None,
) -> list[dict[str, Any]]:
    """Records holding personal data (problems naming people, referrals, interventions aimed at
    a person or family) whose review date (last activity + the kind's period in ``rules``, the
    packaged default if None) has come and that ``actor`` may close, oldest first; each with
    its ``record_kind``, ``review_due`` and the rule's basis. No person reference is listed."""
    today = on or dt.date.today()
    rules = rules or retention_rules()
    with store.engine.connect() as conn:
        items = _candidates(conn)
    out = []
    for item in items:
        rule = rules[item["record_kind"]]
        due = _add_months(item["last_activity"], rule.review_after_months)
        if due <= today and _may_review(actor, item, today):
            out.append({**item, "review_due": due, "basis": rule.basis})
    return sorted(out, key=lambda x: (x["review_due"], x["record_kind"], x["id"]))


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


def _purpose(kind: str, purpose: str | None, action: str) -> str:
    text = (purpose or "").strip()
    if not text:
        raise ParameterError(
            f"Say why you {action} this {RECORD_KINDS[kind].lower().rstrip('s')} (the reason "
            "is written to the audit log).",
            "E.g. 'retention review 2026: no policing purpose remains'.",
        )
    return text


def _referral_row(conn: Any, referral_id: int) -> Any:
    row = conn.execute(select(referrals).where(referrals.c.id == referral_id)).first()
    if row is None:
        raise NotFoundError(f"There is no referral {referral_id}.", "List the referrals.")
    return row


def erase_referral(
    store: Store, actor: Principal, referral_id: int, version: int, *, purpose: str
) -> dict[str, Any]:
    """Remove a referral's personal data (person reference, reason, consent note, outcome; see
    the module docstring); returns a report of what was removed. Its audit entries are kept."""
    why = _purpose("referral", purpose, "erase")
    stamp = now()
    with write(store) as conn:
        row = _referral_row(conn, referral_id)
        require(actor, "close", "referral", {"organisation_id": row.organisation_id})
        if row.erased_at is not None:
            raise ParameterError(f"Referral {referral_id}'s personal data is already erased.")
        fields = ["person_ref", "reason"] + [
            f for f in ("consent_note", "outcome") if getattr(row, f) is not None
        ]
        update_versioned(
            conn,
            referrals,
            referral_id,
            version,
            {
                "person_ref": None,
                "reason": None,
                "consent_note": None if row.consent_note is None else REMOVED,
                "outcome": None if row.outcome is None else REMOVED,
                "erased_at": stamp,
                "updated_at": stamp,
                "updated_by": actor.username,
            },
            what="referral",
        )
        report = {
            "record_kind": "referral",
            "id": referral_id,
            "erased_at": stamp.isoformat(timespec="seconds"),
            "fields": fields,
        }
        append(
            conn,
            actor.username,
            "referral.erase",
            record_kind="referral",
            record_id=referral_id,
            purpose=why,
            detail=report,
        )
    return report


def _intervention_row(conn: Any, intervention_id: int) -> Any:
    row = conn.execute(select(interventions).where(interventions.c.id == intervention_id)).first()
    if row is None:
        raise NotFoundError(
            f"There is no intervention {intervention_id}.", "List the interventions."
        )
    return row


def erase_intervention(
    store: Store, actor: Principal, intervention_id: int, version: int, *, purpose: str
) -> dict[str, Any]:
    """Remove the personal data of an intervention aimed at a person or family (its target
    reference, title and description; see the module docstring); returns a report."""
    why = _purpose("intervention", purpose, "erase")
    stamp = now()
    with write(store) as conn:
        row = _intervention_row(conn, intervention_id)
        record = {"organisation_id": row.organisation_id}
        require(actor, "close", "intervention", record)
        require(actor, "read", "person", record)
        if row.target_kind not in ("person", "family"):
            raise ParameterError(
                f"Intervention {intervention_id} is aimed at a {row.target_kind}; there is no "
                "personal data to erase."
            )
        if row.target_ref == ERASED_REF:
            raise ParameterError(f"Intervention {intervention_id}'s target is already erased.")
        update_versioned(
            conn,
            interventions,
            intervention_id,
            version,
            {
                "target_ref": ERASED_REF,
                "title": f"Intervention {intervention_id} (personal data removed)",
                "description": "",
                "updated_at": stamp,
                "updated_by": actor.username,
            },
            what="intervention",
        )
        report = {
            "record_kind": "intervention",
            "id": intervention_id,
            "erased_at": stamp.isoformat(timespec="seconds"),
            "fields": ["target_ref", "title", "description"],
        }
        append(
            conn,
            actor.username,
            "intervention.erase",
            record_kind="intervention",
            record_id=intervention_id,
            purpose=why,
            detail=report,
        )
    return report


def erase_record(
    store: Store, actor: Principal, kind: str, record_id: int, version: int, *, purpose: str
) -> dict[str, Any]:
    """Erase the personal data of a ``problem``, ``referral`` or ``intervention``."""
    if kind == "problem":
        report = erase_problem(store, actor, record_id, version, purpose=purpose)
        return {"record_kind": "problem_person", "id": record_id, **report}
    if kind == "referral":
        return erase_referral(store, actor, record_id, version, purpose=purpose)
    if kind == "intervention":
        return erase_intervention(store, actor, record_id, version, purpose=purpose)
    raise ParameterError(
        f"The 'kind' parameter of erase_record must be problem, referral or intervention. "
        f"Got {kind!r}."
    )


def keep_record(
    store: Store, actor: Principal, kind: str, record_id: int, version: int, *, reason: str
) -> dict[str, Any]:
    """Record a decision to keep a ``problem``, ``referral`` or ``intervention`` past its
    review date (audited with the reason; the review clock restarts from now)."""
    if kind == "problem":
        kept = keep_problem(store, actor, record_id, version, reason=reason)
        return {"record_kind": "problem_person", "id": record_id, **kept}
    if kind not in ("referral", "intervention"):
        raise ParameterError(
            f"The 'kind' parameter of keep_record must be problem, referral or intervention. "
            f"Got {kind!r}."
        )
    why = _purpose(kind, reason, "keep")
    table = referrals if kind == "referral" else interventions
    with write(store) as conn:
        row = (_referral_row if kind == "referral" else _intervention_row)(conn, record_id)
        require(actor, "close", kind, {"organisation_id": row.organisation_id})
        new_version = update_versioned(
            conn,
            table,
            record_id,
            version,
            {"updated_at": now(), "updated_by": actor.username},
            what=kind,
        )
        append(
            conn,
            actor.username,
            f"{kind}.retain",
            record_kind=kind,
            record_id=record_id,
            purpose=why,
        )
    return {"record_kind": kind, "id": record_id, "version": new_version, "kept_because": why}
