"""A small force of people for the people lists' store, CLI and web tests (synthetic).

As of 2022-06-30 the MATAC rule selects P-A (two domestic abuse records against V-1 and V-2,
born 1990) and P-T (first record exactly 3 years before, 2019-06-30) only; P-B has one victim
twice, P-Y may be under 16 (born 2006, birth year only), P-U's first record is a day too early.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import insert

from peelian.data.tables import ingest_batches, ingest_files, involvements, occurrences, persons

AS_OF = dt.date(2022, 6, 30)
MATAC_PEOPLE = ["P-A", "P-T"]

_OCC = [  # crime_ref, reported_at, ho_code, domestic_abuse
    ("C-A1", "2022-06-20 10:00:00", "8N", True),
    ("C-A2", "2021-01-10 09:00:00", "105A", True),
    ("C-B1", "2022-03-01 12:00:00", "8N", True),
    ("C-B2", "2021-03-01 12:00:00", "8N", True),
    ("C-T1", "2019-06-30 00:05:00", "105A", True),
    ("C-T2", "2021-10-01 08:00:00", "105A", True),
    ("C-U1", "2019-06-29 23:55:00", "105A", True),
    ("C-U2", "2021-10-02 08:00:00", "105A", True),
    ("C-Y1", "2022-01-01 08:00:00", "8N", True),
    ("C-Y2", "2022-02-01 08:00:00", "8N", True),
]
_INV = [
    ("C-A1", "P-A", "suspect"),
    ("C-A1", "V-1", "victim"),
    ("C-A2", "P-A", "offender"),
    ("C-A2", "V-2", "victim"),
    ("C-B1", "P-B", "suspect"),
    ("C-B1", "V-3", "victim"),
    ("C-B2", "P-B", "suspect"),
    ("C-B2", "V-3", "victim"),
    ("C-T1", "P-T", "suspect"),
    ("C-T1", "V-4", "victim"),
    ("C-T2", "P-T", "suspect"),
    ("C-T2", "V-5", "victim"),
    ("C-U1", "P-U", "suspect"),
    ("C-U1", "V-6", "victim"),
    ("C-U2", "P-U", "suspect"),
    ("C-U2", "V-7", "victim"),
    ("C-Y1", "P-Y", "suspect"),
    ("C-Y1", "V-8", "victim"),
    ("C-Y2", "P-Y", "suspect"),
    ("C-Y2", "V-9", "victim"),
]
_PERSONS = [
    ("P-A", 1990, "M", "White"),
    ("P-B", 1985, "M", "White"),
    ("P-T", 1980, "F", "Asian"),
    ("P-U", 1980, "M", "White"),
    ("P-Y", 2006, "M", "Black"),
]


def seed_people(store: Any) -> None:
    """Insert the small force above (synthetic records) into ``store``."""
    now = dt.datetime(2022, 7, 1)
    with store.begin() as conn:
        batch = conn.execute(
            insert(ingest_batches)
            .values(source="force", started_at=now, status="complete", peelian_version="test")
            .returning(ingest_batches.c.id)
        ).scalar_one()
        file_id = conn.execute(
            insert(ingest_files)
            .values(
                batch_id=batch,
                path="people-seed",
                kind="force",
                force="northumbria",
                sha256="0" * 64,
                size_bytes=0,
                rows_read=0,
                rows_stored=0,
                rows_quarantined=0,
                action="loaded",
            )
            .returning(ingest_files.c.id)
        ).scalar_one()
        prov = {"force": "northumbria", "file_id": file_id}
        conn.execute(
            insert(occurrences),
            [
                {
                    **prov,
                    "row_number": i,
                    "crime_ref": c,
                    "ho_code": ho,
                    "policeuk_category": "Violence and sexual offences",
                    "reported_at": dt.datetime.fromisoformat(t),
                    "month": t[:7],
                    "domestic_abuse": da,
                    "lsoa_code": "E01000001",
                    "time_precision": "minute",
                    "location_precision": "none",
                    "synthetic": True,
                }
                for i, (c, t, ho, da) in enumerate(_OCC, start=1)
            ],
        )
        conn.execute(
            insert(involvements),
            [
                {**prov, "row_number": i, "crime_ref": c, "person_ref": p, "role": r}
                for i, (c, p, r) in enumerate(_INV, start=1)
            ],
        )
        conn.execute(
            insert(persons),
            [
                {
                    **prov,
                    "row_number": i,
                    "person_ref": p,
                    "birth_year": by,
                    "sex": s,
                    "ethnicity": e,
                    "synthetic": True,
                }
                for i, (p, by, s, e) in enumerate(_PERSONS, start=1)
            ],
        )
