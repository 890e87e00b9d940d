"""The tamper-evident audit log: append-only entries chained by SHA-256.

Every entry records who acted, when, on which record, what they did and the purpose they gave
(DPA 2018 s.62: consultation, alteration, disclosure and erasure logs with their justification).
Each entry carries ``prev_hash``, the hash of the entry before it, and ``hash``, the SHA-256 of
its own canonical form (which includes ``prev_hash``), so editing, deleting or reordering any
entry breaks the chain from that entry on; the ``audit_head`` row holds the newest entry's id and
hash, so removing entries from the end is detected too. :func:`verify` walks the chain and names
the first broken entry (``peelian audit verify``).

Canonical form (version 1) of an entry, hashed as UTF-8::

    json.dumps([at, username, action, target, ip, record_kind, record_id, purpose, prev_hash],
               ensure_ascii=False, separators=(",", ":")) + "\\n" + detail_json

where ``at`` is ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC) and ``detail_json`` is the detail as stored,
``json.dumps(detail, sort_keys=True)`` (``null`` when there is none). The first entry's
``prev_hash`` is 64 zeros. Control characters in the text fields are written as spaces, so the
only escapes are ``\\"`` and ``\\\\`` and the database can build the same text itself
(``json_array`` on SQLite, ``to_json`` on PostgreSQL), which is how :func:`verify` walks two
million entries in seconds. This is the hash-chain ("linked timestamping") construction of Haber &
Stornetta (1991), as used for secure audit logs by Schneier & Kelsey (1999).

Appends are serialised so two writers never chain to the same predecessor: the writer first
takes the write lock on the single ``audit_head`` row (``SELECT ... FOR UPDATE`` on PostgreSQL;
on SQLite a write to that row, which takes the database's one write lock), then reads the head,
inserts the entry and moves the head, all in the caller's transaction. Nothing in peelian
updates or deletes an audit entry.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

from sqlalchemy import Connection, Select, and_, func, insert, or_, select, update

from peelian.data.store import Store
from peelian.data.tables import audit_head, audit_log
from peelian.errors import ParameterError

__all__ = [
    "EXPORT_COLUMNS",
    "GENESIS",
    "AuditFilter",
    "VerifyResult",
    "append",
    "canonical",
    "count",
    "entry_hash",
    "export_csv",
    "record",
    "search",
    "verify",
]

#: ``prev_hash`` of the first entry.
GENESIS = "0" * 64
#: Columns of an export (CSV or JSON), in order.
EXPORT_COLUMNS: tuple[str, ...] = (
    "id",
    "at",
    "username",
    "action",
    "record_kind",
    "record_id",
    "target",
    "purpose",
    "ip",
    "detail",
    "prev_hash",
    "hash",
)
_MAX = {"username": 64, "action": 64, "target": 128, "ip": 64, "record_kind": 32, "record_id": 64}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _at_text(at: dt.datetime | str) -> str:
    if isinstance(at, str):
        return at
    return at.isoformat(sep=" ", timespec="microseconds")


def canonical(
    at: dt.datetime | str,
    username: str | None,
    action: str,
    target: str | None,
    ip: str | None,
    record_kind: str | None,
    record_id: str | None,
    purpose: str | None,
    detail_json: str | None,
    prev_hash: str,
) -> bytes:
    """The bytes that are hashed for one entry (see the module docstring)."""
    head = json.dumps(
        [_at_text(at), username, action, target, ip, record_kind, record_id, purpose, prev_hash],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return (head + "\n" + (detail_json if detail_json is not None else "null")).encode("utf-8")


def entry_hash(*fields: Any) -> str:
    """SHA-256 (hex) of :func:`canonical` of the fields."""
    return hashlib.sha256(canonical(*fields)).hexdigest()


_CONTROL = {c: " " for c in [*range(0x20), 0x7F]}


def _clean_text(value: str) -> str:
    """Control characters (newlines included) become spaces, so the canonical JSON needs no
    escapes but ``\\"`` and ``\\\\`` (and every engine writes it alike)."""
    return value.translate(_CONTROL)


def _detail(detail: dict[str, Any] | None) -> tuple[Any, str | None]:
    """The detail as it will be stored (keys sorted) and its JSON text."""
    if detail is None:
        return None, None
    text_ = json.dumps(detail, sort_keys=True, default=str)
    return json.loads(text_), text_


def _lock_head(conn: Connection) -> Any:
    """Take the append lock and return the head row (created on first use)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(
            pg_insert(audit_head)
            .values(id=1, last_id=None, last_hash=GENESIS, entries=0)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        return conn.execute(select(audit_head).where(audit_head.c.id == 1).with_for_update()).one()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    # a write first: it takes SQLite's write lock before the head is read
    conn.execute(
        sqlite_insert(audit_head)
        .values(id=1, last_id=None, last_hash=GENESIS, entries=0)
        .on_conflict_do_update(index_elements=["id"], set_={"entries": audit_head.c.entries})
    )
    return conn.execute(select(audit_head).where(audit_head.c.id == 1)).one()


def append(
    conn: Connection,
    username: str | None,
    action: str,
    *,
    target: str | None = None,
    ip: str | None = None,
    detail: dict[str, Any] | None = None,
    record_kind: str | None = None,
    record_id: str | int | None = None,
    purpose: str | None = None,
    at: dt.datetime | None = None,
) -> str:
    """Append one entry inside the caller's transaction; returns its hash.

    The entry is written only if the transaction commits, so a change and its audit entry are
    saved together or not at all.
    """
    if not action:
        raise ParameterError("An audit entry needs an action.", "E.g. 'problem.read'.")
    values: dict[str, Any] = {
        "username": username,
        "action": action,
        "target": target,
        "ip": ip,
        "record_kind": record_kind,
        "record_id": None if record_id is None else str(record_id),
    }
    for key, limit in _MAX.items():
        if values[key] is not None:
            values[key] = _clean_text(str(values[key]))[:limit]
    purpose = _clean_text(purpose or "").strip()
    values["purpose"] = purpose[:2000] or None
    stored_detail, detail_json = _detail(detail)
    at = at or _now()
    head = _lock_head(conn)
    prev = head.last_hash
    digest = entry_hash(
        at,
        values["username"],
        values["action"],
        values["target"],
        values["ip"],
        values["record_kind"],
        values["record_id"],
        values["purpose"],
        detail_json,
        prev,
    )
    new_id = conn.execute(
        insert(audit_log)
        .values(**values, at=at, detail=stored_detail, prev_hash=prev, hash=digest)
        .returning(audit_log.c.id)
    ).scalar_one()
    conn.execute(
        update(audit_head)
        .where(audit_head.c.id == 1)
        .values(last_id=new_id, last_hash=digest, entries=audit_head.c.entries + 1)
    )
    return digest


def record(store: Store, username: str | None, action: str, **fields: Any) -> str:
    """Append one entry in its own transaction (see :func:`append` for the fields)."""
    with store.begin() as conn:
        if conn.dialect.name == "sqlite":
            # take the write lock now, so a concurrent writer waits (busy_timeout) for it
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return append(conn, username, action, **fields)


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditFilter:
    """What to search the audit log for (every field optional; text matches case-insensitively
    in the action, target, record id and purpose)."""

    username: str | None = None
    action: str | None = None
    record_kind: str | None = None
    record_id: str | None = None
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    text: str | None = None

    def where(self) -> Any:
        c = audit_log.c
        conds: list[Any] = []
        if self.username:
            conds.append(c.username == self.username)
        if self.action:
            conds.append(c.action.startswith(self.action, autoescape=True))
        if self.record_kind:
            conds.append(c.record_kind == self.record_kind)
        if self.record_id:
            conds.append(c.record_id == str(self.record_id))
        if self.since:
            conds.append(c.at >= self.since)
        if self.until:
            conds.append(c.at < self.until)
        if self.text:
            like = f"%{self.text.lower()}%"
            conds.append(
                or_(
                    *(
                        func.lower(col).like(like)
                        for col in (c.action, c.target, c.record_id, c.purpose)
                    )
                )
            )
        return and_(*conds) if conds else None

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


def _query(flt: AuditFilter | None) -> Select[Any]:
    q = select(*(audit_log.c[name] for name in EXPORT_COLUMNS))
    cond = (flt or AuditFilter()).where()
    return q if cond is None else q.where(cond)


def search(
    store: Store, flt: AuditFilter | None = None, *, limit: int = 100, offset: int = 0
) -> list[dict[str, Any]]:
    """Entries matching ``flt``, newest first (at most ``limit``, up to 10,000)."""
    if not 1 <= limit <= 10_000 or offset < 0:
        raise ParameterError(
            f"limit must be 1-10000 and offset >= 0. Got limit={limit}, offset={offset}."
        )
    q = _query(flt).order_by(audit_log.c.id.desc()).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def count(store: Store, flt: AuditFilter | None = None) -> int:
    """How many entries match ``flt``."""
    q = select(func.count()).select_from(audit_log)
    cond = (flt or AuditFilter()).where()
    if cond is not None:
        q = q.where(cond)
    with store.engine.connect() as conn:
        return int(conn.execute(q).scalar_one())


def _export_rows(store: Store, flt: AuditFilter | None) -> Iterator[dict[str, Any]]:
    q = _query(flt).order_by(audit_log.c.id).execution_options(yield_per=5000)
    with store.engine.connect() as conn:
        for row in conn.execute(q).mappings():
            yield dict(row)


def export_csv(store: Store, out: IO[str], flt: AuditFilter | None = None) -> int:
    """Write the matching entries (oldest first) as CSV to ``out``; returns the row count.

    The hashes are included, so an exported slice can be checked against the live chain.
    """
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for row in _export_rows(store, flt):
        row["at"] = _at_text(row["at"])
        row["detail"] = "" if row["detail"] is None else json.dumps(row["detail"], sort_keys=True)
        writer.writerow(["" if row[c] is None else row[c] for c in EXPORT_COLUMNS])
        n += 1
    return n


# -- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of :func:`verify`. ``first_broken_id`` names the first entry whose hash or
    link does not hold (``None`` when the chain is whole); ``reason`` says what was wrong."""

    ok: bool
    checked: int
    last_id: int | None
    first_broken_id: int | None = None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


#: The canonical form of each entry, built by the database (C speed) for verification. The
#: writer builds it in Python (:func:`canonical`); because text fields are cleaned of control
#: characters (:func:`_clean_text`), the only JSON escapes left are ``\"`` and ``\\``, which
#: Python, SQLite's ``json_array`` and PostgreSQL's ``to_json`` write alike (a test checks it).
_FIELDS = ("username", "action", "target", "ip", "record_kind", "record_id", "purpose")
_CANONICAL_SQL = {
    "sqlite": "json_array(at, {fields}, prev_hash) || char(10) || coalesce(detail, 'null')".format(
        fields=", ".join(_FIELDS)
    ),
    "postgresql": (
        "'[' || to_json(to_char(at, 'YYYY-MM-DD HH24:MI:SS.US'))::text || ','"
        + "".join(f" || coalesce(to_json({f})::text, 'null') || ','" for f in _FIELDS)
        + " || to_json(prev_hash)::text || ']' || chr(10) || coalesce(detail::text, 'null')"
    ),
}
_VERIFY_SQL = (
    "SELECT id, {canonical}, prev_hash, hash FROM audit_log "
    "WHERE id > {lo} AND id <= {hi} ORDER BY id"
)
#: Chains longer than this are verified by several processes, one id range each.
PARALLEL_FROM = 200_000


def _scan(raw: Any, dialect: str, lo: int, hi: int, batch: int) -> dict[str, Any]:
    """Check the entries with ``lo < id <= hi``: each one's hash, and each one's link to the
    entry before it within the range (the link of the first is checked by the caller)."""
    sha = hashlib.sha256
    out: dict[str, Any] = {"first_id": None, "first_prev": None, "checked": 0, "broken": None}
    prev: str | None = None
    last_id: int | None = None
    checked = 0
    cur = raw.cursor(name="peelian_audit_verify") if dialect == "postgresql" else raw.cursor()
    try:
        canonical_sql = _CANONICAL_SQL["postgresql" if dialect == "postgresql" else "sqlite"]
        cur.execute(_VERIFY_SQL.format(canonical=canonical_sql, lo=int(lo), hi=int(hi)))
        while rows := cur.fetchmany(batch):
            if prev is None:
                out["first_id"], out["first_prev"] = int(rows[0][0]), rows[0][2]
                prev = rows[0][2]
            for id_, text_, ph, h in rows:
                if ph != prev:
                    out["broken"] = (
                        int(id_),
                        f"its prev_hash does not match the hash of entry {last_id} before it "
                        "(an entry was removed, inserted or reordered)",
                    )
                    break
                if sha(text_.encode("utf-8")).hexdigest() != h:
                    out["broken"] = (
                        int(id_),
                        "its content does not match its hash (the entry was edited)",
                    )
                    break
                prev, last_id, checked = h, id_, checked + 1
            if out["broken"]:
                break
    finally:
        cur.close()
    out.update(checked=checked, last_id=None if last_id is None else int(last_id), last_hash=prev)
    return out


def _raw_connect(url: str, dialect: str) -> Any:
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if dialect == "postgresql":
        import psycopg

        return psycopg.connect(u.set(drivername="postgresql").render_as_string(hide_password=False))
    import sqlite3

    return sqlite3.connect(u.database or ":memory:")


def _scan_url(url: str, dialect: str, lo: int, hi: int, batch: int) -> dict[str, Any]:
    """:func:`_scan` on a connection of its own (run in a worker process)."""
    raw = _raw_connect(url, dialect)
    try:
        return _scan(raw, dialect, lo, hi, batch)
    finally:
        raw.close()


def _ranges(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    step = max(1, -(-(hi - lo) // parts))
    return [(a, min(a + step, hi)) for a in range(lo, hi, step)]


def verify(store: Store, *, batch: int = 20_000, workers: int | None = None) -> VerifyResult:
    """Walk the whole chain; the first entry whose stored hash is not the hash of its content,
    or whose ``prev_hash`` is not its predecessor's hash, is named. Also checks that the chain
    ends where ``audit_head`` says it does (entries removed from the end).

    Entries appended while it runs are left for the next run (it stops at the head it read
    first). A chain longer than :data:`PARALLEL_FROM` is checked in ``workers`` id ranges by
    that many processes (default: up to 2, one per CPU); their ends are then linked in order.
    """
    with store.engine.connect() as conn:
        head = conn.execute(select(audit_head).where(audit_head.c.id == 1)).first()
        hi_q = select(func.max(audit_log.c.id))
        if head is not None and head.last_id is not None:
            hi_q = hi_q.where(audit_log.c.id <= head.last_id)
        lo = conn.execute(select(func.min(audit_log.c.id))).scalar()
        hi = conn.execute(hi_q).scalar()
        lo = 0 if lo is None else int(lo) - 1
        hi = lo if hi is None else int(hi)
        if workers is None:
            workers = min(2, os.cpu_count() or 1) if hi - lo > PARALLEL_FROM else 1
        if workers <= 1 or "fork" not in multiprocessing.get_all_start_methods():
            raw = conn.connection.dbapi_connection
            segments = [_scan(raw, store.dialect, lo, hi, batch)]
        else:
            url = store.engine.url.render_as_string(hide_password=False)
            ctx = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(workers, mp_context=ctx) as pool:
                futures = [
                    pool.submit(_scan_url, url, store.dialect, a, b, batch)
                    for a, b in _ranges(lo, hi, workers)
                ]
                segments = [f.result() for f in futures]
    prev, checked, last_id = GENESIS, 0, None
    for seg in segments:
        if seg["first_id"] is None:
            continue
        if seg["first_prev"] != prev:
            return VerifyResult(
                False,
                checked,
                last_id,
                seg["first_id"],
                f"its prev_hash does not match the hash of entry {last_id or 'none'} before it "
                "(an entry was removed, inserted or reordered)",
            )
        if seg["broken"]:
            broken_id, reason = seg["broken"]
            return VerifyResult(False, checked + seg["checked"], seg["last_id"], broken_id, reason)
        prev, last_id, checked = seg["last_hash"], seg["last_id"], checked + seg["checked"]
    head_id = head.last_id if head is not None else None
    head_hash = head.last_hash if head is not None else GENESIS
    if head_id != last_id or head_hash != prev:
        return VerifyResult(
            False,
            checked,
            last_id,
            head_id if head_id is not None else last_id,
            f"the chain ends at entry {last_id or 'none'} but the head records entry "
            f"{head_id or 'none'} (entries were removed from the end, or added bypassing the "
            "audit module)",
        )
    return VerifyResult(True, checked, last_id)
