"""Ingest data safety (issue 11 items 2, 3, 4, 8, 11; issue 13 item 6): no passwords in batches,
commands and server paths for admins only, person rows in the quarantine only for entitled roles
and audited, one bad force row quarantined alone, whole-file shrink guard, zip bombs refused,
and a reason and a count for oversized fields, future months, duplicate Crime IDs, unknown crime
types and ``nan`` locations. On SQLite and PostgreSQL where storage matters."""

from __future__ import annotations

import io
import json
import shutil
import sys
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from peelian.config import Settings
from peelian.data.accounts.users import add_user, list_audit
from peelian.data.ingest import IngestLimits, ingest_policeuk
from peelian.data.ingest import _csv as csvmod
from peelian.data.ingest._policeuk_rows import current_month
from peelian.data.ingest.force import ingest_force
from peelian.data.tables import events, ingest_batches, persons, quarantine
from peelian.errors import IngestError
from peelian.web import create_app

TESTS = Path(__file__).parents[1]
PUK = TESTS / "fixtures" / "policeuk" / "northumbria"
STREET = PUK / "2020-05" / "2020-05-northumbria-street.csv"
SYN = TESTS / "fixtures" / "force" / "synthetic_small"
LINES = STREET.read_bytes().split(b"\r\n")[:-1]  # header + 303 rows
PASSWORD = "correct horse battery staple"


def _street(tmp_path: Path, rows: list[bytes], name: str = STREET.name) -> Path:
    path = tmp_path / name
    path.write_bytes(b"\r\n".join([LINES[0], *rows]) + b"\r\n")
    return path


def _fields(line: bytes) -> list[bytes]:
    return line.split(b",")


def _quarantined(store, reason: str) -> list[tuple[int, str, str]]:
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(quarantine.c.row_number, quarantine.c.detail, quarantine.c.raw)
            .where(quarantine.c.reason == reason)
            .order_by(quarantine.c.row_number)
        ).all()
    return [tuple(r) for r in rows]


# -- 1. batches never store a password; commands and paths for admins only ----------------------


def test_batch_command_and_error_never_store_a_password(store, tmp_path: Path) -> None:
    secret = "s3cr3t-Pa55"
    command = f"peelian ingest policeuk {STREET} --db postgresql://peel:{secret}@db.example/p"
    ingest_policeuk(store, [STREET], command=command)
    stops = shutil.copy(PUK / "2020-05" / "2020-05-northumbria-stop-and-search.csv", tmp_path)
    unnamed = Path(stops).rename(tmp_path / "stops.csv")  # no force in the name or the rows
    with pytest.raises(IngestError, match="--force"):
        ingest_policeuk(store, [unnamed], command=command)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(ingest_batches.c.command, ingest_batches.c.report).order_by(ingest_batches.c.id)
        ).all()
    assert len(rows) == 2
    for command_stored, report in rows:
        assert secret not in command_stored
        assert "postgresql://peel:***@db.example/p" in command_stored
        assert secret not in json.dumps(report)


def _login(client: TestClient, username: str) -> None:
    client.get("/login")
    token = client.cookies.get("peelian_csrf")
    response = client.post(
        "/login",
        data={"username": username, "password": PASSWORD, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@pytest.fixture
def web(store, tmp_path: Path) -> Any:
    for role in ("admin", "analyst", "viewer"):
        add_user(store, role + "1", PASSWORD, role)
    settings = Settings(data_dir=tmp_path, env="test", secret_key="test-secret-" + "x" * 32)
    app = create_app(settings, store=store)
    clients: dict[str, TestClient] = {}
    for role in ("admin", "analyst", "viewer"):
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        _login(client, role + "1")
        clients[role] = client
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def test_commands_and_server_paths_only_for_admins(store, web, tmp_path: Path) -> None:
    folder = tmp_path / "srv" / "exports"
    folder.mkdir(parents=True)
    src = shutil.copy(STREET, folder / STREET.name)
    ingest_policeuk(store, [src], command=f"peelian ingest policeuk {src}")
    stops = folder / "stops.csv"  # a failed batch: its error names the file's server path
    shutil.copy(PUK / "2020-05" / "2020-05-northumbria-stop-and-search.csv", stops)
    with pytest.raises(IngestError, match=str(folder)):
        ingest_policeuk(store, [stops], command=f"peelian ingest policeuk {stops}")
    server = str(folder)
    admin = web["admin"].get("/api/batches").json()["items"]
    failed_id, loaded_id = (b["id"] for b in admin)  # newest first
    assert admin[1]["command"] == f"peelian ingest policeuk {src}"
    assert admin[1]["files"][0]["path"] == str(src)
    assert server in web["admin"].get(f"/api/batches/{failed_id}").json()["report"]["error"]
    for role in ("viewer", "analyst"):
        c = web[role]
        urls = ["/api/batches", "/api/status", "/data.json"]
        for url in [*urls, f"/api/batches/{loaded_id}", f"/api/batches/{failed_id}"]:
            response = c.get(url)
            assert response.status_code == 200, (role, url, response.text[:200])
            assert server not in response.text, (role, url)
        batches = c.get("/api/batches").json()["items"]
        assert [b["command"] for b in batches] == [None, None]
        assert batches[1]["files"][0]["path"] == STREET.name
        assert c.get("/api/status").json()["last_batches"][1]["command"] is None
        page = c.get("/data.json").json()["batches"]["items"]
        assert page[1]["files"][0]["path"] == STREET.name
        detail = c.get(f"/api/batches/{loaded_id}").json()
        assert detail["command"] is None
        assert detail["report"]["files"][0]["path"] == STREET.name
        error = c.get(f"/api/batches/{failed_id}").json()["report"]["error"]
        assert error.startswith("IngestError: Cannot tell which force stops.csv belongs to")


# -- 2. person rows in the quarantine: entitled roles only, audited ----------------------------


def _persons_with_bad_rows(tmp_path: Path) -> Path:
    folder = tmp_path / "export"
    folder.mkdir()
    lines = (SYN / "persons.csv").read_bytes().splitlines()
    body = [*lines[:3], b"P077,1961,F,W,EXTRA-FIELD", *lines[3:]]
    (folder / "persons.csv").write_bytes(b"\n".join(body) + b"\n")
    return folder / "persons.csv"


def test_force_parse_error_quarantines_one_row_without_its_text_in_detail(
    store, tmp_path: Path
) -> None:
    path = _persons_with_bad_rows(tmp_path)
    report = ingest_force(store, [path], "synthetic_rms")
    (f,) = report["files"]
    # 11 rows: the extra-field row alone is quarantined, as are the two known bad rows
    assert (f["action"], f["rows_read"], f["rows_stored"], f["rows_quarantined"]) == (
        "loaded", 11, 8, 3,
    )  # fmt: skip
    assert f["reasons"] == {"bad_number": 1, "unknown_value": 1, "wrong_field_count": 1}
    ((row, detail, raw),) = _quarantined(store, "wrong_field_count")
    assert row == 3 and raw == "P077,1961,F,W,EXTRA-FIELD"
    assert "P077" not in detail and "1961" not in detail
    assert detail == "expected 4 comma-separated fields"
    with store.engine.connect() as conn:
        refs = conn.execute(select(persons.c.person_ref).order_by(persons.c.person_ref)).scalars()
        assert list(refs) == [f"P{i:03d}" for i in range(1, 9)]


def test_person_rows_only_for_entitled_roles_and_every_view_audited(
    store, web, tmp_path: Path
) -> None:
    ingest_force(store, [_persons_with_bad_rows(tmp_path)], "synthetic_rms")
    ingest_policeuk(store, [_street(tmp_path, [LINES[1], b"x,2020-05,broken"])])

    def actions(name: str) -> list[dict]:
        return [e for e in list_audit(store, limit=1000) if e["action"] == name]

    before = len(actions("quarantine_raw_view"))
    views_before = len(actions("quarantine_view"))
    for role in ("viewer", "analyst"):
        page = web[role].get("/api/quarantine?limit=100").json()
        person = [r for r in page["items"] if r["kind"] == "force:persons"]
        assert len(person) == 3 and page["person_rows_withheld"] == 3
        assert all(r.get("raw") is None for r in person)
        text = json.dumps(person)
        for value in ("P077", "1961", "P009", "P010"):
            assert value not in text, (role, value)
        public = [r for r in page["items"] if r["kind"] == "street"]
        assert public and all((r.get("raw") is not None) == (role == "analyst") for r in public)
        assert "P077" not in web[role].get("/data.json").text
    assert len(actions("quarantine_raw_view")) == before
    # Every view is still logged (issue 11 item 14), with the withheld count and never the rows.
    views = actions("quarantine_view")[: len(actions("quarantine_view")) - views_before]
    assert {v["username"] for v in views} == {"viewer1", "analyst1"}
    assert all("P077" not in json.dumps(v, default=str) for v in views)
    assert any((v.get("detail") or {}).get("person_rows_withheld") == 3 for v in views)
    for _ in range(2):  # each view is audited (never served from a cache)
        page = web["admin"].get("/api/quarantine?limit=100").json()
        raws = {r["raw"] for r in page["items"] if r["kind"] == "force:persons"}
        assert "P077,1961,F,W,EXTRA-FIELD" in raws
    web["admin"].get("/data.json")
    entries = [e for e in list_audit(store, limit=1000) if e["action"] == "quarantine_raw_view"]
    assert len(entries) == before + 3
    entry = entries[0]
    assert entry["username"] == "admin1"
    detail = entry["detail"] if isinstance(entry["detail"], dict) else json.loads(entry["detail"])
    assert detail["batches"] == [1] and detail["rows"] == 3 and detail["kinds"] == ["force:persons"]
    assert "P077" not in json.dumps(entry, default=str)


def test_person_values_in_older_details_and_notes_are_hidden_from_viewers(store, web) -> None:
    """Rows and batch notes written before this fix quoted a person's row in the detail."""
    from peelian.data.ingest import open_batch

    legacy = (
        "persons.csv cannot be read: CSV parse error: Expected 4 columns, got 5: P077,1961,F,W,X"
    )
    with open_batch(store, source="force") as batch:
        rec = batch.add_file("/srv/persons.csv", "force:persons", sha256="0" * 64, size_bytes=9)
        rec.note_file_problem("unreadable", legacy)
        rec.finish(rows_read=0, rows_stored=0, action="rejected", note=legacy)
    for role in ("viewer", "analyst"):
        page = web[role].get("/api/quarantine").json()
        assert page["items"][0]["detail"] == "[value hidden: person-level record]"
        batch_json = web[role].get(f"/api/batches/{batch.id}").text
        assert "P077" not in batch_json and "1961" not in batch_json
        assert "P077" not in web[role].get("/data.json").text
    page = web["admin"].get("/api/quarantine").json()
    assert page["items"][0]["detail"] == legacy


# -- 3. a small file must not wipe a table ------------------------------------------------------


def test_whole_file_replacement_that_removes_most_of_a_table_is_refused(
    store, tmp_path: Path
) -> None:
    ingest_force(store, [SYN / "persons.csv"], "synthetic_rms")
    small = tmp_path / "persons.csv"
    small.write_text("PersonRef,BirthYear,Sex,Ethnicity\nP001,1990,M,W\n")
    with pytest.raises(IngestError) as info:
        ingest_force(store, [small], "synthetic_rms")
    message = str(info.value)
    assert "persons: 8 rows stored now, 1 after (7 removed, 88%)" in message
    assert "--allow-shrink" in message and "Nothing was changed" in message
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(persons)).scalar_one() == 8
    # a replacement that keeps at least half is applied; an explicit choice allows the rest
    report = ingest_force(store, [small], "synthetic_rms", allow_shrink=True)
    assert report["files"][0]["rows_replaced"] == 8
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(persons)).scalar_one() == 1


def test_shrink_threshold_is_configurable(store, tmp_path: Path) -> None:
    ingest_force(store, [SYN / "persons.csv"], "synthetic_rms")
    five = tmp_path / "persons.csv"
    lines = (SYN / "persons.csv").read_text().splitlines()
    five.write_text("\n".join(lines[:6]) + "\n")  # 5 good rows replace 8
    report = ingest_force(store, [five], "synthetic_rms")  # removes 3 of 8: allowed
    assert report["files"][0]["rows_stored"] == 5
    four = tmp_path / "four" / "persons.csv"
    four.parent.mkdir()
    four.write_text("\n".join(lines[:5]) + "\n")
    with pytest.raises(IngestError, match="removed, 20%"):
        ingest_force(store, [four], "synthetic_rms", max_shrink=0.1)


# -- 4. zip bombs --------------------------------------------------------------------------------


def _bomb(path: Path, member: str, mib: int) -> Path:
    chunk = b"0" * (1 << 20)
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf,
        zf.open(member, "w", force_zip64=True) as fh,
    ):
        for _ in range(mib):
            fh.write(chunk)
    return path


def test_zip_bomb_is_refused_before_reading(store, tmp_path: Path) -> None:
    bomb = _bomb(tmp_path / "bomb.zip", "2021-01/2021-01-northumbria-street.csv", 200)
    assert bomb.stat().st_size < 1 << 20  # under 1 MB on disk, 200 MiB inside
    tracemalloc.start()
    try:
        with pytest.raises(IngestError) as info:
            ingest_policeuk(store, [bomb])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 << 20  # never read: far below the 200 MiB inside
    message = str(info.value)
    assert "zip bomb" in message and "--max-ratio" in message
    assert "2021-01-northumbria-street.csv" in message and "times" in message
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(events)).scalar_one() == 0


def test_size_limits_name_their_option(store, tmp_path: Path) -> None:
    archive = tmp_path / "x.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(STREET, f"2020-05/{STREET.name}")
    small = IngestLimits(max_file_bytes=10_000)
    with pytest.raises(IngestError, match="--max-file-mb"):
        ingest_policeuk(store, [archive], limits=small)
    with pytest.raises(IngestError, match="--max-file-mb"):
        ingest_policeuk(store, [STREET], limits=small)
    with pytest.raises(IngestError, match="--max-total-mb"):
        ingest_policeuk(store, [archive, STREET], limits=IngestLimits(max_total_bytes=100_000))
    report = ingest_policeuk(store, [archive], limits=IngestLimits(max_file_bytes=1 << 20))
    assert report["files"][0]["rows_stored"] == 303


def test_non_csv_members_are_skipped_unread(store, tmp_path: Path) -> None:
    archive = tmp_path / "mixed.zip"
    _bomb(archive, "2020-05/huge.bin", 200)  # a bomb that is not a CSV: never opened
    with zipfile.ZipFile(archive, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.write(STREET, f"2020-05/{STREET.name}")
        zf.writestr("2020-05/image.csv", b"\x89PNG\r\n\x1a\n" + b"\x00" * (8 << 20))
    tracemalloc.start()
    try:
        report = ingest_policeuk(store, [archive], limits=IngestLimits(max_ratio=10_000))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    by_name = {Path(f["path"].split("!")[1]).name: f for f in report["files"]}
    assert by_name["huge.bin"]["action"] == "skipped"
    assert by_name["image.csv"]["action"] == "skipped"  # a PNG by its first bytes
    assert "not read" in by_name["image.csv"]["note"]
    assert by_name[STREET.name]["rows_stored"] == 303
    assert peak < 60 << 20  # neither the 200 MiB member nor the 8 MiB image was read whole


# -- 5. low: oversized fields, future months, duplicate ids, unknown types, nan ------------------


def test_a_field_over_4_mib_quarantines_its_row(store, tmp_path: Path) -> None:
    rows = list(LINES[1:])
    fields = _fields(rows[149])
    fields[6] = b"x" * (9 << 20)
    rows[149] = b",".join(fields)
    report = ingest_policeuk(store, [_street(tmp_path, rows)])
    (f,) = report["files"]
    assert (f["rows_read"], f["rows_stored"], f["rows_quarantined"]) == (303, 302, 1)
    assert f["reasons"] == {"field_too_large": 1}
    ((row, detail, raw),) = _quarantined(store, "field_too_large")
    assert row == 150 and "4 MiB" in detail
    assert len(raw) < 3000 and raw.endswith("characters; the first 2000 kept]")


def test_months_in_the_future_are_quarantined(store, tmp_path: Path) -> None:
    rows = list(LINES[1:])
    for i in (10, 11):
        fields = _fields(rows[i])
        fields[1] = b"2099-01"
        rows[i] = b",".join(fields)
    report = ingest_policeuk(store, [_street(tmp_path, rows)])
    (f,) = report["files"]
    assert f["month"] == "2020-05" and f["reasons"] == {"future_month": 2}
    assert f["rows_stored"] == 301
    assert [r[0] for r in _quarantined(store, "future_month")] == [11, 12]
    assert current_month() < "2099-01"
    # a whole file of future months is not stored under a future month
    only = _street(tmp_path, rows[10:12], name="2020-06-northumbria-street.csv")
    report = ingest_policeuk(store, [only])
    assert report["files"][0]["rows_stored"] == 0
    assert report["files"][0]["reasons"] == {"future_month": 2}


def test_duplicate_crime_ids_within_a_month_are_counted_and_reported(store, tmp_path: Path) -> None:
    rows = list(LINES[1:])
    with_id = [i for i, r in enumerate(rows) if _fields(r)[0]]
    first = _fields(rows[with_id[0]])
    repeat = list(first)
    repeat[9] = b"Burglary" if first[9] != b"Burglary" else b"Robbery"  # a second category
    rows.append(b",".join(repeat))
    report = ingest_policeuk(store, [_street(tmp_path, rows)])
    (f,) = report["files"]
    assert f["reasons"] == {"duplicate_crime_id": 1}
    assert (f["rows_read"], f["rows_stored"]) == (304, 303)
    ((row, detail, raw),) = _quarantined(store, "duplicate_crime_id")
    assert row == 304 and f"repeats row {with_id[0] + 1}" in detail
    with store.engine.connect() as conn:
        kept = conn.execute(
            select(events.c.category, events.c.row_number).where(
                events.c.crime_id == first[0].decode()
            )
        ).all()
    assert [(k.category, k.row_number) for k in kept] == [(first[9].decode(), with_id[0] + 1)]


def test_unknown_crime_types_are_quarantined(store, tmp_path: Path) -> None:
    rows = list(LINES[1:])
    a, b = _fields(rows[0]), _fields(rows[1])
    a[9], b[9] = b"Space crime", b"  bURGLARY "
    rows[0], rows[1] = b",".join(a), b",".join(b)
    report = ingest_policeuk(store, [_street(tmp_path, rows)])
    (f,) = report["files"]
    assert f["reasons"] == {"unknown_category": 1}
    ((row, detail, _),) = _quarantined(store, "unknown_category")
    assert row == 1 and "14 police.uk categories" in detail
    with store.engine.connect() as conn:
        cat = conn.execute(select(events.c.category).where(events.c.row_number == 2)).scalar_one()
    assert cat == "Burglary"  # case and spacing forgiven, stored as the canonical name


def test_literal_nan_locations_get_their_own_reason(store, tmp_path: Path) -> None:
    rows = list(LINES[1:])
    a, b = _fields(rows[0]), _fields(rows[1])
    a[4], a[5] = b"nan", b"nan"
    b[4], b[5] = b"", b""  # a true blank stays an unlocated row
    rows[0], rows[1] = b",".join(a), b",".join(b)
    report = ingest_policeuk(store, [_street(tmp_path, rows)])
    (f,) = report["files"]
    assert f["reasons"] == {"nan_coordinates": 1}
    assert [r[0] for r in _quarantined(store, "nan_coordinates")] == [1]
    with store.engine.connect() as conn:
        precision = conn.execute(
            select(events.c.location_precision).where(events.c.row_number == 2)
        ).scalar_one()
    assert precision == "none"


# -- 6. the CSV reader's invalid-row path ----------------------------------------------------------


def test_invalid_rows_raise_no_unraisable_exception(monkeypatch) -> None:
    caught: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", caught.append)
    data = b"a,b\n1,2\n3,\xff,4\n5,6\n7,8,9\n"
    parsed = csvmod.parse_csv(data, ["a", "b"])
    assert caught == []
    assert parsed.rows_read == 4 and parsed.table.num_rows == 2
    assert sorted((r.row_number, r.reason) for r in parsed.rejected) == [
        (2, "invalid_utf8"),
        (4, "wrong_field_count"),
    ]
    assert parsed.row_numbers.tolist() == [1, 3]


def test_reader_does_not_depend_on_pyarrow_error_text(monkeypatch) -> None:
    def fails(*args: Any, **kwargs: Any) -> Any:
        raise pa.ArrowInvalid("some wording pyarrow may change")

    monkeypatch.setattr(csvmod, "_read_arrow", fails)
    data = b'a,b\n1,"two\nlines"\n3,4,5\n\n6,\n'
    parsed = csvmod.parse_csv(data, ["a", "b"], multiline=True)
    assert parsed.table.to_pylist() == [{"a": "1", "b": "two\nlines"}, {"a": "6", "b": None}]
    assert [(r.row_number, r.reason, r.raw) for r in parsed.rejected] == [
        (2, "wrong_field_count", "3,4,5")
    ]
    assert parsed.rows_read == 3


def test_big_quoted_record_straddling_blocks_is_read(monkeypatch) -> None:
    monkeypatch.setattr(csvmod, "_BLOCK", 1 << 16)  # small blocks: a 100 KB record straddles
    big = b"y\n" * 50_000
    data = b'a,b\n1,2\n3,"' + big + b'"\n5,6\n'
    parsed = csvmod.parse_csv(data, ["a", "b"], multiline=True)
    assert parsed.rejected == []
    assert parsed.table.column("a").to_pylist() == ["1", "3", "5"]
    assert parsed.table.column("b").to_pylist()[1] == big.decode()


def test_zip_member_head_is_read_alone(tmp_path: Path) -> None:
    from peelian.data.ingest._sources import expand_sources

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr(f"2020-05/{STREET.name}", STREET.read_bytes())
    (tmp_path / "x.zip").write_bytes(buf.getvalue())
    (src,) = expand_sources([tmp_path / "x.zip"], IngestLimits(max_file_bytes=1 << 20))
    assert src.first_bytes(10) == STREET.read_bytes()[:10]
    assert src.load() == STREET.read_bytes()
