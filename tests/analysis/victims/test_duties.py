"""Victims' Code duties with known answers: deadlines, enhanced rights, each status."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from peelian.analysis.victims.compliance import compliance_rates, compliance_trend, trend_test
from peelian.analysis.victims.duties import DUTY_COLUMNS, compute_duties
from peelian.casework.victims import load_rules

TS = pd.Timestamp


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    occ = pd.DataFrame(
        {
            "crime_ref": ["A", "B", "C", "D"],
            "reported_at": [
                TS("2022-06-01 10:00"),
                TS("2022-12-23 09:00"),
                TS("2023-01-09 11:00"),
                TS("2023-01-03 08:00"),
            ],
            "ho_code": ["28E", "8N", "58A", "8N"],
            "policeuk_category": [
                "Burglary",
                "Violence and sexual offences",
                "Criminal damage and arson",
                "Violence and sexual offences",
            ],
            "domestic_abuse": pd.array([False, False, False, True], dtype="boolean"),
            "hate_strands": [None, None, None, None],
            "lsoa_code": ["E01000001"] * 4,
        }
    )
    victims = pd.DataFrame(
        {"crime_ref": ["A", "B", "C", "D", "X"], "person_ref": ["V1", "V2", "V3", "V4", "V9"]}
    )
    events = pd.DataFrame(
        {"crime_ref": ["A"], "event_type": ["ARREST"], "event_at": [TS("2022-09-16 09:00")]}
    )
    outcomes = pd.DataFrame({"crime_ref": [], "outcome_date": []})
    contacts = pd.DataFrame(
        {
            "crime_ref": ["A", "A", "A", "B", "D"],
            "person_ref": ["V1", "V1", "V1", "V2", None],
            "contact_at": [
                TS("2022-06-01 12:00"),
                TS("2022-06-06 10:00"),
                TS("2022-09-27 10:00"),
                TS("2022-12-29 15:00"),
                TS("2023-01-04 10:00"),
            ],
            "channel": ["phone", "Email", "phone", "visit", "phone"],
            "contact_by": ["C1", "C1", "C2", "C3", "C4"],
            "purpose": ["initial", "referral", "UPDATE", "initial", "initial"],
            "enhanced_rights": pd.array([False, False, None, True, None], dtype="boolean"),
        }
    )
    return compute_duties(
        victims=victims,
        occurrences=occ,
        events=events,
        outcomes=outcomes,
        contacts=contacts,
        rules=load_rules("2020"),
        as_at=dt.date(2023, 1, 10),
    )


def _row(result, crime: str, duty: str, n: int = 0) -> dict:  # type: ignore[no-untyped-def]
    d = result.duties
    sel = d[(d["crime_ref"] == crime) & (d["duty"] == duty)].sort_values("trigger_at")
    return sel.iloc[n].to_dict()


def test_output_contract(result) -> None:  # type: ignore[no-untyped-def]
    assert tuple(result.duties.columns) == DUTY_COLUMNS
    assert result.not_assessed == {"victims of crimes not in the occurrences": 1}
    assert any("Working days" in f for f in result.flags)


def test_standard_deadlines_over_the_2022_jubilee_and_state_funeral(result) -> None:  # type: ignore[no-untyped-def]
    ack = _row(result, "A", "acknowledgement")
    # Wed 1 June 2022 + 5 working days (Thu 2 and Fri 3 June bank holidays): Fri 10 June
    assert (ack["status"], ack["due"].date()) == ("met_on_time", dt.date(2022, 6, 10))
    ref = _row(result, "A", "referral")  # 2 working days after Wed 1 June 2022: Tue 7 June
    assert (ref["status"], ref["due"].date(), ref["working_days"]) == (
        "met_on_time",
        dt.date(2022, 6, 7),
        2,
    )
    arrest = _row(result, "A", "arrest")  # Fri 16 Sep + 5 over the funeral: Mon 26 Sep
    assert (arrest["due"].date(), arrest["status"], arrest["working_days_late"]) == (
        dt.date(2022, 9, 26),
        "met_late",
        1,
    )
    assert arrest["officer"] == "C2" and not arrest["enhanced"]


def test_enhanced_rights_over_christmas_and_new_year(result) -> None:  # type: ignore[no-untyped-def]
    ack = _row(result, "B", "acknowledgement")  # Fri 23 Dec 2022 + 1 working day: Wed 28
    assert ack["enhanced"] and ack["enhanced_source"] == "recorded"
    assert (ack["due"].date(), ack["working_days"], ack["status"], ack["working_days_late"]) == (
        dt.date(2022, 12, 28),
        1,
        "met_late",
        1,
    )
    ref = _row(result, "B", "referral")  # 2 working days: Thu 29 Dec; never made
    assert (ref["due"].date(), ref["status"]) == (dt.date(2022, 12, 29), "overdue")
    # overdue as at Tue 10 Jan 2023: 30 Dec, 3-6 Jan (2 Jan a bank holiday), 9, 10 Jan
    assert ref["working_days_late"] == 7


def test_not_yet_due_and_derived_enhanced_rights(result) -> None:  # type: ignore[no-untyped-def]
    ack = _row(result, "C", "acknowledgement")  # Mon 9 Jan + 5: Mon 16 Jan
    assert (ack["due"].date(), ack["status"], ack["working_days_late"]) == (
        dt.date(2023, 1, 16),
        "not_yet_due",
        0,
    )
    # D: no flag recorded, domestic abuse -> enhanced (derived); contact without a person counts
    d = _row(result, "D", "acknowledgement")
    assert d["enhanced_source"] == "derived" and d["working_days"] == 1
    assert (d["due"].date(), d["status"]) == (dt.date(2023, 1, 4), "met_on_time")


def test_updates_at_the_agreed_frequency(result) -> None:  # type: ignore[no-untyped-def]
    rows = [_row(result, "A", "agreed_update", n) for n in range(3)]
    assert [(r["due"].date(), r["status"]) for r in rows] == [
        (dt.date(2022, 6, 29), "met_on_time"),
        (dt.date(2022, 7, 4), "met_late"),
        (dt.date(2022, 10, 25), "overdue"),
    ]
    assert rows[0]["update_every_source"] == "default" and rows[0]["update_every_days"] == 28


def test_an_update_after_the_next_event_does_not_meet_the_earlier_one() -> None:
    occ = pd.DataFrame(
        {
            "crime_ref": ["A"],
            "reported_at": [TS("2022-03-01 10:00")],
            "ho_code": ["28E"],
            "policeuk_category": ["Burglary"],
        }
    )
    events = pd.DataFrame(
        {
            "crime_ref": ["A"] * 3,
            "event_type": ["arrest", "interview", "bail"],
            "event_at": [TS("2022-03-02 22:00"), TS("2022-03-03 08:00"), TS("2022-03-20 10:00")],
        }
    )
    contacts = pd.DataFrame(
        {
            "crime_ref": ["A"],
            "person_ref": ["V"],
            "contact_at": [TS("2022-03-21 10:00")],
            "channel": ["phone"],
            "contact_by": ["C1"],
            "purpose": ["update"],
            "enhanced_rights": pd.array([False], dtype="boolean"),
        }
    )
    r = compute_duties(
        victims=pd.DataFrame({"crime_ref": ["A"], "person_ref": ["V"]}),
        occurrences=occ,
        events=events,
        outcomes=pd.DataFrame({"crime_ref": [], "outcome_date": []}),
        contacts=contacts,
        rules=load_rules("2020"),
        as_at=dt.date(2022, 4, 1),
    )
    got = {k: _row(r, "A", k)["status"] for k in ("arrest", "interview", "bail")}
    assert got == {"arrest": "overdue", "interview": "overdue", "bail": "met_on_time"}


def test_compliance_rates_and_trend(result) -> None:  # type: ignore[no-untyped-def]
    by = compliance_rates(result.duties, ["duty"]).set_index("duty")
    ack = by.loc["acknowledgement"]
    # A and D on time, B late, C not yet due
    assert (ack["due"], ack["on_time"], ack["late"], ack["not_yet_due"]) == (3, 2, 1, 1)
    assert round(ack["rate"], 4) == 0.6667
    assert (round(ack["low"], 4), round(ack["high"], 4)) == (0.0943, 0.9916)
    trend = compliance_trend(result.duties)
    assert list(trend["month"])[:2] == ["2022-06", "2022-07"]
    t = trend_test([90, 80, 70, 60, 50], [100] * 5)
    assert (
        t.direction == "falling" and t.p_value < 1e-6 and round(t.z, 2) == -6.90
    )  # -100 / sqrt(0.21 x 1000)
