"""One read path, one LSOA rule (issue 12 item 5, issue 13 item 1, decision 0015): the same area
and month give the same count on every page and endpoint -- the events API, the map, the area
profile and the measures -- on a store with a split 2011 LSOA, whose events go whole to the
2021 successor containing them (before: the dashboard gave them all to the lowest code and the
measures left them out)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert
from web_seed import X0, Y0, login, lsoas, seed_areas

from peelian.config import Settings
from peelian.data.accounts.users import add_user
from peelian.data.counts import area_counts, policeuk_counts
from peelian.data.results import latest_result
from peelian.data.tables import events, ingest_batches, ingest_files, lsoa_lookup
from peelian.jobs.measures import compute_measures
from peelian.web import create_app

MONTHS = [f"2021-{m:02d}" for m in range(1, 13)]
SPLIT11 = "E01007777"  # a 2011 LSOA that became LSOAs 5 and 6 of the fixture
CODES = [ls["code"] for ls in lsoas()]
PASSWORD = "a long test passphrase"


def burglaries(i: int, month_index: int) -> int:
    """Burglaries in the fixture's LSOA ``i`` in a month (known answer)."""
    return 1 + (i * 3 + month_index * 2) % 5


def _centre(i: int) -> tuple[float, float]:
    """Inside LSOA ``i``'s 1 km square (web_seed: a 4 x 2 grid), away from the middle."""
    col, row = i % 4, i // 4
    return X0 + col * 1000 + 300 + 40 * i, Y0 + row * 1000 + 650


def _published(i: int) -> tuple[str, int]:
    if i in (5, 6):
        return SPLIT11, 2011
    if i == 7:
        return "E01008888", 2011  # web_seed's unchanged-but-renumbered LSOA
    return CODES[i], 2021


def fill(store: Any) -> None:
    seed_areas(store)
    now = dt.datetime(2022, 2, 1, 9, 0)
    with store.begin() as conn:
        conn.execute(
            insert(lsoa_lookup),
            [
                {"lsoa11_code": SPLIT11, "lsoa21_code": CODES[5], "change_code": "S"},
                {"lsoa11_code": SPLIT11, "lsoa21_code": CODES[6], "change_code": "S"},
            ],
        )
        batch = conn.execute(
            insert(ingest_batches).returning(ingest_batches.c.id),
            {"source": "policeuk", "started_at": now, "finished_at": now, "status": "complete",
             "command": "test", "peelian_version": "test"},
        ).scalar_one()  # fmt: skip
        rows = []
        for mi, month in enumerate(MONTHS):
            fid = conn.execute(
                insert(ingest_files).returning(ingest_files.c.id),
                {"batch_id": batch, "path": f"{month}-street.csv", "kind": "street",
                 "force": "northumbria", "month": month, "sha256": f"{mi:064d}", "size_bytes": 1,
                 "rows_read": 0, "rows_stored": 0, "rows_quarantined": 0, "reasons": {},
                 "action": "loaded"},
            ).scalar_one()  # fmt: skip
            r = 0
            for i in range(8):
                code, vintage = _published(i)
                e, n = _centre(i)
                for cat, k in (("Burglary", burglaries(i, mi)), ("Drugs", 1)):
                    for _ in range(k):
                        r += 1
                        rows.append(
                            {"source": "policeuk", "force": "northumbria", "month": month,
                             "crime_id": f"c{month}{r:05d}", "category": cat, "lsoa_code": code,
                             "lsoa_vintage": vintage, "easting": e, "northing": n,
                             "time_precision": "month", "location_precision": "snapped",
                             "file_id": fid, "row_number": r}
                        )  # fmt: skip
        conn.execute(insert(events), rows)


@pytest.fixture
def filled(store) -> Any:  # type: ignore[no-untyped-def]
    fill(store)
    compute_measures(store, period_end="2021-12")
    add_user(store, "viewer1", PASSWORD, "viewer")
    return store


@pytest.fixture
def viewer(filled, tmp_path) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    settings = Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)
    with TestClient(create_app(settings, store=filled), raise_server_exceptions=False) as c:
        assert login(c, "viewer1").status_code == 303
        yield c


def test_the_rule_places_a_split_lsoa_by_location(filled) -> None:  # type: ignore[no-untyped-def]
    counts = area_counts(filled)
    split = counts[counts["lsoa_code"] == SPLIT11]
    assert set(split["lsoa21_rule"]) == {"point"}
    by21 = split[split["category"] == "Burglary"].groupby("lsoa21_code")["n"].sum().to_dict()
    assert by21 == {CODES[i]: sum(burglaries(i, mi) for mi in range(12)) for i in (5, 6)}
    assert set(counts.loc[counts["lsoa_code"] == "E01008888", "lsoa21_rule"]) == {"lookup"}
    assert set(counts.loc[counts["lsoa_code"] == CODES[0], "lsoa21_rule"]) == {"published"}
    pu = policeuk_counts(filled)
    assert pu["n"].sum() == counts["n"].sum()
    assert set(pu["lsoa_code"]) == set(CODES) and set(pu["lsoa_vintage"]) == {2021}


@pytest.mark.parametrize("i", [0, 5, 6, 7])
def test_same_area_and_month_give_the_same_count_everywhere(filled, viewer, i: int) -> None:  # type: ignore[no-untyped-def]
    code, month, mi = CODES[i], "2021-06", 5
    want = burglaries(i, mi)
    year = sum(burglaries(i, m) for m in range(12))

    # the events API, by month for the area
    r = viewer.get("/api/events/counts", params={"by": "month", "area": code,
                                                  "category": "Burglary"})  # fmt: skip
    assert r.status_code == 200, r.text
    assert {x["month"]: x["events"] for x in r.json()["items"]}[month] == want
    # the events API, by area for the month
    r = viewer.get("/api/events/counts", params={"by": "area", "level": "lsoa21",
                   "category": "Burglary", "month_from": month, "month_to": month})  # fmt: skip
    assert {x["area_code"]: x["events"] for x in r.json()["items"]}[code] == want
    # the map
    r = viewer.get("/api/events/map", params={"level": "lsoa21", "metric": "count",
                   "category": "Burglary", "month_from": month, "month_to": month})  # fmt: skip
    assert r.status_code == 200, r.text
    assert {x["area_code"]: x["value"] for x in r.json()["items"]}[code] == want
    # the area profile (its categories cover every month loaded)
    r = viewer.get(f"/api/areas/{code}/profile")
    assert r.status_code == 200, r.text
    cats = {x["category"]: x["events"] for x in r.json()["categories"]}
    assert cats["Burglary"] == year
    # the measures: the monthly series and the 12-month value, in the store and the API
    monthly = latest_result(filled, "measures", "all").frames["monthly"]
    row = monthly[(monthly["measure"] == "policeuk-burglary") & (monthly["area_code"] == code)]
    assert dict(zip(row["month"].astype(str), row["count"], strict=True))[month] == want
    r = viewer.get("/api/measures", params={"area_code": code, "limit": 1000})
    assert r.status_code == 200, r.text
    values = {x["measure"]: x for x in r.json()["items"]}
    assert values["policeuk-burglary"]["current"] == year
