"""A realistic, clearly labelled SYNTHETIC caseload for the demo.

:func:`seed_caseload` adds, once: the force, two commands and partner organisations; data-sharing
agreements (two live, one expired); problems at the real emerging hotspots of the newest
``emerging`` results (place, the nearest LSOA of its recorded crime, the hotspot run as scanning
evidence), worked to different SARA stages, with partner actions (some overdue), one assessed
with the exact tests against another hotspot's area and one closed; a group problem
naming (invented) people; interventions across the three prevention tiers and all eight types
(:func:`peelian.casework.demo_interventions.seed_interventions`), aimed at the hotspot areas and
at real *synthetic* persons of the synthetic force records who were involved in crimes there,
with referrals of those persons to partner organisations (consent, status and outcomes); and demo
users for several roles, whose logins it returns.

Every problem's and intervention's title starts "Demo:" and its description says it is
synthetic; agreement titles and referral reasons say "(synthetic demo)". Nothing here is real
casework.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import func, select

from peelian.casework.demo_interventions import seed_interventions
from peelian.casework.organisations import (
    SYSTEM,
    add_agreement,
    add_organisation,
    assign_user,
    list_organisations,
)
from peelian.casework.problems import (
    add_action,
    close_problem,
    get_problem,
    open_problem,
    update_problem,
)
from peelian.data.store import Store
from peelian.data.tables import events, problems
from peelian.errors import NotFoundError, PeelianError

__all__ = ["DEMO_NOTE", "DEMO_USERS", "seed_caseload"]

DEMO_NOTE = "SYNTHETIC demo record made by `peelian casework demo`: not real casework."
#: Demo users: (username, role, organisation name).
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("analyst.demo", "analyst", "Northumbria Police"),
    ("supervisor.demo", "supervisor", "Northumbria Police"),
    ("safeguarding.demo", "safeguarding", "Northumbria Police"),
    ("auditor.demo", "auditor", "Northumbria Police"),
    ("partner.demo", "partner", "Newcastle Community Safety Partnership"),
)
_ORGS = (
    ("Northumbria Police", "force"),
    ("Northern Area Command", "command"),
    ("Southern Area Command", "command"),
    ("Newcastle Community Safety Partnership", "csp"),
    ("Northumbria Violence Reduction Unit", "vru"),
    ("Newcastle Children's Services", "childrens_services"),
    ("Newcastle Hospitals NHS Trust", "health"),
    ("Your Homes Newcastle", "housing"),
    ("Tyneside Street Pastors", "voluntary"),
    ("Northumbria Youth Justice Service", "youth_justice"),
    ("Probation Service North East", "probation"),
)
_PRIORITY = ("intensifying", "persistent", "consecutive", "new", "sporadic", "oscillating")


def _hot_cells(store: Store, limit: int) -> list[dict[str, Any]]:
    """The most worrying emerging hotspot cells of the newest runs, with their run ids."""
    from peelian.data.results import latest_result, list_results

    runs = list_results(store, "emerging")
    out: list[dict[str, Any]] = []
    for name in sorted(set(runs["name"])) if len(runs) else []:
        run = latest_result(store, "emerging", name)
        cells = run.frames["cells"]
        cls = cells["pattern"].str.split().str[0].str.lower()
        cells = cells.assign(cls=cls)
        for c in _PRIORITY:
            for row in cells[cells["cls"] == c].head(limit).itertuples():
                out.append({"run_id": run.id, "crime": name, "cls": c, "x": row.x, "y": row.y})
    return out[: limit * 2]


def _lsoa_near(conn: Any, x: float, y: float, half: float = 300.0) -> str | None:
    q = (
        select(events.c.lsoa_code, func.count().label("n"))
        .where(
            events.c.easting.between(x - half, x + half),
            events.c.northing.between(y - half, y + half),
            events.c.lsoa_code.is_not(None),
        )
        .group_by(events.c.lsoa_code)
        .order_by(func.count().desc())
        .limit(1)
    )
    row = conn.execute(q).first()
    return None if row is None else row.lsoa_code


def seed_caseload(store: Store, *, today: dt.date | None = None) -> dict[str, Any]:
    """Create the demo caseload (once; a second call only resets the demo users' passwords).
    Returns ``{"logins": [(username, role, password)], "problems": n, ...}``."""
    from peelian.data.accounts.users import add_user, get_user, set_password

    today = today or dt.date.today()
    orgs = {o["name"]: o for o in list_organisations(store, SYSTEM)}
    for name, kind in _ORGS:
        if name not in orgs:
            orgs[name] = add_organisation(store, SYSTEM, name, kind)
    force, csp = orgs["Northumbria Police"]["id"], orgs[_ORGS[3][0]]["id"]
    logins = []
    for username, role, org in DEMO_USERS:
        password = secrets.token_urlsafe(12)
        try:
            get_user(store, username)
            set_password(store, username, password, actor="peelian casework demo")
        except NotFoundError:
            add_user(store, username, password, role, actor="peelian casework demo")
        assign_user(store, SYSTEM, username, orgs[org]["id"])
        logins.append((username, role, password))
    with store.engine.connect() as conn:
        existing = conn.execute(
            select(func.count()).where(problems.c.title.like("Demo:%"))
        ).scalar_one()
    if existing:
        registry = seed_interventions(store, _demo_places(store), orgs, today)
        return {"logins": logins, "problems": int(existing), "created": False, **registry}
    year = dt.timedelta(days=365)
    add_agreement(
        store,
        SYSTEM,
        title="Serious violence duty partnership (synthetic demo)",
        purpose="Joint problem solving on serious violence under the Serious Violence Duty. "
        + DEMO_NOTE,
        lawful_basis="DPA 2018 s.35; Crime and Disorder Act 1998 s.115",
        record_kinds=["problem", "action", "intervention"],
        party_ids=[force, csp, orgs["Northumbria Violence Reduction Unit"]["id"]],
        start_date=today - year,
        end_date=today + year,
    )
    add_agreement(
        store,
        SYSTEM,
        title="Child exploitation referrals (synthetic demo)",
        purpose="Referrals and safeguarding of children at risk of exploitation. " + DEMO_NOTE,
        lawful_basis="DPA 2018 s.35; Children Act 2004 s.11",
        record_kinds=["referral", "person", "problem_person"],
        party_ids=[force, orgs["Newcastle Children's Services"]["id"]],
        start_date=today - year,
    )
    add_agreement(
        store,
        SYSTEM,
        title="Night-time economy pilot (synthetic demo, ended)",
        purpose="A pilot that has ended. " + DEMO_NOTE,
        lawful_basis="DPA 2018 s.35",
        record_kinds=["problem"],
        party_ids=[force, orgs["Tyneside Street Pastors"]["id"]],
        start_date=today - 2 * year,
        end_date=today - year,
    )
    with store.engine.connect() as conn:
        cells = [{**c, "lsoa": _lsoa_near(conn, c["x"], c["y"])} for c in _hot_cells(store, 3)]
    cells = [c for c in cells if c["lsoa"]]
    made = []
    for i, c in enumerate(cells[:6]):
        crime = c["crime"].replace("-", " ")
        p = open_problem(
            store,
            SYSTEM,
            title=f"Demo: {c['cls']} {crime} hotspot near {c['lsoa']}",
            focus="place",
            description=DEMO_NOTE,
            area_code=c["lsoa"],
            organisation_id=force,
            evidence={"hotspot_run_id": c["run_id"], "emerging_class": c["cls"]},
            review_date=today + dt.timedelta(days=30 - 20 * (i % 3)),
        )
        version = p["version"]
        for stage in ("analysis", "response")[: i % 3]:
            version = update_problem(store, SYSTEM, p["id"], version, stage=stage)["version"]
        if i % 3:
            add_action(
                store,
                SYSTEM,
                p["id"],
                description="Target hardening visits (demo)",
                owner="partner.demo",
                organisation_id=csp,
                due_date=today - dt.timedelta(days=7 * i),
            )
            add_action(
                store,
                SYSTEM,
                p["id"],
                description="Extra patrols at peak hours (demo)",
                owner="supervisor.demo",
                organisation_id=force,
                due_date=today + dt.timedelta(days=14),
            )
        made.append((p["id"], version, c["lsoa"]))
    assessed = _assess_one(store, made, today)
    if made:
        pid = made[-1][0]
        close_problem(
            store,
            SYSTEM,
            pid,
            get_problem(store, SYSTEM, pid)["version"],
            result="Demo: patrols and gating done; see the assessment. " + DEMO_NOTE,
        )
    open_problem(
        store,
        SYSTEM,
        title="Demo: group linked to county lines supply (invented names)",
        focus="group",
        description="Invented people, e.g. 'Person A' and 'Person B'. " + DEMO_NOTE,
        organisation_id=force,
        purpose="demo caseload set-up",
        review_date=today + dt.timedelta(days=14),
    )
    registry = seed_interventions(store, _demo_places(store), orgs, today)
    return {
        "logins": logins,
        "problems": len(made) + 1,
        "assessed": assessed,
        "created": True,
        **registry,
    }


def _demo_places(store: Store) -> list[tuple[int, str]]:
    """The demo's place problems at hotspots, as (problem id, LSOA code), oldest first."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(problems.c.id, problems.c.area_code)
            .where(
                problems.c.title.like("Demo:%"),
                problems.c.focus == "place",
                problems.c.area_code.is_not(None),
            )
            .order_by(problems.c.id)
        ).all()
    return [(int(r.id), r.area_code) for r in rows]


def _assess_one(store: Store, made: list[tuple[int, int, str]], today: dt.date) -> bool:
    """Assess the first problem against the next problem's LSOA, over the newest 12 months of
    police.uk data (6 before, 6 after). False when there is too little data."""
    from peelian.casework.assessment import assess_problem

    if len(made) < 2:
        return False
    with store.engine.connect() as conn:
        last = conn.execute(select(func.max(events.c.month))).scalar()
    if not last:
        return False
    y, m = int(last[:4]), int(last[5:])

    def back(k: int) -> str:
        yy, mm = divmod(y * 12 + m - 1 - k, 12)
        return f"{yy:04d}-{mm + 1:02d}"

    pid, version, lsoa = made[0]
    others = [m[2] for m in made if m[2] != lsoa]
    if not others:  # every hotspot in one LSOA: compare with the busiest other LSOA
        with store.engine.connect() as conn:
            busiest = conn.execute(
                select(events.c.lsoa_code)
                .where(events.c.lsoa_code.is_not(None), events.c.lsoa_code != lsoa)
                .group_by(events.c.lsoa_code)
                .order_by(func.count().desc())
                .limit(1)
            ).scalar()
        others = [busiest] if busiest else []
    try:
        assess_problem(
            store,
            SYSTEM,
            pid,
            version,
            before=(back(11), back(6)),
            after=(back(5), back(0)),
            area_codes=[lsoa],
            comparison_codes=others[:1],
            comparison_name="another hotspot area (demo)",
        )
    except PeelianError:
        return False
    return True
