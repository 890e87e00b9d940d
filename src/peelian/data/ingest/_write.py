"""Bulk writes of pyarrow tables: SQLite ``executemany`` in large chunks on the raw connection,
PostgreSQL ``COPY ... FROM STDIN (FORMAT csv)`` via psycopg 3; both inside the caller's
transaction. Secondary indexes can be dropped before a large first load and rebuilt once after
(one sort per index instead of millions of B-tree inserts)."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Table, delete, func, select
from sqlalchemy.schema import CreateIndex, DropIndex

__all__ = ["count_rows", "delete_file_rows", "drop_indexes", "insert_arrow", "rebuild_indexes"]

_CHUNK = 100_000


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(int(value))
    return "'" + str(value).replace("'", "''") + "'"


def _sqlite_lists(col: pa.ChunkedArray) -> list[Any]:
    if pa.types.is_timestamp(col.type):
        col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S")
    elif pa.types.is_date(col.type):
        col = pc.strftime(col, format="%Y-%m-%d")
    return col.to_pylist()


def insert_arrow(
    conn: Connection, table: Table, rows: pa.Table, constants: dict[str, Any] | None = None
) -> int:
    """Insert every row of ``rows`` (columns named as in ``table``) plus constant columns."""
    constants = constants or {}
    if rows.num_rows == 0:
        return 0
    names = list(constants) + rows.column_names
    dbapi = conn.connection.driver_connection
    if dbapi is None:  # pragma: no cover - a live Connection always has its DBAPI connection
        raise RuntimeError("The store connection has no DBAPI connection.")
    if conn.dialect.name == "sqlite":
        values = [_literal(v) for v in constants.values()] + ["?"] * rows.num_columns
        sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join(values)})"
        cur = dbapi.cursor()
        for start in range(0, rows.num_rows, _CHUNK):
            part = rows.slice(start, _CHUNK)
            cur.executemany(sql, zip(*(_sqlite_lists(c) for c in part.columns), strict=True))
        cur.close()
    else:
        full = rows
        for name, value in constants.items():
            full = full.append_column(name, pa.array([value] * rows.num_rows))
        full = full.select(names)
        buf = io.BytesIO()
        pacsv.write_csv(full, buf, pacsv.WriteOptions(include_header=False))
        sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT csv)"
        with dbapi.cursor() as cur, cur.copy(sql) as copy:
            copy.write(buf.getvalue())
    return rows.num_rows


def delete_file_rows(conn: Connection, table: Table, file_id: int) -> int:
    """Delete the rows a file put in ``table``; returns how many."""
    return conn.execute(delete(table).where(table.c.file_id == file_id)).rowcount or 0


def count_rows(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def drop_indexes(conn: Connection, table: Table) -> list[Any]:
    """Drop ``table``'s secondary indexes (inside the transaction); returns them for rebuild."""
    dropped = []
    for index in sorted(table.indexes, key=lambda i: i.name or ""):
        conn.execute(DropIndex(index, if_exists=True))
        dropped.append(index)
    return dropped


def rebuild_indexes(conn: Connection, indexes: list[Any]) -> None:
    for index in indexes:
        conn.execute(CreateIndex(index, if_not_exists=True))
