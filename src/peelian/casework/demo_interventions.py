"""The demo's SYNTHETIC interventions and referrals (part of ``peelian casework demo``).

:func:`seed_interventions` registers, once, interventions across the three prevention tiers and
all eight types (education, design out crime, patrols and signposting at the hotspot areas;
early intervention, diversion, focused deterrence, signposting and safeguarding for persons,
families and groups), and referrals of persons to partner organisations with consent (given, not
sought, refused, each with its recorded basis), statuses along the allowed transitions, and
outcomes. Place targets are the LSOAs of the demo's hotspot problems; person and family targets
are real ``person_ref`` values of the **synthetic** force records (persons involved, as offender,
suspect or victim, in synthetic crimes in those hotspot areas; any synthetic person when none
is), so outcome tracking can read their records. The interventions are dated inside the
synthetic records' window (ending six months before their last record, or before ``today`` if
that is earlier), and their persons are picked from crimes before the first one starts, so
offending before and after can be counted. Nothing here is real casework: titles start
"Demo:", descriptions carry :data:`peelian.casework.demo.DEMO_NOTE` and referral reasons say
"(synthetic demo)". Every record goes through the registry's own functions, so each is audited
with the purpose "demo caseload set-up (synthetic)".
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import and_, func, literal, select

from peelian.casework.interventions import register_intervention
from peelian.casework.organisations import SYSTEM
from peelian.casework.referrals import make_referral, update_referral
from peelian.data.store import Store
from peelian.data.tables import interventions, involvements, occurrences, persons, referrals

__all__ = ["PLAN", "seed_interventions"]

NOTE = "SYNTHETIC demo record made by `peelian casework demo`: not real casework."
PURPOSE = "demo caseload set-up (synthetic)"
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$")
_CHILDREN = "Newcastle Children's Services"
_VRU = "Northumbria Violence Reduction Unit"

#: (tier, type, target, title, organisation, funding, started days ago, lasts days, who):
#: ``target`` is place (a hotspot LSOA), problem (the hotspot problem), group, person or family;
#: ``who`` picks the synthetic person (offender or victim) for person and family targets.
PLAN: tuple[tuple[str, str, str, str, str, str, int, int, str], ...] = (
    ("primary", "education_programme", "group", "Knife crime education in schools near {lsoa}",
     _VRU, "VRU core grant", 200, 180, ""),
    ("primary", "design_out_crime", "place", "Alley gating and street lighting at {lsoa}",
     "Newcastle Community Safety Partnership", "Safer Streets Fund", 300, 120, ""),
    ("primary", "patrol", "problem", "Hotspot patrols (Grip) at {lsoa}",
     "Northumbria Police", "Serious Violence Duty: Grip funding", 90, 182, ""),
    ("primary", "signposting", "place", "Night-time welfare hub signposting at {lsoa}",
     "Tyneside Street Pastors", "PCC community safety fund", 400, 365, ""),
    ("secondary", "early_intervention", "person", "Youth worker early intervention",
     _CHILDREN, "VRU core grant", 120, 180, "offender"),
    ("secondary", "early_intervention", "family", "Early Help family support",
     _CHILDREN, "Supporting Families programme", 150, 270, "offender"),
    ("secondary", "diversion_pathway", "person", "Youth diversion programme",
     "Northumbria Youth Justice Service", "Turnaround programme", 60, 120, "offender"),
    ("secondary", "focused_deterrence", "group", "Group violence call-in at {lsoa}",
     "Northumbria Police", "VRU core grant", 45, 180, ""),
    ("secondary", "signposting", "person", "Signposting to alcohol and drug services",
     "Newcastle Hospitals NHS Trust", "NHS core", 30, 90, "victim"),
    ("secondary", "safeguarding", "person", "Child exploitation safeguarding plan",
     _CHILDREN, "Force budget", 75, 365, "victim"),
    ("tertiary", "diversion_pathway", "person", "Deferred prosecution pathway (Checkpoint-style)",
     "Northumbria Police", "PCC deferred prosecution fund", 240, 120, "offender"),
    ("tertiary", "focused_deterrence", "person", "Integrated offender management",
     "Probation Service North East", "Force budget", 330, 365, "offender"),
    ("tertiary", "safeguarding", "family", "Domestic abuse safeguarding plan (MARAC)",
     "Northumbria Police", "Force budget", 20, 180, "victim"),
    ("tertiary", "signposting", "person", "A&E youth violence navigator",
     "Newcastle Hospitals NHS Trust", "VRU core grant", 100, 90, "victim"),
)  # fmt: skip

#: Referral journeys: (consent, consent note, statuses after made, outcome).
_JOURNEYS: tuple[tuple[str, str | None, tuple[str, ...], str | None], ...] = (
    ("given", None, ("accepted", "in_progress", "closed"),
     "Engaged for 12 weeks; plan completed (synthetic demo)."),
    ("given", None, ("accepted", "in_progress"), None),
    ("not_sought", "Risk of serious harm to a child; DPA 2018 s.35 and Children Act 2004 s.11 "
     "(synthetic demo).", ("accepted",), None),
    ("given", None, ("declined",),
     "Declined: below the service threshold; signposted to universal services (synthetic demo)."),
    ("refused", "Refused by the person; made on safeguarding grounds, Children Act 1989 s.47 "
     "(synthetic demo).", ("accepted", "closed"),
     "Closed: strategy meeting held, plan with children's services (synthetic demo)."),
    ("given", None, (), None),
)  # fmt: skip


def _people(
    conn: Any, lsoas: list[str], before: dt.date, limit: int = 400
) -> tuple[dict[str, list[str]], str]:
    """Synthetic persons by role ('offender' = offender or suspect, 'victim'), involved in
    synthetic crimes in ``lsoas`` reported before ``before`` (most recent first; any date if
    none); else any synthetic persons."""
    inv, occ = involvements.c, occurrences.c
    q = (
        select(inv.person_ref, inv.role)
        .join(occurrences, and_(occ.force == inv.force, occ.crime_ref == inv.crime_ref))
        .where(occ.synthetic.is_(True), occ.lsoa_code.in_(lsoas))
        .order_by(occ.reported_at.desc())
        .limit(limit)
    )
    start = dt.datetime.combine(before, dt.time())
    rows = conn.execute(q.where(occ.reported_at < start)).all() or conn.execute(q).all()
    source = "synthetic force records of crimes in the hotspot areas"
    if not rows:
        rows = conn.execute(
            select(persons.c.person_ref, literal("offender").label("role"))
            .where(persons.c.synthetic.is_(True))
            .order_by(persons.c.id)
            .limit(40)
        ).all()
        source = "synthetic force records (none in the hotspot areas)"
    by_role: dict[str, list[str]] = {"offender": [], "victim": []}
    for ref, role in rows:
        key = "victim" if role == "victim" else "offender"
        if _REF.match(ref) and ref not in by_role["offender"] + by_role["victim"]:
            by_role[key].append(ref)
    if not by_role["victim"]:
        by_role["victim"] = by_role["offender"][1::2]
    if not by_role["offender"]:
        by_role["offender"] = by_role["victim"][1::2]
    return by_role, source if any(by_role.values()) else "none: no synthetic force records"


def _existing(store: Store) -> dict[str, Any] | None:
    """What an earlier run made (None if nothing), in the shape :func:`seed_interventions`
    returns."""
    i, r = interventions.c, referrals.c
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(i.tier, i.intervention_type, i.target_kind).where(i.title.like("Demo:%"))
        ).all()
        if not rows:
            return None
        statuses: dict[str, int] = dict(
            conn.execute(
                select(r.status, func.count())
                .where(r.reason.like("%(synthetic demo)%"))
                .group_by(r.status)
            ).all()
        )
    return {
        "interventions": len(rows),
        "interventions_created": False,
        "tiers": sorted({x.tier for x in rows}),
        "types": sorted({x.intervention_type for x in rows}),
        "target_kinds": sorted({x.target_kind for x in rows}),
        "referrals": sum(statuses.values()),
        "referral_statuses": {k: int(v) for k, v in statuses.items()},
    }


def seed_interventions(
    store: Store, places: list[tuple[int, str]], orgs: dict[str, dict[str, Any]], today: dt.date
) -> dict[str, Any]:
    """Register the demo interventions and referrals once (see the module docstring), at the
    hotspot ``places`` ((problem id, LSOA) pairs); returns what was made, for the demo's
    summary. With no hotspot places nothing is made and ``skipped`` says why."""
    found = _existing(store)
    if found is not None:
        return found
    if not places:
        return {"interventions": 0, "referrals": 0, "skipped": "no hotspot problems to work at"}
    with store.engine.connect() as conn:
        last = conn.execute(
            select(func.max(occurrences.c.reported_at)).where(occurrences.c.synthetic.is_(True))
        ).scalar()
        # inside the synthetic records' window, so outcome tracking has months before and after
        anchor = min(today, last.date() - dt.timedelta(days=180)) if last else today
        first_start = anchor - dt.timedelta(days=max(p[6] for p in PLAN))
        people, source = _people(conn, [lsoa for _, lsoa in places], first_start)
    made: list[dict[str, Any]] = []
    used: dict[str, int] = {"offender": 0, "victim": 0}
    for k, (tier, kind, target, title, org, funding, ago, lasts, who) in enumerate(PLAN):
        pid, lsoa = places[k % len(places)]
        if target in ("person", "family"):
            pool = people[who]
            if not pool:
                continue
            ref, used[who] = pool[used[who] % len(pool)], used[who] + 1
        else:
            ref = {"place": lsoa, "problem": f"problem:{pid}", "group": f"Demo group at {lsoa}"}[
                target
            ]
        start = anchor - dt.timedelta(days=ago)
        end = start + dt.timedelta(days=lasts)
        made.append(
            register_intervention(
                store,
                SYSTEM,
                title="Demo: " + title.format(lsoa=lsoa),
                tier=tier,
                intervention_type=kind,
                target_kind="place" if target == "problem" else target,
                target_ref=ref,
                start_date=start,
                end_date=end if end < anchor or k % 3 == 0 else None,
                owner="supervisor.demo" if target in ("person", "family") else "analyst.demo",
                organisation_id=orgs[org]["id"],
                funding_source=funding + " (synthetic demo)",
                problem_id=pid if target in ("place", "problem", "group") else None,
                description=NOTE,
                purpose=PURPOSE if target in ("person", "family") else None,
            )
        )
    statuses = _referrals(store, made, orgs, today)
    return {
        "interventions": len(made),
        "interventions_created": True,
        "tiers": sorted({m["tier"] for m in made}),
        "types": sorted({m["intervention_type"] for m in made}),
        "target_kinds": sorted({m["target_kind"] for m in made}),
        "referrals": sum(statuses.values()),
        "referral_statuses": statuses,
        "persons_from": source,
        "dated_from": min(m["start_date"] for m in made).isoformat() if made else None,
    }


def _referrals(
    store: Store, made: list[dict[str, Any]], orgs: dict[str, dict[str, Any]], today: dt.date
) -> dict[str, int]:
    """A referral of each person or family intervention's person to its organisation (the
    force's own interventions refer to the VRU), along the journeys in turn."""
    with store.engine.connect() as conn:
        refs = {
            int(r.id): r.target_ref
            for r in conn.execute(
                select(interventions.c.id, interventions.c.target_ref).where(
                    interventions.c.id.in_([m["id"] for m in made if m["personal"]])
                )
            )
        }
    statuses: dict[str, int] = {}
    force = orgs["Northumbria Police"]["id"]
    for k, m in enumerate(m for m in made if m["personal"]):
        consent, note, path, outcome = _JOURNEYS[k % len(_JOURNEYS)]
        org = m["organisation_id"] if m["organisation_id"] != force else orgs[_VRU]["id"]
        on = min(m["start_date"] - dt.timedelta(days=7), today, dt.date.today())
        r = make_referral(
            store,
            SYSTEM,
            person_ref=refs[m["id"]],
            organisation_id=org,
            reason=f"{m['type_label']}: {m['title'].removeprefix('Demo: ')} (synthetic demo)",
            consent=consent,
            consent_note=note,
            referred_on=on,
            intervention_id=m["id"],
            purpose=PURPOSE,
        )
        for status in path:
            final = status in ("closed", "declined")
            r = update_referral(
                store,
                SYSTEM,
                r["id"],
                r["version"],
                purpose=PURPOSE,
                status=status,
                outcome=outcome if final else None,
            )
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return statuses
