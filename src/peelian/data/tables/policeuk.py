"""police.uk records: street-level crimes and ASB (``events``), outcomes, and stop-and-search.

Precision travels with every row (ARCHITECTURE, canonical records): police.uk events are
``time_precision='month'`` and ``location_precision='snapped'`` (or ``'none'`` when unlocated).
Coordinates are kept as published (WGS84) and projected to British National Grid (EPSG:27700).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
)

from peelian.data.tables._meta import ID, metadata

__all__ = ["events", "outcomes", "stops"]

events = Table(
    "events",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("source", String(16), nullable=False, comment="policeuk"),
    Column("force", String(64), nullable=False, comment="force slug, e.g. northumbria"),
    Column("month", String(7), nullable=False, comment="YYYY-MM"),
    Column("crime_id", String(64), nullable=True, comment="blank for ASB"),
    Column("reported_by", String(128), nullable=True),
    Column("falls_within", String(128), nullable=True),
    Column("longitude", Float, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("easting", Float, nullable=True, comment="EPSG:27700 metres"),
    Column("northing", Float, nullable=True, comment="EPSG:27700 metres"),
    Column("location", Text, nullable=True),
    Column("lsoa_code", String(9), nullable=True),
    Column("lsoa_name", String(128), nullable=True),
    Column("lsoa_vintage", SmallInteger, nullable=True, comment="2011 or 2021"),
    Column("category", String(64), nullable=False, comment="police.uk crime type"),
    Column("last_outcome", String(128), nullable=True),
    Column("context", Text, nullable=True),
    Column("time_precision", String(8), nullable=False, comment="month | day | minute"),
    Column("location_precision", String(8), nullable=False, comment="snapped | exact | none"),
    Column("file_id", ID, ForeignKey("ingest_files.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Index("ix_events_force_month", "force", "month"),
    # also covers the measures' month x category x LSOA counts (no table reads, no sort)
    Index("ix_events_month_category", "month", "category", "lsoa_code", "lsoa_vintage", "force"),
    Index("ix_events_lsoa_code", "lsoa_code"),
    Index("ix_events_crime_id", "crime_id"),
    Index("ix_events_file_id", "file_id"),
)

outcomes = Table(
    "outcomes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("month", String(7), nullable=False, comment="month of the outcome"),
    Column("crime_id", String(64), nullable=False),
    Column("reported_by", String(128), nullable=True),
    Column("falls_within", String(128), nullable=True),
    Column("longitude", Float, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("easting", Float, nullable=True),
    Column("northing", Float, nullable=True),
    Column("location", Text, nullable=True),
    Column("lsoa_code", String(9), nullable=True),
    Column("lsoa_name", String(128), nullable=True),
    Column("lsoa_vintage", SmallInteger, nullable=True),
    Column("outcome_type", String(128), nullable=False),
    Column("file_id", ID, ForeignKey("ingest_files.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Index("ix_outcomes_crime_id_month", "crime_id", "month"),
    Index("ix_outcomes_force_month", "force", "month"),
    Index("ix_outcomes_file_id", "file_id"),
)

stops = Table(
    "stops",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("month", String(7), nullable=False, comment="month of the file it came from"),
    Column("type", String(64), nullable=True),
    Column("datetime_utc", DateTime(timezone=False), nullable=True, comment="normalised to UTC"),
    Column("local_date", Date, nullable=True, comment="date in Europe/London"),
    Column("time_given", Boolean, nullable=False, comment="false when only a date was published"),
    Column("part_of_operation", Boolean, nullable=True),
    Column("operation", Text, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("easting", Float, nullable=True),
    Column("northing", Float, nullable=True),
    Column("gender", String(32), nullable=True),
    Column("age_range", String(32), nullable=True),
    Column("self_defined_ethnicity", Text, nullable=True),
    Column("officer_defined_ethnicity", String(64), nullable=True),
    Column("legislation", Text, nullable=True),
    Column("object_of_search", Text, nullable=True),
    Column("outcome", Text, nullable=True),
    Column("outcome_linked", Boolean, nullable=True),
    Column("removal_more_than_outer", Boolean, nullable=True),
    Column("location_precision", String(8), nullable=False),
    Column("file_id", ID, ForeignKey("ingest_files.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Index("ix_stops_force_month", "force", "month"),
    Index("ix_stops_file_id", "file_id"),
)
