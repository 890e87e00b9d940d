"""Bad input never crashes and never loses a row: quarantine with reasons, or one IngestError."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from peelian.data.ingest import ingest_policeuk
from peelian.data.store import open_store
from peelian.data.tables import events, quarantine
from peelian.errors import IngestError

FIX = Path(__file__).parents[1] / "fixtures" / "policeuk" / "northumbria"
STREET = FIX / "2020-05" / "2020-05-northumbria-street.csv"
STOPS = FIX / "2020-05" / "2020-05-northumbria-stop-and-search.csv"
LINES = STREET.read_bytes().split(b"\r\n")[:-1]  # header + 303 rows
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


def _write(tmp_path: Path, data: bytes, name: str = STREET.name) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _edit(row: int, field: int, value: str) -> bytes:
    """The street fixture with field ``field`` of data row ``row`` (1-based) replaced."""
    lines = list(LINES)
    parts = lines[row].split(b",")
    parts[field] = value.encode()
    lines[row] = b",".join(parts)
    return b"\r\n".join(lines) + b"\r\n"


def _only(report) -> dict:
    assert len(report["files"]) == 1
    f = report["files"][0]
    assert f["rows_read"] == f["rows_stored"] + f["rows_quarantined"]
    return f


def _quarantine(store) -> list[tuple]:
    q = select(quarantine.c.row_number, quarantine.c.reason, quarantine.c.raw).order_by(
        quarantine.c.id
    )
    return [tuple(r) for r in store.read_frame(q).itertuples(index=False)]


@pytest.mark.parametrize(
    ("row", "field", "value", "reason"),
    [
        (3, 4, "abc", "non_numeric_coordinates"),
        (3, 4, "", "non_numeric_coordinates"),  # latitude without longitude
        (4, 4, "20.5", "coordinates_outside_uk"),
        (5, 1, "2020-13", "bad_month"),
        (6, 1, "2020-04", "month_mismatch"),
        (7, 9, "", "missing_category"),
    ],
)
def test_bad_values_are_quarantined_with_reason(store, tmp_path, row, field, value, reason) -> None:
    f = _only(ingest_policeuk(store, [_write(tmp_path, _edit(row, field, value))]))
    assert (f["rows_read"], f["rows_stored"], f["reasons"]) == (303, 302, {reason: 1})
    [(number, got, raw)] = _quarantine(store)
    assert (number, got) == (row, reason)
    assert value in raw if value else raw.count(",") == 11


def test_truncated_last_line(store, tmp_path) -> None:
    data = b"\r\n".join(LINES)[:-25]  # last line cut, no line ending
    f = _only(ingest_policeuk(store, [_write(tmp_path, data)]))
    assert (f["rows_read"], f["rows_stored"], f["reasons"]) == (
        303,
        302,
        {"truncated_last_line": 1},
    )
    assert _quarantine(store)[0][0] == 303


def test_non_utf8_bytes_and_wrong_field_count(store, tmp_path) -> None:
    lines = list(LINES)
    lines[10] = lines[10].replace(b"On or near", b"On or n\xe9ar")  # Latin-1 byte
    lines[20] = lines[20] + b",extra"
    f = _only(ingest_policeuk(store, [_write(tmp_path, b"\r\n".join(lines) + b"\r\n")]))
    assert f["reasons"] == {"invalid_utf8": 1, "wrong_field_count": 1}
    assert f["rows_stored"] == 301
    rows = {r[1]: r for r in _quarantine(store)}
    assert rows["invalid_utf8"][0] == 10 and "\\xe9" in rows["invalid_utf8"][2]
    assert rows["wrong_field_count"][0] == 20 and rows["wrong_field_count"][2].endswith(",extra")
    with store.engine.connect() as conn:
        numbers = conn.execute(select(events.c.row_number).order_by(events.c.row_number))
        numbers = [n for (n,) in numbers]
    assert 10 not in numbers and 20 not in numbers and numbers[-1] == 303


@pytest.mark.parametrize("variant", ["wrong", "missing"])
def test_unrecognised_header_rejects_every_line(store, tmp_path, variant) -> None:
    lines = list(LINES)
    if variant == "wrong":
        lines[0] = lines[0].replace(b"Crime type", b"Offence")
    else:
        lines = lines[1:]
    f = _only(ingest_policeuk(store, [_write(tmp_path, b"\r\n".join(lines) + b"\r\n")]))
    assert f["action"] == "rejected" and f["rows_stored"] == 0
    assert f["reasons"] == {"unrecognised_header": len(lines)}


def test_empty_and_header_only_files(store, tmp_path) -> None:
    empty = _only(ingest_policeuk(store, [_write(tmp_path, b"")]))
    assert (empty["action"], empty["rows_read"]) == ("skipped", 0)
    assert _quarantine(store)[0][1] == "empty_file"
    header_only = _only(ingest_policeuk(store, [_write(tmp_path, LINES[0] + b"\r\n")]))
    assert (header_only["kind"], header_only["action"], header_only["rows_read"]) == (
        "street",
        "loaded",
        0,
    )


def test_zip_with_other_files(store, tmp_path) -> None:
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(STREET, f"2020-05/{STREET.name}")
        zf.writestr("2020-05/map.png", PNG)
        zf.writestr("2020-05/fake.csv", PNG)
    report = ingest_policeuk(store, [archive])
    actions = {Path(f["path"]).name: f["action"] for f in report["files"]}
    assert actions == {STREET.name: "loaded", "map.png": "skipped", "fake.csv": "skipped"}
    notes = {Path(f["path"]).name: f["note"] for f in report["files"]}
    assert "PNG" in notes["fake.csv"]


def test_not_csv_missing_path_and_unknown_force_are_one_line_errors(store, tmp_path) -> None:
    with pytest.raises(IngestError, match="is a PNG image, not a police.uk CSV"):
        ingest_policeuk(store, [_write(tmp_path, PNG, "photo.csv")])
    with pytest.raises(IngestError, match="does not exist"):
        ingest_policeuk(store, [tmp_path / "nope.zip"])
    stops = _write(tmp_path, STOPS.read_bytes(), "stops.csv")
    with pytest.raises(IngestError, match="--force"):
        ingest_policeuk(store, [stops])
    f = _only(ingest_policeuk(store, [stops], force="northumbria"))
    assert (f["force"], f["month"], f["rows_stored"]) == ("northumbria", "2020-05", 300)
    with pytest.raises(IngestError, match="not a readable zip"):
        ingest_policeuk(store, [_write(tmp_path, b"PK\x03\x04broken", "x.zip")])


_corruption = st.lists(
    st.one_of(
        st.tuples(st.just("cut"), st.integers(0, 80_000)),
        st.tuples(st.just("insert"), st.integers(0, 80_000), st.binary(min_size=1, max_size=12)),
        st.tuples(st.just("delete"), st.integers(0, 80_000), st.integers(1, 200)),
        st.tuples(st.just("line"), st.integers(0, 303), st.text(max_size=60)),
    ),
    min_size=1,
    max_size=5,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=_corruption)
def test_reconciliation_holds_for_any_corruption(tmp_path_factory, ops) -> None:
    """rows_read == rows_stored + rows_quarantined for arbitrarily corrupted input, and what
    the report says was stored/quarantined is what the store holds."""
    tmp = tmp_path_factory.mktemp("corrupt")
    data = bytearray(STREET.read_bytes())
    for op in ops:
        if op[0] == "cut":
            data = data[: op[1]]
        elif op[0] == "insert":
            data[op[1] : op[1]] = op[2]
        elif op[0] == "delete":
            del data[op[1] : op[1] + op[2]]
        else:
            lines = bytes(data).split(b"\r\n")
            if op[1] < len(lines):
                lines[op[1]] = op[2].encode("utf-8", "surrogatepass")
            data = bytearray(b"\r\n".join(lines))
    store = open_store(f"sqlite:///{tmp / 's.sqlite'}")
    try:
        report = ingest_policeuk(store, [_write(tmp, bytes(data))])
        for f in report["files"]:
            assert f["rows_read"] == f["rows_stored"] + f["rows_quarantined"]
            assert sum(f["reasons"].values()) == f["rows_quarantined"]
            with store.engine.connect() as conn:
                n_stored = conn.execute(
                    select(func.count()).where(events.c.file_id == f["file_id"])
                ).scalar_one()
                n_quar = conn.execute(
                    select(func.count()).where(
                        quarantine.c.file_id == f["file_id"], quarantine.c.row_number.isnot(None)
                    )
                ).scalar_one()
            assert (n_stored, n_quar) == (f["rows_stored"], f["rows_quarantined"])
    except IngestError:
        pass  # a one-line error (e.g. the bytes became a binary file) is an allowed answer
    finally:
        store.dispose()


def test_kind_force_and_month_come_from_the_contents(store, tmp_path) -> None:
    """A street file under any name is recognised by its header; force from 'Reported by',
    month from 'Month'."""
    f = _only(ingest_policeuk(store, [_write(tmp_path, STREET.read_bytes(), "data.txt")]))
    assert (f["kind"], f["force"], f["month"], f["rows_stored"]) == (
        "street",
        "northumbria",
        "2020-05",
        303,
    )
    with pytest.raises(IngestError, match="is an Excel workbook"):
        ingest_policeuk(store, [_write(tmp_path, b"PK\x03\x04", "crimes.xlsx")])
