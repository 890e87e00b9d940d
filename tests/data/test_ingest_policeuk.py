"""police.uk ingest on real fixture slices (tests/fixtures/policeuk/README.md), on SQLite and
PostgreSQL: counts, ASB, unlocated rows, projection, LSOA vintage, stop times, outcomes,
idempotence, replace-on-newer, and a failure midway leaving the store as it was."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, insert, select

from peelian.data import frames
from peelian.data.ingest import ingest_policeuk
from peelian.data.tables import events, ingest_batches, ingest_files, lsoa_lookup, outcomes, stops

FIX = Path(__file__).parents[1] / "fixtures" / "policeuk"
NORTHUMBRIA = FIX / "northumbria"
STREET_05 = NORTHUMBRIA / "2020-05" / "2020-05-northumbria-street.csv"
STREET_08 = NORTHUMBRIA / "2021-08" / "2021-08-northumbria-street.csv"
DURHAM = FIX / "durham" / "2024-01" / "2024-01-durham-street.csv"
MULTI_CRIME = "f0e0b424b8ecc4c9debad234acdb8bb7e51e8a37e9ab8aa024c4e07a754cacab"


def _count(store, table) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _by_name(report) -> dict[str, dict]:
    return {Path(f["path"]).name: f for f in report["files"]}


def test_folder_ingest_stores_every_row(store) -> None:
    report = ingest_policeuk(store, [NORTHUMBRIA])
    files = _by_name(report)
    assert len(files) == 7
    assert {f["action"] for f in files.values()} == {"loaded"}
    assert files["2020-05-northumbria-street.csv"]["rows_stored"] == 303
    assert files["2020-05-northumbria-outcomes.csv"]["rows_stored"] == 304
    assert files["2020-06-northumbria-stop-and-search.csv"]["rows_stored"] == 300
    assert files["2021-08-northumbria-street.csv"]["rows_stored"] == 333
    for f in files.values():
        assert f["rows_read"] == f["rows_stored"] + f["rows_quarantined"]
        assert f["rows_quarantined"] == 0 and f["force"] == "northumbria"
    assert _count(store, events) == 303 + 300 + 333
    assert _count(store, outcomes) == 304 + 304
    assert _count(store, stops) == 600
    stored = store.read_frame(select(ingest_batches.c.status, ingest_batches.c.report))
    assert stored["status"].tolist() == ["complete"]
    assert stored["report"][0]["files"][0]["rows_read"] == report["files"][0]["rows_read"]


def test_asb_unlocated_and_identical_rows_are_all_kept(store) -> None:
    ingest_policeuk(store, [STREET_08])
    ev = frames.load_events(store, month_from="2021-08", month_to="2021-08")
    assert len(ev) == 333
    asb = ev[ev["category"] == "Anti-social behaviour"]
    assert len(asb) == 170 and asb["crime_id"].isna().all()
    assert ev.loc[ev["category"] != "Anti-social behaviour", "crime_id"].notna().all()
    unlocated = ev[ev["location_precision"] == "none"]
    assert len(unlocated) == 83
    assert unlocated["easting"].isna().all() and unlocated["lsoa_code"].isna().all()
    # the 83 unlocated rows are byte-identical ASB incidents: separate rows, all stored
    key = ["category", "location", "lsoa_code", "longitude", "latitude"]
    assert ev[key].astype(object).fillna("-").groupby(key).size().max() == 83
    assert set(ev["time_precision"]) == {"month"}
    assert set(ev.loc[ev["location_precision"] != "none", "location_precision"]) == {"snapped"}
    assert len(frames.load_events(store, located_only=True)) == 333 - 83
    assert frames.data_status(store)["unlocated_events"] == 83


def test_projection_to_bng_and_cross_border_lsoa(store) -> None:
    ingest_policeuk(store, [STREET_05])
    ev = frames.load_events(store)
    first = ev.sort_values("row_number").iloc[0]
    # row 1: -2.575411, 54.991255, "On or near B6318", LSOA E01019225 (Carlisle 002D: Cumbria,
    # outside Northumbria -- a cross-border row keeps its LSOA)
    assert (first["longitude"], first["latitude"]) == (-2.575411, 54.991255)
    assert first["easting"] == pytest.approx(363281.0, abs=1.0)
    assert first["northing"] == pytest.approx(566448.0, abs=1.0)
    assert first["lsoa_code"] == "E01019225" and first["lsoa_name"] == "Carlisle 002D"
    assert ev["easting"].between(300_000, 480_000).all()
    assert ev["northing"].between(500_000, 680_000).all()


def test_lsoa_vintage_and_mapping_to_2021(store) -> None:
    report = ingest_policeuk(store, [STREET_05, DURHAM])
    files = _by_name(report)
    assert files["2020-05-northumbria-street.csv"]["lsoa_vintage"] == 2011
    assert files["2024-01-durham-street.csv"]["lsoa_vintage"] == 2021
    assert files["2024-01-durham-street.csv"]["force"] == "durham"
    ev = frames.load_events(store)
    durham = ev[ev["force"] == "durham"]
    assert (durham["lsoa_vintage"] == 2021).all()
    assert (durham["lsoa21_code"] == durham["lsoa_code"]).all()
    north = ev[ev["force"] == "northumbria"]
    assert north["lsoa21_code"].isna().all()  # no lookup loaded: no guess
    lookup = Path(__file__).parents[2] / "demo-data" / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv"
    if not lookup.exists():
        pytest.skip(f"bundled ONS lookup {lookup} absent")
    lk = pd.read_csv(lookup, usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    lk = lk[lk["lsoa11_code"].isin(north["lsoa_code"])].drop_duplicates()
    with store.begin() as conn:
        conn.execute(insert(lsoa_lookup), lk.to_dict(orient="records"))
    ev = frames.load_events(store, force="northumbria")
    located = ev[ev["lsoa_code"].notna()]
    expected = located["lsoa_code"].map(lk.groupby("lsoa11_code")["lsoa21_code"].min())
    assert (located["lsoa21_code"] == expected).all()
    assert not ev["lsoa21_ambiguous"].any()


def test_stop_times_are_utc_with_local_date(store, tmp_path: Path) -> None:
    ingest_policeuk(store, [NORTHUMBRIA / "2020-06"])
    st = frames.load_stops(store).sort_values("row_number")
    first = st.iloc[0]
    # "2020-05-31T23:05:00+00:00" in the 2020-06 file: 00:05 BST on 1 June in London
    assert first["datetime_utc"] == pd.Timestamp("2020-05-31 23:05:00")
    assert first["local_date"] == dt.date(2020, 6, 1)
    assert first["month"] == "2020-06" and bool(first["time_given"])
    assert st["time_given"].all()
    # a force publishing an offset in BST, and one giving dates only
    src = tmp_path / "2021-07-testforce-stop-and-search.csv"
    header = (NORTHUMBRIA / "2020-06" / "2020-06-northumbria-stop-and-search.csv").read_text()
    header = header.splitlines()[0]
    body = [
        "Person search,2021-07-01T00:30:00+01:00,,,54.97,-1.61,Male,18-24,,White,"
        "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,True,False",
        "Person search,2021-07-02,,,,,Female,over 34,,Asian,"
        "Misuse of Drugs Act 1971 (section 23),Controlled drugs,Arrest,,False",
    ]
    src.write_text("\n".join([header, *body]) + "\n")
    ingest_policeuk(store, [src])
    t = frames.load_stops(store, force="testforce").sort_values("row_number")
    assert t["datetime_utc"].tolist() == [
        pd.Timestamp("2021-06-30 23:30:00"),
        pd.Timestamp("2021-07-01 23:00:00"),  # local midnight of 2 July (BST)
    ]
    assert t["local_date"].tolist() == [dt.date(2021, 7, 1), dt.date(2021, 7, 2)]
    assert t["time_given"].tolist() == [True, False]
    assert t["location_precision"].tolist() == ["snapped", "none"]


def test_outcomes_history_and_latest(store) -> None:
    ingest_policeuk(store, [NORTHUMBRIA / "2020-05", NORTHUMBRIA / "2020-06"])
    hist = frames.load_outcomes(store, crime_ids=[MULTI_CRIME])
    assert hist["month"].tolist() == ["2020-05", "2020-05", "2020-06", "2020-06"]
    assert hist["outcome_type"].tolist()[:2] == ["Suspect charged", "Suspect charged"]
    latest = frames.latest_outcomes(store).set_index("crime_id")
    row = latest.loc[MULTI_CRIME]
    assert row["month"] == "2020-06"
    assert row["outcome_type"] == "Investigation complete; no suspect identified"
    assert row["n_outcomes"] == 4 and row["first_month"] == "2020-05"
    # it joins to its crime by Crime ID
    ev = frames.load_events(store).merge(latest, on="crime_id", suffixes=("", "_outcome"))
    assert MULTI_CRIME in set(ev["crime_id"])
    assert (
        len(latest)
        == store.read_frame(select(func.count(func.distinct(outcomes.c.crime_id)).label("n")))[
            "n"
        ].iloc[0]
    )


def test_same_file_again_changes_nothing(store) -> None:
    ingest_policeuk(store, [NORTHUMBRIA])
    before = (_count(store, events), _count(store, outcomes), _count(store, stops))
    report = ingest_policeuk(store, [NORTHUMBRIA])
    assert {f["action"] for f in report["files"]} == {"unchanged"}
    assert all(f["rows_stored"] == 0 for f in report["files"])
    assert (_count(store, events), _count(store, outcomes), _count(store, stops)) == before


def test_newer_download_replaces_and_older_is_kept_out(store, tmp_path: Path) -> None:
    lines = STREET_05.read_bytes().split(b"\r\n")
    trimmed = tmp_path / "old" / STREET_05.name
    trimmed.parent.mkdir()
    trimmed.write_bytes(b"\r\n".join(lines[:151]) + b"\r\n")  # header + 150 rows
    first = ingest_policeuk(store, [trimmed])
    assert first["files"][0]["rows_stored"] == 150
    newer = ingest_policeuk(store, [STREET_05])
    entry = newer["files"][0]
    assert entry["action"] == "replaced"
    assert entry["replaced_file_id"] == first["files"][0]["file_id"]
    assert _count(store, events) == 303  # equal to the full file: no duplicates, no loss
    ev = frames.load_events(store)
    assert ev["file_id"].unique().tolist() == [entry["file_id"]]
    older = ingest_policeuk(store, [trimmed])
    e = older["files"][0]
    assert e["action"] == "kept_existing"
    assert e["reasons"] == {"older_download": 150} and e["rows_read"] == 150
    assert _count(store, events) == 303
    forced = ingest_policeuk(store, [trimmed], replace=True)
    assert forced["files"][0]["action"] == "replaced"
    assert _count(store, events) == 150


def test_failure_midway_leaves_store_unchanged(store, monkeypatch) -> None:
    ingest_policeuk(store, [STREET_05])
    before = (_count(store, events), _count(store, ingest_files))
    from peelian.data.ingest import policeuk as mod

    calls = {"n": 0}
    real = mod.insert_arrow

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("disk full (simulated)")
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, "insert_arrow", flaky)
    with pytest.raises(OSError, match="simulated"):
        ingest_policeuk(store, [NORTHUMBRIA])
    assert calls["n"] == 3
    assert (_count(store, events), _count(store, ingest_files)) == before
    assert _count(store, outcomes) == 0 and _count(store, stops) == 0
    status = store.read_frame(select(ingest_batches.c.status).order_by(ingest_batches.c.id))
    assert status["status"].tolist() == ["complete", "failed"]


def test_zip_is_read_like_the_folder(store, tmp_path: Path) -> None:
    archive = shutil.make_archive(str(tmp_path / "download"), "zip", NORTHUMBRIA)
    report = ingest_policeuk(store, [archive])
    files = _by_name(report)
    assert files["2021-08-northumbria-street.csv"]["path"].endswith(
        "download.zip!2021-08/2021-08-northumbria-street.csv"
    )
    assert sum(f["rows_stored"] for f in report["files"]) == 936 + 608 + 600


def test_bulk_first_load_rebuilds_indexes_and_rolls_back_cleanly(store, monkeypatch) -> None:
    """The first-load path (indexes dropped, rows loaded, indexes rebuilt) in one transaction:
    a failure midway restores the indexes with the rest; a success rebuilds them."""
    from sqlalchemy import inspect

    from peelian.data.ingest import policeuk as mod

    def index_names() -> set[str]:
        with store.engine.connect() as conn:
            insp = inspect(conn)
            return {i["name"] for t in ("events", "outcomes", "stops") for i in insp.get_indexes(t)}

    expected = {i.name for t in (events, outcomes, stops) for i in t.indexes}
    assert index_names() == expected
    monkeypatch.setattr(mod, "_BULK_BYTES", 0)
    real = mod.insert_arrow
    calls = {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("simulated")
        return real(*args, **kwargs)

    monkeypatch.setattr(mod, "insert_arrow", flaky)
    with pytest.raises(OSError):
        ingest_policeuk(store, [NORTHUMBRIA])
    assert index_names() == expected
    assert _count(store, events) == 0
    monkeypatch.setattr(mod, "insert_arrow", real)
    report = ingest_policeuk(store, [NORTHUMBRIA])
    assert sum(f["rows_stored"] for f in report["files"]) == 936 + 608 + 600
    assert index_names() == expected
