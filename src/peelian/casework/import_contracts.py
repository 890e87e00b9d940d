"""The column contracts of casework CSV import, and turning one row of each kind into a call of
the function the forms and the API use.

:data:`CONTRACTS` holds, per record kind, its columns (name, required, what it holds) and the
columns an export writes that the import reads past (with why). Cell parsing is deliberately thin
(dates as YYYY-MM-DD or DD/MM/YYYY, whole numbers, yes/no, a code or its label): every rule about
the record itself is the domain function's (:mod:`peelian.casework.organisations`,
:mod:`~peelian.casework.problems`, :mod:`~peelian.casework.interventions`,
:mod:`~peelian.casework.referrals`), so an imported row meets exactly the rules of a form. The
import itself is :func:`peelian.casework.importing.import_csv`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select

from peelian.casework._vocab import (
    CONSENT,
    INTERVENTION_TYPES,
    ORG_KINDS,
    PROBLEM_FOCUS,
    TARGET_KINDS,
    TIERS,
)
from peelian.casework.policy import Principal
from peelian.data.store import Store
from peelian.data.tables import organisations
from peelian.errors import ParameterError

__all__ = [
    "CONTRACTS",
    "CREATORS",
    "KINDS",
    "Column",
    "Contract",
    "OrgIndex",
    "RowError",
    "contract_for",
    "contract_table",
]


@dataclass(frozen=True)
class Column:
    """One column of a contract: its name, whether every row needs it, and what it holds."""

    name: str
    required: bool
    holds: str


@dataclass(frozen=True)
class Contract:
    """The columns of one record kind, the export columns the import reads past (with why),
    and the policy record kind a user must be able to create."""

    kind: str
    record_kind: str
    columns: tuple[Column, ...]
    ignored: dict[str, str]
    person_level: bool

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]


_ORG_REF = (
    Column("organisation", False, "the owning organisation's name (as on the Organisations page)"),
    Column("organisation_id", False, "or its number; neither: the importing user's organisation"),
)
_EXPORT_ONLY = "filled in by the export; the store sets it on import"

CONTRACTS: dict[str, Contract] = {
    "organisation": Contract(
        "organisation",
        "organisation",
        (
            Column("name", True, "2-200 characters, unique"),
            Column("kind", True, f"one of {', '.join(ORG_KINDS)} (or its label)"),
            Column("parent", False, "the parent organisation's name (in the store or the file)"),
            Column("parent_id", False, "or its number (an export's id, when the file has ids)"),
        ),
        {k: _EXPORT_ONLY for k in ("id", "kind_label", "created_at", "version")},
        False,
    ),
    "agreement": Contract(
        "agreement",
        "agreement",
        (
            Column("title", True, "the agreement's name"),
            Column("purpose", True, "what the sharing is for"),
            Column("lawful_basis", True, "e.g. DPA 2018 s.35; Crime and Disorder Act 1998 s.115"),
            Column(
                "record_kinds", True, "record kinds shared, separated by ';' (e.g. problem;action)"
            ),
            Column("parties", False, "the parties' names, separated by ';' (two or more)"),
            Column("party_ids", False, "or their numbers, separated by ';'"),
            Column("start_date", True, "first day in force, YYYY-MM-DD or DD/MM/YYYY"),
            Column("end_date", False, "last day in force; blank: open-ended"),
        ),
        {k: _EXPORT_ONLY for k in ("id", "live", "version", "created_at", "created_by")},
        False,
    ),
    "problem": Contract(
        "problem",
        "problem",
        (
            Column("title", True, "3-200 characters"),
            Column("focus", True, f"one of {', '.join(PROBLEM_FOCUS)} (a group names people)"),
            Column("description", False, "free text"),
            Column("names_people", False, "yes or no (blank: no); yes makes it person-level"),
            Column("area_code", False, "LSOA, ward or CSP code"),
            *_ORG_REF,
            Column("owner", False, "username of its owner (blank: the importing user)"),
            Column("review_date", False, "next review, YYYY-MM-DD or DD/MM/YYYY"),
        ),
        {
            **{k: _EXPORT_ONLY for k in ("id", "opened_at", "closed_at", "version")},
            **{
                k: "an imported problem opens at scanning; move it on in the app"
                for k in ("stage", "status", "result")
            },
        },
        False,
    ),
    "intervention": Contract(
        "intervention",
        "intervention",
        (
            Column("title", True, "3-200 characters"),
            Column("tier", True, f"one of {', '.join(TIERS)}"),
            Column("intervention_type", True, f"one of {', '.join(INTERVENTION_TYPES)}"),
            Column("target_kind", True, f"one of {', '.join(TARGET_KINDS)}"),
            Column(
                "target_ref",
                True,
                "person/family: the pseudonymised person_ref; place: an LSOA code or "
                "problem:<id>; group: a label or problem:<id>",
            ),
            Column("start_date", True, "YYYY-MM-DD or DD/MM/YYYY"),
            Column("end_date", False, "last day; blank: ongoing"),
            Column("owner", False, "username (blank: the importing user)"),
            *_ORG_REF,
            Column("funding_source", False, "e.g. VRU core grant"),
            Column("problem_id", False, "the problem it responds to"),
            Column("description", False, "free text"),
        ),
        {
            **{k: _EXPORT_ONLY for k in ("id", "version")},
            "target_hidden": "the export hides person and family targets; fill target_ref",
        },
        False,
    ),
    "referral": Contract(
        "referral",
        "referral",
        (
            Column("person_ref", True, "the force's pseudonymised person reference, never a name"),
            Column("organisation", False, "the organisation referred to, by name"),
            Column("organisation_id", False, "or by number (one of the two is needed)"),
            Column("reason", True, "why this person, to this service"),
            Column("consent", True, f"one of {', '.join(CONSENT)}"),
            Column("consent_note", False, "needed unless consent is given: the lawful basis"),
            Column(
                "referred_on", False, "YYYY-MM-DD or DD/MM/YYYY, not in the future (blank: today)"
            ),
            Column("intervention_id", False, "the intervention it belongs to"),
        ),
        {
            **{k: _EXPORT_ONLY for k in ("id", "version", "from_organisation", "referred_by")},
            **{
                k: "an imported referral starts as made; move it on in the app"
                for k in ("status", "outcome")
            },
        },
        True,
    ),
}
KINDS: tuple[str, ...] = tuple(CONTRACTS)


def contract_table(kind: str) -> list[dict[str, str]]:
    """The column contract of ``kind`` as rows (column, required, holds), ignored columns last."""
    c = contract_for(kind)
    rows = [
        {"column": col.name, "required": "yes" if col.required else "no", "holds": col.holds}
        for col in c.columns
    ]
    rows += [{"column": k, "required": "ignored", "holds": v} for k, v in c.ignored.items()]
    return rows


class RowError(Exception):
    """A row cell the import cannot use: the field, why, and how to fix it."""

    def __init__(self, field_name: str, why: str, fix: str) -> None:
        super().__init__(why)
        self.field, self.why, self.fix = field_name, why, fix


def contract_for(kind: str) -> Contract:
    """The contract of ``kind``, or a :class:`ParameterError` naming the kinds."""
    if kind not in CONTRACTS:
        raise ParameterError(
            f"The 'kind' parameter of import_csv must be one of {', '.join(KINDS)}. Got {kind!r}.",
            "E.g. peelian casework import referral referrals.csv --purpose '...'.",
        )
    return CONTRACTS[kind]


# -- cell parsers ----------------------------------------------------------------------------


def _date(cells: dict[str, str], name: str) -> str | None:
    value = cells.get(name, "")
    if not value:
        return None
    m = re.fullmatch(r"(\d{1,2})/(\d{1,2})/(\d{4})", value)
    try:
        if m:
            return dt.date(int(m.group(3)), int(m.group(2)), int(m.group(1))).isoformat()
        return dt.date.fromisoformat(value[:10] if "T" in value else value).isoformat()
    except ValueError:
        raise RowError(
            name, f"{name} is not a date.", "Write it as YYYY-MM-DD (e.g. 2026-04-01)."
        ) from None


def _int(cells: dict[str, str], name: str) -> int | None:
    value = cells.get(name, "")
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        raise RowError(name, f"{name} is not a whole number.", "Write the record's number.")
    return int(value)


def _choice(cells: dict[str, str], name: str, choices: dict[str, str]) -> str:
    value = cells.get(name, "").strip()
    by_label = {v.lower(): k for k, v in choices.items()}
    code = value.lower().replace(" ", "_")
    if code in choices:
        return code
    if value.lower() in by_label:
        return by_label[value.lower()]
    raise RowError(
        name,
        f"{name} is {'blank' if not value else 'not one of the allowed values'}.",
        f"Use one of {', '.join(choices)}.",
    )


def _bool(cells: dict[str, str], name: str) -> bool:
    value = cells.get(name, "").strip().lower()
    if value in ("", "no", "n", "false", "0"):
        return False
    if value in ("yes", "y", "true", "1"):
        return True
    raise RowError(name, f"{name} is not yes or no.", "Write yes or no.")


def _list(value: str) -> list[str]:
    return [p.strip() for p in re.split(r"[;,]", value) if p.strip()]


def _required(cells: dict[str, str], *names: str) -> None:
    for name in names:
        if not cells.get(name, "").strip():
            raise RowError(name, f"{name} is blank.", f"Fill in {name}: every row needs it.")


class OrgIndex:
    """Organisation names and ids of the target store, kept up to date as the file adds some."""

    def __init__(self, store: Store) -> None:
        with store.engine.connect() as conn:
            rows = conn.execute(select(organisations.c.id, organisations.c.name)).all()
        self.by_name = {r.name.strip().lower(): int(r.id) for r in rows}
        self.ids = {int(r.id) for r in rows}
        self.file_ids: dict[int, str] = {}

    def add(self, name: str, new_id: int) -> None:
        self.by_name[name.strip().lower()] = new_id
        self.ids.add(new_id)

    def by(self, name_col: str, cells: dict[str, str], id_col: str) -> int | None:
        name = cells.get(name_col, "")
        if name:
            if name.lower() not in self.by_name:
                raise RowError(
                    name_col,
                    f"{name_col} names no organisation in the store.",
                    "Spell it as on the Organisations page, or import the organisations first.",
                )
            return self.by_name[name.lower()]
        return _int(cells, id_col)


# -- one row of each kind --------------------------------------------------------------------

_Creator = Callable[[Store, Principal, dict[str, str], "OrgIndex", str], int]


def _organisation(
    store: Store, actor: Principal, cells: dict[str, str], orgs: OrgIndex, _: str
) -> int:
    from peelian.casework.organisations import add_organisation

    _required(cells, "name", "kind")
    kind = _choice(cells, "kind", ORG_KINDS)
    parent = cells.get("parent", "")
    parent_file_id = _int(cells, "parent_id")
    if not parent and parent_file_id is not None and parent_file_id in orgs.file_ids:
        parent = orgs.file_ids[parent_file_id]  # an export: its ids are the old store's
    parent_id = orgs.by("parent", {"parent": parent}, "-") if parent else parent_file_id
    rec = add_organisation(store, actor, cells["name"], kind, parent_id=parent_id)
    orgs.add(rec["name"], int(rec["id"]))
    return int(rec["id"])


def _agreement(
    store: Store, actor: Principal, cells: dict[str, str], orgs: OrgIndex, _: str
) -> int:
    from peelian.casework.organisations import add_agreement

    _required(cells, "title", "purpose", "lawful_basis", "record_kinds", "start_date")
    if cells.get("parties"):
        party_ids = [orgs.by("parties", {"parties": p}, "-") for p in _list(cells["parties"])]
    elif cells.get("party_ids"):
        bad = [p for p in _list(cells["party_ids"]) if not p.isdigit()]
        if bad:
            raise RowError("party_ids", "party_ids holds something that is not a number.", "")
        party_ids = [int(p) for p in _list(cells["party_ids"])]
    else:
        raise RowError(
            "parties", "parties and party_ids are both blank.", "Name two or more parties."
        )
    rec = add_agreement(
        store,
        actor,
        title=cells["title"],
        purpose=cells["purpose"],
        lawful_basis=cells["lawful_basis"],
        record_kinds=_list(cells["record_kinds"]),
        party_ids=[p for p in party_ids if p is not None],
        start_date=_date(cells, "start_date") or "",
        end_date=_date(cells, "end_date"),
    )
    return int(rec["id"])


def _problem(
    store: Store, actor: Principal, cells: dict[str, str], orgs: OrgIndex, why: str
) -> int:
    from peelian.casework.problems import open_problem

    _required(cells, "title", "focus")
    rec = open_problem(
        store,
        actor,
        title=cells["title"],
        focus=_choice(cells, "focus", PROBLEM_FOCUS),
        description=cells.get("description", ""),
        names_people=_bool(cells, "names_people"),
        area_code=cells.get("area_code") or None,
        organisation_id=orgs.by("organisation", cells, "organisation_id"),
        owner=cells.get("owner") or None,
        review_date=_date(cells, "review_date"),
        purpose=why,
    )
    return int(rec["id"])


def _intervention(
    store: Store, actor: Principal, cells: dict[str, str], orgs: OrgIndex, why: str
) -> int:
    from peelian.casework.interventions import register_intervention

    _required(cells, "title", "tier", "intervention_type", "target_kind", "start_date")
    target_kind = _choice(cells, "target_kind", TARGET_KINDS)
    if not cells.get("target_ref") and cells.get("target_hidden", "").lower() == "true":
        raise RowError(
            "target_ref",
            "target_ref is blank: the export withheld this person or family reference.",
            "Fill in the pseudonymised reference from the force records (e.g. P000123).",
        )
    rec = register_intervention(
        store,
        actor,
        title=cells["title"],
        tier=_choice(cells, "tier", TIERS),
        intervention_type=_choice(cells, "intervention_type", INTERVENTION_TYPES),
        target_kind=target_kind,
        target_ref=cells.get("target_ref"),
        start_date=_date(cells, "start_date") or "",
        end_date=_date(cells, "end_date"),
        owner=cells.get("owner") or None,
        organisation_id=orgs.by("organisation", cells, "organisation_id"),
        funding_source=cells.get("funding_source") or None,
        problem_id=_int(cells, "problem_id"),
        description=cells.get("description", ""),
        purpose=why,
    )
    return int(rec["id"])


def _referral(
    store: Store, actor: Principal, cells: dict[str, str], orgs: OrgIndex, why: str
) -> int:
    from peelian.casework.referrals import make_referral

    _required(cells, "person_ref", "reason", "consent")
    org = orgs.by("organisation", cells, "organisation_id")
    if org is None:
        raise RowError(
            "organisation",
            "organisation and organisation_id are both blank.",
            "Name the organisation the person is referred to.",
        )
    rec = make_referral(
        store,
        actor,
        person_ref=cells["person_ref"],
        organisation_id=org,
        reason=cells["reason"],
        consent=_choice(cells, "consent", CONSENT),
        consent_note=cells.get("consent_note") or None,
        referred_on=_date(cells, "referred_on"),
        intervention_id=_int(cells, "intervention_id"),
        purpose=why,
    )
    return int(rec["id"])


CREATORS: dict[str, _Creator] = {
    "organisation": _organisation,
    "agreement": _agreement,
    "problem": _problem,
    "intervention": _intervention,
    "referral": _referral,
}
