"""Shared record mechanics: optimistic-locking updates, dates, and the write transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Table, select, update

from peelian.data.store import Store
from peelian.errors import ConflictError, NotFoundError, ParameterError

__all__ = ["as_date", "now", "update_versioned", "write"]


def now() -> dt.datetime:
    """Now in UTC, naive (the store's convention)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def as_date(value: dt.date | str | None, what: str, func: str) -> dt.date | None:
    """A date from a ``date`` or an ISO ``YYYY-MM-DD`` string (None stays None)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise ParameterError(
            f"The '{what}' parameter of {func} must be a date (YYYY-MM-DD). Got {value!r}.",
            "E.g. 2026-04-01.",
        ) from exc


@contextmanager
def write(store: Store) -> Iterator[Connection]:
    """One write transaction: everything in it (the change and its audit entries) is saved
    together or not at all. On SQLite it takes the write lock at the start (``BEGIN
    IMMEDIATE``), so a reader-turned-writer never deadlocks with another writer."""
    with store.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        yield conn


def update_versioned(
    conn: Connection,
    table: Table,
    record_id: int,
    version: int,
    values: dict[str, Any],
    *,
    what: str,
) -> int:
    """Update one row if it still has ``version``; returns the new version.

    Raises :class:`ConflictError` when someone else saved the record since it was read (its
    version moved on), and :class:`NotFoundError` when it does not exist. Nothing is written in
    either case.
    """
    result = conn.execute(
        update(table)
        .where(table.c.id == record_id, table.c.version == version)
        .values(**values, version=table.c.version + 1)
    )
    if result.rowcount == 1:
        return version + 1
    current = conn.execute(select(table.c.version).where(table.c.id == record_id)).scalar()
    if current is None:
        raise NotFoundError(f"There is no {what} {record_id}.", "List them to find its number.")
    raise ConflictError(
        f"{what.capitalize()} {record_id} was changed by someone else since you opened it "
        f"(you had version {version}; it is now version {current}). Nothing was saved.",
        "Reload it, check their change, and make yours again.",
    )
