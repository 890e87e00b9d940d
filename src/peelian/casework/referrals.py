"""Referrals: who referred whom to which organisation, when, why, with what consent, and what
came of it.

A referral names a person by the force's pseudonymised reference (``person_ref``, never a name),
the organisation referred to, the referring user and organisation, the date, the reason, consent
(``given``, ``refused`` or ``not_sought``; refused or not sought needs a recorded reason, since
sharing without consent must rest on another lawful basis, DPA 2018 s.35 and the Crime and
Disorder Act 1998 s.115), a status and an outcome.

Status moves only along :data:`peelian.casework._vocab.REFERRAL_TRANSITIONS`: made -> accepted
or declined; accepted -> in progress or closed; in progress -> closed. Declining and closing
need an outcome; declined and closed are final. Closing needs the close permission.

A referral is person-level (DPA 2018 Part 3): every read, list, change and export needs a
purpose and is written to the audit log with it. A user whose policy scope for referrals is
``own`` or ``shared`` (a partner) sees only referrals **to their own organisation**, and then
only while a live agreement shares ``referral`` with it.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import and_, func, insert, or_, select

from peelian.casework._records import as_date, now, update_versioned, write
from peelian.casework._vocab import (
    CONSENT,
    REFERRAL_STATUSES,
    REFERRAL_TRANSITIONS,
    check_choice,
    label,
)
from peelian.casework.policy import Principal, allowed, load_policy, require, where_allowed
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import interventions, organisations, referrals
from peelian.errors import AuthError, NotFoundError, ParameterError

__all__ = [
    "EXPORT_COLUMNS",
    "export_referrals",
    "get_referral",
    "list_referrals",
    "make_referral",
    "update_referral",
]

_PSEUDONYM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{2,63}$")
#: Columns of a referral export.
EXPORT_COLUMNS = [
    "id",
    "person_ref",
    "organisation",
    "from_organisation",
    "referred_by",
    "referred_on",
    "reason",
    "consent",
    "consent_note",
    "status",
    "outcome",
    "intervention_id",
    "version",
]


def _purpose(purpose: str | None, action: str) -> str:
    text = (purpose or "").strip()
    if not text:
        raise ParameterError(
            f"A referral names a person: say why you need to {action} it (the purpose is "
            "written to the audit log).",
            "E.g. 'safeguarding strategy meeting 4 May', 'referral triage'.",
        )
    return text


def _may(actor: Principal, action: str, rec: dict[str, Any], on: dt.date | None) -> bool:
    """The policy, plus: an ``own``/``shared`` scope sees only referrals to its own org."""
    if not allowed(actor, action, "referral", rec, on):
        return False
    scope = load_policy().get((actor.role, "referral", action), "none")
    return scope == "all" or rec.get("organisation_id") == actor.organisation_id


def _must(actor: Principal, action: str, rec: dict[str, Any], on: dt.date | None) -> None:
    if not _may(actor, action, rec, on):
        raise AuthError(
            f"{actor.username} ({actor.role}) may not {action} referral {rec.get('id', '')}"
            " (a partner sees only referrals to their own organisation, under a live "
            "agreement sharing referrals).",
            "Access follows the casework policy and live data-sharing agreements.",
        )


def _org_names(conn: Any) -> dict[int, str]:
    return {
        int(r.id): r.name for r in conn.execute(select(organisations.c.id, organisations.c.name))
    }


def _row_dict(row: Any, names: dict[int, str]) -> dict[str, Any]:
    d = dict(row._mapping)
    for key in ("id", "organisation_id", "from_organisation_id", "intervention_id"):
        d[key] = None if d[key] is None else int(d[key])
    d.update(
        organisation=names.get(d["organisation_id"] or -1),
        from_organisation=names.get(d["from_organisation_id"] or -1),
        consent_label=label(d["consent"]),
        status_label=label(d["status"]),
        next_statuses=list(REFERRAL_TRANSITIONS[d["status"]]),
    )
    return d


def make_referral(
    store: Store,
    actor: Principal,
    *,
    person_ref: str,
    organisation_id: int,
    reason: str,
    consent: str,
    purpose: str | None,
    consent_note: str | None = None,
    referred_on: dt.date | str | None = None,
    intervention_id: int | None = None,
) -> dict[str, Any]:
    """Record a referral of ``person_ref`` to organisation ``organisation_id`` (status made)."""
    fn = "make_referral"
    purpose = _purpose(purpose, "record")
    require(actor, "create", "referral", {"organisation_id": actor.organisation_id})
    ref = (person_ref or "").strip()
    if not _PSEUDONYM.match(ref):
        raise ParameterError(
            "A referral names the person by the force's pseudonymised reference (3-64 letters, "
            f"digits, '_', '-', '.', ':'; no names or spaces). Got {len(ref)} characters.",
            "Use the person_ref from the force records, e.g. P000123.",
        )
    check_choice(consent, CONSENT, "consent", fn)
    note = (consent_note or "").strip() or None
    if consent != "given" and note is None:
        raise ParameterError(
            f"Consent {label(consent).lower().removeprefix('consent ')}: record why the referral "
            "is made without it (consent_note).",
            "E.g. 'risk of serious harm; DPA 2018 s.35 and Children Act 1989 s.47'.",
        )
    if not (reason or "").strip():
        raise ParameterError("A referral needs its reason: why this person, to this service.")
    day = as_date(referred_on, "referred_on", fn) or dt.date.today()
    if day > dt.date.today():
        raise ParameterError(f"A referral cannot be dated in the future ({day}).")
    stamp = now()
    with write(store) as conn:
        if (
            conn.execute(
                select(organisations.c.id).where(organisations.c.id == organisation_id)
            ).first()
            is None
        ):
            raise NotFoundError(f"There is no organisation {organisation_id} to refer to.")
        if (
            intervention_id is not None
            and conn.execute(
                select(interventions.c.id).where(interventions.c.id == intervention_id)
            ).first()
            is None
        ):
            raise NotFoundError(f"There is no intervention {intervention_id}.")
        new_id = conn.execute(
            insert(referrals)
            .values(
                person_ref=ref,
                organisation_id=organisation_id,
                from_organisation_id=actor.organisation_id,
                referred_by=actor.username,
                referred_on=day,
                reason=reason.strip(),
                consent=consent,
                consent_note=note,
                status="made",
                intervention_id=intervention_id,
                created_at=stamp,
                updated_at=stamp,
                updated_by=actor.username,
                version=1,
            )
            .returning(referrals.c.id)
        ).scalar_one()
        append(
            conn,
            actor.username,
            "referral.create",
            record_kind="referral",
            record_id=new_id,
            target=f"organisation {organisation_id}",
            purpose=purpose,
            detail={"consent": consent},
        )
    with store.engine.connect() as conn:
        row = conn.execute(select(referrals).where(referrals.c.id == new_id)).one()
        return _row_dict(row, _org_names(conn))


def _load(store: Store, referral_id: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        row = conn.execute(select(referrals).where(referrals.c.id == referral_id)).first()
        if row is None:
            raise NotFoundError(f"There is no referral {referral_id}.", "List the referrals.")
        return _row_dict(row, _org_names(conn))


def get_referral(
    store: Store,
    actor: Principal,
    referral_id: int,
    *,
    purpose: str | None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """One referral; needs a purpose; the read is audited."""
    purpose = _purpose(purpose, "read")
    rec = _load(store, referral_id)
    _must(actor, "read", rec, on)
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "referral.read",
            record_kind="referral",
            record_id=referral_id,
            purpose=purpose,
        )
    return rec


def _where(
    actor: Principal,
    action: str,
    *,
    status: str | None,
    organisation_id: int | None,
    person_ref: str | None,
    on: dt.date | None,
    referred_from: dt.date | str | None = None,
    referred_to: dt.date | str | None = None,
    text: str | None = None,
) -> Any:
    """The filters and the policy (as :func:`_may` decides it) as one SQL condition."""
    require(actor, action, "referral", None, on)
    c = referrals.c
    conds: list[Any] = [where_allowed(actor, action, "referral", c.organisation_id, on)]
    if load_policy().get((actor.role, "referral", action), "none") != "all":
        conds.append(c.organisation_id == actor.organisation_id)
    if status:
        conds.append(c.status == check_choice(status, REFERRAL_STATUSES, "status", "list"))
    if organisation_id is not None:
        conds.append(c.organisation_id == organisation_id)
    if person_ref:
        conds.append(c.person_ref == person_ref.strip())
    first = as_date(referred_from, "referred_from", "list_referrals")
    last = as_date(referred_to, "referred_to", "list_referrals")
    if first is not None:
        conds.append(c.referred_on >= first)
    if last is not None:
        conds.append(c.referred_on <= last)
    if text and text.strip():
        like = f"%{text.strip().lower()}%"
        conds.append(or_(func.lower(c.reason).like(like), func.lower(c.outcome).like(like)))
    return and_(*conds)


def _visible(
    store: Store,
    actor: Principal,
    action: str,
    *,
    status: str | None,
    organisation_id: int | None,
    person_ref: str | None,
    on: dt.date | None,
) -> list[dict[str, Any]]:
    where = _where(
        actor, action, status=status, organisation_id=organisation_id, person_ref=person_ref, on=on
    )
    q = select(referrals).where(where).order_by(referrals.c.id.desc())
    with store.engine.connect() as conn:
        names = _org_names(conn)
        rows = [_row_dict(r, names) for r in conn.execute(q)]
    return [r for r in rows if _may(actor, action, r, on)]


def list_referrals(
    store: Store,
    actor: Principal,
    *,
    purpose: str | None,
    status: str | None = None,
    organisation_id: int | None = None,
    person_ref: str | None = None,
    limit: int = 200,
    offset: int = 0,
    on: dt.date | None = None,
    referred_from: dt.date | str | None = None,
    referred_to: dt.date | str | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    """Referrals the user may read, newest first (referred between ``referred_from`` and
    ``referred_to``; ``text`` in the reason or outcome); needs a purpose; the listing is
    audited (the ids shown and the filters used, never the person)."""
    purpose = _purpose(purpose, "list")
    where = _where(
        actor,
        "read",
        status=status,
        organisation_id=organisation_id,
        person_ref=person_ref,
        on=on,
        referred_from=referred_from,
        referred_to=referred_to,
        text=text,
    )
    q = select(referrals).where(where).order_by(referrals.c.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        names = _org_names(conn)
        total = conn.execute(select(func.count()).select_from(referrals).where(where)).scalar_one()
        page = [
            r for r in (_row_dict(r, names) for r in conn.execute(q)) if _may(actor, "read", r, on)
        ]
    filters = (
        ("status", status),
        ("organisation_id", organisation_id),
        ("person_ref", person_ref),
        ("referred_from", referred_from),
        ("referred_to", referred_to),
        ("text", text),
    )
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "referral.list",
            record_kind="referral",
            purpose=purpose,
            detail={
                "ids": [r["id"] for r in page][:500],
                "filters": sorted(k for k, v in filters if v not in (None, "")),
            },
        )
    return {"rows": page, "total": int(total)}


def export_referrals(
    store: Store, actor: Principal, *, purpose: str | None, on: dt.date | None = None
) -> list[dict[str, Any]]:
    """Every referral the user may export, for a CSV; needs a purpose; the export is audited."""
    purpose = _purpose(purpose, "export")
    rows = _visible(
        store, actor, "export", status=None, organisation_id=None, person_ref=None, on=on
    )
    with write(store) as conn:
        append(
            conn,
            actor.username,
            "referral.export",
            record_kind="referral",
            purpose=purpose,
            detail={"rows": len(rows)},
        )
    return rows


def update_referral(
    store: Store,
    actor: Principal,
    referral_id: int,
    version: int,
    *,
    purpose: str | None,
    status: str | None = None,
    outcome: str | None = None,
    reason: str | None = None,
    intervention_id: int | None = None,
    on: dt.date | None = None,
) -> dict[str, Any]:
    """Move a referral's status (along the allowed transitions), record its outcome, or
    correct its reason; :class:`ConflictError` if someone saved it since ``version``."""
    purpose = _purpose(purpose, "change")
    current = _load(store, referral_id)
    closing = status == "closed" and current["status"] != "closed"
    _must(actor, "close" if closing else "update", current, on)
    if current["version"] != version:  # stale: the conflict, not a transition from a status
        with write(store) as conn:  # the user never saw (raises ConflictError, writes nothing)
            update_versioned(conn, referrals, referral_id, version, {}, what="referral")
    if not REFERRAL_TRANSITIONS[current["status"]]:
        raise ParameterError(
            f"Referral {referral_id} is {label(current['status']).lower()}: it cannot change.",
            "Make a new referral if the person needs one.",
        )
    values: dict[str, Any] = {}
    if status is not None and status != current["status"]:
        check_choice(status, REFERRAL_STATUSES, "status", "update_referral")
        allowed_next = REFERRAL_TRANSITIONS[current["status"]]
        if status not in allowed_next:
            raise ParameterError(
                f"A referral that is {label(current['status']).lower()} can become "
                f"{' or '.join(label(s).lower() for s in allowed_next)}, not "
                f"{label(status).lower()}.",
                "Statuses: made -> accepted or declined; accepted -> in progress or closed; "
                "in progress -> closed.",
            )
        values["status"] = status
        if status in ("declined", "closed"):
            text = (outcome or current["outcome"] or "").strip()
            if not text:
                raise ParameterError(
                    f"A referral that is {label(status).lower()} needs its outcome: what was "
                    "decided or done.",
                    "E.g. 'Declined: not eligible (age)'; 'Closed: engaged for 12 weeks'.",
                )
            values["outcome"] = text
            if status == "closed":
                values["closed_at"] = now()
    if outcome is not None and "outcome" not in values:
        values["outcome"] = outcome.strip() or None
    if reason is not None:
        if not reason.strip():
            raise ParameterError("A referral needs its reason: why this person, to this service.")
        values["reason"] = reason.strip()
    with write(store) as conn:
        if intervention_id is not None:
            if (
                conn.execute(
                    select(interventions.c.id).where(interventions.c.id == intervention_id)
                ).first()
                is None
            ):
                raise NotFoundError(f"There is no intervention {intervention_id}.")
            values["intervention_id"] = intervention_id
        changed = sorted(k for k in values if k != "closed_at")
        values.update(updated_at=now(), updated_by=actor.username)
        update_versioned(conn, referrals, referral_id, version, values, what="referral")
        append(
            conn,
            actor.username,
            "referral.close" if closing else "referral.update",
            record_kind="referral",
            record_id=referral_id,
            purpose=purpose,
            detail={"fields": changed, **({"status": status} if "status" in values else {})},
        )
    return _load(store, referral_id)
