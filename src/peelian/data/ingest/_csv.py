"""Columnar CSV reading that accounts for every line: pyarrow parses, and every line it cannot
use (wrong number of fields, invalid UTF-8, a field over :data:`MAX_FIELD_BYTES`, a cut-off last
line) comes back as a quarantined row.

Row numbers are 1-based over the non-empty data lines (the line after the header is row 1);
blank lines are not rows.

Nothing here depends on the wording of a pyarrow error: bytes that are not UTF-8 and lines over
the field limit are found before parsing (so the parser never meets them), and when pyarrow
still cannot parse the file (e.g. a quoted field spanning more than a parse block) the file is
read again by Python's :mod:`csv` module, which accounts for every record the same way.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from peelian.data.ingest.batch import QuarantinedRow
from peelian.errors import IngestError

__all__ = [
    "MAX_FIELD_BYTES",
    "NULL_TOKENS",
    "ParsedCSV",
    "first_line_fields",
    "looks_binary",
    "parse_csv",
]

#: A row with a line or field larger than this is quarantined (``field_too_large``), not parsed.
MAX_FIELD_BYTES = 4 << 20
#: Texts read as a missing value (pyarrow's defaults), except in the columns a caller keeps.
NULL_TOKENS = (
    "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN",
    "N/A", "NA", "NULL", "NaN", "n/a", "nan", "null",
)  # fmt: skip
#: Quarantined raw text of an oversized row keeps this many characters.
RAW_PREVIEW = 2000

_BLOCK = 16 << 20
_BOM = b"\xef\xbb\xbf"
_MARKER = b"\x01"
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"\x1f\x8b": "a gzip file",
    b"\xd0\xcf\x11\xe0": "an old Excel/Office document",
}


def looks_binary(data: bytes) -> str | None:
    """What the bytes are if they are clearly not a text CSV (``None`` if they may be)."""
    for magic, what in _MAGIC.items():
        if data.startswith(magic):
            return what
    if b"\x00" in data[:4096]:
        return "a binary file"
    return None


def first_line_fields(data: bytes) -> list[str]:
    """The fields of the first line (the header), BOM and surrounding spaces removed."""
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    line = data[: MAX_FIELD_BYTES + 1].split(b"\n", 1)[0].rstrip(b"\r")
    text = line.decode("utf-8", errors="replace")
    try:
        row = next(csv.reader(io.StringIO(text)), [])
    except csv.Error:
        row = text.split(",")
    return [f.strip() for f in row]


@dataclass
class ParsedCSV:
    """A parsed file: string columns (``None`` for blank), the data row number of each table row,
    the rows that could not be parsed, and the count of data rows read."""

    table: pa.Table
    row_numbers: np.ndarray
    rows_read: int
    rejected: list[QuarantinedRow] = field(default_factory=list)


def _preview(raw: bytes | str) -> str:
    text = raw if isinstance(raw, str) else raw.decode("utf-8", errors="backslashreplace")
    text = text.rstrip("\r")
    if len(text) <= RAW_PREVIEW:
        return text
    return f"{text[:RAW_PREVIEW]}... [{len(text):,} characters; the first {RAW_PREVIEW} kept]"


def _mark_lines(data: bytes) -> tuple[bytes, dict[int, QuarantinedRow]]:
    """Replace lines that are not UTF-8 or longer than :data:`MAX_FIELD_BYTES` by a one-field
    marker (the parser then rejects them and numbering stays intact); return the cleaned bytes
    and the quarantined rows keyed by their 1-based non-empty line number (header = 1)."""
    utf8_ok = True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        utf8_ok = False
    if utf8_ok and len(data) <= MAX_FIELD_BYTES:
        return data, {}
    bad: dict[int, QuarantinedRow] = {}
    out: list[bytes] = []
    nonempty = 0
    for line in data.split(b"\n"):
        if line.strip(b"\r"):
            nonempty += 1
        if len(line) > MAX_FIELD_BYTES and nonempty > 1:
            bad[nonempty] = QuarantinedRow(
                nonempty - 1,
                "field_too_large",
                f"the line is {len(line):,} bytes, more than the {MAX_FIELD_BYTES >> 20} MiB a "
                "row may hold; only its start is kept",
                _preview(line),
            )
            out.append(_MARKER)
            continue
        if not utf8_ok:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                bad[nonempty] = QuarantinedRow(
                    nonempty - 1,
                    "invalid_utf8",
                    f"bytes that are not valid UTF-8 at column {exc.start + 1}; re-save the file as "
                    "UTF-8",
                    _preview(line),
                )
                out.append(_MARKER)
                continue
        out.append(line)
    return b"\n".join(out), bad


def _read_arrow(
    data: bytes, names: list[str], threads: bool, multiline: bool
) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    bad: list[tuple[int | None, str]] = []

    def handler(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text))
        return "skip"

    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(
            use_threads=threads, skip_rows=1, column_names=names, block_size=_BLOCK
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=handler, newlines_in_values=multiline),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return table, bad


def _read_python(data: bytes, names: list[str]) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    """The same result as :func:`_read_arrow`, by Python's csv module (any record size)."""
    text = data.decode("utf-8", errors="replace")
    previous = csv.field_size_limit()
    csv.field_size_limit(max(previous, len(text) + 1))
    rows: list[list[str]] = []
    bad: list[tuple[int | None, str]] = []
    number = 0
    try:
        for rec in csv.reader(io.StringIO(text, newline="")):
            if not rec or (len(rec) == 1 and not rec[0].strip("\r")):
                continue
            number += 1
            if number == 1:
                continue  # the header
            if len(rec) != len(names):
                buf = io.StringIO()
                csv.writer(buf, lineterminator="").writerow(rec)
                bad.append((number, buf.getvalue()))
            else:
                rows.append(rec)
    except csv.Error as exc:
        raise IngestError(
            f"The file cannot be parsed as CSV ({exc}).",
            "Check the file is an unmodified download (download it again).",
        ) from exc
    finally:
        csv.field_size_limit(previous)
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    table = pa.table(
        {
            name: pa.array([v if v != "" else None for v in col], type=pa.string())
            for name, col in zip(names, columns, strict=True)
        }
    )
    return table, bad


def _parse(
    data: bytes, names: list[str], multiline: bool
) -> tuple[pa.Table, list[tuple[int | None, str]]]:
    try:
        table, bad = _read_arrow(data, names, True, multiline)
        if any(number is None for number, _ in bad):  # numbering needs one thread
            table, bad = _read_arrow(data, names, False, multiline)
    except pa.ArrowInvalid:  # e.g. a quoted record longer than a parse block
        table, bad = _read_python(data, names)
    return table, bad


def _oversized(table: pa.Table) -> np.ndarray:
    """Rows with a field over :data:`MAX_FIELD_BYTES` (quoted fields spanning lines)."""
    big = np.zeros(table.num_rows, dtype=bool)
    for col in table.columns:
        lengths = pc.binary_length(col)
        big |= np.asarray(
            pc.fill_null(pc.greater(lengths, MAX_FIELD_BYTES), False).to_numpy(
                zero_copy_only=False
            ),
            dtype=bool,
        )
    return big


def _nulls(table: pa.Table, keep_text: frozenset[str]) -> pa.Table:
    tokens = pa.array(NULL_TOKENS, type=pa.string())
    for i, name in enumerate(table.column_names):
        if name in keep_text:
            continue
        col = table.column(i)
        hit = pc.is_in(col, value_set=tokens)
        if pc.any(hit).as_py():
            table = table.set_column(i, name, pc.if_else(hit, pa.scalar(None, pa.string()), col))
    return table


def parse_csv(
    data: bytes,
    names: list[str],
    *,
    keep_text: frozenset[str] = frozenset(),
    multiline: bool = False,
) -> ParsedCSV:
    """Parse CSV bytes whose first line is a header, into string columns named ``names``.

    Lines with the wrong number of fields are quarantined (``wrong_field_count``), lines that are
    not UTF-8 (``invalid_utf8``), rows over :data:`MAX_FIELD_BYTES` (``field_too_large``) and a
    last line without its line ending (``truncated_last_line``: police.uk files always end with
    one, so a missing one means the download was cut). Blank fields and the texts in
    :data:`NULL_TOKENS` become ``None``, except that columns in ``keep_text`` keep those texts
    (so a caller can give a literal ``nan`` its own reason). ``multiline``: quoted fields may
    hold line breaks (exports with free text); police.uk files never do, so each line is a row.
    """
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    rejected: list[QuarantinedRow] = []
    truncated: bytes | None = None
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n")
        if cut >= 0:  # a header line exists; the last line is cut off
            truncated = data[cut + 1 :]
            data = data[: cut + 1]
    data, marked = _mark_lines(data)
    table, bad = _parse(data, names, multiline)
    bad_rows: list[int] = []
    for number, text in bad:
        number = int(number or 0)
        if number in marked:
            rejected.append(marked.pop(number))
        else:
            rejected.append(
                QuarantinedRow(
                    number - 1,
                    "wrong_field_count",
                    f"expected {len(names)} comma-separated fields",
                    _preview(text),
                )
            )
        bad_rows.append(number - 1)
    rejected.extend(marked.values())  # (only if the parser accepted a marker; defensive)
    bad_rows.extend(r.row_number for r in marked.values() if r.row_number is not None)
    rows_read = table.num_rows + len(rejected)
    bad_rows = [r for r in bad_rows if 0 < r <= rows_read]  # (line vs record numbers: defensive)
    if bad_rows:
        keep = np.ones(rows_read + 1, dtype=bool)
        keep[0] = False
        keep[np.asarray(bad_rows, dtype=np.int64)] = False
        row_numbers = np.flatnonzero(keep)
    else:
        row_numbers = np.arange(1, table.num_rows + 1, dtype=np.int64)
    big = _oversized(table)
    if big.any():
        for i in np.flatnonzero(big):
            values = [
                "" if v is None else str(v) for v in table.slice(int(i), 1).to_pylist()[0].values()
            ]
            rejected.append(
                QuarantinedRow(
                    int(row_numbers[i]),
                    "field_too_large",
                    f"a field is larger than the {MAX_FIELD_BYTES >> 20} MiB a field may hold; "
                    "only the start of the row is kept",
                    _preview(",".join(values)),
                )
            )
        keep_rows = np.flatnonzero(~big)
        table = table.take(pa.array(keep_rows, type=pa.int64()))
        row_numbers = row_numbers[keep_rows]
    table = _nulls(table, keep_text)
    if truncated is not None and truncated.strip(b"\r"):
        rows_read += 1
        rejected.append(
            QuarantinedRow(
                rows_read,
                "truncated_last_line",
                "the last line has no line ending: the file was cut off; download it again",
                _preview(truncated),
            )
        )
    return ParsedCSV(table, row_numbers, rows_read, rejected)
