"""Victim satisfaction survey responses (one row per response), imported with reconciliation.

Items are scored 1-5 (5 = very satisfied); NULL = not answered. ``month`` is the survey month.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
)

from peelian.data.tables._meta import ID, metadata

__all__ = ["SURVEY_ITEMS", "survey_responses"]

#: The satisfaction items, in the order of the Home Office victim satisfaction survey.
SURVEY_ITEMS = ("overall", "contact", "actions", "kept_informed", "treatment")

survey_responses = Table(
    "survey_responses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("response_ref", String(64), nullable=False, comment="the survey's response id"),
    Column("survey_date", Date, nullable=False),
    Column("month", String(7), nullable=False, comment="YYYY-MM of survey_date"),
    Column("crime_ref", String(64), nullable=True, comment="links to occurrences.crime_ref"),
    Column("crime_type", String(64), nullable=True, comment="police.uk category"),
    Column("domestic_abuse", Boolean, nullable=True),
    *[
        Column(item, SmallInteger, nullable=True, comment="1-5, 5 = very satisfied")
        for item in SURVEY_ITEMS
    ],
    Column("synthetic", Boolean, nullable=False, comment="generated, not real responses"),
    Column("file_id", ID, ForeignKey("ingest_files.id"), nullable=False),
    Column("row_number", Integer, nullable=False),
    Index("ix_survey_responses_month", "month"),
    Index("ix_survey_responses_response_ref", "response_ref"),
    Index("ix_survey_responses_file_id", "file_id"),
)
