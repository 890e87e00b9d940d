"""Casework tables: organisations, data-sharing agreements, SARA problems and their actions, and
the head of the audit hash chain.

Every editable casework record carries a ``version`` (optimistic locking: an update names the
version it read and fails if someone else saved first) and who/when it was last changed.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from peelian.data.tables._meta import ID, metadata

__all__ = [
    "agreement_parties",
    "agreements",
    "audit_head",
    "interventions",
    "organisations",
    "problem_actions",
    "problems",
    "referrals",
]

organisations = Table(
    "organisations",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False, comment="force | command | csp | vru | ..."),
    Column("parent_id", ID, ForeignKey("organisations.id", ondelete="SET NULL"), nullable=True),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("version", Integer, nullable=False, default=1),
)

agreements = Table(
    "agreements",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("purpose", Text, nullable=False),
    Column("lawful_basis", Text, nullable=False),
    Column("record_kinds", JSON, nullable=False, comment="list of shared record kinds"),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True, comment="last day in force; null = open-ended"),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("created_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
)

agreement_parties = Table(
    "agreement_parties",
    metadata,
    Column(
        "agreement_id",
        ID,
        ForeignKey("agreements.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "organisation_id",
        ID,
        ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_agreement_parties_organisation_id", "organisation_id"),
)

problems = Table(
    "problems",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("focus", String(16), nullable=False, comment="place | group | theme"),
    Column("description", Text, nullable=False, default=""),
    Column("names_people", Boolean, nullable=False, default=False, comment="person-level"),
    Column("area_code", String(16), nullable=True),
    Column("stage", String(16), nullable=False, comment="scanning ... assessment"),
    Column("status", String(16), nullable=False, comment="open | on_hold | closed"),
    Column("organisation_id", ID, ForeignKey("organisations.id"), nullable=True),
    Column("owner", String(64), nullable=True),
    Column("evidence", JSON, nullable=True, comment="scanning links to peelian results"),
    Column("triangle", JSON, nullable=True, comment="problem analysis triangle"),
    Column("assessment", JSON, nullable=True, comment="before/after comparison"),
    Column("review_date", Date, nullable=True),
    Column("result", Text, nullable=True, comment="recorded when closed"),
    Column("opened_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("closed_at", DateTime(timezone=False), nullable=True, comment="UTC"),
    Column("erased_at", DateTime(timezone=False), nullable=True, comment="personal data removed"),
    Column("updated_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_problems_status_review_date", "status", "review_date"),
    Index("ix_problems_organisation_id", "organisation_id"),
)

problem_actions = Table(
    "problem_actions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("problem_id", ID, ForeignKey("problems.id", ondelete="CASCADE"), nullable=False),
    Column("description", Text, nullable=False),
    Column("owner", String(64), nullable=True),
    Column("organisation_id", ID, ForeignKey("organisations.id"), nullable=True),
    Column("due_date", Date, nullable=True),
    Column("status", String(16), nullable=False, comment="planned | in_progress | done | dropped"),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_problem_actions_problem_id", "problem_id"),
    Index("ix_problem_actions_status_due_date", "status", "due_date"),
)

audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, comment="always 1"),
    Column("last_id", ID, nullable=True, comment="id of the newest audit entry"),
    Column("last_hash", String(64), nullable=False, comment="hash of the newest audit entry"),
    Column("entries", ID, nullable=False, default=0, comment="number of entries appended"),
)


interventions = Table(
    "interventions",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("title", String(200), nullable=False),
    Column("tier", String(16), nullable=False, comment="primary | secondary | tertiary"),
    Column("intervention_type", String(32), nullable=False, comment="early_intervention ..."),
    Column("target_kind", String(16), nullable=False, comment="person | family | place | group"),
    Column("target_ref", String(64), nullable=False, comment="person_ref, LSOA code or problem"),
    Column("problem_id", ID, ForeignKey("problems.id", ondelete="SET NULL"), nullable=True),
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=True, comment="last day; null = ongoing"),
    Column("owner", String(64), nullable=True),
    Column("organisation_id", ID, ForeignKey("organisations.id"), nullable=True),
    Column("funding_source", String(200), nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_interventions_tier_type", "tier", "intervention_type"),
    Index("ix_interventions_organisation_id", "organisation_id"),
    Index("ix_interventions_problem_id", "problem_id"),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("person_ref", String(64), nullable=True, comment="pseudonymised; null once erased"),
    Column(
        "organisation_id",
        ID,
        ForeignKey("organisations.id"),
        nullable=False,
        comment="the organisation referred to",
    ),
    Column("from_organisation_id", ID, ForeignKey("organisations.id"), nullable=True),
    Column("referred_by", String(64), nullable=False),
    Column("referred_on", Date, nullable=False),
    Column("reason", Text, nullable=True, comment="null once erased"),
    Column("consent", String(16), nullable=False, comment="given | refused | not_sought"),
    Column("consent_note", Text, nullable=True, comment="why consent was not sought"),
    Column("status", String(16), nullable=False, comment="made | accepted | ... | closed"),
    Column("outcome", Text, nullable=True),
    Column(
        "intervention_id", ID, ForeignKey("interventions.id", ondelete="SET NULL"), nullable=True
    ),
    Column("created_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("closed_at", DateTime(timezone=False), nullable=True, comment="UTC"),
    Column("erased_at", DateTime(timezone=False), nullable=True, comment="personal data removed"),
    Column("updated_at", DateTime(timezone=False), nullable=False, comment="UTC"),
    Column("updated_by", String(64), nullable=True),
    Column("version", Integer, nullable=False, default=1),
    Index("ix_referrals_organisation_id_status", "organisation_id", "status"),
    Index("ix_referrals_person_ref", "person_ref"),
)
