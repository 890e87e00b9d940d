"""Persisted analysis results: one row per run, its frames stored as Parquet.

Heavy work runs as jobs (CLI or ``peelian demo``) and persists here; dashboard pages and reports
read the newest run of a kind (STYLE practice 20).
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)

from peelian.data.tables._meta import ID, metadata

__all__ = ["analysis_frames", "analysis_runs", "count_cache"]

analysis_runs = Table(
    "analysis_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column(
        "kind", String(32), nullable=False, comment="measures | gistar | emerging | backtest | ..."
    ),
    Column("name", String(128), nullable=False, comment="e.g. the crime type or measure set"),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("params", JSON, nullable=True),
    Column(
        "summary", JSON, nullable=True, comment="automatic choices, headline figures, citations"
    ),
    Column("peelian_version", String(32), nullable=False),
    Index("ix_analysis_runs_kind_name_created_at", "kind", "name", "created_at"),
)

analysis_frames = Table(
    "analysis_frames",
    metadata,
    Column("run_id", ID, ForeignKey("analysis_runs.id", ondelete="CASCADE"), primary_key=True),
    Column("part", String(64), primary_key=True, comment="name of the frame within the run"),
    Column("n_rows", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False, comment="Parquet bytes"),
)

count_cache = Table(
    "count_cache",
    metadata,
    Column("key", String(64), primary_key=True, comment="sha256 of what was counted"),
    Column("what", String(64), nullable=False, comment="e.g. force-measure:homicide"),
    Column("data_version", String(64), nullable=False, comment="ingest state the counts are of"),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("n_rows", Integer, nullable=False),
    Column("payload", LargeBinary, nullable=False, comment="Parquet bytes"),
)
