"""The access policy: a matrix from a versioned file, and live data-sharing agreements."""

from __future__ import annotations

import datetime as dt

import pytest

from peelian.casework._vocab import ACTIONS, RECORD_KINDS
from peelian.casework.policy import (
    AgreementTerms,
    Principal,
    allowed,
    load_policy,
    policy_matrix,
)
from peelian.data.accounts.users import PAGE_LEVEL, ROLES, role_allows
from peelian.errors import ParameterError

FORCE, CSP, HEALTH = 1, 2, 3
TERMS = AgreementTerms(
    7,
    frozenset({FORCE, CSP}),
    frozenset({"referral", "problem"}),
    dt.date(2026, 4, 1),
    dt.date(2027, 3, 31),
)
IN_FORCE = dt.date(2026, 6, 1)


def _p(role: str, org: int | None = FORCE, terms=()) -> Principal:
    return Principal(f"{role}1", role, org, tuple(terms))


def test_the_policy_file_covers_every_role_kind_and_action() -> None:
    policy = load_policy()
    assert len(policy) == len(ROLES) * len(RECORD_KINDS) * len(ACTIONS)
    assert len(policy_matrix()) == len(ROLES) * len(RECORD_KINDS)


def test_a_policy_file_with_a_gap_or_bad_scope_is_refused() -> None:
    header = "role,record_kind,read,create,update,close,export\n"
    with pytest.raises(ParameterError, match="no row for"):
        load_policy(header + "admin,problem,all,all,all,all,all\n")
    with pytest.raises(ParameterError, match="has scope 'maybe'"):
        load_policy(header + "admin,problem,maybe,all,all,all,all\n")
    with pytest.raises(ParameterError, match="unknown role"):
        load_policy(header + "boss,problem,all,all,all,all,all\n")


#: The expected answer for a record of another organisation (CSP's) with no agreement, per role,
#: for reading person-level referrals and aggregate problems, and reading the audit log.
EXPECTED = {
    #  role          referral  problem  audit   problem_person
    "admin": (True, True, True, True),
    "analyst": (False, True, False, True),
    "viewer": (False, True, False, False),
    "supervisor": (True, True, False, True),
    "safeguarding": (True, True, False, True),
    "partner": (False, False, False, False),
    "auditor": (False, False, True, False),
}


@pytest.mark.parametrize("role", ROLES)
def test_read_matrix_without_an_agreement(role: str) -> None:
    user = _p(role, org=HEALTH)
    record = {"organisation_id": CSP}
    got = (
        allowed(user, "read", "referral", record, IN_FORCE),
        allowed(user, "read", "problem", record, IN_FORCE),
        allowed(user, "read", "audit", None, IN_FORCE),
        allowed(user, "read", "problem_person", record, IN_FORCE),
    )
    assert got == EXPECTED[role]


def test_partner_sees_person_level_records_only_under_a_live_agreement() -> None:
    partner = _p("partner", CSP, [TERMS])
    force_referral = {"organisation_id": FORCE}
    health_referral = {"organisation_id": HEALTH}
    assert allowed(partner, "read", "referral", force_referral, IN_FORCE)
    assert not allowed(partner, "read", "referral", force_referral, dt.date(2026, 3, 31))
    assert allowed(partner, "read", "referral", force_referral, dt.date(2027, 3, 31))
    assert not allowed(partner, "read", "referral", force_referral, dt.date(2027, 4, 1))
    assert not allowed(partner, "read", "referral", health_referral, IN_FORCE)  # not a party
    assert not allowed(partner, "read", "person", force_referral, IN_FORCE)  # kind not shared
    assert not allowed(partner, "export", "referral", force_referral, IN_FORCE)
    # the same user with no agreement, or with no organisation
    assert not allowed(_p("partner", CSP), "read", "referral", force_referral, IN_FORCE)
    assert not allowed(_p("partner", None, [TERMS]), "read", "referral", None, IN_FORCE)
    # may they see the list at all?
    assert allowed(partner, "read", "referral", None, IN_FORCE)
    assert not allowed(partner, "read", "referral", None, dt.date(2025, 1, 1))


def test_own_scope_is_the_users_organisation() -> None:
    partner = _p("partner", CSP, [TERMS])
    assert allowed(partner, "update", "action", {"organisation_id": CSP}, IN_FORCE)
    assert not allowed(partner, "update", "action", {"organisation_id": FORCE}, IN_FORCE)
    assert allowed(partner, "read", "agreement", {"party_ids": [FORCE, CSP]}, IN_FORCE)
    assert not allowed(partner, "read", "agreement", {"party_ids": [FORCE, HEALTH]}, IN_FORCE)


def test_unknown_role_kind_or_action_is_refused() -> None:
    assert not allowed(_p("boss"), "read", "problem")
    assert not allowed(_p("admin"), "read", "spaceship")
    assert not allowed(_p("admin"), "delete", "problem")
    assert not allowed(_p("admin"), "update", "audit")


def test_role_allows_keeps_the_page_hierarchy() -> None:
    assert set(PAGE_LEVEL) == set(ROLES)
    assert role_allows("admin", "analyst") and role_allows("analyst", "viewer")
    assert not role_allows("viewer", "analyst") and not role_allows("analyst", "admin")
    assert role_allows("supervisor", "analyst") and role_allows("safeguarding", "analyst")
    assert not role_allows("supervisor", "admin")
    assert role_allows("auditor", "viewer") and not role_allows("auditor", "analyst")
    assert role_allows("partner", "viewer") and not role_allows("partner", "analyst")
    assert role_allows("auditor", "auditor") and role_allows("admin", "auditor")
    assert not role_allows("analyst", "auditor") and not role_allows("boss", "viewer")
