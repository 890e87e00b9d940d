"""The interventions registry: what is being done, at which prevention tier, to whom or where.

An intervention has a prevention tier (primary, secondary, tertiary: the public-health model of
Caplan 1964, *Principles of Preventive Psychiatry*, as the Serious Violence Duty statutory
guidance, Home Office 2022, uses it), a type (early intervention, diversion pathway, signposting,
focused deterrence, safeguarding, design out crime, education programme, patrol), a target (a
person or a family by pseudonymised reference; a place by LSOA code or problem; a group), start
and end dates, an owner, an owning organisation, a funding source and optionally the problem it
responds to.

The record itself is readable as the policy's ``intervention`` row says (volumes per tier and type
are not personal data). The *target* of a person or family intervention is personal data: it is
stored pseudonymised, shown only to users who may read ``person`` records and only when they give
a purpose, and every such disclosure, and every change of such an intervention, is written to the
audit log with that purpose. Lists never show it.

Every update names the version it read (optimistic locking, :class:`ConflictError` if stale) and
runs in one transaction with its audit entry.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import and_, func, insert, or_, select

from peelian.casework._records import as_date, now, update_versioned, write
from peelian.casework._vocab import (
    INTERVENTION_TYPES,
    TARGET_KINDS,
    TIERS,
    check_choice,
    label,
)
from peelian.casework.policy import Principal, allowed, require, where_allowed
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import interventions, organisations, problems
from peelian.errors import AuthError, NotFoundError, ParameterError

__all__ = [
    "PERSONAL_TARGETS",
    "STATUSES",
    "end_intervention",
    "get_intervention",
    "list_interventions",
    "register_intervention",
    "update_intervention",
    "volumes",
]

#: Target kinds whose reference is personal data (a pseudonymised person or family reference).
PERSONAL_TARGETS = frozenset({"person", "family"})
_LSOA = re.compile(r"^[EW]0\d{7}$")
_PROBLEM = re.compile(r"^problem:(\d+)$")
_PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$")


def _need_purpose(target_kind: str, purpose: str | None, action: str) -> str | None:
    if target_kind in PERSONAL_TARGETS and not (purpose or "").strip():
        raise ParameterError(
            f"This intervention is aimed at a {target_kind}: say why you need to {action} it "
            "(the purpose is written to the audit log).",
            "E.g. 'safeguarding review', 'diversion panel 3 June'.",
        )
    return purpose.strip() if purpose else None


def _may_see_target(actor: Principal, record: dict[str, Any], on: dt.date | None) -> bool:
    return allowed(actor, "read", "person", record, on)


def _check_target(conn: Any, target_kind: str, target_ref: str | None, func_name: str) -> str:
    check_choice(target_kind, TARGET_KINDS, "target_kind", func_name)
    ref = (target_ref or "").strip()
    if target_kind in PERSONAL_TARGETS:
        if not _PSEUDONYM.match(ref) or " " in ref:
            raise ParameterError(
                f"A {target_kind} target is the force's pseudonymised reference (3-64 letters, "
                f"digits, '_', '-', '.', ':'; no names or spaces). Got {len(ref)} characters.",
                "Use the person_ref from the force records, e.g. P000123.",
            )
        return ref
    if m := _PROBLEM.match(ref):
        pid = int(m.group(1))
        if conn.execute(select(problems.c.id).where(problems.c.id == pid)).first() is None:
            raise NotFoundError(f"There is no problem {pid} to target.", "List the problems.")
        return ref
    if target_kind == "place":
        if not _LSOA.match(ref.upper()):
            raise ParameterError(
                f"A place target is an LSOA code (e.g. E01008305) or a problem "
                f"(problem:<id>). Got {ref!r}.",
                "Find LSOA codes on the Areas page.",
            )
        return ref.upper()
    if not 3 <= len(ref) <= 64:
        raise ParameterError(
            f"A group target needs a reference of 3-64 characters (a label or problem:<id>). "
            f"Got {ref!r}."
        )
    return ref


def _check_problem(conn: Any, actor: Principal, problem_id: int | None) -> None:
    if problem_id is None:
        return
    row = conn.execute(select(problems).where(problems.c.id == problem_id)).first()
    if row is None:
        raise NotFoundError(f"There is no problem {problem_id} to link.", "List the problems.")
    kind = "problem_person" if row.names_people else "problem"
    if not allowed(actor, "read", kind, {"organisation_id": row.organisation_id}):
        raise AuthError(f"{actor.username} may not link problem {problem_id}: it is not theirs.")


def _check_org(conn: Any, org_id: int | None) -> None:
    if org_id is not None and (
        conn.execute(select(organisations.c.id).where(organisations.c.id == org_id)).first() is None
    ):
        raise NotFoundError(f"There is no organisation {org_id}.", "List the organisations.")


def _dates(start: dt.date | None, end: dt.date | None) -> None:
    if start is None:
        raise ParameterError("An intervention needs a start date (YYYY-MM-DD).")
    if end is not None and end < start:
        raise ParameterError(
            f"The end date {end} is before the start date {start}.",
            "The end date is the last day of the intervention.",
        )


def _title(title: str) -> str:
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        raise ParameterError(f"An intervention needs a title of 3-200 characters. Got {title!r}.")
    return title


def register_intervention(
    store: Store,
    actor: Principal,
    *,
    title: str,
    tier: str,
    intervention_type: str,
    target_kind: str,
    target_ref: str | None,
    start_date: dt.date | str,
    end_date: dt.date | str | None = None,
    owner: str | None = None,
    organisation_id: int | None = None,
    funding_source: str | None = None,
    problem_id: int | None = None,
    description: str = "",
    purpose: str | None = None,
) -> dict[str, Any]:
    """Register an intervention; returns it (a person or family target needs a purpose and
    the right to read people, and is audited)."""
    fn = "register_intervention"
    check_choice(tier, TIERS, "tier", fn)
    check_choice(intervention_type, INTERVENTION_TYPES, "intervention_type", fn)
    check_choice(target_kind, TARGET_KINDS, "target_kind", fn)
    org = organisation_id if organisation_id is not None else actor.organisation_id
    require(actor, "create", "intervention", {"organisation_id": org})
    if target_kind in PERSONAL_TARGETS:
        require(actor, "read", "person", {"organisation_id": org})
    purpose = _need_purpose(target_kind, purpose, "record")
    start = as_date(start_date, "start_date", fn)
    end = as_date(end_date, "end_date", fn)
    _dates(start, end)
    stamp = now()
    with write(store) as conn:
        _check_org(conn, org)
        _check_problem(conn, actor, problem_id)
        ref = _check_target(conn, target_kind, target_ref, fn)
        new_id = conn.execute(
            insert(interventions)
            .values(
                title=_title(title),
                tier=tier,
                intervention_type=intervention_type,
                target_kind=target_kind,
                target_ref=ref,
                problem_id=problem_id,
                start_date=start,
                end_date=end,
                owner=(owner or "").strip() or actor.username,
                organisation_id=org,
                funding_source=(funding_source or "").strip() or None,
                description=(description or "").strip(),
                created_at=stamp,
                updated_at=stamp,
                updated_by=actor.username,
                version=1,
            )
            .returning(interventions.c.id)
        ).scalar_one()
        append(
            conn,
            actor.username,
            "intervention.create",
            record_kind="intervention",
            record_id=new_id,
            purpose=purpose,
            detail={"tier": tier, "type": intervention_type, "target_kind": target_kind},
        )
    return get_intervention(store, actor, int(new_id), purpose=purpose, audit_read=False)


def _row_dict(row: Any, org_names: dict[int, str], on: dt.date) -> dict[str, Any]:
    d = dict(row._mapping)
    d["id"] = int(d["id"])
    for key in ("organisation_id", "problem_id"):
        d[key] = None if d[key] is None else int(d[key])
    d.update(
        tier_label=label(d["tier"]),
        type_label=label(d["intervention_type"]),
        target_kind_label=TARGET_KINDS[d["target_kind"]],
        organisation=org_names.get(d["organisation_id"] or -1),
        active=d["start_date"] <= on and (d["end_date"] is None or on <= d["end_date"]),
        personal=d["target_kind"] in PERSONAL_TARGETS,
    )
    return d


def _org_names(conn: Any) -> dict[int, str]:
    return {
        int(r.id): r.name for r in conn.execute(select(organisations.c.id, organisations.c.name))
    }


def get_intervention(
    store: Store,
    actor: Principal,
    intervention_id: int,
    *,
    purpose: str | None = None,
    on: dt.date | None = None,
    audit_read: bool = True,
) -> dict[str, Any]:
    """One intervention. A person or family target's reference is shown only to users who may
    read people and who give a ``purpose`` (the disclosure is audited); otherwise it is None
    and ``target_hidden`` is True."""
    today = on or dt.date.today()
    with store.engine.connect() as conn:
        row = conn.execute(
            select(interventions).where(interventions.c.id == intervention_id)
        ).first()
        if row is None:
            raise NotFoundError(
                f"There is no intervention {intervention_id}.", "List the interventions."
            )
        rec = _row_dict(row, _org_names(conn), today)
    require(actor, "read", "intervention", rec, today)
    rec["target_hidden"] = False
    if rec["personal"]:
        disclose = _may_see_target(actor, rec, today) and bool((purpose or "").strip())
        if not disclose:
            rec["target_ref"], rec["target_hidden"] = None, True
        elif audit_read:
            with write(store) as conn:
                append(
                    conn,
                    actor.username,
                    "intervention.read",
                    record_kind="intervention",
                    record_id=intervention_id,
                    purpose=(purpose or "").strip(),
                )
    return rec


def list_interventions(
    store: Store,
    actor: Principal,
    *,
    tier: str | None = None,
    intervention_type: str | None = None,
    target_kind: str | None = None,
    organisation_id: int | None = None,
    problem_id: int | None = None,
    active_on: dt.date | str | None = None,
    text: str | None = None,
    limit: int = 200,
    offset: int = 0,
    on: dt.date | None = None,
    status: str | None = None,
    active_from: dt.date | str | None = None,
    active_to: dt.date | str | None = None,
) -> dict[str, Any]:
    """Interventions the user may read, newest first, with filters; ``{"rows", "total"}``.
    ``status`` is planned, active or ended on ``on`` (today); ``active_from``/``active_to``
    keep those running on some day of that range. Person and family targets are never shown
    in a list."""
    require(actor, "read", "intervention", None, on)
    today = on or dt.date.today()
    c = interventions.c
    conds: list[Any] = []
    if tier:
        conds.append(c.tier == check_choice(tier, TIERS, "tier", "list"))
    if intervention_type:
        conds.append(
            c.intervention_type
            == check_choice(intervention_type, INTERVENTION_TYPES, "intervention_type", "list")
        )
    if target_kind:
        conds.append(
            c.target_kind == check_choice(target_kind, TARGET_KINDS, "target_kind", "list")
        )
    if organisation_id is not None:
        conds.append(c.organisation_id == organisation_id)
    if problem_id is not None:
        conds.append(c.problem_id == problem_id)
    day = as_date(active_on, "active_on", "list_interventions")
    if day is not None:
        conds += [c.start_date <= day, or_(c.end_date.is_(None), c.end_date >= day)]
    if text:
        like = f"%{text.strip().lower()}%"
        conds.append(or_(func.lower(c.title).like(like), func.lower(c.funding_source).like(like)))
    if status:
        conds.append(_status_condition(status, today))
    first = as_date(active_from, "active_from", "list_interventions")
    last = as_date(active_to, "active_to", "list_interventions")
    if last is not None:
        conds.append(c.start_date <= last)
    if first is not None:
        conds.append(or_(c.end_date.is_(None), c.end_date >= first))
    # the policy as SQL, so the database filters, counts and pages (one page read, not all)
    conds.append(where_allowed(actor, "read", "intervention", c.organisation_id, today))
    where = and_(*conds)
    q = select(interventions).where(where).order_by(c.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        names = _org_names(conn)
        total = conn.execute(
            select(func.count()).select_from(interventions).where(where)
        ).scalar_one()
        rows = [_row_dict(r, names, today) for r in conn.execute(q)]
    rows = [r for r in rows if allowed(actor, "read", "intervention", r, today)]  # same rule
    for r in rows:
        if r["personal"]:
            r["target_ref"] = None
        r["target_hidden"] = r["personal"]
    return {"rows": rows, "total": int(total)}


#: An intervention's status on a day, from its dates (the lists filter on it).
STATUSES: dict[str, str] = {
    "planned": "Planned (not started yet)",
    "active": "Active",
    "ended": "Ended",
}


def _status_condition(status: str, day: dt.date) -> Any:
    c = interventions.c
    check_choice(status, STATUSES, "status", "list_interventions")
    if status == "planned":
        return c.start_date > day
    if status == "ended":
        return and_(c.end_date.is_not(None), c.end_date < day)
    return and_(c.start_date <= day, or_(c.end_date.is_(None), c.end_date >= day))


def update_intervention(
    store: Store,
    actor: Principal,
    intervention_id: int,
    version: int,
    *,
    purpose: str | None = None,
    title: str | None = None,
    tier: str | None = None,
    intervention_type: str | None = None,
    start_date: dt.date | str | None = None,
    end_date: dt.date | str | None = None,
    owner: str | None = None,
    funding_source: str | None = None,
    problem_id: int | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Change an intervention (only the fields given); :class:`ConflictError` if someone saved
    it since ``version``. Changing a person or family intervention needs a purpose."""
    fn = "update_intervention"
    current = get_intervention(store, actor, intervention_id, audit_read=False)
    require(actor, "update", "intervention", current)
    purpose = _need_purpose(current["target_kind"], purpose, "change")
    values: dict[str, Any] = {}
    if title is not None:
        values["title"] = _title(title)
    if tier is not None:
        values["tier"] = check_choice(tier, TIERS, "tier", fn)
    if intervention_type is not None:
        values["intervention_type"] = check_choice(
            intervention_type, INTERVENTION_TYPES, "intervention_type", fn
        )
    if start_date is not None:
        values["start_date"] = as_date(start_date, "start_date", fn)
    if end_date is not None:
        values["end_date"] = as_date(end_date, "end_date", fn)
    _dates(
        values.get("start_date", current["start_date"]), values.get("end_date", current["end_date"])
    )
    if owner is not None:
        values["owner"] = owner.strip() or None
    if funding_source is not None:
        values["funding_source"] = funding_source.strip() or None
    if description is not None:
        values["description"] = description.strip()
    with write(store) as conn:
        if problem_id is not None:
            _check_problem(conn, actor, problem_id)
            values["problem_id"] = problem_id
        changed = sorted(values)
        values.update(updated_at=now(), updated_by=actor.username)
        update_versioned(conn, interventions, intervention_id, version, values, what="intervention")
        append(
            conn,
            actor.username,
            "intervention.update",
            record_kind="intervention",
            record_id=intervention_id,
            purpose=purpose,
            detail={"fields": changed},
        )
    return get_intervention(store, actor, intervention_id, audit_read=False)


def end_intervention(
    store: Store,
    actor: Principal,
    intervention_id: int,
    version: int,
    *,
    end_date: dt.date | str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """End an intervention on ``end_date`` (today); needs the close permission."""
    current = get_intervention(store, actor, intervention_id, audit_read=False)
    require(actor, "close", "intervention", current)
    purpose = _need_purpose(current["target_kind"], purpose, "end")
    end = as_date(end_date, "end_date", "end_intervention") or dt.date.today()
    _dates(current["start_date"], end)
    with write(store) as conn:
        update_versioned(
            conn,
            interventions,
            intervention_id,
            version,
            {"end_date": end, "updated_at": now(), "updated_by": actor.username},
            what="intervention",
        )
        append(
            conn,
            actor.username,
            "intervention.end",
            record_kind="intervention",
            record_id=intervention_id,
            purpose=purpose,
            detail={"end_date": end.isoformat()},
        )
    return get_intervention(store, actor, intervention_id, audit_read=False)


def volumes(store: Store, actor: Principal, *, on: dt.date | None = None) -> list[dict[str, Any]]:
    """How many interventions the user may read, per tier and type: all, active on ``on``
    (today), and aimed at people/families vs places/groups. Every tier x type pair appears
    (zero rows too), so the table's denominators are visible."""
    today = on or dt.date.today()
    rows = list_interventions(store, actor, limit=10**9, on=today)["rows"]
    out = []
    for tier in TIERS:
        for kind in INTERVENTION_TYPES:
            sel = [r for r in rows if r["tier"] == tier and r["intervention_type"] == kind]
            out.append(
                {
                    "tier": tier,
                    "tier_label": label(tier),
                    "intervention_type": kind,
                    "type_label": label(kind),
                    "interventions": len(sel),
                    "active": sum(r["active"] for r in sel),
                    "personal_targets": sum(r["personal"] for r in sel),
                    "place_or_group_targets": sum(not r["personal"] for r in sel),
                }
            )
    return out
