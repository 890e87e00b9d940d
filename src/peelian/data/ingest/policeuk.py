"""Ingest police.uk downloads: zips, folders in the police.uk layout, or CSV files.

    report = ingest_policeuk(store, ["northumbria_2020-05_2022-08.zip"])
    report["files"][0]  # {"path", "kind", "force", "month", "rows_read", "rows_stored",
                        #  "rows_quarantined", "reasons", "action", ...}

What it guarantees (see ``docs/guide/ingest.md``):

- Files are recognised by their header (street, outcomes, stop-and-search), not their name.
- Every row is stored or quarantined with a reason: ``rows_read = rows_stored +
  rows_quarantined`` per file. ASB rows without Crime ID and byte-identical ASB rows are all
  stored; unlocated rows are stored with ``location_precision='none'``.
- One transaction per batch: a failure anywhere leaves the store as it was.
- The same file again (sha256) changes nothing. A different file for the same (kind, force,
  month) replaces that month's rows when it has at least as many rows (a newer download);
  with fewer rows it is taken as an older download and not applied unless ``replace=True``
  (decision 0002).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from peelian.data.ingest import _policeuk_rows as puk
from peelian.data.ingest._csv import first_line_fields, looks_binary, parse_csv
from peelian.data.ingest._sources import IngestLimits, SourceFile, expand_sources
from peelian.data.ingest._write import (
    count_rows,
    delete_file_rows,
    drop_indexes,
    insert_arrow,
    rebuild_indexes,
)
from peelian.data.ingest.batch import Batch, QuarantinedRow, open_batch
from peelian.data.store import Store
from peelian.data.tables import events, outcomes, stops
from peelian.errors import IngestError

__all__ = ["TABLES", "ingest_policeuk"]

#: Which table each kind is stored in.
TABLES = {"street": events, "outcomes": outcomes, "stop-and-search": stops}

Progress = Callable[[str, int, int], None]

_BULK_BYTES = 8 << 20  # first loads bigger than this rebuild indexes once at the end


def _force_for(
    src: SourceFile, prepared: puk.Prepared, parsed_table: pa.Table, force: str | None
) -> str:
    if force:
        return force
    from_name = puk.force_from_name(src.name)
    if from_name:
        return from_name
    if "reported_by" in parsed_table.column_names:
        values = pc.drop_null(parsed_table["reported_by"])
        if len(values):
            counts = pc.value_counts(values).to_pylist()
            best = max(counts, key=lambda c: c["counts"])["values"]
            return puk.force_slug(best)
    raise IngestError(
        f"Cannot tell which force {src.path} belongs to (no 'Reported by' column and the name "
        "is not YYYY-MM-<force>-<kind>.csv).",
        "Pass --force SLUG (e.g. --force northumbria) or rename the file as police.uk does.",
    )


def _reject_unrecognised(batch: Batch, src: SourceFile, data: bytes, sha: str) -> None:
    lines = [ln.rstrip(b"\r") for ln in data.split(b"\n")]
    lines = [ln for ln in lines if ln.strip()]
    rec = batch.add_file(
        src.path,
        "unknown",
        force=puk.force_from_name(src.name),
        month=puk.month_from_name(src.name),
        sha256=sha,
        size_bytes=len(data),
    )
    expected = "; ".join(f"{k}: {','.join(h[:3])},..." for k, h in puk.HEADERS.items())
    detail = (
        "the first line is not a police.uk header, so no line can be read safely "
        f"(expected one of {expected}); if the header is missing, add it"
    )
    rec.quarantine(
        QuarantinedRow(i, "unrecognised_header", detail, ln.decode("utf-8", "backslashreplace"))
        for i, ln in enumerate(lines)
    )
    rec.finish(
        rows_read=len(lines),
        rows_stored=0,
        action="rejected",
        note="header not recognised: every line quarantined (the first line is row 0)",
    )


def _skip(batch: Batch, src: SourceFile, data: bytes | None, reason: str, note: str) -> None:
    """Record a file that is not data; ``data`` is ``None`` when it was not read at all (its
    name said enough), and then its sha256 is recorded as empty."""
    rec = batch.add_file(
        src.path,
        "other",
        force=puk.force_from_name(src.name),
        month=puk.month_from_name(src.name),
        sha256="" if data is None else hashlib.sha256(data).hexdigest(),
        size_bytes=src.size if data is None else len(data),
    )
    rec.note_file_problem(reason, note)
    rec.finish(rows_read=0, rows_stored=0, action="skipped", note=note)


def _ingest_one(batch: Batch, src: SourceFile, *, force: str | None, replace: bool) -> None:
    if src.skip_reason:  # decided from the name: never read
        _skip(batch, src, None, "not_csv", f"{src.skip_reason}; ignored (not read)")
        return
    what = looks_binary(src.first_bytes())
    if what is not None:
        _skip(batch, src, None, "not_csv", f"{what}, not a CSV file; ignored (not read)")
        return
    data = src.load()
    if not data.strip():
        _skip(
            batch,
            src,
            data,
            "empty_file",
            "empty file: nothing to load; download it again if data was expected",
        )
        return
    sha = hashlib.sha256(data).hexdigest()
    kind = puk.detect_kind(first_line_fields(data))
    if kind is None:
        _reject_unrecognised(batch, src, data, sha)
        return
    same = batch.identical_file(sha, kind)
    if same is not None:
        rec = batch.add_file(
            src.path, kind, force=same["force"], month=same["month"], sha256=sha,
            size_bytes=len(data),
        )  # fmt: skip
        rec.finish(
            rows_read=0,
            rows_stored=0,
            action="unchanged",
            note=f"identical to file {same['id']} (batch {same['batch_id']}): nothing changed",
            extra={"same_as_file_id": same["id"]},
        )
        return
    try:
        parsed = parse_csv(data, puk.COLUMNS[kind], keep_text=puk.COORDINATE_COLUMNS)
    except pa.ArrowInvalid as exc:
        raise IngestError(
            f"{src.path} cannot be parsed as CSV: {exc}.",
            "Check the file is an unmodified police.uk download (download it again).",
        ) from exc
    prepared = puk.prepare(parsed, kind, src.name)
    slug = _force_for(src, prepared, parsed.table, force)
    current = batch.current_file(kind, slug, prepared.month)
    rec = batch.add_file(
        src.path, kind, force=slug, month=prepared.month, sha256=sha, size_bytes=len(data)
    )
    rec.quarantine([*parsed.rejected, *prepared.quarantined])
    table = TABLES[kind]
    extra = dict(prepared.info)
    if current is not None and parsed.rows_read < current["rows_read"] and not replace:
        # An older download arriving after a newer one: keep what is stored (decision 0002).
        keep = np.ones(parsed.table.num_rows, dtype=bool)
        bad_pos = np.searchsorted(
            parsed.row_numbers,
            np.array([q.row_number for q in prepared.quarantined], dtype=np.int64),
        )
        keep[bad_pos] = False
        idx = np.flatnonzero(keep)
        detail = (
            f"this file has {parsed.rows_read} rows, fewer than the {current['rows_read']} "
            f"already stored for {kind} {slug} {prepared.month} (file {current['id']}): taken "
            "as an older download and not applied; use --replace to load it anyway"
        )
        rec.quarantine(
            QuarantinedRow(int(parsed.row_numbers[i]), "older_download", detail, raw)
            for i, raw in zip(idx, puk.raw_rows(parsed.table, idx), strict=True)
        )
        rec.finish(
            rows_read=parsed.rows_read,
            rows_stored=0,
            action="kept_existing",
            note=detail,
            extra=extra,
        )
        return
    action, replaced = "loaded", None
    if current is not None:
        delete_file_rows(batch.conn, table, int(current["id"]))
        action, replaced = "replaced", int(current["id"])
    constants: dict[str, Any] = {"force": slug, "month": prepared.month, "file_id": rec.id}
    if kind == "street":
        constants = {"source": "policeuk", **constants, "time_precision": "month"}
    if kind != "stop-and-search":
        constants["lsoa_vintage"] = prepared.info["lsoa_vintage"]
    stored = insert_arrow(batch.conn, table, prepared.rows, constants)
    rec.finish(
        rows_read=parsed.rows_read,
        rows_stored=stored,
        action=action,
        replaced_file_id=replaced,
        extra=extra,
    )


def ingest_policeuk(
    store: Store,
    paths: Iterable[str | Path],
    *,
    force: str | None = None,
    replace: bool = False,
    command: str | None = None,
    progress: Progress | None = None,
    limits: IngestLimits | None = None,
) -> dict[str, Any]:
    """Ingest police.uk zips, folders or CSV files in one batch; return the batch report.

    ``force`` overrides the force slug (needed for stop-and-search CSVs not named as police.uk
    names them); ``replace=True`` applies a file even when it has fewer rows than the stored
    one. ``progress(description, done, total)`` is called after each file. ``limits`` bounds
    file sizes and zip compression ratios (:class:`IngestLimits`; zip bombs are refused before
    anything is read).
    """
    sources = expand_sources(list(paths), limits)
    total = len(sources)
    with open_batch(store, source="policeuk", command=command) as batch:
        dropped: list[Any] = []
        if sum(s.size for s in sources) > _BULK_BYTES:
            for table in TABLES.values():
                if count_rows(batch.conn, table) == 0:
                    dropped.extend(drop_indexes(batch.conn, table))
        for done, src in enumerate(sources, start=1):
            if progress is not None:
                progress(src.name, done - 1, total)
            _ingest_one(batch, src, force=force, replace=replace)
        if dropped:
            if progress is not None:
                progress("building indexes", total, total)
            rebuild_indexes(batch.conn, dropped)
        if progress is not None:
            progress("done", total, total)
    return batch.report
