"""CSV import of casework records: organisations, data-sharing agreements, problems,
interventions and referrals.

Each record kind has a documented column contract (:data:`CONTRACTS`; the casework guide prints
it). A file is checked as a whole first (UTF-8, a header, no unknown or repeated columns, the
required columns present, at most :data:`MAX_ROWS` rows, and the user's right to create the kind
at all); a file that fails that is refused with nothing imported. Then every row goes through the
same function the forms and the API call (:func:`~peelian.casework.organisations.add_organisation`,
:func:`~peelian.casework.problems.open_problem`, ...), so it meets exactly their rules, their
access policy and their audit.

**Each row is all or nothing, on its own.** A row is saved in one transaction together with its
audit entry, or not at all; a bad row never stops the good ones. This is deliberate: a partner's
spreadsheet of 2,000 referrals with three mistakes should not be held back whole, and re-running
the import of the corrected rejected rows (the rejects file) must not duplicate the rest. The
price is that a file can be partly imported; the report says exactly which rows were not, and
``--dry-run`` shows that before anything is written.

A rejected row is never dropped: it is counted and kept in the report with its row number (the
spreadsheet row: the header is row 1), the field, why, and how to fix it. Reasons never echo the
row's values (a referral's reason or a person reference must not land in a log or an error); the
CLI writes the rejected rows, with their reasons, to a rejects file the user asked for. The totals
reconcile: rows read = created + rejected (:attr:`ImportReport.reconciles`).

A dry run checks every row with the same functions against a scratch in-memory copy of the
records the file can refer to (organisations, agreements, and the problems and interventions it
names), then throws the copy away: nothing is written to the store but the audit entry of the
dry run itself.

Every import (and dry run) is audited as ``casework.import`` with who, the purpose, the kind,
the counts and the file's SHA-256 (not its name or contents); each created record also has its
own ``*.create`` entry with the same purpose. Person-level kinds (referrals; problems naming
people; interventions aimed at a person or family) need the policy's permission row by row, and
the import of referrals needs it for the file as a whole.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from peelian.casework.import_contracts import (
    CONTRACTS,
    CREATORS,
    KINDS,
    Contract,
    OrgIndex,
    RowError,
    contract_for,
    contract_table,
)
from peelian.casework.policy import Principal, require
from peelian.data.audit import record
from peelian.data.store import Store, open_store
from peelian.data.tables import (
    agreement_parties,
    agreements,
    interventions,
    organisations,
    problems,
)
from peelian.errors import ParameterError, PeelianError

__all__ = [
    "CONTRACTS",
    "KINDS",
    "MAX_ROWS",
    "WITHHELD",
    "ImportReport",
    "Rejection",
    "contract_table",
    "import_csv",
    "write_rejects",
]

MAX_ROWS = 100_000
#: What a cell that the import itself removed from a message is replaced with.
WITHHELD = "[value withheld]"


@dataclass(frozen=True)
class Rejection:
    """One rejected row: where, which field, why and how to fix it (never its values)."""

    row: int
    field: str
    why: str
    fix: str
    cells: dict[str, str] = dataclasses.field(default_factory=dict, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "why": self.why, "fix": self.fix}


@dataclass
class ImportReport:
    """What an import did: rows read, created (with their ids), rejected (with reasons)."""

    kind: str
    dry_run: bool
    columns: list[str]
    ignored_columns: dict[str, str]
    rows_read: int = 0
    blank_lines: int = 0
    created_ids: list[int] = dataclasses.field(default_factory=list)
    rejected: list[Rejection] = dataclasses.field(default_factory=list)
    sha256: str = ""

    @property
    def created(self) -> int:
        return len(self.created_ids)

    @property
    def reconciles(self) -> bool:
        """Rows read = created + rejected (nothing vanished)."""
        return self.rows_read == self.created + len(self.rejected)

    def as_dict(self) -> dict[str, Any]:
        """The report for JSON and the API: counts and reasons, never a row's values."""
        return {
            "kind": self.kind,
            "dry_run": self.dry_run,
            "rows_read": self.rows_read,
            "created": self.created,
            "rejected": len(self.rejected),
            "reconciles": self.reconciles,
            "blank_lines": self.blank_lines,
            "created_ids": [] if self.dry_run else self.created_ids,
            "rejections": [r.as_dict() for r in self.rejected],
            "columns": self.columns,
            "ignored_columns": self.ignored_columns,
            "sha256": self.sha256,
        }


# -- reading the file ------------------------------------------------------------------------


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParameterError(
            f"The file is not UTF-8 text (byte {exc.start} cannot be read). Nothing was imported.",
            "Save it from your spreadsheet as 'CSV UTF-8 (comma delimited)' and import again.",
        ) from exc


def _read(
    text: str, contract: Contract
) -> tuple[list[str], list[tuple[int, dict[str, str], int]], int]:
    """The header, the rows as (row number, cells, number of cells), and the blank lines."""
    try:
        records = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise ParameterError(
            f"The file is not a readable CSV ({exc}). Nothing was imported.",
            "Check for an unclosed quote; save it again as CSV from your spreadsheet.",
        ) from exc
    if not records or not any(c.strip() for c in records[0]):
        raise ParameterError(
            "The file is empty or has no header row. Nothing was imported.",
            f"The first row names the columns: {', '.join(contract.names)}.",
        )
    header = [h.strip().lower() for h in records[0]]
    _check_header(header, contract)
    rows: list[tuple[int, dict[str, str], int]] = []
    blank = 0
    for n, cells in enumerate(records[1:], start=2):
        if not any(c.strip() for c in cells):
            blank += 1
            continue
        padded = [c.strip() for c in cells] + [""] * (len(header) - len(cells))
        rows.append((n, dict(zip(header, padded, strict=False)), len(cells)))
    if len(rows) > MAX_ROWS:
        raise ParameterError(
            f"The file has {len(rows)} rows; an import takes at most {MAX_ROWS}. Nothing was "
            "imported.",
            "Split it into smaller files.",
        )
    return header, rows, blank


def _check_header(header: list[str], contract: Contract) -> None:
    known = set(contract.names) | set(contract.ignored)
    repeated = sorted({h for h in header if header.count(h) > 1})
    unknown = [h for h in header if h not in known]
    missing = [c.name for c in contract.columns if c.required and c.name not in header]
    problems_found = []
    if repeated:
        problems_found.append(f"repeated columns: {', '.join(repeated)}")
    if unknown:
        problems_found.append(f"unknown columns: {', '.join(unknown)}")
    if missing:
        problems_found.append(f"missing required columns: {', '.join(missing)}")
    if problems_found:
        raise ParameterError(
            f"The {contract.kind} file's header does not match the import contract "
            f"({'; '.join(problems_found)}). Nothing was imported.",
            f"Columns: {', '.join(contract.names)} (see `peelian casework import --help` and "
            "the casework guide).",
        )


# -- reasons from the domain's errors ---------------------------------------------------------


def _withhold(text: str, cells: dict[str, str]) -> str:
    """``text`` with every value of the row removed (quoted or bare, when 3+ characters)."""
    for value in sorted({v for v in cells.values() if v}, key=len, reverse=True):
        text = text.replace(repr(value), WITHHELD)
        if len(value) >= 3:
            text = text.replace(value, WITHHELD)
    return text


#: Words of the domain's messages that name a field when the message does not quote it.
_WORDS = (
    ("pseudonymised", ("person_ref", "target_ref")),
    ("target", ("target_ref",)),
    ("future", ("referred_on",)),
    ("consent", ("consent_note",)),
    ("start date", ("start_date",)),
    ("end date", ("end_date",)),
    ("ends", ("end_date",)),
    ("title", ("title",)),
    ("name", ("name",)),
    ("record kind", ("record_kinds",)),
    ("parties", ("parties",)),
    ("intervention", ("intervention_id",)),
    ("problem", ("problem_id",)),
    ("organisation", ("organisation", "parent")),
    ("reason", ("reason",)),
)


def _field_of(message: str, contract: Contract) -> str:
    """The column a domain error is about (from its quoted parameter or its words)."""
    m = re.search(r"The '(\w+)' parameter", message)
    if m and m.group(1) in contract.names:
        return m.group(1)
    low = message.lower()
    for name in sorted(contract.names, key=len, reverse=True):
        if name in low:
            return name
    for word, names in _WORDS:
        if word in low:
            for name in names:
                if name in contract.names:
                    return name
    return "(row)"


def _rejection(n: int, exc: Exception, cells: dict[str, str], contract: Contract) -> Rejection:
    if isinstance(exc, RowError):
        return Rejection(n, exc.field, exc.why, exc.fix, cells)
    if isinstance(exc, PeelianError):
        return Rejection(
            n,
            _field_of(exc.message, contract),
            _withhold(exc.message, cells),
            _withhold(exc.hint or "Correct the row and import it again.", cells),
            cells,
        )
    return Rejection(  # the database refused the row (e.g. a constraint): say so, no values
        n,
        "(row)",
        f"The database refused the row ({type(exc).__name__}); nothing of it was saved.",
        "Check the row against the import contract; if it looks right, report it.",
        cells,
    )


# -- ordering, scratch copy, the import -------------------------------------------------------


def _parents_first(
    rows: list[tuple[int, dict[str, str], int]],
) -> list[tuple[int, dict[str, str], int]]:
    """Organisation rows ordered so that a parent named in the file comes before its children
    (an export lists them by name). A cycle leaves the rows in file order (they are rejected)."""
    names = {cells.get("name", "").lower() for _, cells, _ in rows}
    by_id = {cells.get("id", ""): cells.get("name", "").lower() for _, cells, _ in rows}
    parent_of = {}
    for _, cells, _ in rows:
        parent = (cells.get("parent") or by_id.get(cells.get("parent_id", ""), "")).lower()
        parent_of[cells.get("name", "").lower()] = parent if parent in names else ""

    def depth(name: str) -> int:
        seen, d = {name}, 0
        while parent_of.get(name):
            name = parent_of[name]
            if name in seen:
                return 0
            seen.add(name)
            d += 1
        return d

    return sorted(rows, key=lambda r: depth(r[1].get("name", "").lower()))


def _referenced(rows: Iterable[tuple[int, dict[str, str], int]], *cols: str) -> set[int]:
    out = set()
    for _, cells, _ in rows:
        for col in cols:
            value = cells.get(col, "")
            m = re.fullmatch(r"(?:problem:)?(\d{1,18})", value)
            if m and (col != "target_ref" or value.startswith("problem:")):
                out.add(int(m.group(1)))
    return out


def _scratch(store: Store, rows: list[tuple[int, dict[str, str], int]]) -> Store:
    """An in-memory store holding the organisations, agreements and the problems and
    interventions ``rows`` name, for a dry run (the real functions run against it)."""
    scratch = open_store("sqlite://")
    inter_ids = _referenced(rows, "intervention_id")
    prob_ids = _referenced(rows, "problem_id", "target_ref")
    with store.engine.connect() as src:
        inter = src.execute(select(interventions).where(interventions.c.id.in_(inter_ids))).all()
        prob_ids |= {int(r.problem_id) for r in inter if r.problem_id is not None}
        copies = [
            (organisations, src.execute(select(organisations).order_by(organisations.c.id)).all()),
            (agreements, src.execute(select(agreements)).all()),
            (agreement_parties, src.execute(select(agreement_parties)).all()),
            (problems, src.execute(select(problems).where(problems.c.id.in_(prob_ids))).all()),
            (interventions, inter),
        ]
    with scratch.begin() as dst:
        for table, found in copies:
            if found:
                dst.execute(insert(table), [dict(r._mapping) for r in found])
    return scratch


def import_csv(
    store: Store,
    actor: Principal,
    kind: str,
    data: bytes | str,
    *,
    purpose: str,
    dry_run: bool = False,
) -> ImportReport:
    """Import a CSV file (its bytes or text) of ``kind`` records as ``actor``; returns the
    report. Raises :class:`ParameterError` (nothing imported) for a file that cannot be read
    or whose header does not match the contract, and :class:`AuthError` when the user may not
    create the kind at all; every row-level problem is a rejection in the report instead."""
    contract = contract_for(kind)
    why = (purpose or "").strip()
    if not why:
        raise ParameterError(
            "An import needs its purpose (written to the audit log with the counts).",
            "E.g. --purpose 'migrating the 2025 referrals spreadsheet'.",
        )
    require(actor, "create", contract.record_kind)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    header, rows, blank = _read(_decode(data), contract)
    report = ImportReport(
        kind,
        dry_run,
        [h for h in header if h in contract.names],
        {h: contract.ignored[h] for h in header if h in contract.ignored},
        rows_read=len(rows),
        blank_lines=blank,
        sha256=hashlib.sha256(raw).hexdigest(),
    )
    target = _scratch(store, rows) if dry_run else store
    try:
        orgs = OrgIndex(target)
        if kind == "organisation":
            orgs.file_ids = {
                int(c["id"]): c.get("name", "") for _, c, _ in rows if c.get("id", "").isdigit()
            }
            rows = _parents_first(rows)
        for n, cells, width in rows:
            try:
                if width > len(header):
                    raise RowError(
                        "(row)",
                        f"The row has {width} cells; the header names {len(header)} columns.",
                        "Remove the extra cells or quote a value that contains a comma.",
                    )
                report.created_ids.append(CREATORS[kind](target, actor, cells, orgs, why))
            except (PeelianError, RowError, SQLAlchemyError) as exc:
                report.rejected.append(_rejection(n, exc, cells, contract))
    finally:
        if dry_run:
            target.engine.dispose()
    report.rejected.sort(key=lambda r: r.row)
    _audit(store, actor, report, why, contract)
    return report


def _audit(
    store: Store, actor: Principal, report: ImportReport, why: str, contract: Contract
) -> None:
    by_field: dict[str, int] = {}
    for r in report.rejected:
        by_field[r.field] = by_field.get(r.field, 0) + 1
    ids = report.created_ids
    record(
        store,
        actor.username,
        "casework.import.dry_run" if report.dry_run else "casework.import",
        record_kind=contract.record_kind,
        purpose=why,
        detail={
            "kind": report.kind,
            "rows_read": report.rows_read,
            "created": report.created,
            "rejected": len(report.rejected),
            "rejected_by_field": by_field,
            "first_id": None if report.dry_run or not ids else min(ids),
            "last_id": None if report.dry_run or not ids else max(ids),
            "sha256": report.sha256,
        },
    )


def write_rejects(report: ImportReport, path: Path) -> int:
    """Write the rejected rows (row number, field, why, fix, then the row's own columns, so it
    can be corrected and imported again) to ``path``; returns how many."""
    columns = report.columns + list(report.ignored_columns)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["row", "field", "why", "fix", *columns])
        for r in report.rejected:
            writer.writerow([r.row, r.field, r.why, r.fix, *(r.cells.get(c, "") for c in columns)])
    return len(report.rejected)
