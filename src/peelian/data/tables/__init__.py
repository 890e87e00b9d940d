"""All peelian tables, on one ``metadata``.

Each module holds the tables of one concern; importing this package registers them all, which
is what Alembic and :func:`peelian.data.store.open_store` rely on.
"""

from __future__ import annotations

from peelian.data.tables._meta import metadata
from peelian.data.tables.areas import (
    area_deprivation,
    area_ethnicity,
    area_population,
    areas,
    lsoa_lookup,
)
from peelian.data.tables.casework import (
    agreement_parties,
    agreements,
    audit_head,
    interventions,
    organisations,
    problem_actions,
    problems,
    referrals,
)
from peelian.data.tables.force import (
    addresses,
    force_outcomes,
    intel_links,
    investigation_events,
    involvements,
    missing_episodes,
    occurrences,
    persons,
    victim_contacts,
)
from peelian.data.tables.ingest import ingest_batches, ingest_files, quarantine
from peelian.data.tables.people import (
    people_deselections,
    people_tasking_members,
    people_tasking_runs,
)
from peelian.data.tables.policeuk import events, outcomes, stops
from peelian.data.tables.results import analysis_frames, analysis_runs, count_cache
from peelian.data.tables.surveys import survey_responses
from peelian.data.tables.users import audit_log, login_attempts, sessions, users

__all__ = [
    "addresses",
    "agreement_parties",
    "agreements",
    "audit_head",
    "interventions",
    "organisations",
    "problem_actions",
    "problems",
    "referrals",
    "analysis_frames",
    "analysis_runs",
    "count_cache",
    "area_deprivation",
    "area_ethnicity",
    "area_population",
    "areas",
    "audit_log",
    "events",
    "force_outcomes",
    "ingest_batches",
    "ingest_files",
    "intel_links",
    "investigation_events",
    "involvements",
    "login_attempts",
    "lsoa_lookup",
    "metadata",
    "missing_episodes",
    "occurrences",
    "outcomes",
    "people_deselections",
    "people_tasking_members",
    "people_tasking_runs",
    "persons",
    "quarantine",
    "sessions",
    "stops",
    "survey_responses",
    "users",
    "victim_contacts",
]
