"""The policy as SQL (``where_allowed``) keeps exactly the rows ``allowed`` keeps, for every role,
record kind and action, on both dialects; and the lists page and count in the database with
the same answer as the rule applied row by row."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import insert, select

from peelian.casework._vocab import ACTIONS, RECORD_KINDS
from peelian.casework.interventions import list_interventions
from peelian.casework.organisations import SYSTEM, add_agreement
from peelian.casework.policy import allowed, principal_for, where_allowed
from peelian.casework.problems import list_problems
from peelian.casework.referrals import list_referrals
from peelian.data.tables import interventions, problems, referrals

USERS = ("admin1", "analyst1", "viewer1", "super1", "safe1", "audit1", "csp1", "health1")
TODAY = dt.date(2026, 6, 1)


def _seed(store, orgs) -> None:  # type: ignore[no-untyped-def]
    force, csp, health = orgs["force"]["id"], orgs["csp"]["id"], orgs["health"]["id"]
    add_agreement(
        store,
        SYSTEM,
        title="Partnership",
        purpose="Joint problem solving",
        lawful_basis="DPA 2018 s.35",
        record_kinds=["problem", "intervention", "referral", "problem_person"],
        party_ids=[force, csp],
        start_date=TODAY - dt.timedelta(days=30),
        end_date=TODAY + dt.timedelta(days=30),
    )
    stamp = dt.datetime(2026, 5, 1, 9)
    owners = [force, csp, health, None]
    with store.begin() as conn:
        conn.execute(
            insert(problems),
            [
                {
                    "title": f"Problem {i}",
                    "focus": "place",
                    "names_people": i % 3 == 0,
                    "stage": "scanning",
                    "status": "open",
                    "organisation_id": owners[i % 4],
                    "opened_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(24)
            ],
        )
        conn.execute(
            insert(interventions),
            [
                {
                    "title": f"Intervention {i}",
                    "tier": "primary",
                    "intervention_type": "patrol",
                    "target_kind": "place",
                    "target_ref": "E01008305",
                    "start_date": TODAY - dt.timedelta(days=10 * (i % 5)),
                    "end_date": None if i % 2 else TODAY - dt.timedelta(days=5),
                    "organisation_id": owners[i % 4],
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(20)
            ],
        )
        conn.execute(
            insert(referrals),
            [
                {
                    "person_ref": f"P{i:06d}",
                    "organisation_id": [force, csp, health][i % 3],
                    "referred_by": "admin1",
                    "referred_on": TODAY - dt.timedelta(days=i),
                    "reason": "Repeat missing episodes" if i % 2 else "Knife possession",
                    "consent": "given",
                    "status": "made",
                    "created_at": stamp,
                    "updated_at": stamp,
                }
                for i in range(18)
            ],
        )


def test_where_allowed_keeps_what_allowed_keeps(store, orgs) -> None:  # type: ignore[no-untyped-def]
    _seed(store, orgs)
    c = problems.c
    with store.engine.connect() as conn:
        rows = [dict(r._mapping) for r in conn.execute(select(c.id, c.organisation_id))]
        checked = 0
        for username in USERS:
            user = principal_for(store, username)
            for kind in RECORD_KINDS:
                if kind == "agreement":
                    continue
                for action in ACTIONS:
                    q = select(c.id).where(
                        where_allowed(user, action, kind, c.organisation_id, TODAY)
                    )
                    in_sql = {int(i) for i in conn.execute(q).scalars()}
                    by_rule = {int(r["id"]) for r in rows if allowed(user, action, kind, r, TODAY)}
                    assert in_sql == by_rule, (username, kind, action)
                    checked += 1
    assert checked == len(USERS) * (len(RECORD_KINDS) - 1) * len(ACTIONS)


@pytest.mark.parametrize("username", USERS)
def test_lists_count_and_page_in_sql_as_the_rule_does(store, orgs, username) -> None:  # type: ignore[no-untyped-def]
    _seed(store, orgs)
    user = principal_for(store, username)
    if allowed(user, "read", "problem", None, TODAY) or allowed(
        user, "read", "problem_person", None, TODAY
    ):
        full = list_problems(store, SYSTEM, limit=1000, on=TODAY)["rows"]
        expect = [r["id"] for r in full if allowed(user, "read", r["record_kind"], r, TODAY)]
        got = list_problems(store, user, limit=5, offset=2, on=TODAY)
        assert got["total"] == len(expect)
        assert [r["id"] for r in got["rows"]] == expect[2:7]
    if allowed(user, "read", "intervention", None, TODAY):
        full = list_interventions(store, SYSTEM, limit=1000, on=TODAY)["rows"]
        expect = [r["id"] for r in full if allowed(user, "read", "intervention", r, TODAY)]
        got = list_interventions(store, user, limit=4, offset=1, on=TODAY)
        assert got["total"] == len(expect)
        assert [r["id"] for r in got["rows"]] == expect[1:5]
    if allowed(user, "read", "referral", None, TODAY):
        got = list_referrals(store, user, purpose="test", limit=3, on=TODAY)
        all_rows = list_referrals(store, SYSTEM, purpose="test", limit=1000, on=TODAY)["rows"]
        scope_all = username in ("admin1", "super1", "safe1")
        expect = [
            r["id"] for r in all_rows if scope_all or r["organisation_id"] == user.organisation_id
        ]
        assert got["total"] == len(expect)
        assert [r["id"] for r in got["rows"]] == expect[:3]


def test_new_filters_are_applied_in_the_database(store, orgs) -> None:  # type: ignore[no-untyped-def]
    _seed(store, orgs)
    ended = list_interventions(store, SYSTEM, status="ended", on=TODAY, limit=1000)
    assert ended["total"] == 10 and all(r["end_date"] < TODAY for r in ended["rows"])
    active = list_interventions(store, SYSTEM, status="active", on=TODAY, limit=1000)
    assert active["total"] == 10
    # running on some day of the range: started by its end, not ended before its start
    window = list_interventions(
        store, SYSTEM, active_from=TODAY - dt.timedelta(days=3), active_to=TODAY, limit=1000
    )
    assert window["total"] == 10 and all(r["end_date"] is None for r in window["rows"])
    recent = list_referrals(
        store,
        SYSTEM,
        purpose="test",
        referred_from=TODAY - dt.timedelta(days=5),
        referred_to=TODAY - dt.timedelta(days=1),
        text="KNIFE",
        limit=1000,
    )
    assert sorted((TODAY - r["referred_on"]).days for r in recent["rows"]) == [2, 4]
    assert recent["total"] == 2


@pytest.mark.parametrize("username", ["analyst1", "csp1"])
def test_worklist_counts_all_and_shows_the_oldest(store, orgs, username) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from peelian.casework.problems import overdue

    _seed(store, orgs)
    with store.begin() as conn:  # problem i is overdue by i + 1 days
        for i in range(1, 25):
            conn.execute(
                update(problems)
                .where(problems.c.id == i)
                .values(review_date=TODAY - dt.timedelta(days=i + 1))
            )
    user = principal_for(store, username)
    every = overdue(store, SYSTEM, on=TODAY)["reviews"]
    assert len(every) == 24
    mine = [r for r in every if allowed(user, "read", r["record_kind"], r, TODAY)]
    work = overdue(store, user, on=TODAY, limit=3)
    assert work["reviews_total"] == len(mine) and work["actions_total"] == 0
    assert [r["id"] for r in work["reviews"]] == [r["id"] for r in mine[:3]]
    assert work["reviews"][0]["days_overdue"] == max(r["days_overdue"] for r in mine)
