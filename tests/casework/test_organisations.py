"""Organisations and data-sharing agreements, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from peelian.casework.organisations import (
    SYSTEM,
    add_agreement,
    add_organisation,
    get_agreement,
    list_agreements,
    list_organisations,
    update_agreement,
    update_organisation,
)
from peelian.casework.policy import principal_for
from peelian.data.audit import search, verify
from peelian.errors import AuthError, ConflictError, NotFoundError, ParameterError


def _agreement(store, orgs, **kw):
    args = {
        "title": "Newcastle serious violence duty",
        "purpose": "Partnership problem solving on serious violence",
        "lawful_basis": "DPA 2018 s.35; Crime and Disorder Act 1998 s.115",
        "record_kinds": ["problem", "referral"],
        "party_ids": [orgs["force"]["id"], orgs["csp"]["id"]],
        "start_date": "2026-04-01",
        "end_date": "2027-03-31",
    }
    args.update(kw)
    return add_agreement(store, SYSTEM, **args)


def test_organisations_are_added_listed_and_audited(store, orgs) -> None:
    names = [o["name"] for o in list_organisations(store, SYSTEM)]
    assert names == ["Newcastle CSP", "Northumbria Police", "Tyneside Health"]
    assert [o["kind_label"] for o in list_organisations(store, SYSTEM, kind="csp")] == [
        "Community Safety Partnership"
    ]
    assert [o["name"] for o in list_organisations(store, SYSTEM, text="tyne")] == [
        "Tyneside Health"
    ]
    with pytest.raises(ParameterError, match="already exists"):
        add_organisation(store, SYSTEM, "Newcastle CSP", "csp")
    with pytest.raises(ParameterError, match="must be one of force, command"):
        add_organisation(store, SYSTEM, "Somewhere", "council")
    created = [e for e in search(store) if e["action"] == "organisation.create"]
    assert sorted(int(e["record_id"]) for e in created) == sorted(o["id"] for o in orgs.values())
    assert {e["username"] for e in created} == {"cli"}
    assert verify(store).ok


def test_only_admins_add_organisations(store, orgs) -> None:
    analyst = principal_for(store, "analyst1")
    with pytest.raises(AuthError, match="may not create organisations"):
        add_organisation(store, analyst, "Gateshead CSP", "csp")


def test_agreement_is_live_between_its_dates_inclusive(store, orgs) -> None:
    a = _agreement(store, orgs)
    assert a["parties"] == ["Northumbria Police", "Newcastle CSP"]
    assert a["record_kinds"] == ["problem", "referral"]
    live = {
        day: get_agreement(store, SYSTEM, a["id"], on=dt.date.fromisoformat(day))["live"]
        for day in ("2026-03-31", "2026-04-01", "2027-03-31", "2027-04-01")
    }
    assert live == {
        "2026-03-31": False,
        "2026-04-01": True,
        "2027-03-31": True,
        "2027-04-01": False,
    }
    assert list_agreements(store, SYSTEM, on=dt.date(2028, 1, 1), live_only=True) == []


def test_agreement_validation(store, orgs) -> None:
    with pytest.raises(ParameterError, match="at least two parties"):
        _agreement(store, orgs, party_ids=[orgs["force"]["id"]])
    with pytest.raises(ParameterError, match="ends .* before it starts"):
        _agreement(store, orgs, end_date="2026-01-01")
    with pytest.raises(ParameterError, match="shareable record kind"):
        _agreement(store, orgs, record_kinds=["audit"])
    with pytest.raises(ParameterError, match="lawful basis"):
        _agreement(store, orgs, lawful_basis=" ")
    with pytest.raises(NotFoundError, match="no organisation 999"):
        _agreement(store, orgs, party_ids=[orgs["force"]["id"], 999])
    assert list_agreements(store, SYSTEM) == []  # nothing half-written


def test_partner_sees_only_agreements_of_their_organisation(store, orgs) -> None:
    _agreement(store, orgs)
    _agreement(
        store,
        orgs,
        title="Health sharing",
        party_ids=[orgs["force"]["id"], orgs["health"]["id"]],
    )
    csp = principal_for(store, "csp1")
    assert [a["title"] for a in list_agreements(store, csp)] == ["Newcastle serious violence duty"]
    assert len(list_agreements(store, principal_for(store, "analyst1"))) == 2


def test_optimistic_locking_refuses_a_stale_update(store, orgs) -> None:
    a = _agreement(store, orgs)
    first = update_agreement(store, SYSTEM, a["id"], a["version"], end_date="2026-12-31")
    assert (first["version"], first["end_date"]) == (2, dt.date(2026, 12, 31))
    with pytest.raises(
        ConflictError, match="changed by someone else .* version 1; it is now version 2"
    ):
        update_agreement(store, SYSTEM, a["id"], a["version"], end_date="2027-06-30")
    assert get_agreement(store, SYSTEM, a["id"])["end_date"] == dt.date(2026, 12, 31)
    org = orgs["csp"]
    update_organisation(store, SYSTEM, org["id"], org["version"], name="Newcastle Safer City")
    with pytest.raises(ConflictError):
        update_organisation(store, SYSTEM, org["id"], org["version"], name="Other")
