"""Force records: occurrences with Home Office codes and flags, the people involved, what the
investigation did, outcomes, victim contacts, missing-person episodes and intelligence links.

They come from a force's records-management-system exports (``peelian ingest force``) or from
peelian's synthetic generator. Precision travels with every occurrence: force records are
``time_precision='minute'`` and ``location_precision='exact'`` (``'none'`` when unlocated).
``synthetic`` is true for generated data, so every page that shows it can say so.

Rows refer to each other by the force's own references (``crime_ref``, ``person_ref``, ...)
within a ``force``, not by surrogate ids, so a newer export can replace an older one. Every row
keeps its provenance (``file_id`` -> ``ingest_files``, ``row_number``).
``file_id`` is not indexed: nothing looks rows up by file (replacement is by force or by key) and
the index would cost every bulk load a sort.
"""

from __future__ import annotations

from typing import Any

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
from peelian.offences import BOOLEAN_FLAG_COLUMNS

__all__ = [
    "FORCE_TABLES",
    "addresses",
    "force_outcomes",
    "intel_links",
    "investigation_events",
    "involvements",
    "missing_episodes",
    "occurrences",
    "persons",
    "victim_contacts",
]


def _provenance() -> list[Column[Any]]:
    return [
        Column("file_id", ID, ForeignKey("ingest_files.id"), nullable=False),
        Column("row_number", Integer, nullable=False, comment="1-based data row of the file"),
    ]


occurrences = Table(
    "occurrences",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False, comment="force slug, e.g. northumbria"),
    Column("crime_ref", String(64), nullable=False, comment="the force's crime reference"),
    Column("ho_code", String(8), nullable=False, comment="Home Office offence code, e.g. 8N"),
    Column("offence_description", Text, nullable=True),
    Column("policeuk_category", String(64), nullable=False, comment="from the HO code"),
    Column("reported_at", DateTime(timezone=False), nullable=False, comment="local time"),
    Column("committed_from", DateTime(timezone=False), nullable=True),
    Column("committed_to", DateTime(timezone=False), nullable=True),
    Column("month", String(7), nullable=False, comment="YYYY-MM of reported_at"),
    Column("easting", Float, nullable=True, comment="EPSG:27700 metres, exact"),
    Column("northing", Float, nullable=True),
    Column("longitude", Float, nullable=True),
    Column("latitude", Float, nullable=True),
    Column("lsoa_code", String(9), nullable=True),
    Column("lsoa_vintage", SmallInteger, nullable=True, comment="2011 or 2021"),
    Column("domestic_abuse", Boolean, nullable=True),
    Column("knife", Boolean, nullable=True, comment="knife or sharp instrument flag"),
    Column("firearm_discharged", Boolean, nullable=True, comment="firearm discharged or used"),
    Column("alcohol", Boolean, nullable=True),
    Column("drugs", Boolean, nullable=True),
    Column("hate_strands", String(128), nullable=True, comment="';'-separated, e.g. race;religion"),
    Column("cyber", Boolean, nullable=True, comment="cyber-enabled"),
    Column("public_space", Boolean, nullable=True),
    Column("vawg", Boolean, nullable=True),
    Column("gang", Boolean, nullable=True, comment="gang / organised crime group marker"),
    Column("county_lines", Boolean, nullable=True),
    Column("time_precision", String(8), nullable=False, comment="minute"),
    Column("location_precision", String(8), nullable=False, comment="exact | none"),
    Column("synthetic", Boolean, nullable=False, comment="generated, not real records"),
    *_provenance(),
    Index("ix_occurrences_force_crime_ref", "force", "crime_ref", unique=True),
    Index("ix_occurrences_month_ho_code", "month", "ho_code"),
    Index("ix_occurrences_reported_at", "reported_at"),
    Index("ix_occurrences_lsoa_code", "lsoa_code"),
    # covers counting offence sets per month and LSOA (peelian.data.offence_sql): the scan
    # reads this narrow index in GROUP BY order instead of the wide rows (1.5 s -> 0.25 s)
    Index(
        "ix_occurrences_measures",
        "month",
        "lsoa_code",
        "ho_code",
        "policeuk_category",
        *BOOLEAN_FLAG_COLUMNS,
        "hate_strands",
        "force",
        "crime_ref",
    ),
)

persons = Table(
    "persons",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("person_ref", String(64), nullable=False, comment="pseudonymised id, never a name"),
    Column("birth_year", SmallInteger, nullable=True),
    Column("age_band", String(16), nullable=True, comment="when only a band is exported"),
    Column("sex", String(1), nullable=True, comment="M | F | U"),
    Column("ethnicity", String(16), nullable=True, comment="White | Asian | Black | Mixed | Other"),
    Column("synthetic", Boolean, nullable=False),
    *_provenance(),
    Index("ix_persons_force_person_ref", "force", "person_ref", unique=True),
    # covering the person conditions of offence sets (age, sex): probes never read the rows
    Index("ix_persons_force_person_ref_birth_year_sex", "force", "person_ref", "birth_year", "sex"),
)

involvements = Table(
    "involvements",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("crime_ref", String(64), nullable=False),
    Column("person_ref", String(64), nullable=False),
    Column("role", String(16), nullable=False, comment="victim | suspect | offender | witness"),
    *_provenance(),
    Index("ix_involvements_force_crime_ref", "force", "crime_ref", "role", "person_ref"),
    Index("ix_involvements_force_person_ref", "force", "person_ref"),
)

investigation_events = Table(
    "investigation_events",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("crime_ref", String(64), nullable=False),
    Column("person_ref", String(64), nullable=True, comment="the suspect, when there is one"),
    Column(
        "event_type",
        String(24),
        nullable=False,
        comment="arrest | interview | charge | bail | rui | nfa | not_investigated",
    ),
    Column("event_at", DateTime(timezone=False), nullable=False),
    *_provenance(),
    Index("ix_investigation_events_force_crime_ref", "force", "crime_ref"),
)

force_outcomes = Table(
    "force_outcomes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("crime_ref", String(64), nullable=False),
    Column("outcome_code", SmallInteger, nullable=False, comment="Home Office outcome 1-22"),
    Column("outcome_date", Date, nullable=True),
    *_provenance(),
    Index("ix_force_outcomes_force_crime_ref", "force", "crime_ref"),
)

victim_contacts = Table(
    "victim_contacts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("crime_ref", String(64), nullable=False),
    Column("person_ref", String(64), nullable=True, comment="the victim contacted"),
    Column("contact_at", DateTime(timezone=False), nullable=False),
    Column("channel", String(16), nullable=True, comment="phone | email | visit | letter | sms"),
    Column("contact_by", String(64), nullable=True, comment="officer or staff id"),
    Column("purpose", String(16), nullable=True, comment="initial | update | outcome | referral"),
    Column("enhanced_rights", Boolean, nullable=True, comment="Victims' Code enhanced rights"),
    *_provenance(),
    Index("ix_victim_contacts_force_crime_ref", "force", "crime_ref"),
)

missing_episodes = Table(
    "missing_episodes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("episode_ref", String(64), nullable=False),
    Column("person_ref", String(64), nullable=False),
    Column("reported_missing_at", DateTime(timezone=False), nullable=False),
    Column("found_at", DateTime(timezone=False), nullable=True),
    Column("risk_level", String(8), nullable=True, comment="low | medium | high"),
    Column("found_easting", Float, nullable=True),
    Column("found_northing", Float, nullable=True),
    *_provenance(),
    Index("ix_missing_episodes_force_episode_ref", "force", "episode_ref", unique=True),
    Index("ix_missing_episodes_force_person_ref", "force", "person_ref"),
)

addresses = Table(
    "addresses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("address_ref", String(64), nullable=False, comment="pseudonymised"),
    Column("easting", Float, nullable=True),
    Column("northing", Float, nullable=True),
    Column("lsoa_code", String(9), nullable=True),
    *_provenance(),
    Index("ix_addresses_force_address_ref", "force", "address_ref", unique=True),
)

intel_links = Table(
    "intel_links",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=True),
    Column("force", String(64), nullable=False),
    Column("from_ref", String(64), nullable=False, comment="a person_ref"),
    Column("to_ref", String(64), nullable=False, comment="a person_ref or address_ref"),
    Column("to_kind", String(8), nullable=False, comment="person | address"),
    Column(
        "link_type",
        String(16),
        nullable=False,
        comment="associate | cooffender | exploits | resides | cuckooed | supplies",
    ),
    Column("since_date", Date, nullable=True),
    Column("note", Text, nullable=True),
    *_provenance(),
    Index("ix_intel_links_force_from_ref", "force", "from_ref"),
    Index("ix_intel_links_force_to_ref", "force", "to_ref"),
)

#: Every force table, in load order (referenced tables first).
FORCE_TABLES = (
    addresses,
    persons,
    occurrences,
    involvements,
    investigation_events,
    force_outcomes,
    victim_contacts,
    missing_episodes,
    intel_links,
)
