"""Force ingest of damaged and superseded files, on both dialects: lines that are not UTF-8 are
quarantined one by one (the rest of the file loads), and a superseded export that arrives again
reports and quarantines every row it read."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from peelian.data import force_frames as ff
from peelian.data.ingest.force import ingest_force
from peelian.data.tables import quarantine

SYN = Path(__file__).parents[1] / "fixtures" / "force" / "synthetic_small"


def _quarantined(store, reason: str) -> list[tuple[int, str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(quarantine.c.row_number, quarantine.c.detail, quarantine.c.raw)
            .where(quarantine.c.reason == reason)
            .order_by(quarantine.c.row_number)
        ).all()
    return [tuple(r) for r in rows]


def test_undecodable_lines_are_quarantined_alone(store, tmp_path: Path) -> None:
    lines = (SYN / "persons.csv").read_bytes().splitlines()
    body = [
        *lines[:4],  # header + P001..P003
        b'P011,1984,F,"W"',
        b"P012,19\xff84,M,W",  # a stray byte in the birth year
        b'"P013, Caf\xe9",1990,F,W',  # Latin-1 text inside a quoted field with a comma
        *lines[4:],  # P004..P010 (P009 bad_number, P010 unknown_value)
    ]
    (tmp_path / "persons.csv").write_bytes(b"\r\n".join(body) + b"\r\n")
    report = ingest_force(store, [tmp_path / "persons.csv"], "synthetic_rms")
    (f,) = report["files"]
    assert (f["action"], f["rows_read"], f["rows_stored"], f["rows_quarantined"]) == (
        "loaded",
        13,
        9,
        4,
    )
    assert f["reasons"] == {"bad_number": 1, "invalid_utf8": 2, "unknown_value": 1}
    bad = _quarantined(store, "invalid_utf8")
    assert [(r[0], r[2]) for r in bad] == [
        (5, "P012,19\\xff84,M,W"),
        (6, '"P013, Caf\\xe9",1990,F,W'),
    ]
    assert "not valid UTF-8" in bad[0][1]
    persons = ff.load_persons(store).set_index("person_ref")
    assert sorted(persons.index) == [f"P{i:03d}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 11)]
    assert persons.loc["P011", "birth_year"] == 1984 and persons.loc["P011", "ethnicity"] == "White"
    # the good rows keep their own line numbers
    assert [r[0] for r in _quarantined(store, "bad_number")] == [12]


def test_superseded_export_reports_its_rows(store, tmp_path: Path) -> None:
    first = ingest_force(store, [SYN / "occurrences.csv"], "synthetic_rms")
    assert first["files"][0]["rows_stored"] == 8
    newer = tmp_path / "occurrences.csv"
    lines = (SYN / "occurrences.csv").read_text().splitlines()
    newer.write_text("\n".join(lines[:3]) + "\n")
    second = ingest_force(store, [newer], "synthetic_rms", allow_shrink=True)
    assert second["files"][0]["action"] == "replaced"
    again = ingest_force(store, [SYN / "occurrences.csv"], "synthetic_rms")
    (f,) = again["files"]
    assert (f["action"], f["rows_read"], f["rows_stored"], f["rows_quarantined"]) == (
        "kept_existing",
        15,
        0,
        15,
    )
    assert f["reasons"] == {"older_download": 15}
    assert f"identical to file {first['files'][0]['file_id']}" in f["note"]
    kept = _quarantined(store, "older_download")
    assert [r[0] for r in kept] == list(range(1, 16))
    assert [r[2] for r in kept] == lines[1:]
    assert ff.load_occurrences(store)["crime_ref"].tolist() == ["NB/21/0001", "NB/21/0002"]
    # the current export again is unchanged: nothing read
    same = ingest_force(store, [newer], "synthetic_rms")["files"][0]
    assert (same["action"], same["rows_read"]) == ("unchanged", 0)


def test_invalid_utf8_everywhere_but_the_header(store, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    shutil.copytree(SYN, folder)
    (folder / "addresses.csv").write_bytes(
        b"AddressRef,Easting,Northing,LSOA11Code\n\xff\xfe,1,2,3\nA9,424850,564120,E01008385\n"
    )
    report = ingest_force(store, [folder / "addresses.csv"], "synthetic_rms")
    (f,) = report["files"]
    assert (f["rows_read"], f["rows_stored"], f["reasons"]) == (2, 1, {"invalid_utf8": 1})
    assert _quarantined(store, "invalid_utf8")[0][2] == "\\xff\\xfe,1,2,3"
