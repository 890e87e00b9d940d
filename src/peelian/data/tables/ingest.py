"""Provenance tables: ingest batches, the files in them, and the quarantine of rejected rows.

Every row that enters the store points at its file (``file_id``) and row number; every row that
did not enter is in ``quarantine`` with its reason. ``rows_read = rows_stored + rows_quarantined``
holds for every file (the reconciliation).
"""

from __future__ import annotations

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Index, Integer, String, Table, Text

from peelian.data.tables._meta import ID, metadata

__all__ = ["ingest_batches", "ingest_files", "quarantine"]

ingest_batches = Table(
    "ingest_batches",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("source", String(32), nullable=False, comment="policeuk | force | areas | ..."),
    Column("started_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("finished_at", DateTime(timezone=False), nullable=True, comment="UTC"),
    Column("status", String(16), nullable=False, comment="running | complete | failed"),
    Column("command", Text, nullable=True),
    Column("peelian_version", String(32), nullable=False),
    Column("report", JSON, nullable=True, comment="the reconciliation report, as printed"),
)

ingest_files = Table(
    "ingest_files",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("batch_id", ID, ForeignKey("ingest_batches.id"), nullable=False),
    Column("path", Text, nullable=False, comment="path as given, with '!member' for zip members"),
    Column("kind", String(32), nullable=False, comment="street | outcomes | stop-and-search | ..."),
    Column("force", String(64), nullable=True),
    Column("month", String(7), nullable=True, comment="YYYY-MM"),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("rows_read", Integer, nullable=False),
    Column("rows_stored", Integer, nullable=False),
    Column("rows_quarantined", Integer, nullable=False),
    Column("reasons", JSON, nullable=True, comment="{reason: count}"),
    Column(
        "action", String(16), nullable=False, comment="loaded | replaced | unchanged | rejected"
    ),
    Column("replaced_file_id", ID, nullable=True),
    Index("ix_ingest_files_kind_force_month", "kind", "force", "month"),
    Index("ix_ingest_files_sha256", "sha256"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("file_id", ID, ForeignKey("ingest_files.id"), nullable=False, index=True),
    Column("row_number", Integer, nullable=True, comment="1-based data row; null = whole file"),
    Column("reason", String(64), nullable=False),
    Column("detail", Text, nullable=True),
    Column("raw", Text, nullable=True, comment="the row as read"),
)
