"""``peelian ingest force``: force export files -> the force tables, through a mapping.

Same rules as police.uk ingest (``peelian.data.ingest.batch``): one transaction per run, every
file reconciled (rows_read = rows_stored + rows_quarantined), rejected rows quarantined with a
reason and the raw row, byte-identical files skipped.

Replacement (per table, the mapping's ``replace``):

- ``whole_file`` (default): the files of a table in one run are the complete extract; they
  replace every row of that table for the force loaded by earlier runs.
- ``by_key``: incremental exports; each row replaces the rows with the same key (crime_ref for
  occurrences and the tables hanging off a crime, person_ref, address_ref, episode_ref, from_ref).

Ingest order decides what is newer. A file whose bytes were ingested before is never applied
again: ``unchanged`` if its rows are still the current ones, ``kept_existing`` if a later export
has superseded it.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import delete, select

from peelian.data.ingest._csv import first_line_fields, parse_csv
from peelian.data.ingest._force_mapping import Mapping, TableSpec, load_mapping
from peelian.data.ingest._force_transform import Transformed, as_table, mark, transform, vmap
from peelian.data.ingest._force_write import delete_keys, insert_columns, pad
from peelian.data.ingest.batch import Batch, QuarantinedRow, open_batch
from peelian.data.store import Store
from peelian.data.tables import ingest_files
from peelian.data.tables.force import FORCE_TABLES
from peelian.errors import IngestError, NotFoundError
from peelian.offences import home_office_codes

__all__ = ["SYNTHETIC_README", "ingest_force"]

SYNTHETIC_README = "SYNTHETIC_DATA_README.txt"
_TABLES = {t.name: t for t in FORCE_TABLES}
_REF_SOURCES = {
    "crime": ("occurrences", "crime_ref"),
    "person": ("persons", "person_ref"),
    "address": ("addresses", "address_ref"),
}
_KIND_OF_TABLE = {table: kind for kind, (table, _) in _REF_SOURCES.items()}


@dataclass
class _Run:
    batch: Batch
    mapping: Mapping
    synthetic: bool
    cleared: set[str] = field(default_factory=set)  # whole_file tables cleared in this run
    before: dict[str, int] = field(default_factory=dict)  # rows a whole_file clear removed
    refs: dict[str, pa.Array] = field(default_factory=dict)  # kind -> references in the store

    def known(self, kind: str) -> pa.Array:
        """The force's references of ``kind`` in the store (read once, then kept up to date)."""
        if kind not in self.refs:
            table_name, column = _REF_SOURCES[kind]
            table = _TABLES[table_name]
            rows = self.batch.conn.execute(
                select(table.c[column]).where(table.c.force == self.mapping.force)
            ).scalars()
            self.refs[kind] = pa.array(list(rows), type=pa.string())
        return self.refs[kind]

    def stored(self, table: str, columns: dict[str, pa.Array]) -> None:
        kind = _KIND_OF_TABLE.get(table)
        if kind is not None and kind in self.refs:
            column = _REF_SOURCES[kind][1]
            self.refs[kind] = pa.concat_arrays([self.refs[kind], columns[column]])

    def deleted(self, table: str) -> None:
        kind = _KIND_OF_TABLE.get(table)
        if kind is not None:
            self.refs.pop(kind, None)


def _expand(paths: list[str | Path]) -> list[Path]:
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out += sorted(f for f in p.iterdir() if f.is_file() and not f.name.startswith("."))
        elif p.is_file():
            out.append(p)
        else:
            raise NotFoundError(f"{p} does not exist.", "Check the path of the export files.")
    return out


@dataclass
class _Rows:
    """One export file read as strings: the table, each row's 1-based data row number, the rows
    read and those that could not be read (wrong field count, not UTF-8, oversized)."""

    table: pa.Table
    row_numbers: np.ndarray
    rows_read: int
    rejected: list[QuarantinedRow] = field(default_factory=list)


def _rows(table: pa.Table) -> _Rows:
    n = table.num_rows
    return _Rows(table, np.arange(1, n + 1, dtype=np.int64), n)


def _read_csv(data: bytes, spec: TableSpec) -> _Rows:
    """A CSV export, row by row: a row with an extra or missing field, bytes that are not UTF-8
    or an oversized field is quarantined on its own (the police.uk reader's rules), never the
    whole file."""
    text = data[3:] if data[:3] == b"\xef\xbb\xbf" else data
    if spec.skip_rows:
        parts = text.split(b"\n", spec.skip_rows)
        text = parts[-1] if len(parts) > spec.skip_rows else b""
    if not text.strip():
        return _rows(pa.table({}))
    header = first_line_fields(text)
    if not any(header):
        return _rows(pa.table({}))
    parsed = parse_csv(text, header, keep_text=frozenset(header), multiline=True)
    table = parsed.table
    if table.num_columns:  # blanks as empty text, as the mapping expects
        table = pa.table(
            {name: pc.fill_null(table.column(name), "") for name in table.column_names}
        )
    return _Rows(table, parsed.row_numbers, parsed.rows_read, list(parsed.rejected))


def _read(path: Path, data: bytes, spec: TableSpec) -> _Rows:
    """The file as a table of strings with its row numbers and unreadable rows. Raises
    IngestError when it cannot be read at all; the message never holds the file's contents."""
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(
                io.BytesIO(data),
                sheet_name=spec.sheet or 0,
                dtype=object,
                skiprows=spec.skip_rows,
                engine="openpyxl",
            )
            return _rows(as_table(frame.apply(_excel_text).fillna("")))
        if data.startswith(b"PK\x03\x04") or b"\x00" in data[:4096]:
            raise IngestError(f"{path.name} is not a text CSV file.", "Export it as CSV or .xlsx.")
        return _read_csv(data, spec)
    except IngestError:
        raise
    except (UnicodeDecodeError, pa.ArrowInvalid, ValueError, KeyError, OSError) as exc:
        raise IngestError(
            f"{path.name} cannot be read ({type(exc).__name__}).",
            "Check that it is a UTF-8 CSV with a header row (or an .xlsx with the sheet the "
            "mapping names).",
        ) from exc
    except Exception as exc:  # openpyxl raises its own types on corrupt workbooks
        raise IngestError(
            f"{path.name} cannot be read as a workbook ({type(exc).__name__}).",
            "Open it in Excel and save it again as .xlsx.",
        ) from exc


def _excel_text(col: pd.Series) -> pd.Series:
    def one(v: Any) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, pd.Timestamp) or hasattr(v, "isoformat"):
            return pd.Timestamp(v).isoformat(sep=" ")
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()

    return col.map(one)


def _raw_lines(raw: pa.Table, rows: np.ndarray) -> list[str]:
    """The rows at positions ``rows`` as CSV lines (for quarantine)."""
    if not len(rows):
        return []
    part = raw.take(pa.array(rows))
    cells = zip(*(c.to_pylist() for c in part.columns), strict=True) if part.num_columns else []
    lines = []
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="")
    for rec in cells or [()] * len(rows):
        buf.seek(0)
        buf.truncate()
        writer.writerow(["" if v is None else v for v in rec])
        lines.append(buf.getvalue())
    return lines


def _isin(values: pa.Array, known: pa.Array) -> np.ndarray:
    """Whether each value is in ``known`` (a pyarrow hash look-up; nulls count as known)."""
    hit = pc.is_in(values, value_set=known, skip_nulls=True)
    return np.asarray(pc.or_kleene(hit, pc.is_null(values)).to_numpy(zero_copy_only=False))


def _shown(column: str, values: pa.Array) -> Any:
    def texts(idx: np.ndarray) -> list[str]:
        return [f"{column}: {v}" for v in values.take(pa.array(idx)).to_pylist()]

    return texts


def _check_references(run: _Run, spec: TableSpec, out: Transformed) -> None:
    f = out.columns
    for column, kind in spec.target.references:
        if column not in f:
            continue
        values = f[column]
        if kind == "person_or_address":
            is_addr = np.asarray(
                pc.fill_null(pc.equal(f["to_kind"], "address"), False).to_numpy(
                    zero_copy_only=False
                )
            )
            ok = np.where(
                is_addr, _isin(values, run.known("address")), _isin(values, run.known("person"))
            )
            mark(out, ~ok & ~is_addr, "unknown_person_ref", _shown(column, values))
            mark(out, ~ok & is_addr, "unknown_address_ref", _shown(column, values))
            continue
        ok = _isin(values, run.known(kind))
        mark(out, ~ok, f"unknown_{kind}_ref", _shown(column, values))


def _derive(run: _Run, table: str, cols: dict[str, pa.Array]) -> dict[str, Any]:
    """Add the derived columns of ``table`` to ``cols``; returns the constant columns."""
    constants: dict[str, Any] = {"force": run.mapping.force}
    if table in ("occurrences", "persons"):
        constants["synthetic"] = run.synthetic
    if table != "occurrences":
        return constants
    cats = home_office_codes().set_index("code")["policeuk_category"].to_dict()
    cols["policeuk_category"] = vmap(cols["ho_code"], cats.get, pa.string())
    rep = cols["reported_at"]
    cols["month"] = pc.binary_join_element_wise(pad(pc.year(rep), 4), pad(pc.month(rep), 2), "-")
    constants["time_precision"] = "minute"
    located = pc.is_valid(cols["easting"]) if "easting" in cols else None
    if located is None:
        constants["location_precision"] = "none"
    else:
        cols["location_precision"] = pc.if_else(located, "exact", "none")
        if pc.any(located).as_py():
            from pyproj import Transformer

            tr = Transformer.from_crs(27700, 4326, always_xy=True)
            x = cols["easting"].to_numpy(zero_copy_only=False)
            y = cols["northing"].to_numpy(zero_copy_only=False)
            lon, lat = tr.transform(x, y)
            missing = np.isnan(x)
            cols["longitude"] = pa.array(np.where(missing, np.nan, lon), mask=missing)
            cols["latitude"] = pa.array(np.where(missing, np.nan, lat), mask=missing)
    if "lsoa_code" in cols:
        vintage = run.mapping.lsoa_vintage
        cols["lsoa_vintage"] = pc.if_else(
            pc.is_valid(cols["lsoa_code"]), pa.scalar(vintage, pa.int16()), None
        )
    return constants


def _previous(run: _Run, kind: str, sha: str) -> dict[str, Any] | None:
    q = (
        select(ingest_files)
        .where(
            ingest_files.c.sha256 == sha,
            ingest_files.c.kind == kind,
            ingest_files.c.force == run.mapping.force,
            ingest_files.c.action.in_(("loaded", "replaced")),
        )
        .order_by(ingest_files.c.id.desc())
        .limit(1)
    )
    row = run.batch.conn.execute(q).mappings().first()
    return dict(row) if row else None


def _quarantine_all(rec: Any, rows: _Rows, spec: TableSpec, reason: str, detail: str) -> None:
    """Quarantine every readable row of the file (plus its unreadable ones) with ``reason``."""
    everything = np.arange(rows.table.num_rows)
    rec.quarantine(_shift(rows.rejected, spec.skip_rows))
    rec.quarantine(
        QuarantinedRow(int(rows.row_numbers[i]) + spec.skip_rows, reason, detail, line)
        for i, line in zip(everything, _raw_lines(rows.table, everything), strict=True)
    )


def _shift(rejected: list[QuarantinedRow], skip_rows: int) -> list[QuarantinedRow]:
    """Rows the reader rejected, numbered as lines of the data after the mapping's skip_rows."""
    if not skip_rows:
        return rejected
    return [
        QuarantinedRow(
            None if r.row_number is None else r.row_number + skip_rows, r.reason, r.detail, r.raw
        )
        for r in rejected
    ]


def _clear_or_dedupe(run: _Run, spec: TableSpec, out: Transformed) -> int:
    """Apply the mapping's replacement rule before storing; returns the rows deleted."""
    table_name = spec.target.table
    table = _TABLES[table_name]
    force = run.mapping.force
    replaced = 0
    if spec.replace == "whole_file" and table_name not in run.cleared:
        replaced = run.batch.conn.execute(delete(table).where(table.c.force == force)).rowcount
        run.cleared.add(table_name)
        run.before[table_name] = int(replaced or 0)
        run.deleted(table_name)
    key = spec.target.key
    if spec.replace == "by_key":
        rkey = spec.target.replace_key or key
        assert rkey is not None
        good_keys = pc.drop_null(out.columns[rkey].filter(pa.array(out.ok)))
        replaced = delete_keys(run.batch.conn, table, force, rkey, pc.unique(good_keys).to_pylist())
        run.deleted(table_name)
    elif key in ("crime_ref", "person_ref", "address_ref"):
        # whole_file, several files in one run: a key already loaded is a duplicate
        values = out.columns[key]
        dup = _isin(values, run.known(key.removesuffix("_ref"))) & np.asarray(
            pc.is_valid(values).to_numpy(zero_copy_only=False)
        )
        shown = _shown(key, values)
        mark(
            out,
            dup,
            "duplicate_key",
            lambda idx: [t + " is in an earlier file of this run" for t in shown(idx)],
        )
    return int(replaced or 0)


def _ingest_file(run: _Run, spec: TableSpec, path: Path, data: bytes, sha: str) -> None:
    table_name = spec.target.table
    table = _TABLES[table_name]
    kind = f"force:{table_name}"
    force = run.mapping.force
    label = f"{path}!{spec.sheet}" if spec.sheet and path.suffix.lower() != ".csv" else str(path)
    current = run.batch.current_file(kind, force, None)
    seen = _previous(run, kind, sha)
    rec = run.batch.add_file(label, kind, force=force, sha256=sha, size_bytes=len(data))
    extra: dict[str, Any] = {"table": table_name, "synthetic": run.synthetic}
    if seen is not None and (
        spec.replace == "by_key" or (current is not None and current["id"] == seen["id"])
    ):
        note = f"identical to file {seen['id']} ingested before"
        rec.finish(rows_read=0, rows_stored=0, action="unchanged", note=note, extra=extra)
        return
    try:
        rows = _read(path, data, spec)
    except IngestError as exc:
        rec.note_file_problem("unreadable", str(exc))
        rec.finish(rows_read=0, rows_stored=0, action="rejected", note=str(exc), extra=extra)
        return
    raw = rows.table
    if seen is not None:  # identical to a file a later export has superseded
        note = (
            f"identical to file {seen['id']} ingested before; a later export superseded it, "
            "so it is not re-applied"
        )
        _quarantine_all(rec, rows, spec, "older_download", note)
        rec.finish(
            rows_read=rows.rows_read,
            rows_stored=0,
            action="kept_existing",
            note=note,
            extra=extra,
        )
        return
    absent = [c for s in spec.specs if s.required for c in s.columns if c not in raw.column_names]
    if absent:
        detail = f"required column(s) {absent} not in the file; it has {raw.column_names[:30]}"
        _quarantine_all(rec, rows, spec, "missing_column", detail)
        note = "the mapping's columns do not match this file"
        rec.finish(
            rows_read=rows.rows_read, rows_stored=0, action="rejected", note=note, extra=extra
        )
        return
    rec.quarantine(_shift(rows.rejected, spec.skip_rows))
    out = transform(raw, spec)
    if out.missing_columns:
        extra["missing_columns"] = sorted(set(out.missing_columns))
    _check_references(run, spec, out)
    replaced = _clear_or_dedupe(run, spec, out)
    row_numbers = rows.row_numbers + spec.skip_rows
    bad = np.flatnonzero(~out.ok)
    if len(bad):
        rec.quarantine(
            QuarantinedRow(
                int(row_numbers[i]), str(out.reasons[i]), str(out.details[i])[:500], line
            )
            for i, line in zip(bad, _raw_lines(raw, bad), strict=True)
        )
    good = np.flatnonzero(out.ok)
    take = pa.array(good)
    cols = {name: arr.take(take) for name, arr in out.columns.items()}
    constants = _derive(run, table_name, cols)
    constants["file_id"] = rec.id
    cols["row_number"] = pa.array(row_numbers[good], type=pa.int64())
    empty = run.batch.conn.execute(select(table.c.id).limit(1)).first() is None
    stored = insert_columns(run.batch.conn, table, cols, constants, empty=empty)
    run.stored(table_name, cols)
    if current is not None and replaced:
        extra["rows_replaced"] = int(replaced)
    rec.finish(
        rows_read=rows.rows_read,
        rows_stored=stored,
        action="replaced" if current is not None else "loaded",
        replaced_file_id=current["id"] if current is not None else None,
        extra=extra,
    )


def _check_shrink(run: _Run, tables: dict[str, int], max_shrink: float) -> None:
    """Refuse (roll back) a whole-file replacement that removes more than ``max_shrink`` of a
    table's rows for the force, saying how many rows of which table it would remove."""
    lines = []
    for table_name, before in sorted(run.before.items()):
        after = tables.get(table_name, 0)
        removed = before - after
        if before and removed > max_shrink * before:
            lines.append(
                f"{table_name}: {before:,} rows stored now, {after:,} after ({removed:,} removed, "
                f"{removed / before:.0%})"
            )
    if lines:
        raise IngestError(
            f"Refusing to replace force records for {run.mapping.force}: the files would remove "
            f"more than {max_shrink:.0%} of "
            + ("a table" if len(lines) == 1 else "these tables")
            + " (whole-file replacement): "
            + "; ".join(lines)
            + ". Nothing was changed.",
            "If these files really are the complete new extract, run again with --allow-shrink "
            "(or set --max-shrink); otherwise give the complete export files.",
        )


def ingest_force(
    store: Store,
    paths: list[str | Path],
    mapping: str | Path | Mapping,
    *,
    command: str | None = None,
    allow_shrink: bool = False,
    max_shrink: float = 0.5,
) -> dict[str, Any]:
    """Ingest force export files through a mapping; returns the reconciliation report.

    A whole-file replacement that would leave a table with less than ``1 - max_shrink`` of the
    force's rows it has now (by default: remove more than half) raises
    :class:`~peelian.errors.IngestError` naming the table and the rows it would remove, and
    changes nothing, unless ``allow_shrink=True``.

    ``paths``: files and/or folders (every file in a folder is matched against the mapping's
    file patterns). ``mapping``: a :class:`Mapping`, a path, or a shipped name
    (``synthetic_rms``, ``template_rms``). The report is ``{"batch", "mapping", "force",
    "synthetic", "files": [...], "tables": {table: rows stored in this run}}``.
    """
    m = mapping if isinstance(mapping, Mapping) else load_mapping(mapping)
    files = _expand(paths)
    if not files:
        raise IngestError("No files to ingest.", "Give export files or a folder holding them.")
    if m.synthetic == "auto":
        synthetic = any((f.parent / SYNTHETIC_README).exists() for f in files)
    else:
        synthetic = m.synthetic == "true"
    plan: list[tuple[TableSpec, Path]] = []
    unmatched: list[Path] = []
    for f in files:
        if not any(spec.matches(f.name) for spec in m.tables.values()):
            unmatched.append(f)
    for t in FORCE_TABLES:
        spec = m.tables.get(t.name)
        if spec is not None:
            plan += [(spec, f) for f in files if spec.matches(f.name)]
    if not plan:
        raise IngestError(
            f"None of the {len(files)} file(s) matches a file pattern of the mapping {m.name}.",
            f"The mapping expects: {m.describe()['tables']}.",
        )
    with open_batch(store, source="force", command=command) as batch:
        run = _Run(batch, m, synthetic)
        for spec, f in plan:
            data = f.read_bytes()
            _ingest_file(run, spec, f, data, hashlib.sha256(data).hexdigest())
            del data
        for f in unmatched:
            data = f.read_bytes()
            rec = batch.add_file(
                str(f),
                "force:unmatched",
                force=m.force,
                sha256=hashlib.sha256(data).hexdigest(),
                size_bytes=len(data),
            )
            rec.finish(
                rows_read=0,
                rows_stored=0,
                action="skipped",
                note="no table of the mapping matches this file name",
            )
        tables: dict[str, int] = {}
        for entry in batch.files:
            if entry.get("table"):
                tables[entry["table"]] = tables.get(entry["table"], 0) + entry["rows_stored"]
        if not allow_shrink:
            _check_shrink(run, tables, max_shrink)
        batch.extra.update(
            {
                "mapping": m.name,
                "mapping_version": m.version,
                "force": m.force,
                "synthetic": synthetic,
                "tables": tables,
            }
        )
    return batch.report
