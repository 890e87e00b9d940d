"""The batch / reconciliation recorder on both dialects."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from peelian.data.ingest.batch import QuarantinedRow, ReconciliationError, open_batch
from peelian.data.tables import ingest_batches, ingest_files, quarantine


def _register(batch, month="2021-08", sha="a" * 64):
    return batch.add_file(
        "x.csv", "street", force="northumbria", month=month, sha256=sha, size_bytes=10
    )


def test_batch_records_files_quarantine_and_report(store) -> None:
    with open_batch(store, source="policeuk", command="test") as batch:
        f = _register(batch)
        f.quarantine(
            [
                QuarantinedRow(3, "bad_month", "Month '2021-13' is not a month", "a,2021-13"),
                QuarantinedRow(5, "bad_month", None, "b,xx"),
                QuarantinedRow(9, "coordinates_outside_uk", None, "c"),
            ]
        )
        entry = f.finish(rows_read=10, rows_stored=7, action="loaded")
    assert entry["reasons"] == {"bad_month": 2, "coordinates_outside_uk": 1}
    report = batch.report
    assert report["batch"] == batch.id
    assert [
        (e["path"], e["rows_read"], e["rows_stored"], e["rows_quarantined"])
        for e in report["files"]
    ] == [("x.csv", 10, 7, 3)]
    stored = store.read_frame(select(ingest_batches.c.status, ingest_batches.c.report))
    assert stored["status"].tolist() == ["complete"]
    assert stored["report"][0]["files"][0]["reasons"] == {
        "bad_month": 2,
        "coordinates_outside_uk": 1,
    }
    q = store.read_frame(select(quarantine.c.row_number, quarantine.c.reason, quarantine.c.raw))
    assert q["row_number"].tolist() == [3, 5, 9]
    assert q["raw"].tolist()[0] == "a,2021-13"
    # the current file for the key is the one just loaded
    with open_batch(store, source="policeuk") as batch2:
        current = batch2.current_file("street", "northumbria", "2021-08")
        assert current is not None and current["rows_stored"] == 7
        assert batch2.identical_file("a" * 64)["id"] == current["id"]
        assert batch2.current_file("street", "northumbria", "2021-09") is None


def test_reconciliation_mismatch_raises_and_rolls_back(store) -> None:
    with (
        pytest.raises(ReconciliationError, match="rows_read 10 != rows_stored 8"),
        open_batch(store, source="policeuk") as batch,
    ):
        f = _register(batch)
        f.quarantine([QuarantinedRow(1, "bad_month")])
        f.finish(rows_read=10, rows_stored=8, action="loaded")
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(ingest_files)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(quarantine)).scalar() == 0
    failed = store.read_frame(select(ingest_batches.c.status, ingest_batches.c.report))
    assert failed["status"].tolist() == ["failed"]
    assert "rows_read 10" in failed["report"][0]["error"]


def test_unfinished_file_fails_the_batch(store) -> None:
    with (
        pytest.raises(ReconciliationError, match="not finished"),
        open_batch(store, source="policeuk") as batch,
    ):
        _register(batch)
    with store.begin() as conn:
        assert conn.execute(select(func.count()).select_from(ingest_files)).scalar() == 0
