"""peelian.data.frames on both dialects: filters, the 2011 -> 2021 LSOA mapping (including a
split LSOA), the demo zip end to end, and data_status on an empty store."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import insert

from peelian.data import frames
from peelian.data.ingest import ingest_policeuk
from peelian.data.tables import lsoa_lookup

ROOT = Path(__file__).parents[2]
FIX = ROOT / "tests" / "fixtures" / "policeuk"
STREET_06 = FIX / "northumbria" / "2020-06" / "2020-06-northumbria-street.csv"
LOOKUP = ROOT / "demo-data" / "lookups" / "lookup_lsoa11_lsoa21_ltla22.csv"
DEMO_ZIP = ROOT / "demo-data" / "policeuk" / "northumbria_2020-05_2022-08.zip"


def test_filters(store) -> None:
    ingest_policeuk(store, [FIX / "northumbria"])
    assert len(frames.load_events(store)) == 936
    june = frames.load_events(store, month_from="2020-06", month_to="2020-06")
    assert len(june) == 300 and set(june["month"]) == {"2020-06"}
    asb = frames.load_events(store, categories=["Anti-social behaviour"])
    assert len(asb) == 143 + 117 + 170
    assert frames.load_events(store, force="durham").empty
    assert list(frames.load_events(store, force="durham").columns) == frames.EVENT_COLUMNS
    assert len(frames.load_outcomes(store, month_from="2020-06")) == 304
    assert len(frames.load_stops(store, month_to="2020-05")) == 300


def test_split_lsoa_goes_to_the_successor_containing_the_event(store, tmp_path: Path) -> None:
    """Decision 0015: an event published with a split 2011 LSOA goes whole to the 2021 successor
    whose boundary contains its location (not to the lowest code), and is flagged; without
    the successors' boundaries it is left unplaced, never guessed."""
    if not LOOKUP.exists():
        pytest.skip(f"bundled ONS lookup {LOOKUP} absent")
    from shapely.geometry import box

    from peelian.data.tables import areas

    lk = pd.read_csv(LOOKUP, usecols=["lsoa11_code", "lsoa21_code", "change_code"])
    split = lk[lk["change_code"] == "S"].groupby("lsoa11_code")["lsoa21_code"].apply(sorted)
    code11, codes21 = split.index[0], split.iloc[0]
    assert len(codes21) >= 2
    lines = STREET_06.read_text().splitlines()
    row = lines[1].split(",")
    row[7] = code11
    src = tmp_path / STREET_06.name
    src.write_text("\n".join([lines[0], ",".join(row), *lines[2:]]) + "\n")
    ingest_policeuk(store, [src])
    keep = lk[lk["lsoa11_code"].isin([code11, *pd.read_csv(src)["LSOA code"].dropna()])]
    with store.begin() as conn:
        conn.execute(insert(lsoa_lookup), keep.drop_duplicates().to_dict(orient="records"))
    ev = frames.load_events(store).sort_values("row_number")
    first = ev.iloc[0]
    assert first["lsoa_code"] == code11
    assert pd.isna(first["lsoa21_code"]) and bool(first["lsoa21_ambiguous"])  # no boundaries
    assert not ev["lsoa21_ambiguous"].iloc[1:].any()
    e, n = float(first["easting"]), float(first["northing"])
    shapes = {codes21[0]: box(e + 500, n + 500, e + 900, n + 900)}  # the lowest code: elsewhere
    shapes[codes21[-1]] = box(e - 100, n - 100, e + 100, n + 100)  # contains the event
    with store.begin() as conn:
        conn.execute(
            insert(areas),
            [
                {"code": c, "level": "lsoa21", "name": c, "geometry_wkb": g.wkb_hex}
                for c, g in shapes.items()
            ],
        )
    first = frames.load_events(store).sort_values("row_number").iloc[0]
    assert first["lsoa21_code"] == codes21[-1] != codes21[0]
    assert bool(first["lsoa21_ambiguous"])


def test_data_status_of_an_empty_store(store) -> None:
    status = frames.data_status(store)
    assert status["events"] == status["outcomes"] == status["stops"] == 0
    assert status["months"] == [] and status["forces"] == [] and status["batches"] == []


@pytest.mark.slow
def test_demo_zip_end_to_end(tmp_path: Path) -> None:
    """The bundled real 28-month Northumbria zip: every row stored, facts of the data README."""
    if not DEMO_ZIP.exists():
        pytest.skip(f"bundled demo zip {DEMO_ZIP} absent (built by scripts/build_demo_data.py)")
    from peelian.data.store import open_store

    store = open_store(f"sqlite:///{tmp_path / 'demo.sqlite'}")
    report = ingest_policeuk(store, [DEMO_ZIP])
    by_kind: dict[str, int] = {}
    for f in report["files"]:
        assert f["rows_read"] == f["rows_stored"] + f["rows_quarantined"]
        by_kind[f["kind"]] = by_kind.get(f["kind"], 0) + f["rows_stored"]
    assert by_kind == {"street": 449_089, "outcomes": 202_061, "stop-and-search": 10_031}
    assert sum(f["rows_quarantined"] for f in report["files"]) == 0
    status = frames.data_status(store)
    assert len(status["months"]) == 28
    months = {r["month"]: r for r in status["by_force_month"]}
    assert months["2022-01"]["stops"] == 0  # no stop-and-search file for 2022-01
    ev = frames.load_events(store, month_from="2021-08", month_to="2021-08")
    assert (ev["location_precision"] == "none").sum() == 83
    assert all(f["action"] == "unchanged" for f in ingest_policeuk(store, [DEMO_ZIP])["files"])
    store.dispose()
