"""Bulk writes of pyarrow columns inside the caller's transaction, through the police.uk
ingest's helpers (``peelian.data.ingest._write``): SQLite ``executemany`` of plain tuples in
large chunks, PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)``; secondary indexes dropped before
a large load into an empty table and rebuilt once after."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Connection, Table, delete

from peelian.data.ingest._write import drop_indexes, insert_arrow, rebuild_indexes

__all__ = ["delete_keys", "insert_columns", "pad", "sqlite_text"]

#: Below this many rows a B-tree insert per row is cheaper than rebuilding the indexes.
REBUILD_MIN_ROWS = 10_000


def pad(values: pa.Array, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(values, pa.string()), width, "0")


def sqlite_text(values: pa.Array) -> pa.Array:
    """Timestamps / dates as the text SQLAlchemy stores in SQLite (``YYYY-MM-DD
    HH:MM:SS.ffffff`` / ``YYYY-MM-DD``), so SQL comparisons with bound values stay correct.
    Built from vectorised date parts (several times faster than ``strftime``)."""
    day = [pad(pc.year(values), 4), "-", pad(pc.month(values), 2), "-", pad(pc.day(values), 2)]
    if pa.types.is_date(values.type):
        return pc.binary_join_element_wise(*day, "")
    micro = pc.add(pc.multiply(pc.millisecond(values), 1000), pc.microsecond(values))
    clock = [pad(pc.hour(values), 2), ":", pad(pc.minute(values), 2), ":"]
    clock += [pad(pc.second(values), 2), ".", pad(micro, 6)]
    return pc.binary_join_element_wise(*day, " ", *clock, "")


def insert_columns(
    conn: Connection,
    table: Table,
    columns: dict[str, pa.Array],
    constants: dict[str, Any],
    *,
    empty: bool,
) -> int:
    """Insert the rows of ``columns`` (named as in ``table``) with ``constants`` on every row.

    ``empty``: the table has no rows yet, so a large load drops its indexes and rebuilds each
    once at the end (one sort instead of a B-tree insert per row)."""
    if not columns:
        return 0
    if conn.dialect.name == "sqlite":
        columns = {
            k: sqlite_text(v) if pa.types.is_timestamp(v.type) or pa.types.is_date(v.type) else v
            for k, v in columns.items()
        }
    rows = pa.table(columns)
    if rows.num_rows == 0:
        return 0
    dropped = drop_indexes(conn, table) if empty and rows.num_rows >= REBUILD_MIN_ROWS else []
    stored = insert_arrow(conn, table, rows, constants)
    rebuild_indexes(conn, dropped)
    return stored


def delete_keys(
    conn: Connection, table: Table, force: str, column: str, keys: Iterable[Any]
) -> int:
    """Delete this force's rows whose ``column`` is in ``keys``; returns how many."""
    keys = list(keys)
    n = 0
    col = table.c[column]
    for start in range(0, len(keys), 900):
        part = keys[start : start + 900]
        res = conn.execute(delete(table).where(table.c.force == force, col.in_(part)))
        n += res.rowcount or 0
    return n
