"""The demo caseload's SYNTHETIC interventions and referrals: three tiers, all eight types, at
the hotspot areas, aimed at real persons of the synthetic force records, referred to partners
with consent, statuses and outcomes; labelled, audited, made once."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).parents[1] / "web"))  # the web tests' seeded store
from web_seed import lsoas, seed_all

from peelian.casework.demo import seed_caseload
from peelian.casework.demo_interventions import NOTE, PLAN
from peelian.casework.interventions import get_intervention, list_interventions
from peelian.casework.organisations import SYSTEM
from peelian.casework.referrals import export_referrals
from peelian.data.audit import AuditFilter, search, verify
from peelian.data.tables import (
    ingest_files,
    involvements,
    occurrences,
    persons,
    problems,
)

TODAY = dt.date(2022, 1, 15)


def _synthetic_force(store: Any) -> None:
    """Synthetic persons involved in synthetic crimes in every seeded LSOA: offenders and
    victims in 2020 (before the interventions), and one crime in December 2021 (the last)."""
    with store.engine.connect() as conn:
        file_id = conn.execute(select(ingest_files.c.id).limit(1)).scalar_one()
    occ, inv, per = [], [], []
    for i, area in enumerate(lsoas()):
        for j, (role, month) in enumerate((("offender", 2), ("victim", 3), ("suspect", 4))):
            ref, crime = f"SYN-P{i:03d}{j}", f"SYN-C{i:03d}{j}"
            at = dt.datetime(2020, month, 10 + i % 15, 21, 30)
            occ.append(
                {
                    "force": "northumbria",
                    "crime_ref": crime,
                    "ho_code": "8N",
                    "policeuk_category": "violent-crime",
                    "reported_at": at,
                    "month": at.strftime("%Y-%m"),
                    "lsoa_code": area["code"],
                    "time_precision": "minute",
                    "location_precision": "exact",
                    "synthetic": True,
                    "file_id": file_id,
                    "row_number": len(occ) + 1,
                }
            )
            inv.append(
                {
                    "force": "northumbria",
                    "crime_ref": crime,
                    "person_ref": ref,
                    "role": role,
                    "file_id": file_id,
                    "row_number": len(inv) + 1,
                }
            )
            per.append(
                {
                    "force": "northumbria",
                    "person_ref": ref,
                    "birth_year": 2004,
                    "sex": "M",
                    "synthetic": True,
                    "file_id": file_id,
                    "row_number": len(per) + 1,
                }
            )
    last = dict(occ[0], crime_ref="SYN-LAST", reported_at=dt.datetime(2021, 12, 20, 12))
    occ.append(dict(last, month="2021-12", row_number=len(occ) + 1))
    with store.begin() as conn:
        conn.execute(insert(occurrences), occ)
        conn.execute(insert(involvements), inv)
        conn.execute(insert(persons), per)


@pytest.fixture
def caseload(store) -> dict[str, Any]:
    seed_all(store)
    _synthetic_force(store)
    return seed_caseload(store, today=TODAY)


def test_interventions_cover_every_tier_and_type_at_the_hotspots(store, caseload) -> None:
    assert caseload["interventions"] == len(PLAN) == 14
    assert caseload["tiers"] == ["primary", "secondary", "tertiary"]
    assert len(caseload["types"]) == 8
    assert caseload["target_kinds"] == ["family", "group", "person", "place"]
    assert caseload["persons_from"] == "synthetic force records of crimes in the hotspot areas"
    # dated inside the synthetic window: last record 2021-12-20, less 180 days, less up to 400
    assert caseload["dated_from"] == "2020-05-19"
    rows = list_interventions(store, SYSTEM, on=TODAY)["rows"]
    assert len(rows) == 14 and all(r["title"].startswith("Demo:") for r in rows)
    assert all(r["description"] == NOTE for r in rows)
    assert all(r["funding_source"].endswith("(synthetic demo)") for r in rows)
    with store.engine.connect() as conn:
        places = {
            (int(r.id), r.area_code)
            for r in conn.execute(
                select(problems.c.id, problems.c.area_code).where(problems.c.focus == "place")
            )
        }
        synthetic = {
            r.person_ref: r.lsoa_code
            for r in conn.execute(
                select(involvements.c.person_ref, occurrences.c.lsoa_code).join(
                    occurrences, occurrences.c.crime_ref == involvements.c.crime_ref
                )
            )
        }
    hot_lsoas = {lsoa for _, lsoa in places}
    for r in rows:
        if r["target_kind"] == "place":
            assert r["target_ref"] in hot_lsoas or r["target_ref"] in {
                f"problem:{pid}" for pid, _ in places
            }
            assert r["problem_id"] in {pid for pid, _ in places}
        if r["personal"]:
            shown = get_intervention(store, SYSTEM, r["id"], purpose="demo check")
            assert synthetic[shown["target_ref"]] in hot_lsoas  # a real synthetic person there
    active = [r for r in rows if r["active"]]
    assert 0 < len(active) < 14


def test_referrals_to_partners_with_consent_statuses_and_outcomes(store, caseload) -> None:
    assert caseload["referrals"] == 9
    assert caseload["referral_statuses"] == {
        "closed": 3,
        "in_progress": 2,
        "accepted": 2,
        "declined": 1,
        "made": 1,
    }
    rows = export_referrals(store, SYSTEM, purpose="demo check")
    assert len(rows) == 9 and all(r["reason"].endswith("(synthetic demo)") for r in rows)
    assert all(r["person_ref"].startswith("SYN-P") for r in rows)
    assert {r["consent"] for r in rows} == {"given", "not_sought", "refused"}
    assert all(r["consent_note"] for r in rows if r["consent"] != "given")
    assert all(r["outcome"] for r in rows if r["status"] in ("closed", "declined"))
    assert "Northumbria Police" not in {r["organisation"] for r in rows}  # to partners
    assert all(r["intervention_id"] for r in rows)
    assert all(r["referred_on"] <= TODAY for r in rows)
    creates = search(store, AuditFilter(action="referral.create"))
    assert len(creates) == 9 and {e["purpose"] for e in creates} == {
        "demo caseload set-up (synthetic)"
    }
    assert verify(store).ok


def test_made_once(store, caseload) -> None:
    again = seed_caseload(store, today=TODAY)
    assert (again["interventions"], again["interventions_created"]) == (14, False)
    assert again["referral_statuses"] == caseload["referral_statuses"]
    assert len(list_interventions(store, SYSTEM, on=TODAY)["rows"]) == 14
