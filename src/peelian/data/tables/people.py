"""People work: de-selections from prioritised cohorts and the 4-weekly tasking snapshots.

Person-level data (pseudonymised ``person_ref`` only, never a name): every read, change and export
goes through :mod:`peelian.casework.people`, which asks the casework policy (record kind
``nominal``) and writes the audit log with the purpose given.

- ``people_deselections``: a person taken off a cohort's list for a recorded reason (in custody,
  deceased, moved away, other), from a date, until a date (null = open-ended), by whom and why.
  The automatic rule "no offending in N months" is computed, not stored.
- ``people_tasking_runs`` / ``people_tasking_members``: the list as it stood at each tasking
  meeting (every 4 weeks), so the next meeting can show who entered, who left and why, with the
  cohort rule's and the matrix's versions that made it.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from peelian.data.tables._meta import ID, metadata

__all__ = ["people_deselections", "people_tasking_members", "people_tasking_runs"]

people_deselections = Table(
    "people_deselections",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("person_ref", String(64), nullable=False, comment="pseudonymised id, never a name"),
    Column("cohort", String(64), nullable=True, comment="cohort name; null = every cohort"),
    Column("reason", String(16), nullable=False, comment="custody | deceased | moved_away | other"),
    Column("start_date", Date, nullable=False, comment="first day off the list"),
    Column("end_date", Date, nullable=True, comment="last day off the list; null = open-ended"),
    Column("note", Text, nullable=False, default=""),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_people_deselections_person_ref", "person_ref"),
    Index("ix_people_deselections_cohort", "cohort"),
)

people_tasking_runs = Table(
    "people_tasking_runs",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("cohort", String(64), nullable=False),
    Column("cohort_version", String(16), nullable=False),
    Column("matrix", String(64), nullable=False, comment="matrix name"),
    Column("matrix_version", String(16), nullable=False),
    Column("illustrative", Boolean, nullable=False, comment="made with the illustrative matrix"),
    Column("as_of", Date, nullable=False, comment="the tasking date the list is as of"),
    Column("members", Integer, nullable=False),
    Column("synthetic", Boolean, nullable=False, comment="made from synthetic records"),
    Column("created_by", String(64), nullable=False),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Index("ix_people_tasking_runs_cohort_as_of", "cohort", "as_of", unique=True),
)

people_tasking_members = Table(
    "people_tasking_members",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        ID,
        ForeignKey("people_tasking_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("person_ref", String(64), nullable=False),
    Column("rank", Integer, nullable=False, comment="1 = highest score"),
    Column("score", Float, nullable=False),
    Column("components", JSON, nullable=False, comment="recency, frequency, gravity, victims"),
    Index("ix_people_tasking_members_run_id", "run_id", "person_ref", unique=True),
)
