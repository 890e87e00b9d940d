"""The batch / reconciliation recorder every ingester uses.

One batch is one transaction: open it, register each file, quarantine the rows that cannot be
stored (with a reason and the raw row), record what was read and stored, and finish. If anything
fails before the batch finishes, the transaction is rolled back -- the store is exactly as it was
-- and a ``failed`` batch row saying why is written in a separate, small transaction::

    with open_batch(store, source="policeuk", command="peelian ingest policeuk x.zip") as batch:
        current = batch.current_file("street", "northumbria", "2021-08")
        f = batch.add_file("x.zip!2021-08/...street.csv", "street", force="northumbria",
                           month="2021-08", sha256=digest, size_bytes=len(data))
        f.quarantine([QuarantinedRow(17, "bad_month", "Month '2021-13' ...", raw)])
        f.finish(rows_read=16012, rows_stored=16011, action="loaded")
    batch.report  # {"batch": 3, "files": [{"path", "kind", "force", "month", "rows_read", ...}]}

Every file reconciles: ``rows_read == rows_stored + rows_quarantined`` or :meth:`FileRecord.finish`
raises (a bug in the ingester, never silently accepted). File actions:

- ``loaded``: the first file for its (kind, force, month).
- ``replaced``: a newer download replaced the rows of ``replaced_file_id``.
- ``unchanged``: byte-identical (sha256) to a file already loaded; nothing read or stored.
- ``kept_existing``: an older download (fewer rows) arrived after a newer one; its rows were not
  applied (decision 0002) and are quarantined with reason ``older_download``.
- ``rejected``: the file could not be used at all (e.g. unrecognised header); every line is
  quarantined.
- ``skipped``: not a data file (e.g. a PNG inside a zip); recorded, nothing read.

The command line and error text stored with a batch never hold a password: any
``scheme://user:password@host`` becomes ``scheme://user:***@host`` and ``password=...`` becomes
``password=***`` (:func:`redact_secrets`) before they are written.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select, update

from peelian import __version__
from peelian.data.store import Store
from peelian.data.tables import ingest_batches, ingest_files, quarantine

__all__ = [
    "ACTIONS",
    "Batch",
    "FileRecord",
    "QuarantinedRow",
    "ReconciliationError",
    "open_batch",
    "redact_secrets",
]

#: Actions a file can end with (``ingest_files.action``).
ACTIONS = ("loaded", "replaced", "unchanged", "kept_existing", "rejected", "skipped")
#: Actions whose rows are in the store (the current file of its key is the newest of these).
STORED_ACTIONS = ("loaded", "replaced")


class ReconciliationError(RuntimeError):
    """rows_read != rows_stored + rows_quarantined: a bug in an ingester (never user error)."""


_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^\s/@:]*):(?P<pw>[^\s@]*)@")
_PARAM_PASSWORD = re.compile(r"(?i)(?P<key>\b[\w-]*(?:password|passwd|pwd|secret)=)[^&\s'\"]*")


def redact_secrets(text: str | None) -> str | None:
    """``text`` with the password of every URL replaced by ``***`` and ``password=`` values
    masked (for the command line and errors stored with a batch).

    >>> redact_secrets("peelian info --db postgresql://u:s3cret@db.example/peelian")
    'peelian info --db postgresql://u:***@db.example/peelian'
    """
    if text is None:
        return None
    text = _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", text)
    return _PARAM_PASSWORD.sub(lambda m: f"{m.group('key')}***", text)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


@dataclass(frozen=True)
class QuarantinedRow:
    """One row that was read but not stored. ``row_number`` is 1-based (line 2 of a CSV with a
    header is row 1); ``None`` means the whole file."""

    row_number: int | None
    reason: str
    detail: str | None = None
    raw: str | None = None


@dataclass
class FileRecord:
    """One registered file of a batch. Quarantine its rejected rows, then :meth:`finish` it."""

    batch: Batch
    id: int
    path: str
    kind: str
    force: str | None
    month: str | None
    reasons: Counter[str] = field(default_factory=Counter)
    rows_quarantined: int = 0
    finished: bool = False
    entry: dict[str, Any] = field(default_factory=dict)

    def quarantine(self, rows: Iterable[QuarantinedRow], *, chunk: int = 5000) -> int:
        """Store rejected rows with their reasons; returns how many were added."""
        n = 0
        buf: list[dict[str, Any]] = []
        for r in rows:
            buf.append(
                {
                    "file_id": self.id,
                    "row_number": r.row_number,
                    "reason": r.reason,
                    "detail": r.detail,
                    "raw": r.raw,
                }
            )
            self.reasons[r.reason] += 1
            n += 1
            if len(buf) >= chunk:
                self.batch.conn.execute(insert(quarantine), buf)
                buf = []
        if buf:
            self.batch.conn.execute(insert(quarantine), buf)
        self.rows_quarantined += n
        return n

    def note_file_problem(self, reason: str, detail: str) -> None:
        """Keep a whole-file problem (row_number NULL) in quarantine without counting a row."""
        self.batch.conn.execute(
            insert(quarantine),
            [{"file_id": self.id, "row_number": None, "reason": reason, "detail": detail}],
        )

    def finish(
        self,
        *,
        rows_read: int,
        rows_stored: int,
        action: str,
        replaced_file_id: int | None = None,
        note: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record the file's counts and action; raise :class:`ReconciliationError` if they do not
        reconcile. Returns the file's report entry."""
        if action not in ACTIONS:
            raise ValueError(f"Unknown ingest action {action!r}; expected one of {ACTIONS}.")
        if rows_read != rows_stored + self.rows_quarantined:
            raise ReconciliationError(
                f"{self.path}: rows_read {rows_read} != rows_stored {rows_stored} + "
                f"rows_quarantined {self.rows_quarantined}."
            )
        reasons = dict(sorted(self.reasons.items()))
        self.batch.conn.execute(
            update(ingest_files)
            .where(ingest_files.c.id == self.id)
            .values(
                rows_read=rows_read,
                rows_stored=rows_stored,
                rows_quarantined=self.rows_quarantined,
                reasons=reasons,
                action=action,
                replaced_file_id=replaced_file_id,
            )
        )
        self.finished = True
        self.entry = {
            "path": self.path,
            "kind": self.kind,
            "force": self.force,
            "month": self.month,
            "rows_read": rows_read,
            "rows_stored": rows_stored,
            "rows_quarantined": self.rows_quarantined,
            "reasons": reasons,
            "action": action,
            "file_id": self.id,
            "replaced_file_id": replaced_file_id,
            "note": note,
            **(extra or {}),
        }
        self.batch.files.append(self.entry)
        return self.entry


class Batch:
    """An open ingest batch inside one transaction (``conn``). Create with :func:`open_batch`."""

    def __init__(self, conn: Connection, batch_id: int, source: str) -> None:
        self.conn = conn
        self.id = batch_id
        self.source = source
        self.files: list[dict[str, Any]] = []
        self.records: list[FileRecord] = []
        self.extra: dict[str, Any] = {}

    @property
    def report(self) -> dict[str, Any]:
        """``{"batch": id, "files": [...]}`` plus any extra keys set with :attr:`extra`."""
        return {"batch": self.id, **self.extra, "files": list(self.files)}

    # -- what is already there ------------------------------------------------------------------
    def current_file(
        self, kind: str, force: str | None, month: str | None
    ) -> dict[str, Any] | None:
        """The file whose rows are in the store for (kind, force, month), or ``None``."""
        q = (
            select(ingest_files)
            .where(
                ingest_files.c.kind == kind,
                ingest_files.c.action.in_(STORED_ACTIONS),
                ingest_files.c.force.is_(None) if force is None else ingest_files.c.force == force,
                ingest_files.c.month.is_(None) if month is None else ingest_files.c.month == month,
            )
            .order_by(ingest_files.c.id.desc())
            .limit(1)
        )
        row = self.conn.execute(q).mappings().first()
        return dict(row) if row else None

    def identical_file(self, sha256: str, kind: str | None = None) -> dict[str, Any] | None:
        """A stored file with the same content (and kind, when given) that is still current."""
        q = select(ingest_files).where(
            ingest_files.c.sha256 == sha256, ingest_files.c.action.in_(STORED_ACTIONS)
        )
        if kind is not None:
            q = q.where(ingest_files.c.kind == kind)
        for row in self.conn.execute(q.order_by(ingest_files.c.id.desc())).mappings():
            current = self.current_file(row["kind"], row["force"], row["month"])
            if current is not None and current["id"] == row["id"]:
                return dict(row)
        return None

    # -- registering ----------------------------------------------------------------------------
    def add_file(
        self,
        path: str,
        kind: str,
        *,
        force: str | None = None,
        month: str | None = None,
        sha256: str,
        size_bytes: int,
    ) -> FileRecord:
        """Register a file (counts are filled in by :meth:`FileRecord.finish`)."""
        file_id = self.conn.execute(
            insert(ingest_files)
            .values(
                batch_id=self.id,
                path=path,
                kind=kind,
                force=force,
                month=month,
                sha256=sha256,
                size_bytes=size_bytes,
                rows_read=0,
                rows_stored=0,
                rows_quarantined=0,
                action="loaded",
            )
            .returning(ingest_files.c.id)
        ).scalar_one()
        record = FileRecord(self, int(file_id), path, kind, force, month)
        self.records.append(record)
        return record


def _start(conn: Connection, source: str, command: str | None, status: str) -> int:
    return int(
        conn.execute(
            insert(ingest_batches)
            .values(
                source=source,
                started_at=_utcnow(),
                status=status,
                command=redact_secrets(command),
                peelian_version=__version__,
            )
            .returning(ingest_batches.c.id)
        ).scalar_one()
    )


@contextmanager
def open_batch(store: Store, *, source: str, command: str | None = None) -> Iterator[Batch]:
    """Open a batch in one transaction; commit it with its report on success.

    On any error the transaction is rolled back (nothing of the batch stays in the store), a
    ``failed`` batch row with the error is recorded separately, and the error is re-raised.
    """
    started = _utcnow()
    try:
        with store.begin() as conn:
            batch = Batch(conn, _start(conn, source, command, "running"), source)
            yield batch
            unfinished = [r.path for r in batch.records if not r.finished]
            if unfinished:
                raise ReconciliationError(f"Files registered but not finished: {unfinished}.")
            conn.execute(
                update(ingest_batches)
                .where(ingest_batches.c.id == batch.id)
                .values(status="complete", finished_at=_utcnow(), report=batch.report)
            )
    except BaseException as exc:
        try:
            with store.begin() as conn:
                failed_id = _start(conn, source, command, "failed")
                conn.execute(
                    update(ingest_batches)
                    .where(ingest_batches.c.id == failed_id)
                    .values(
                        started_at=started,
                        finished_at=_utcnow(),
                        report={
                            "batch": failed_id,
                            "error": redact_secrets(f"{type(exc).__name__}: {exc}"),
                            "files": [],
                        },
                    )
                )
        except Exception:  # the store itself failed: the original error matters more
            pass
        raise
