"""Force ingest on both dialects: reconciliation, quarantine reasons, idempotence, replacement,
the read API, and offence definitions evaluated on the loaded records."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select

import peelian.offences as off
from peelian.data import force_frames as ff
from peelian.data.ingest.force import ingest_force
from peelian.data.tables import ingest_batches, occurrences, quarantine
from peelian.errors import IngestError, NotFoundError

FIX = Path(__file__).parents[1] / "fixtures" / "force"
SYN = FIX / "synthetic_small"
TEMPLATE = FIX / "template_small"

EXPECTED = {  # table: (read, stored, {reason: count})
    "addresses": (3, 2, {"bad_lsoa": 1}),
    "persons": (10, 8, {"bad_number": 1, "unknown_value": 1}),
    "occurrences": (
        15,
        8,
        {
            "bad_date": 1,
            "date_order": 1,
            "duplicate_key": 1,
            "missing_required": 1,
            "outside_uk": 1,
            "unknown_ho_code": 1,
            "unknown_value": 1,
        },
    ),
    "involvements": (11, 8, {"unknown_crime_ref": 1, "unknown_person_ref": 1, "unknown_value": 1}),
    "investigation_events": (6, 5, {"unknown_value": 1}),
    "force_outcomes": (4, 3, {"out_of_range": 1}),
    "victim_contacts": (4, 3, {"unknown_value": 1}),
    "missing_episodes": (3, 2, {"date_order": 1}),
    "intel_links": (4, 3, {"unknown_address_ref": 1}),
}


def _by_table(report: dict) -> dict[str, dict]:
    return {f["table"]: f for f in report["files"] if f.get("table")}


def test_synthetic_export_reconciles_with_reasons(store) -> None:
    report = ingest_force(store, [SYN], "synthetic_rms")
    files = _by_table(report)
    assert report["synthetic"] is True and report["mapping"] == "synthetic_rms"
    for table, (read, stored, reasons) in EXPECTED.items():
        f = files[table]
        assert (f["rows_read"], f["rows_stored"], f["reasons"]) == (read, stored, reasons), table
        assert f["rows_read"] == f["rows_stored"] + f["rows_quarantined"]
        assert f["action"] == "loaded"
    skipped = sorted(Path(f["path"]).name for f in report["files"] if f["action"] == "skipped")
    assert skipped == ["SYNTHETIC_DATA_README.txt", "satisfaction_survey.csv"]
    assert report["tables"]["occurrences"] == 8
    with store.engine.connect() as conn:
        n_q = conn.execute(select(func.count()).select_from(quarantine)).scalar_one()
        row = conn.execute(
            select(quarantine.c.row_number, quarantine.c.detail, quarantine.c.raw).where(
                quarantine.c.reason == "unknown_ho_code"
            )
        ).one()
    assert n_q == sum(r - s for r, s, _ in EXPECTED.values())
    assert row.row_number == 9 and "ZZ9" in row.detail and row.raw.startswith("NB/21/0009,ZZ9,")


def test_stored_values_and_frames(store) -> None:
    ingest_force(store, [SYN], "synthetic_rms")
    occ = ff.load_occurrences(store)
    assert list(occ.columns) == list(ff.OCCURRENCE_COLUMNS)
    assert occ["crime_ref"].tolist() == [f"NB/21/000{i}" for i in range(1, 9)]
    murder = occ.iloc[0]
    assert (
        murder["ho_code"] == "1" and murder["policeuk_category"] == "Violence and sexual offences"
    )
    assert murder["reported_at"] == pd.Timestamp("2021-06-01 23:40")
    assert murder["committed_from"] == pd.Timestamp("2021-06-01 23:00")
    assert (murder["easting"], murder["northing"]) == (424850.0, 564120.0)
    assert murder["longitude"] == pytest.approx(-1.6133, abs=1e-3)
    assert murder["latitude"] == pytest.approx(54.9711, abs=1e-3)
    assert bool(murder["knife"]) and bool(murder["alcohol"]) and not bool(murder["domestic_abuse"])
    assert murder["month"] == "2021-06" and murder["lsoa_vintage"] == 2011
    assert occ["synthetic"].all() and set(occ["time_precision"]) == {"minute"}
    unlocated = occ.set_index("crime_ref").loc["NB/21/0007"]
    assert unlocated["location_precision"] == "none" and pd.isna(unlocated["easting"])
    assert occ.set_index("crime_ref").loc["NB/21/0006", "hate_strands"] == "race;religion"
    # filters
    assert ff.load_occurrences(store, date_from="2021-06-03", date_to="2021-06-07")[
        "crime_ref"
    ].tolist() == ["NB/21/0003", "NB/21/0004", "NB/21/0005"]
    robbery = off.offence_set("robbery").codes
    assert ff.load_occurrences(store, codes=robbery)["crime_ref"].tolist() == ["NB/21/0003"]
    persons = ff.load_persons(store).set_index("person_ref")
    assert persons.loc["P005", "ethnicity"] == "Asian" and persons.loc["P005", "birth_year"] == 2005
    inv = ff.load_involvements(store)
    assert inv.set_index(["crime_ref", "person_ref"]).loc[("NB/21/0003", "P005"), "age"] == 16
    assert sorted(inv["role"].unique()) == ["offender", "suspect", "victim"]
    events = ff.load_investigation_events(store)
    assert events["event_type"].tolist() == ["arrest", "charge", "rui", "not_investigated", "nfa"]
    assert events["event_at"].iloc[-1] == pd.Timestamp("2021-06-06 10:00")  # ISO fallback
    outcomes = ff.load_force_outcomes(store).set_index("crime_ref")
    assert outcomes.loc["NB/21/0003", "outcome_code"] == 18
    assert outcomes.loc["NB/21/0001", "outcome_date"] == pd.Timestamp("2021-09-20")
    contacts = ff.load_victim_contacts(store)
    assert contacts["channel"].tolist() == ["phone", "email", "visit"]
    assert contacts["enhanced_rights"].tolist() == [True, False, True]
    missing = ff.load_missing_episodes(store)
    assert missing["episode_ref"].tolist() == ["M001", "M002"]
    assert missing["risk_level"].tolist() == ["high", "medium"]
    links = ff.load_intel_links(store)
    assert set(zip(links["from_ref"], links["to_ref"], links["link_type"], strict=True)) == {
        ("P007", "P005", "exploits"),
        ("P007", "A001", "cuckooed"),
        ("P002", "P007", "associate"),
    }
    assert ff.load_addresses(store)["address_ref"].tolist() == ["A001", "A002"]


def test_offence_definitions_on_loaded_records(store) -> None:
    ingest_force(store, [SYN], "synthetic_rms")
    occ, inv = ff.load_occurrences(store), ff.load_involvements(store)

    def refs(name: str) -> list[str]:
        return occ.loc[off.offence_set(name).mask(occ, inv), "crime_ref"].tolist()

    assert refs("knife-crime") == ["NB/21/0001", "NB/21/0003"]
    # P002 (21) suspect in the murder, P005 (16) victim of the robbery
    assert refs("serious-youth-violence") == ["NB/21/0001", "NB/21/0003"]
    assert refs("public-space-violence") == ["NB/21/0001", "NB/21/0007"]
    assert refs("domestic-abuse") == ["NB/21/0002"]
    assert refs("neighbourhood-crime") == ["NB/21/0003", "NB/21/0004"]
    assert refs("county-lines-modern-slavery") == ["NB/21/0005"]
    assert refs("firearms-offences") == ["NB/21/0008"]


def test_reingest_is_idempotent(store) -> None:
    first = ingest_force(store, [SYN], "synthetic_rms")
    second = ingest_force(store, [SYN], "synthetic_rms")
    actions = {f["table"]: f["action"] for f in second["files"] if f.get("table")}
    assert set(actions.values()) == {"unchanged"}
    assert second["tables"] == dict.fromkeys(first["tables"], 0)
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(occurrences)).scalar_one() == 8
        statuses = conn.execute(select(ingest_batches.c.status)).scalars().all()
    assert statuses == ["complete", "complete"]


def test_newer_whole_file_export_replaces(store, tmp_path: Path) -> None:
    ingest_force(store, [SYN], "synthetic_rms")
    newer = tmp_path / "newer"
    newer.mkdir()
    lines = (SYN / "occurrences.csv").read_text().splitlines()
    # the newer extract: the first three crimes, the murder re-coded as manslaughter
    body = [
        lines[0],
        lines[1].replace("NB/21/0001,1,Murder", "NB/21/0001,4.1,Manslaughter"),
        lines[2],
        lines[3],
    ]
    (newer / "occurrences.csv").write_text("\n".join(body) + "\n")
    # 3 rows replacing 8 removes more than half the table: an explicit choice (--allow-shrink)
    report = ingest_force(store, [newer / "occurrences.csv"], "synthetic_rms", allow_shrink=True)
    (f,) = report["files"]
    assert f["action"] == "replaced" and f["rows_replaced"] == 8 and f["rows_stored"] == 3
    occ = ff.load_occurrences(store)
    assert occ["crime_ref"].tolist() == ["NB/21/0001", "NB/21/0002", "NB/21/0003"]
    assert occ["ho_code"].iloc[0] == "4.1"
    # the older file again: seen before and superseded, so not re-applied
    again = ingest_force(store, [SYN / "occurrences.csv"], "synthetic_rms")
    assert again["files"][0]["action"] == "kept_existing"
    assert len(ff.load_occurrences(store)) == 3


def test_template_workbook_by_key_replacement(store, tmp_path: Path) -> None:
    report = ingest_force(store, [TEMPLATE], "template_rms")
    files = _by_table(report)
    assert report["synthetic"] is False
    assert (files["occurrences"]["rows_stored"], files["occurrences"]["reasons"]) == (
        4,
        {"bad_date": 1, "outside_uk": 1, "unknown_ho_code": 1},
    )
    assert files["persons"]["reasons"] == {"unknown_value": 1}  # IC9
    assert files["involvements"]["reasons"] == {"unknown_crime_ref": 1, "unknown_person_ref": 1}
    occ = ff.load_occurrences(store).set_index("crime_ref")
    assert occ["ho_code"].to_dict() == {
        "21000101": "8N",
        "21000102": "34B",
        "21000103": "8N",
        "21000104": "9B",
    }
    assert occ.loc["21000103", "knife"] and occ.loc["21000103", "alcohol"]
    assert occ.loc["21000101", "committed_to"] == pd.Timestamp("2021-06-01 23:30")
    assert occ.loc["21000104", "hate_strands"] == "race;religion"
    inv = ff.load_involvements(store).set_index(["crime_ref", "person_ref"])["role"]
    assert inv[("21000101", "N1")] == "victim" and inv[("21000101", "N2")] == "suspect"
    # an incremental CSV export changes one crime and adds one: by_key keeps the rest
    (tmp_path / "crimes_update.csv").write_text(
        "Occurrence Number,Offence Code,Offence Description,Reported Date,Reported Time,"
        "First Committed,Last Committed,X Coordinate,Y Coordinate,LSOA Code,Markers,Hate Strands\n"
        "21000101,GBH,GBH with intent,01/06/2021,23:40,01/06/2021 23:00,,424850,564120,"
        'E01008385,"DA,ALC,KNIFE",\n'
        "21000200,TFP,Theft from the person,07/06/2021,12:00,,,424000,564000,E01008385,,\n"
    )
    upd = ingest_force(store, [tmp_path / "crimes_update.csv"], "template_rms")
    (f,) = upd["files"]
    assert (f["action"], f["rows_stored"], f["rows_replaced"]) == ("replaced", 2, 1)
    occ = ff.load_occurrences(store).set_index("crime_ref")
    assert len(occ) == 5 and occ.loc["21000101", "ho_code"] == "5D"
    assert occ.loc["21000101", "knife"] and occ.loc["21000200", "ho_code"] == "39"


def test_unusable_files_are_reported_not_raised(store, tmp_path: Path) -> None:
    (tmp_path / "occurrences.csv").write_text("Ref,Code\nX1,8N\nX2,9A\n")
    (tmp_path / "persons.csv").write_bytes(b"\x00\x01\x02 not a csv")
    report = ingest_force(store, [tmp_path], "synthetic_rms")
    files = _by_table(report)
    occ = files["occurrences"]
    assert occ["action"] == "rejected" and occ["rows_read"] == 2
    assert occ["reasons"] == {"missing_column": 2}
    assert files["persons"]["action"] == "rejected" and files["persons"]["rows_read"] == 0
    with pytest.raises(NotFoundError):
        ingest_force(store, [tmp_path / "nope.csv"], "synthetic_rms")
    with pytest.raises(IngestError, match="matches"):
        ingest_force(store, [SYN / "SYNTHETIC_DATA_README.txt"], "synthetic_rms")


def test_synthetic_auto_detects_readme(store, tmp_path: Path) -> None:
    shutil.copy(SYN / "persons.csv", tmp_path / "nominals.csv")
    report = ingest_force(store, [tmp_path / "nominals.csv"], "template_rms")
    assert report["synthetic"] is False
    # template_rms says synthetic: auto; the same file beside a README is synthetic
    (tmp_path / "SYNTHETIC_DATA_README.txt").write_text("synthetic")
    shutil.copy(TEMPLATE / "rms_export_2021-06.xlsx", tmp_path / "rms_export_2021-06.xlsx")
    report = ingest_force(store, [tmp_path / "rms_export_2021-06.xlsx"], "template_rms")
    assert report["synthetic"] is True
    assert ff.load_occurrences(store)["synthetic"].all()
