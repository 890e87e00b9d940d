"""What each force table accepts from a mapping: field types, required fields, keys, references.

Field types: ``str``, ``code`` (Home Office offence code), ``datetime``, ``date``, ``float``,
``int``, ``bool``, ``lsoa``, ``list`` (';'-joined tokens) and ``enum`` (one of a fixed set, after
the mapping's value map).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peelian.offences import BOOLEAN_FLAG_COLUMNS

__all__ = ["TARGETS", "Target"]

_FLAGS = BOOLEAN_FLAG_COLUMNS


@dataclass(frozen=True)
class Target:
    """A force table as a mapping target."""

    table: str
    fields: dict[str, str]
    required: tuple[str, ...]
    key: str | None = None  # unique per force (duplicates in a file are quarantined)
    replace_key: str | None = None  # what ``replace: by_key`` replaces on
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    references: tuple[tuple[str, str], ...] = ()  # (field, "crime" | "person" | "address" | ...)
    ranges: dict[str, tuple[float, float]] = field(default_factory=dict)


TARGETS: dict[str, Target] = {
    t.table: t
    for t in (
        Target(
            "addresses",
            {"address_ref": "str", "easting": "float", "northing": "float", "lsoa_code": "lsoa"},
            required=("address_ref",),
            key="address_ref",
            replace_key="address_ref",
        ),
        Target(
            "persons",
            {
                "person_ref": "str",
                "birth_year": "int",
                "age_band": "str",
                "sex": "enum",
                "ethnicity": "enum",
            },
            required=("person_ref",),
            key="person_ref",
            replace_key="person_ref",
            enums={
                "sex": ("M", "F", "U"),
                "ethnicity": ("White", "Asian", "Black", "Mixed", "Other"),
            },
            ranges={"birth_year": (1900, 2100)},
        ),
        Target(
            "occurrences",
            {
                "crime_ref": "str",
                "ho_code": "code",
                "offence_description": "str",
                "reported_at": "datetime",
                "committed_from": "datetime",
                "committed_to": "datetime",
                "easting": "float",
                "northing": "float",
                "lsoa_code": "lsoa",
                **dict.fromkeys(_FLAGS, "bool"),
                "hate_strands": "list",
            },
            required=("crime_ref", "ho_code", "reported_at"),
            key="crime_ref",
            replace_key="crime_ref",
        ),
        Target(
            "involvements",
            {"crime_ref": "str", "person_ref": "str", "role": "enum"},
            required=("crime_ref", "person_ref", "role"),
            replace_key="crime_ref",
            enums={"role": ("victim", "suspect", "offender", "witness")},
            references=(("crime_ref", "crime"), ("person_ref", "person")),
        ),
        Target(
            "investigation_events",
            {"crime_ref": "str", "person_ref": "str", "event_type": "enum", "event_at": "datetime"},
            required=("crime_ref", "event_type", "event_at"),
            replace_key="crime_ref",
            enums={
                "event_type": (
                    "arrest",
                    "interview",
                    "charge",
                    "bail",
                    "rui",
                    "nfa",
                    "not_investigated",
                )
            },
            references=(("crime_ref", "crime"), ("person_ref", "person")),
        ),
        Target(
            "force_outcomes",
            {"crime_ref": "str", "outcome_code": "int", "outcome_date": "date"},
            required=("crime_ref", "outcome_code"),
            replace_key="crime_ref",
            references=(("crime_ref", "crime"),),
            ranges={"outcome_code": (1, 22)},
        ),
        Target(
            "victim_contacts",
            {
                "crime_ref": "str",
                "person_ref": "str",
                "contact_at": "datetime",
                "channel": "enum",
                "contact_by": "str",
                "purpose": "enum",
                "enhanced_rights": "bool",
            },
            required=("crime_ref", "contact_at"),
            replace_key="crime_ref",
            enums={
                "channel": ("phone", "email", "visit", "letter", "sms"),
                "purpose": ("initial", "update", "outcome", "referral"),
            },
            references=(("crime_ref", "crime"), ("person_ref", "person")),
        ),
        Target(
            "missing_episodes",
            {
                "episode_ref": "str",
                "person_ref": "str",
                "reported_missing_at": "datetime",
                "found_at": "datetime",
                "risk_level": "enum",
                "found_easting": "float",
                "found_northing": "float",
            },
            required=("episode_ref", "person_ref", "reported_missing_at"),
            key="episode_ref",
            replace_key="episode_ref",
            enums={"risk_level": ("low", "medium", "high")},
            references=(("person_ref", "person"),),
        ),
        Target(
            "intel_links",
            {
                "from_ref": "str",
                "to_ref": "str",
                "to_kind": "enum",
                "link_type": "enum",
                "since_date": "date",
                "note": "str",
            },
            required=("from_ref", "to_ref", "to_kind", "link_type"),
            replace_key="from_ref",
            enums={
                "to_kind": ("person", "address"),
                "link_type": (
                    "associate",
                    "cooffender",
                    "exploits",
                    "resides",
                    "cuckooed",
                    "supplies",
                ),
            },
            references=(("from_ref", "person"), ("to_ref", "person_or_address")),
        ),
    )
}
