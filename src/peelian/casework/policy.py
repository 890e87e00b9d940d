"""Who may see what: one policy function over role x organisation x record kind x action, plus
live data-sharing agreements.

The rules are data, in the versioned file ``peelian/casework/data/policy.csv`` (one row per role
and record kind; a cell per action: ``all``, ``own``, ``shared`` or ``none``). Every page, API
endpoint, CLI command and query asks :func:`allowed`; nothing else decides (the model is
Datasette's single ``permission_allowed`` hook). Anything the file does not grant is refused.

- ``all``: any record of that kind;
- ``own``: records of the user's own organisation (for an agreement: one it is a party to);
- ``shared``: records of the organisations that are parties, with the user's organisation, to a
  data-sharing agreement live on the day that shares that record kind (the user's own
  organisation's records too, but only while such an agreement is live);
- ``none``: refused.

    principal = principal_for(store, "pc.smith")
    allowed(principal, "read", "referral", {"organisation_id": 4}, on=date(2026, 5, 1))
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from sqlalchemy import ColumnElement, false, select, true

from peelian.casework._vocab import ACTIONS, RECORD_KINDS
from peelian.data.accounts.users import ROLES
from peelian.data.store import Store
from peelian.data.tables import agreement_parties, agreements, users
from peelian.errors import AuthError, NotFoundError, ParameterError

__all__ = [
    "POLICY_VERSION",
    "SCOPES",
    "AgreementTerms",
    "Principal",
    "allowed",
    "load_policy",
    "policy_matrix",
    "principal_for",
    "require",
    "visible",
    "where_allowed",
]

POLICY_VERSION = 1
SCOPES = ("all", "own", "shared", "none")


@dataclass(frozen=True)
class AgreementTerms:
    """What one data-sharing agreement shares, between whom, and when (end date inclusive)."""

    agreement_id: int
    parties: frozenset[int]
    record_kinds: frozenset[str]
    start: dt.date
    end: dt.date | None

    def live(self, on: dt.date) -> bool:
        return self.start <= on and (self.end is None or on <= self.end)


@dataclass(frozen=True)
class Principal:
    """A user as the policy sees them: role, organisation and the agreements of that
    organisation (built by :func:`principal_for`)."""

    username: str
    role: str
    organisation_id: int | None = None
    agreements: tuple[AgreementTerms, ...] = field(default=())

    def sharing_orgs(self, record_kind: str, on: dt.date) -> frozenset[int]:
        """Organisations whose ``record_kind`` records this user's organisation may see on
        ``on`` under live agreements (its own included; empty when no live agreement shares
        the kind)."""
        if self.organisation_id is None:
            return frozenset()
        orgs: set[int] = set()
        for terms in self.agreements:
            if (
                record_kind in terms.record_kinds
                and self.organisation_id in terms.parties
                and terms.live(on)
            ):
                orgs |= terms.parties
        return frozenset(orgs)


@lru_cache(maxsize=4)
def load_policy(text: str | None = None) -> dict[tuple[str, str, str], str]:
    """The policy as ``{(role, record_kind, action): scope}``, read from the packaged file (or
    from ``text``, for tests). Refuses a file that misses or repeats a role x kind pair, names
    an unknown role, kind or scope, or lacks an action column."""
    if text is None:
        text = (resources.files("peelian.casework") / "data" / "policy.csv").read_text("utf-8")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    missing_cols = [a for a in ACTIONS if a not in (reader.fieldnames or [])]
    if missing_cols:
        raise ParameterError(f"The policy file has no column for {', '.join(missing_cols)}.")
    policy: dict[tuple[str, str, str], str] = {}
    seen: set[tuple[str, str]] = set()
    for n, row in enumerate(reader, start=2):
        role, kind = row["role"].strip(), row["record_kind"].strip()
        if role not in ROLES or kind not in RECORD_KINDS or (role, kind) in seen:
            raise ParameterError(
                f"Policy row {n} ({role}, {kind}) names an unknown role or record kind, "
                "or repeats a pair.",
                f"Roles: {', '.join(ROLES)}. Record kinds: {', '.join(RECORD_KINDS)}.",
            )
        seen.add((role, kind))
        for action in ACTIONS:
            scope = (row[action] or "").strip()
            if scope not in SCOPES:
                raise ParameterError(
                    f"Policy row {n} ({role}, {kind}) has scope {scope!r} for {action}.",
                    f"Use one of {', '.join(SCOPES)}.",
                )
            policy[(role, kind, action)] = scope
    gaps = [(r, k) for r in ROLES for k in RECORD_KINDS if (r, k) not in seen]
    if gaps:
        raise ParameterError(
            f"The policy file has no row for {len(gaps)} role x record kind pairs, e.g. {gaps[0]}.",
            "Add a row for every pair (use none to refuse).",
        )
    return policy


def policy_matrix() -> list[dict[str, str]]:
    """The policy as rows (role, record kind, then one scope per action), for pages and tests."""
    policy = load_policy()
    return [
        {"role": r, "record_kind": k, **{a: policy[(r, k, a)] for a in ACTIONS}}
        for r in ROLES
        for k in RECORD_KINDS
    ]


def _record_orgs(record: Mapping[str, Any], record_kind: str) -> set[int]:
    if record_kind == "agreement":
        return {int(x) for x in record.get("party_ids") or ()}
    org = record.get("organisation_id")
    return set() if org is None else {int(org)}


def allowed(
    user: Principal,
    action: str,
    record_kind: str,
    record: Mapping[str, Any] | None = None,
    on: dt.date | None = None,
) -> bool:
    """True if ``user`` may ``action`` a ``record_kind`` record (``record``: its fields, at
    least ``organisation_id``; for an agreement ``party_ids``) on the date ``on`` (today).

    With ``record=None`` the question is "may this user do this to any such record at all"
    (e.g. show the list): ``own`` needs an organisation, ``shared`` a live agreement sharing the
    kind; the list is then filtered record by record. Unknown roles, kinds and actions: False.
    """
    scope = load_policy().get((user.role, record_kind, action), "none")
    if scope == "all":
        return True
    if scope == "none" or user.organisation_id is None:
        return False
    on = on or dt.date.today()
    if scope == "own":
        if record is None:
            return True
        return user.organisation_id in _record_orgs(record, record_kind)
    # shared
    orgs = user.sharing_orgs(record_kind, on)
    if record is None:
        return bool(orgs)
    record_orgs = _record_orgs(record, record_kind)
    return bool(record_orgs) and record_orgs <= orgs


def require(
    user: Principal,
    action: str,
    record_kind: str,
    record: Mapping[str, Any] | None = None,
    on: dt.date | None = None,
) -> None:
    """:func:`allowed`, or an :class:`AuthError` that says who may."""
    if not allowed(user, action, record_kind, record, on):
        what = RECORD_KINDS.get(record_kind, record_kind).lower()
        raise AuthError(
            f"{user.username} ({user.role}) may not {action} {what}"
            + (" of this organisation." if record is not None else "."),
            "Access follows the casework policy and live data-sharing agreements; ask an "
            "admin if you need it.",
        )


def _agreement_terms(conn: Any, org_id: int) -> tuple[AgreementTerms, ...]:
    ids = select(agreement_parties.c.agreement_id).where(
        agreement_parties.c.organisation_id == org_id
    )
    rows = conn.execute(select(agreements).where(agreements.c.id.in_(ids))).all()
    parties: dict[int, set[int]] = {}
    if rows:
        q = select(agreement_parties).where(
            agreement_parties.c.agreement_id.in_([r.id for r in rows])
        )
        for p in conn.execute(q):
            parties.setdefault(int(p.agreement_id), set()).add(int(p.organisation_id))
    return tuple(
        AgreementTerms(
            int(r.id),
            frozenset(parties.get(int(r.id), ())),
            frozenset(r.record_kinds or ()),
            r.start_date,
            r.end_date,
        )
        for r in rows
    )


def principal_for(store: Store, user: Any) -> Principal:
    """The :class:`Principal` of a user (a username, or anything with ``.username``), read from
    the store: role, organisation, and that organisation's agreements."""
    username = user if isinstance(user, str) else user.username
    with store.engine.connect() as conn:
        row = conn.execute(
            select(users.c.username, users.c.role, users.c.organisation_id, users.c.enabled).where(
                users.c.username == username
            )
        ).first()
        if row is None:
            raise NotFoundError(f"There is no user named {username!r}.")
        if not row.enabled:
            raise AuthError(f"The user {username!r} is disabled.")
        org = None if row.organisation_id is None else int(row.organisation_id)
        terms = _agreement_terms(conn, org) if org is not None else ()
    return Principal(row.username, row.role, org, terms)


def visible(
    user: Principal,
    action: str,
    record_kind: str,
    records: Iterable[Mapping[str, Any]],
    on: dt.date | None = None,
) -> list[Mapping[str, Any]]:
    """The records ``user`` may ``action`` (a list filter over :func:`allowed`)."""
    return [r for r in records if allowed(user, action, record_kind, r, on)]


def where_allowed(
    user: Principal,
    action: str,
    record_kind: str,
    organisation_id: ColumnElement[Any],
    on: dt.date | None = None,
) -> ColumnElement[bool]:
    """:func:`allowed` as a SQL condition on a record's ``organisation_id`` column, so a list
    can be filtered, counted and paged in the database (the same rule: ``all`` is true,
    ``none`` false, ``own`` the user's organisation, ``shared`` the organisations sharing the
    kind with it on ``on``; a record without an organisation only under ``all``). Not for
    agreements, whose organisations are their parties."""
    scope = load_policy().get((user.role, record_kind, action), "none")
    if scope == "all":
        return true()
    if scope == "none" or user.organisation_id is None:
        return false()
    if scope == "own":
        return organisation_id == user.organisation_id
    orgs = user.sharing_orgs(record_kind, on or dt.date.today())
    return organisation_id.in_(sorted(orgs)) if orgs else false()
