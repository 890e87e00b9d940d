"""Organisations (the force, its commands and partners) and data-sharing agreements.

An agreement is a record: its parties, purpose, lawful basis (e.g. "DPA 2018 s.35; Crime and
Disorder Act 1998 s.115"), the record kinds it shares, and its start and end dates (the end date
is the last day it is in force). It is *live* on a date between the two. The access policy
(:mod:`peelian.casework.policy`) reads live agreements to decide what a partner user sees.

Every change is written to the audit log in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from peelian.casework._records import as_date, now, update_versioned, write
from peelian.casework._vocab import ORG_KINDS, RECORD_KINDS, check_choice, label
from peelian.casework.policy import Principal, allowed, require
from peelian.data.audit import append
from peelian.data.store import Store
from peelian.data.tables import agreement_parties, agreements, organisations, users
from peelian.errors import NotFoundError, ParameterError

__all__ = [
    "SYSTEM",
    "add_agreement",
    "add_organisation",
    "assign_user",
    "get_agreement",
    "get_organisation",
    "list_agreements",
    "list_organisations",
    "update_agreement",
    "update_organisation",
]

#: The principal of the command line (whoever can run it can open the database): an admin.
SYSTEM = Principal("cli", "admin")


def _org(row: Any) -> dict[str, Any]:
    return {
        "id": int(row.id),
        "name": row.name,
        "kind": row.kind,
        "kind_label": label(row.kind),
        "parent_id": None if row.parent_id is None else int(row.parent_id),
        "created_at": row.created_at,
        "version": int(row.version),
        "organisation_id": int(row.id),
    }


def _name(name: str, func: str) -> str:
    name = (name or "").strip()
    if not 2 <= len(name) <= 200:
        raise ParameterError(
            f"The 'name' parameter of {func} must be 2-200 characters. Got {name!r}."
        )
    return name


def add_organisation(
    store: Store, actor: Principal, name: str, kind: str, *, parent_id: int | None = None
) -> dict[str, Any]:
    """Add an organisation; :class:`ParameterError` if the name is taken or the kind unknown."""
    require(actor, "create", "organisation")
    name = _name(name, "add_organisation")
    check_choice(kind, ORG_KINDS, "kind", "add_organisation")
    try:
        with write(store) as conn:
            if parent_id is not None:
                _get_org(conn, parent_id)
            new_id = conn.execute(
                insert(organisations)
                .values(name=name, kind=kind, parent_id=parent_id, created_at=now(), version=1)
                .returning(organisations.c.id)
            ).scalar_one()
            append(
                conn,
                actor.username,
                "organisation.create",
                record_kind="organisation",
                record_id=new_id,
                target=name,
                detail={"kind": kind, "parent_id": parent_id},
            )
    except IntegrityError as exc:
        raise ParameterError(
            f"An organisation named {name!r} already exists.", "Choose another name."
        ) from exc
    return get_organisation(store, actor, int(new_id))


def _get_org(conn: Any, org_id: int) -> Any:
    row = conn.execute(select(organisations).where(organisations.c.id == org_id)).first()
    if row is None:
        raise NotFoundError(
            f"There is no organisation {org_id}.",
            "List them with `peelian casework organisations list`.",
        )
    return row


def get_organisation(store: Store, actor: Principal, org_id: int) -> dict[str, Any]:
    """One organisation by id."""
    require(actor, "read", "organisation")
    with store.engine.connect() as conn:
        return _org(_get_org(conn, org_id))


def list_organisations(
    store: Store, actor: Principal, *, kind: str | None = None, text: str | None = None
) -> list[dict[str, Any]]:
    """Organisations by name, optionally of one kind or whose name contains ``text``."""
    require(actor, "read", "organisation")
    q = select(organisations).order_by(organisations.c.name)
    if kind:
        q = q.where(organisations.c.kind == check_choice(kind, ORG_KINDS, "kind", "list"))
    if text:
        q = q.where(organisations.c.name.ilike(f"%{text.strip()}%"))
    with store.engine.connect() as conn:
        return [_org(r) for r in conn.execute(q)]


def update_organisation(
    store: Store,
    actor: Principal,
    org_id: int,
    version: int,
    *,
    name: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """Rename or re-kind an organisation (optimistic locking on ``version``)."""
    require(actor, "update", "organisation", {"organisation_id": org_id})
    values: dict[str, Any] = {}
    if name is not None:
        values["name"] = _name(name, "update_organisation")
    if kind is not None:
        values["kind"] = check_choice(kind, ORG_KINDS, "kind", "update_organisation")
    try:
        with write(store) as conn:
            update_versioned(conn, organisations, org_id, version, values, what="organisation")
            append(
                conn,
                actor.username,
                "organisation.update",
                record_kind="organisation",
                record_id=org_id,
                detail=values,
            )
    except IntegrityError as exc:
        raise ParameterError(f"An organisation named {name!r} already exists.") from exc
    return get_organisation(store, actor, org_id)


def assign_user(store: Store, actor: Principal, username: str, org_id: int | None) -> None:
    """Make ``username`` a member of organisation ``org_id`` (``None``: of none)."""
    require(actor, "update", "organisation")
    with write(store) as conn:
        if org_id is not None:
            _get_org(conn, org_id)
        n = conn.execute(
            update(users).where(users.c.username == username).values(organisation_id=org_id)
        ).rowcount
        if not n:
            raise NotFoundError(
                f"There is no user named {username!r}.", "List users with `peelian users list`."
            )
        append(
            conn,
            actor.username,
            "user.organisation",
            target=username,
            record_kind="organisation",
            record_id=org_id,
        )


# -- agreements ------------------------------------------------------------------------------


def _check_kinds(kinds: Iterable[str], func: str) -> list[str]:
    out = sorted({k.strip() for k in kinds if k and k.strip()})
    bad = [k for k in out if k not in RECORD_KINDS or k in ("audit", "agreement")]
    if bad or not out:
        shareable = [k for k in RECORD_KINDS if k not in ("audit", "agreement")]
        raise ParameterError(
            f"The 'record_kinds' parameter of {func} must name at least one shareable record "
            f"kind. Got {bad or 'none'}.",
            f"Shareable: {', '.join(shareable)}.",
        )
    return out


def _check_agreement(
    title: str, purpose: str, lawful_basis: str, start: dt.date | None, end: dt.date | None
) -> None:
    for what, value in (("title", title), ("purpose", purpose), ("lawful_basis", lawful_basis)):
        if not (value or "").strip():
            raise ParameterError(
                f"A data-sharing agreement needs a {what.replace('_', ' ')}.",
                "E.g. lawful basis: DPA 2018 s.35; Crime and Disorder Act 1998 s.115.",
            )
    if start is None:
        raise ParameterError("A data-sharing agreement needs a start date.", "E.g. 2026-04-01.")
    if end is not None and end < start:
        raise ParameterError(
            f"The agreement ends ({end}) before it starts ({start}).", "Check the dates."
        )


def _agreement(row: Any, parties: list[int], names: dict[int, str], on: dt.date) -> dict[str, Any]:
    live = row.start_date <= on and (row.end_date is None or on <= row.end_date)
    return {
        "id": int(row.id),
        "title": row.title,
        "purpose": row.purpose,
        "lawful_basis": row.lawful_basis,
        "record_kinds": list(row.record_kinds or []),
        "record_kind_labels": [label(k) for k in row.record_kinds or []],
        "start_date": row.start_date,
        "end_date": row.end_date,
        "live": live,
        "party_ids": parties,
        "parties": [names.get(p, str(p)) for p in parties],
        "created_at": row.created_at,
        "created_by": row.created_by,
        "version": int(row.version),
    }


def add_agreement(
    store: Store,
    actor: Principal,
    *,
    title: str,
    purpose: str,
    lawful_basis: str,
    record_kinds: Iterable[str],
    party_ids: Iterable[int],
    start_date: dt.date | str,
    end_date: dt.date | str | None = None,
) -> dict[str, Any]:
    """Record a data-sharing agreement between two or more organisations."""
    require(actor, "create", "agreement")
    kinds = _check_kinds(record_kinds, "add_agreement")
    parties = sorted({int(p) for p in party_ids})
    start = as_date(start_date, "start_date", "add_agreement")
    end = as_date(end_date, "end_date", "add_agreement")
    _check_agreement(title, purpose, lawful_basis, start, end)
    if len(parties) < 2:
        raise ParameterError(
            "A data-sharing agreement needs at least two parties.",
            "Name the organisations that share (e.g. the force and a CSP).",
        )
    with write(store) as conn:
        for p in parties:
            _get_org(conn, p)
        new_id = conn.execute(
            insert(agreements)
            .values(
                title=title.strip(),
                purpose=purpose.strip(),
                lawful_basis=lawful_basis.strip(),
                record_kinds=kinds,
                start_date=start,
                end_date=end,
                created_at=now(),
                created_by=actor.username,
                version=1,
            )
            .returning(agreements.c.id)
        ).scalar_one()
        conn.execute(
            insert(agreement_parties),
            [{"agreement_id": new_id, "organisation_id": p} for p in parties],
        )
        append(
            conn,
            actor.username,
            "agreement.create",
            record_kind="agreement",
            record_id=new_id,
            target=title.strip()[:128],
            detail={
                "parties": parties,
                "record_kinds": kinds,
                "start": str(start),
                "end": str(end),
            },
        )
    return get_agreement(store, actor, int(new_id))


def _agreements(conn: Any, ids: list[int] | None, on: dt.date) -> list[dict[str, Any]]:
    q = select(agreements).order_by(agreements.c.start_date.desc(), agreements.c.id)
    if ids is not None:
        q = q.where(agreements.c.id.in_(ids))
    rows = conn.execute(q).all()
    parties: dict[int, list[int]] = {}
    for p in conn.execute(select(agreement_parties).order_by(agreement_parties.c.organisation_id)):
        parties.setdefault(int(p.agreement_id), []).append(int(p.organisation_id))
    names = {
        int(r.id): r.name for r in conn.execute(select(organisations.c.id, organisations.c.name))
    }
    return [_agreement(r, parties.get(int(r.id), []), names, on) for r in rows]


def get_agreement(
    store: Store, actor: Principal, agreement_id: int, *, on: dt.date | None = None
) -> dict[str, Any]:
    """One agreement by id, with its parties and whether it is live on ``on`` (today)."""
    with store.engine.connect() as conn:
        found = _agreements(conn, [agreement_id], on or dt.date.today())
    if not found:
        raise NotFoundError(
            f"There is no data-sharing agreement {agreement_id}.",
            "List them with `peelian casework agreements list`.",
        )
    require(actor, "read", "agreement", found[0])
    return found[0]


def list_agreements(
    store: Store,
    actor: Principal,
    *,
    on: dt.date | None = None,
    live_only: bool = False,
    organisation_id: int | None = None,
) -> list[dict[str, Any]]:
    """Agreements the user may read (newest start first), with ``live`` on ``on`` (today)."""
    require(actor, "read", "agreement")
    on = on or dt.date.today()
    with store.engine.connect() as conn:
        found = _agreements(conn, None, on)
    out = [a for a in found if allowed(actor, "read", "agreement", a, on)]
    if live_only:
        out = [a for a in out if a["live"]]
    if organisation_id is not None:
        out = [a for a in out if organisation_id in a["party_ids"]]
    return out


def update_agreement(
    store: Store,
    actor: Principal,
    agreement_id: int,
    version: int,
    *,
    end_date: dt.date | str | None = None,
    record_kinds: Iterable[str] | None = None,
    purpose: str | None = None,
    party_ids: Iterable[int] | None = None,
) -> dict[str, Any]:
    """Change an agreement (e.g. end it by setting its end date); optimistic locking."""
    current = get_agreement(store, actor, agreement_id)
    require(actor, "update", "agreement", current)
    values: dict[str, Any] = {}
    if end_date is not None:
        values["end_date"] = as_date(end_date, "end_date", "update_agreement")
        _check_agreement(
            current["title"],
            current["purpose"],
            current["lawful_basis"],
            current["start_date"],
            values["end_date"],
        )
    if record_kinds is not None:
        values["record_kinds"] = _check_kinds(record_kinds, "update_agreement")
    if purpose is not None:
        if not purpose.strip():
            raise ParameterError("A data-sharing agreement needs a purpose.")
        values["purpose"] = purpose.strip()
    parties = None if party_ids is None else sorted({int(p) for p in party_ids})
    if parties is not None and len(parties) < 2:
        raise ParameterError("A data-sharing agreement needs at least two parties.")
    with write(store) as conn:
        update_versioned(conn, agreements, agreement_id, version, values, what="agreement")
        if parties is not None:
            for p in parties:
                _get_org(conn, p)
            conn.execute(
                delete(agreement_parties).where(agreement_parties.c.agreement_id == agreement_id)
            )
            conn.execute(
                insert(agreement_parties),
                [{"agreement_id": agreement_id, "organisation_id": p} for p in parties],
            )
        append(
            conn,
            actor.username,
            "agreement.update",
            record_kind="agreement",
            record_id=agreement_id,
            detail={
                **{k: str(v) if isinstance(v, dt.date) else v for k, v in values.items()},
                **({"parties": parties} if parties is not None else {}),
            },
        )
    return get_agreement(store, actor, agreement_id)
