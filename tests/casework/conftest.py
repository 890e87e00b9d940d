"""Casework fixtures: a force, a CSP and a health trust, with users of every role."""

from __future__ import annotations

from typing import Any

import pytest

from peelian.casework.organisations import SYSTEM, add_organisation, assign_user
from peelian.data.accounts.users import add_user

PASSWORD = "a long test passphrase"


@pytest.fixture
def orgs(store) -> dict[str, Any]:
    force = add_organisation(store, SYSTEM, "Northumbria Police", "force")
    csp = add_organisation(store, SYSTEM, "Newcastle CSP", "csp")
    health = add_organisation(store, SYSTEM, "Tyneside Health", "health")
    for username, role, org in (
        ("admin1", "admin", force),
        ("analyst1", "analyst", force),
        ("viewer1", "viewer", force),
        ("super1", "supervisor", force),
        ("safe1", "safeguarding", force),
        ("audit1", "auditor", force),
        ("csp1", "partner", csp),
        ("health1", "partner", health),
    ):
        add_user(store, username, PASSWORD, role)
        assign_user(store, SYSTEM, username, org["id"])
    return {"force": force, "csp": csp, "health": health}
