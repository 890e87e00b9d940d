"""RFG / RFGV and MATAC with known answers on hand-built frames: each component, the band edges,
and the MATAC boundaries (the 16th birthday on the as-of date, a record exactly 3 years before,
one victim twice)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from peelian.analysis.people import (
    ages_on,
    band_points,
    load_cohorts,
    load_matrix,
    prioritise,
    rfg_scores,
    select_cohort,
    window_start,
)
from peelian.errors import ParameterError

AS_OF = dt.date(2026, 5, 1)
MATRIX = load_matrix()
MATAC = load_cohorts()["matac"]


def _occ(rows: list[tuple[str, str, str, bool]]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "crime_ref": c,
                "reported_at": pd.Timestamp(t),
                "ho_code": ho,
                "domestic_abuse": da,
                "lsoa_code": "E01000001",
            }
            for c, t, ho, da in rows
        ]
    ).astype({"domestic_abuse": "boolean"})


def _inv(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["crime_ref", "person_ref", "role"])


def _persons(rows: list[tuple[str, object]]) -> pd.DataFrame:
    out = pd.DataFrame(rows, columns=["person_ref", "birth_date"])
    out["birth_date"] = pd.to_datetime(out["birth_date"])
    out["birth_year"] = out["birth_date"].dt.year.astype("Int64")
    return out


def test_window_is_calendar_years_both_ends_included() -> None:
    assert window_start(AS_OF, years=3) == dt.date(2023, 5, 1)
    assert window_start(dt.date(2024, 2, 29), years=3) == dt.date(2021, 2, 28)
    assert window_start(dt.date(2026, 3, 31), months=1) == dt.date(2026, 2, 28)
    assert window_start(dt.date(2026, 1, 15), months=12) == dt.date(2025, 1, 15)


def test_band_edges_of_the_shipped_matrix() -> None:
    rec = np.array([0, 28, 29, 91, 92, 182, 183, 365, 366, 1096, 1097])
    assert band_points(rec, MATRIX.recency, upper=True).tolist() == [
        5,
        5,
        4,
        4,
        3,
        3,
        2,
        2,
        1,
        1,
        0,
    ]
    assert band_points(np.array([0, 1, 2, 3, 4, 5, 9]), MATRIX.frequency).tolist() == [
        0,
        1,
        2,
        3,
        4,
        5,
        5,
    ]
    harm = np.array([0, 0.5, 1, 29.9, 30, 179, 180, 364, 365, 1824, 1825])
    assert band_points(harm, MATRIX.gravity).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5]
    assert band_points(np.array([0, 1, 2, 6]), MATRIX.victims).tolist() == [0, 1, 2, 5]


def test_each_component_of_one_score() -> None:
    # one person, three records: newest 30 days before the as-of date; harm 365 + 10 + 10;
    # victims V1 (twice) and V2, and the person themself named as a victim on one (not counted)
    records = pd.DataFrame(
        {
            "person_ref": ["P"] * 3,
            "crime_ref": ["C1", "C2", "C3"],
            "reported_at": pd.to_datetime(["2026-04-01", "2025-06-01", "2024-01-01"]),
            "ho_code": ["8N", "105A", "8L"],
        }
    )
    victims = _inv(
        [
            ("C1", "V1", "victim"),
            ("C2", "V1", "victim"),
            ("C3", "V2", "victim"),
            ("C3", "P", "victim"),
        ]
    )[["crime_ref", "person_ref"]]
    row = rfg_scores(records, victims, AS_OF, MATRIX).iloc[0]
    assert row["days_since_last"] == 30 and row["recency"] == 4  # 29..91 days: 4
    assert row["record_count"] == 3 and row["frequency"] == 3
    assert row["harm"] == pytest.approx(385.0) and row["gravity"] == 4  # 365..1824: 4
    assert row["victim_count"] == 2 and row["victims"] == 2
    assert row["score"] == 4 + 3 + 4 + 2
    assert row["crime_refs"] == ["C1", "C2", "C3"]
    assert str(row["first_record"]) == "2024-01-01" and str(row["last_record"]) == "2026-04-01"
    rfg = rfg_scores(records, victims, AS_OF, MATRIX, method="rfg").iloc[0]
    assert rfg["score"] == 4 + 3 + 4 and rfg["victims"] == 2  # shown, not added


def test_an_unweighted_code_adds_no_harm_and_is_counted() -> None:
    records = pd.DataFrame(
        {
            "person_ref": ["P", "P"],
            "crime_ref": ["C1", "C2"],
            "reported_at": pd.to_datetime(["2026-05-01", "2026-04-30"]),
            "ho_code": ["8N", "ZZZ"],
        }
    )
    row = rfg_scores(
        records, pd.DataFrame(columns=["crime_ref", "person_ref"]), AS_OF, MATRIX
    ).iloc[0]
    assert row["harm"] == 365.0 and row["unweighted_records"] == 1 and row["record_count"] == 2
    assert row["days_since_last"] == 0 and row["recency"] == 5


def test_records_after_the_as_of_date_are_refused() -> None:
    records = pd.DataFrame(
        {
            "person_ref": ["P"],
            "crime_ref": ["C1"],
            "reported_at": pd.to_datetime(["2026-05-02"]),
            "ho_code": ["8N"],
        }
    )
    with pytest.raises(ParameterError, match="after the as-of date"):
        rfg_scores(records, pd.DataFrame(columns=["crime_ref", "person_ref"]), AS_OF, MATRIX)


def test_ages_on_the_as_of_date() -> None:
    p = _persons([("B16", "2010-05-01"), ("B15", "2010-05-02")])
    a = ages_on(p, AS_OF).set_index("person_ref")
    assert a.loc["B16", "age_low"] == 16 and a.loc["B15", "age_high"] == 15
    by_year = ages_on(pd.DataFrame({"person_ref": ["Y"], "birth_year": [2010]}), AS_OF)
    assert by_year[["age_low", "age_high"]].values.tolist() == [[15, 16]]


def _matac_case() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    occ = _occ(
        [
            ("A1", "2026-04-20 10:00", "8N", True),  # A: two records, two victims -> MATAC
            ("A2", "2024-01-10 09:00", "105A", True),
            ("B1", "2026-03-01 12:00", "8N", True),  # B: one victim twice -> not MATAC
            ("B2", "2025-03-01 12:00", "8N", True),
            ("T1", "2023-05-01 00:05", "105A", True),  # T: first record exactly 3 years before
            ("T2", "2025-10-01 08:00", "105A", True),
            ("U1", "2023-04-30 23:55", "105A", True),  # U: first record one day too early
            ("U2", "2025-10-02 08:00", "105A", True),
            ("Y1", "2026-01-01 08:00", "8N", True),  # Y: 16th birthday on the as-of date
            ("Y2", "2026-02-01 08:00", "8N", True),
            ("Z1", "2026-01-01 09:00", "8N", True),  # Z: 16 the day after the as-of date
            ("Z2", "2026-02-01 09:00", "8N", True),
            ("N1", "2026-01-01 10:00", "8N", False),  # N: not domestic abuse
            ("N2", "2026-02-01 10:00", "8N", False),
            ("W1", "2026-01-05 10:00", "8N", True),  # W: a witness only
            ("W2", "2026-02-05 10:00", "8N", True),
            ("F1", "2026-05-02 00:01", "8N", True),  # F: after the as-of date
            ("F2", "2026-05-01 23:59", "8N", True),
        ]
    )
    rows = [
        ("A1", "A", "suspect"),
        ("A1", "V1", "victim"),
        ("A2", "A", "offender"),
        ("A2", "V2", "victim"),
        ("B1", "B", "suspect"),
        ("B1", "V3", "victim"),
        ("B2", "B", "suspect"),
        ("B2", "V3", "victim"),
        ("T1", "T", "suspect"),
        ("T1", "V4", "victim"),
        ("T2", "T", "suspect"),
        ("T2", "V5", "victim"),
        ("U1", "U", "suspect"),
        ("U1", "V6", "victim"),
        ("U2", "U", "suspect"),
        ("U2", "V7", "victim"),
        ("Y1", "Y", "suspect"),
        ("Y1", "V8", "victim"),
        ("Y2", "Y", "suspect"),
        ("Y2", "V9", "victim"),
        ("Z1", "Z", "suspect"),
        ("Z1", "V8", "victim"),
        ("Z2", "Z", "suspect"),
        ("Z2", "V9", "victim"),
        ("N1", "N", "suspect"),
        ("N1", "V1", "victim"),
        ("N2", "N", "suspect"),
        ("N2", "V2", "victim"),
        ("W1", "W", "witness"),
        ("W1", "V1", "victim"),
        ("W2", "W", "witness"),
        ("W2", "V2", "victim"),
        ("F1", "F", "suspect"),
        ("F1", "V1", "victim"),
        ("F2", "F", "suspect"),
        ("F2", "V2", "victim"),
    ]
    persons = _persons(
        [
            ("A", "1990-01-01"),
            ("B", "1985-06-01"),
            ("T", "1980-01-01"),
            ("U", "1980-01-01"),
            ("Y", "2010-05-01"),
            ("Z", "2010-05-02"),
            ("N", "1990-01-01"),
            ("W", "1990-01-01"),
            ("F", "1990-01-01"),
        ]
    )
    return occ, _inv(rows), persons


def test_matac_boundaries() -> None:
    occ, inv, persons = _matac_case()
    sel = select_cohort(MATAC, inv, occ, persons, AS_OF)
    assert sorted(sel.members["person_ref"]) == ["A", "T", "Y"]
    why = sel.candidates.set_index("person_ref")["why_not"]
    assert why["B"] == "fewer than 2 different victims on the qualifying records"
    assert why["U"] == "fewer than 2 qualifying records in the window"
    assert why["Z"] == "under 16 on the as-of date"
    assert why["F"] == "fewer than 2 qualifying records in the window"  # F1 is after as-of
    assert "N" not in why.index and "W" not in why.index  # no qualifying record at all
    assert sel.windows == [{"rule": 1, "from": dt.date(2023, 5, 1), "to": AS_OF}]


def test_matac_with_birth_year_only_counts_the_uncertain() -> None:
    occ, inv, persons = _matac_case()
    persons = persons.drop(columns=["birth_date"])
    sel = select_cohort(MATAC, inv, occ, persons, AS_OF)
    assert sorted(sel.members["person_ref"]) == ["A", "T"]
    assert sel.excluded["age uncertain: may be under 16 (birth year only)"] == 2  # Y and Z


def test_the_matac_list_scores_every_member() -> None:
    occ, inv, persons = _matac_case()
    plist = prioritise(select_cohort(MATAC, inv, occ, persons, AS_OF), MATRIX)
    a = plist.active.set_index("person_ref").loc["A"]
    # A: newest 2026-04-20 (11 days: 5), 2 records (2), harm 365 + 10 = 375 (4), 2 victims (2)
    assert (a["recency"], a["frequency"], a["gravity"], a["victims"]) == (5, 2, 4, 2)
    assert a["score"] == 13 and a["rank"] == 1
    assert list(plist.active["rank"]) == [1, 2, 3]


def test_a_recorded_deselection_takes_a_member_off_and_says_why() -> None:
    occ, inv, persons = _matac_case()
    des = pd.DataFrame(
        {
            "id": [7],
            "person_ref": ["A"],
            "cohort": [None],
            "reason": ["custody"],
            "start_date": [dt.date(2026, 4, 25)],
            "end_date": [None],
        }
    )
    plist = prioritise(select_cohort(MATAC, inv, occ, persons, AS_OF), MATRIX, des)
    assert "A" not in set(plist.active["person_ref"])
    gone = plist.deselected.set_index("person_ref").loc["A"]
    assert gone["reason"] == "custody" and gone["deselection_id"] == 7
    assert gone["reason_label"] == "In custody (recorded, from 2026-04-25)"
    # ended the day before the as-of date: back on the list
    des["end_date"] = [dt.date(2026, 4, 30)]
    plist = prioritise(select_cohort(MATAC, inv, occ, persons, AS_OF), MATRIX, des)
    assert "A" in set(plist.active["person_ref"])
