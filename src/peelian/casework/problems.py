"""Problems, worked through SARA: scanning, analysis, response, assessment.

A problem is about a place, a group of people or a theme. Scanning links it to peelian's own
evidence (a hotspot run, a measure and area, an emerging-hotspot class, a map selection); analysis
records the problem analysis triangle (Clarke & Eck 2005, *Crime Analysis for Problem Solvers in
60 Small Steps*, step 8: victim, offender and location, with their guardians, handlers and
managers); responses are actions with an owner, a partner organisation, a due date and a status;
assessment compares counts before and after against a comparison area the user picks
(:mod:`peelian.casework.assessment`); the problem is closed with a recorded result.

Stages move forward one at a time (scanning -> analysis -> response -> assessment) and back to
any earlier stage; status is open or on hold until the problem is closed (with a result), and a
closed problem can be reopened. A problem that names people is a person-level record
(``problem_person``): reading, changing or exporting it needs a purpose, which is audited.

Every update names the version it read (optimistic locking, :class:`ConflictError` if stale) and
runs in one transaction with its audit entry.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, insert, or_, select

from peelian.casework._records import as_date, now, update_versioned, write
from peelian.casework._vocab import (
    ACTION_STATUSES,
    PROBLEM_FOCUS,
    PROBLEM_STAGES,
    PROBLEM_STATUSES,
    check_choice,
    label,
)
from peelian.casework.policy import Principal, allowed, require, where_allowed
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import analysis_runs, organisations, problem_actions, problems
from peelian.errors import NotFoundError, ParameterError

__all__ = [
    "EMERGING_CLASSES",
    "TRIANGLE_SIDES",
    "add_action",
    "close_problem",
    "get_problem",
    "kind_of",
    "list_problems",
    "need_purpose",
    "open_problem",
    "overdue",
    "reopen_problem",
    "update_action",
    "update_problem",
]

#: The problem analysis triangle: the three sides and who controls each.
TRIANGLE_SIDES: dict[str, str] = {
    "victim": "Victim or target",
    "guardian": "Guardian (of the victim)",
    "offender": "Offender",
    "handler": "Handler (of the offender)",
    "location": "Location",
    "manager": "Place manager",
}
#: Emerging hotspot classes (ESRI's space-time pattern mining categories, as peelian names them).
EMERGING_CLASSES: tuple[str, ...] = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)
_STAGE_ORDER = list(PROBLEM_STAGES)


def kind_of(row: Any) -> str:
    """The policy record kind of a problem row: person-level if it names people."""
    names = row["names_people"] if isinstance(row, dict) else row.names_people
    return "problem_person" if names else "problem"


def _check_evidence(conn: Any, evidence: dict[str, Any] | None) -> dict[str, Any] | None:
    if not evidence:
        return None
    allowed_keys = {"hotspot_run_id", "measure", "area_code", "emerging_class", "map_selection"}
    unknown = set(evidence) - allowed_keys
    if unknown:
        raise ParameterError(
            f"Unknown scanning evidence: {', '.join(sorted(unknown))}.",
            f"Use {', '.join(sorted(allowed_keys))}.",
        )
    out = {k: v for k, v in evidence.items() if v not in (None, "")}
    if "hotspot_run_id" in out:
        run_id = int(out["hotspot_run_id"])
        if (
            conn.execute(select(analysis_runs.c.id).where(analysis_runs.c.id == run_id)).first()
            is None
        ):
            raise NotFoundError(
                f"There is no analysis run {run_id} to link as evidence.",
                "Find run ids on the Hotspots page or with `peelian hotspots --save`.",
            )
        out["hotspot_run_id"] = run_id
    if "emerging_class" in out and out["emerging_class"] not in EMERGING_CLASSES:
        raise ParameterError(
            f"The emerging hotspot class must be one of {', '.join(EMERGING_CLASSES)}. "
            f"Got {out['emerging_class']!r}."
        )
    if "map_selection" in out:
        box = out["map_selection"]
        if not (isinstance(box, list | tuple) and len(box) == 4):
            raise ParameterError(
                "A map selection is a box [west, south, east, north] in longitude/latitude.",
                "E.g. [-1.62, 54.96, -1.60, 54.98].",
            )
        out["map_selection"] = [float(x) for x in box]
    return out


def _check_triangle(triangle: dict[str, Any] | None) -> dict[str, str] | None:
    if triangle is None:
        return None
    unknown = set(triangle) - set(TRIANGLE_SIDES)
    if unknown:
        raise ParameterError(
            f"Unknown sides of the problem analysis triangle: {', '.join(sorted(unknown))}.",
            f"Use {', '.join(TRIANGLE_SIDES)}.",
        )
    return {k: str(v).strip()[:2000] for k, v in triangle.items() if v and str(v).strip()}


def _title(title: str) -> str:
    title = (title or "").strip()
    if not 3 <= len(title) <= 200:
        raise ParameterError(f"A problem needs a title of 3-200 characters. Got {title!r}.")
    return title


def need_purpose(kind: str, purpose: str | None, action: str) -> str | None:
    if kind == "problem_person" and not (purpose or "").strip():
        raise ParameterError(
            f"This problem names people: say why you need to {action} it (the purpose is "
            "written to the audit log).",
            "E.g. 'tasking meeting 12 May', 'safeguarding review'.",
        )
    return purpose.strip() if purpose else None


def open_problem(
    store: Store,
    actor: Principal,
    *,
    title: str,
    focus: str,
    description: str = "",
    names_people: bool = False,
    area_code: str | None = None,
    organisation_id: int | None = None,
    owner: str | None = None,
    evidence: dict[str, Any] | None = None,
    review_date: dt.date | str | None = None,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Open a problem at the scanning stage; returns it."""
    check_choice(focus, PROBLEM_FOCUS, "focus", "open_problem")
    kind = "problem_person" if names_people or focus == "group" else "problem"
    org = organisation_id if organisation_id is not None else actor.organisation_id
    require(actor, "create", kind, {"organisation_id": org})
    purpose = need_purpose(kind, purpose, "record")
    review = as_date(review_date, "review_date", "open_problem")
    stamp = now()
    with write(store) as conn:
        ev = _check_evidence(conn, evidence)
        new_id = conn.execute(
            insert(problems)
            .values(
                title=_title(title),
                focus=focus,
                description=(description or "").strip(),
                names_people=kind == "problem_person",
                area_code=(area_code or "").strip() or None,
                stage="scanning",
                status="open",
                organisation_id=org,
                owner=owner or actor.username,
                evidence=ev,
                review_date=review,
                opened_at=stamp,
                updated_at=stamp,
                updated_by=actor.username,
                version=1,
            )
            .returning(problems.c.id)
        ).scalar_one()
        append(
            conn,
            actor.username,
            "problem.create",
            record_kind=kind,
            record_id=new_id,
            purpose=purpose,
            detail={"focus": focus, "evidence": ev},
        )
    return get_problem(store, actor, int(new_id), purpose=purpose, audit_read=False)


def _problem_dict(row: Any, org_names: dict[int, str]) -> dict[str, Any]:
    d = dict(row._mapping)
    d["id"] = int(d["id"])
    d["organisation_id"] = None if d["organisation_id"] is None else int(d["organisation_id"])
    d.update(
        record_kind=kind_of(d),
        focus_label=label(d["focus"]),
        stage_label=label(d["stage"]),
        status_label=label(d["status"]),
        organisation=org_names.get(d["organisation_id"] or -1),
    )
    return d


def _action_dict(row: Any, org_names: dict[int, str], today: dt.date) -> dict[str, Any]:
    d = dict(row._mapping)
    d["id"], d["problem_id"] = int(d["id"]), int(d["problem_id"])
    d["organisation_id"] = None if d["organisation_id"] is None else int(d["organisation_id"])
    d["organisation"] = org_names.get(d["organisation_id"] or -1)
    d["status_label"] = label(d["status"])
    d["overdue"] = bool(
        d["due_date"] and d["due_date"] < today and d["status"] in ("planned", "in_progress")
    )
    return d


def _org_names(conn: Any) -> dict[int, str]:
    return {
        int(r.id): r.name for r in conn.execute(select(organisations.c.id, organisations.c.name))
    }


def get_problem(
    store: Store,
    actor: Principal,
    problem_id: int,
    *,
    purpose: str | None = None,
    on: dt.date | None = None,
    audit_read: bool = True,
) -> dict[str, Any]:
    """One problem with its actions (those the user may read). Reading a problem that names
    people needs a ``purpose`` and is audited."""
    today = on or dt.date.today()
    with store.engine.connect() as conn:
        row = conn.execute(select(problems).where(problems.c.id == problem_id)).first()
        if row is None:
            raise NotFoundError(
                f"There is no problem {problem_id}.", "List them on the Problems page."
            )
        names = _org_names(conn)
        problem = _problem_dict(row, names)
        action_rows = conn.execute(
            select(problem_actions)
            .where(problem_actions.c.problem_id == problem_id)
            .order_by(problem_actions.c.due_date, problem_actions.c.id)
        ).all()
    kind = problem["record_kind"]
    require(actor, "read", kind, problem, today)
    if kind == "problem_person" and audit_read:
        purpose = need_purpose(kind, purpose, "read")
        with write(store) as conn:
            append(
                conn,
                actor.username,
                "problem.read",
                record_kind=kind,
                record_id=problem_id,
                purpose=purpose,
            )
    actions = [_action_dict(a, names, today) for a in action_rows]
    problem["actions"] = [a for a in actions if allowed(actor, "read", "action", a, today)]
    return problem


def list_problems(
    store: Store,
    actor: Principal,
    *,
    status: str | None = None,
    stage: str | None = None,
    focus: str | None = None,
    text: str | None = None,
    organisation_id: int | None = None,
    limit: int = 200,
    offset: int = 0,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Problems the user may read, newest first, with filters. Returns ``{"rows": [...],
    "total": n}``; ``total`` counts only what the user may see."""
    if not allowed(actor, "read", "problem", None, on) and not allowed(
        actor, "read", "problem_person", None, on
    ):
        require(actor, "read", "problem")
    c = problems.c
    conds: list[Any] = []
    if status:
        conds.append(c.status == check_choice(status, PROBLEM_STATUSES, "status", "list"))
    if stage:
        conds.append(c.stage == check_choice(stage, PROBLEM_STAGES, "stage", "list"))
    if focus:
        conds.append(c.focus == check_choice(focus, PROBLEM_FOCUS, "focus", "list"))
    if organisation_id is not None:
        conds.append(c.organisation_id == organisation_id)
    if text:
        like = f"%{text.strip().lower()}%"
        conds.append(or_(func.lower(c.title).like(like), func.lower(c.area_code).like(like)))
    # the policy as SQL, so the database filters, counts and pages (one page read, not all)
    conds.append(_readable_problem(actor, on))
    where = and_(*conds)
    q = select(problems).where(where).order_by(c.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        names = _org_names(conn)
        total = conn.execute(select(func.count()).select_from(problems).where(where)).scalar_one()
        rows = [_problem_dict(r, names) for r in conn.execute(q)]
    visible = [r for r in rows if allowed(actor, "read", r["record_kind"], r, on)]  # the same rule
    for r in visible:  # a list never shows the text of a person-level record
        if r["record_kind"] == "problem_person":
            r["description"], r["triangle"] = "", None
    return {"rows": visible, "total": int(total)}


def update_problem(
    store: Store,
    actor: Principal,
    problem_id: int,
    version: int,
    *,
    purpose: str | None = None,
    title: str | None = None,
    description: str | None = None,
    stage: str | None = None,
    status: str | None = None,
    owner: str | None = None,
    review_date: dt.date | str | None = None,
    triangle: dict[str, Any] | None = None,
    evidence: dict[str, Any] | None = None,
    area_code: str | None = None,
) -> dict[str, Any]:
    """Change a problem (only the fields given); fails with :class:`ConflictError` if someone
    saved it since ``version``."""
    current = get_problem(store, actor, problem_id, audit_read=False)
    kind = current["record_kind"]
    require(actor, "update", kind, current)
    purpose = need_purpose(kind, purpose, "change")
    if current["status"] == "closed":
        raise ParameterError(
            f"Problem {problem_id} is closed.", "Reopen it first (needs the close permission)."
        )
    values: dict[str, Any] = {}
    if title is not None:
        values["title"] = _title(title)
    if description is not None:
        values["description"] = description.strip()
    if stage is not None and stage != current["stage"]:
        check_choice(stage, PROBLEM_STAGES, "stage", "update_problem")
        if _STAGE_ORDER.index(stage) > _STAGE_ORDER.index(current["stage"]) + 1:
            nxt = _STAGE_ORDER[_STAGE_ORDER.index(current["stage"]) + 1]
            raise ParameterError(
                f"A problem moves one stage at a time: from {label(current['stage'])} the next "
                f"is {label(nxt)}, not {label(stage)}.",
                "Record each stage's work before moving on.",
            )
        values["stage"] = stage
    if status is not None and status != current["status"]:
        if status == "closed":
            raise ParameterError("Close a problem with its result (close_problem).")
        values["status"] = check_choice(status, PROBLEM_STATUSES, "status", "update_problem")
    if owner is not None:
        values["owner"] = owner.strip() or None
    if review_date is not None:
        values["review_date"] = as_date(review_date, "review_date", "update_problem")
    if area_code is not None:
        values["area_code"] = area_code.strip() or None
    with write(store) as conn:
        if triangle is not None:
            values["triangle"] = _check_triangle(triangle)
        if evidence is not None:
            values["evidence"] = _check_evidence(conn, evidence)
        values.update(updated_at=now(), updated_by=actor.username)
        update_versioned(conn, problems, problem_id, version, values, what="problem")
        changed = sorted(k for k in values if k not in ("updated_at", "updated_by"))
        append(
            conn,
            actor.username,
            "problem.update",
            record_kind=kind,
            record_id=problem_id,
            purpose=purpose,
            detail={"fields": changed, **({"stage": stage} if "stage" in values else {})},
        )
    return get_problem(store, actor, problem_id, audit_read=False)


def close_problem(
    store: Store,
    actor: Principal,
    problem_id: int,
    version: int,
    *,
    result: str,
    purpose: str | None = None,
) -> dict[str, Any]:
    """Close a problem with its recorded result (what was done and whether it worked)."""
    current = get_problem(store, actor, problem_id, audit_read=False)
    kind = current["record_kind"]
    require(actor, "close", kind, current)
    purpose = need_purpose(kind, purpose, "close")
    if not (result or "").strip():
        raise ParameterError(
            "Closing a problem needs its result: what was done and what the assessment found.",
            "E.g. 'Burglary fell 40% (rate ratio 0.60, 95% CI 0.41-0.87); gating kept'.",
        )
    if current["status"] == "closed":
        raise ParameterError(f"Problem {problem_id} is already closed.")
    with write(store) as conn:
        stamp = now()
        update_versioned(
            conn,
            problems,
            problem_id,
            version,
            {
                "status": "closed",
                "result": result.strip(),
                "closed_at": stamp,
                "updated_at": stamp,
                "updated_by": actor.username,
            },
            what="problem",
        )
        append(
            conn,
            actor.username,
            "problem.close",
            record_kind=kind,
            record_id=problem_id,
            purpose=purpose,
        )
    return get_problem(store, actor, problem_id, audit_read=False)


def reopen_problem(
    store: Store, actor: Principal, problem_id: int, version: int, *, purpose: str | None = None
) -> dict[str, Any]:
    """Reopen a closed problem (its recorded result is kept until it is closed again)."""
    current = get_problem(store, actor, problem_id, audit_read=False)
    kind = current["record_kind"]
    require(actor, "close", kind, current)
    purpose = need_purpose(kind, purpose, "reopen")
    with write(store) as conn:
        update_versioned(
            conn,
            problems,
            problem_id,
            version,
            {
                "status": "open",
                "closed_at": None,
                "updated_at": now(),
                "updated_by": actor.username,
            },
            what="problem",
        )
        append(
            conn,
            actor.username,
            "problem.reopen",
            record_kind=kind,
            record_id=problem_id,
            purpose=purpose,
        )
    return get_problem(store, actor, problem_id, audit_read=False)


# -- actions (responses) ---------------------------------------------------------------------


def add_action(
    store: Store,
    actor: Principal,
    problem_id: int,
    *,
    description: str,
    owner: str | None = None,
    organisation_id: int | None = None,
    due_date: dt.date | str | None = None,
    status: str = "planned",
    purpose: str | None = None,
) -> dict[str, Any]:
    """Add a response action to a problem (an owner, a partner organisation, a due date)."""
    problem = get_problem(store, actor, problem_id, audit_read=False)
    require(actor, "update", problem["record_kind"], problem)
    require(actor, "create", "action", {"organisation_id": organisation_id})
    purpose = need_purpose(problem["record_kind"], purpose, "change")
    if problem["status"] == "closed":
        raise ParameterError(f"Problem {problem_id} is closed.", "Reopen it first.")
    if not (description or "").strip():
        raise ParameterError("An action needs a description of what will be done.")
    check_choice(status, ACTION_STATUSES, "status", "add_action")
    due = as_date(due_date, "due_date", "add_action")
    stamp = now()
    with write(store) as conn:
        if (
            organisation_id is not None
            and not conn.execute(
                select(organisations.c.id).where(organisations.c.id == organisation_id)
            ).first()
        ):
            raise NotFoundError(f"There is no organisation {organisation_id}.")
        new_id = conn.execute(
            insert(problem_actions)
            .values(
                problem_id=problem_id,
                description=description.strip(),
                owner=(owner or "").strip() or None,
                organisation_id=organisation_id,
                due_date=due,
                status=status,
                created_at=stamp,
                updated_at=stamp,
                updated_by=actor.username,
                version=1,
            )
            .returning(problem_actions.c.id)
        ).scalar_one()
        append(
            conn,
            actor.username,
            "action.create",
            record_kind="action",
            record_id=new_id,
            target=f"problem {problem_id}",
            purpose=purpose,
        )
    return {"id": int(new_id), "problem_id": problem_id, "version": 1, "status": status}


def update_action(
    store: Store,
    actor: Principal,
    action_id: int,
    version: int,
    *,
    status: str | None = None,
    due_date: dt.date | str | None = None,
    owner: str | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """Change an action (e.g. mark it done); optimistic locking on ``version``."""
    with store.engine.connect() as conn:
        row = conn.execute(select(problem_actions).where(problem_actions.c.id == action_id)).first()
    if row is None:
        raise NotFoundError(f"There is no action {action_id}.")
    require(actor, "update", "action", {"organisation_id": row.organisation_id})
    values: dict[str, Any] = {"updated_at": now(), "updated_by": actor.username}
    if status is not None:
        values["status"] = check_choice(status, ACTION_STATUSES, "status", "update_action")
    if due_date is not None:
        values["due_date"] = as_date(due_date, "due_date", "update_action")
    if owner is not None:
        values["owner"] = owner.strip() or None
    if description is not None:
        if not description.strip():
            raise ParameterError("An action needs a description of what will be done.")
        values["description"] = description.strip()
    with write(store) as conn:
        new_version = update_versioned(
            conn, problem_actions, action_id, version, values, what="action"
        )
        append(
            conn,
            actor.username,
            "action.update",
            record_kind="action",
            record_id=action_id,
            target=f"problem {int(row.problem_id)}",
            detail={"fields": sorted(k for k in values if k not in ("updated_at", "updated_by"))},
        )
    return {"id": action_id, "problem_id": int(row.problem_id), "version": new_version}


def _readable_problem(actor: Principal, on: dt.date | None) -> Any:
    """The policy for reading a problem (place/theme or naming people), as SQL."""
    c = problems.c
    return or_(
        and_(
            c.names_people.is_(False),
            where_allowed(actor, "read", "problem", c.organisation_id, on),
        ),
        and_(
            c.names_people.is_(True),
            where_allowed(actor, "read", "problem_person", c.organisation_id, on),
        ),
    )


def overdue(
    store: Store, actor: Principal, *, on: dt.date | None = None, limit: int | None = None
) -> dict[str, Any]:
    """The worklist: open problems whose review date has passed and open actions past their
    due date, that the user may read (oldest first; at most ``limit`` of each, with
    ``reviews_total`` and ``actions_total`` counting them all)."""
    today = on or dt.date.today()
    if not allowed(actor, "read", "problem", None, today) and not allowed(
        actor, "read", "problem_person", None, today
    ):
        require(actor, "read", "problem", None, today)
    pa = problem_actions.c
    review_where = and_(
        problems.c.status != "closed",
        problems.c.review_date < today,
        _readable_problem(actor, today),
    )
    action_where = and_(
        pa.status.in_(("planned", "in_progress")),
        pa.due_date < today,
        problems.c.status != "closed",
        where_allowed(actor, "read", "action", pa.organisation_id, today),
        _readable_problem(actor, today),
    )
    joined = problem_actions.join(problems, problems.c.id == pa.problem_id)
    with store.engine.connect() as conn:
        names = _org_names(conn)
        n_reviews = conn.execute(select(func.count()).where(review_where)).scalar_one()
        n_actions = conn.execute(
            select(func.count()).select_from(joined).where(action_where)
        ).scalar_one()
        prob_rows = conn.execute(
            select(problems)
            .where(review_where)
            .order_by(problems.c.review_date, problems.c.id)
            .limit(limit)
        ).all()
        act_rows = conn.execute(
            select(
                problem_actions,
                problems.c.title.label("problem_title"),
                problems.c.names_people,
                problems.c.organisation_id.label("problem_organisation_id"),
            )
            .select_from(joined)
            .where(action_where)
            .order_by(pa.due_date, pa.id)
            .limit(limit)
        ).all()
    reviews = [_problem_dict(r, names) for r in prob_rows]
    reviews = [r for r in reviews if allowed(actor, "read", r["record_kind"], r, today)]
    for r in reviews:
        r["days_overdue"] = (today - r["review_date"]).days
    actions = [
        a
        for a in (_action_dict(r, names, today) for r in act_rows)
        if allowed(actor, "read", "action", a, today)
        and allowed(
            actor,
            "read",
            kind_of(a),
            {"organisation_id": a.pop("problem_organisation_id")},
            today,
        )
    ]
    for a in actions:
        a["days_overdue"] = (today - a["due_date"]).days
    return {
        "on": today,
        "reviews": reviews,
        "actions": actions,
        "reviews_total": int(n_reviews),
        "actions_total": int(n_actions),
    }
