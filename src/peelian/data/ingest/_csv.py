"""Columnar CSV reading that accounts for every line: pyarrow parses, and every line it cannot
use (wrong number of fields, invalid UTF-8, a cut-off last line) comes back as a quarantined row.

Row numbers are 1-based over the non-empty data lines (the line after the header is row 1);
blank lines are not rows.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from peelian.data.ingest.batch import QuarantinedRow

__all__ = ["ParsedCSV", "first_line_fields", "looks_binary", "parse_csv"]

_BOM = b"\xef\xbb\xbf"
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
    line = data.split(b"\n", 1)[0].rstrip(b"\r")
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


def _read(
    data: bytes, names: list[str], threads: bool, bad: list[tuple[int | None, str]]
) -> pa.Table:
    def handler(row: pacsv.InvalidRow) -> str:
        bad.append((row.number, row.text))
        return "skip"

    return pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(
            use_threads=threads, skip_rows=1, column_names=names, block_size=1 << 22
        ),
        parse_options=pacsv.ParseOptions(invalid_row_handler=handler),
        convert_options=pacsv.ConvertOptions(
            column_types={n: pa.string() for n in names},
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )


def _split_invalid_utf8(data: bytes) -> tuple[bytes, dict[int, QuarantinedRow]]:
    """Replace lines that are not UTF-8 by a one-field marker (so the parser rejects them and
    numbering stays intact); return the cleaned bytes and the quarantined rows by line number."""
    lines = data.split(b"\n")
    out: list[bytes] = []
    bad: dict[int, QuarantinedRow] = {}
    nonempty = 0
    for line in lines:
        if line.strip(b"\r"):
            nonempty += 1
        try:
            line.decode("utf-8")
            out.append(line)
        except UnicodeDecodeError as exc:
            bad[nonempty] = QuarantinedRow(
                nonempty - 1,
                "invalid_utf8",
                f"bytes that are not UTF-8 at column {exc.start + 1}; re-save the file as UTF-8",
                line.rstrip(b"\r").decode("utf-8", errors="backslashreplace"),
            )
            out.append(b"\x01")
    return b"\n".join(out), bad


def parse_csv(data: bytes, names: list[str]) -> ParsedCSV:
    """Parse CSV bytes whose first line is a header, into string columns named ``names``.

    Lines with the wrong number of fields are quarantined (``wrong_field_count``), lines that are
    not UTF-8 (``invalid_utf8``), and a last line without its line ending (``truncated_last_line``:
    police.uk files always end with one, so a missing one means the download was cut).
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
    utf8_bad: dict[int, QuarantinedRow] = {}
    bad: list[tuple[int | None, str]] = []
    try:
        table = _read(data, names, True, bad)
    except pa.ArrowInvalid as exc:
        if "UTF8" not in str(exc) and "utf8" not in str(exc).lower():
            raise
        data, utf8_bad = _split_invalid_utf8(data)
        bad = []
        table = _read(data, names, False, bad)
    if bad and any(number is None for number, _ in bad):
        bad = []
        table = _read(data, names, False, bad)
    bad_rows: list[int] = []
    for number, text in bad:
        assert number is not None
        if number in utf8_bad:
            rejected.append(utf8_bad.pop(number))
        else:
            rejected.append(
                QuarantinedRow(
                    number - 1,
                    "wrong_field_count",
                    f"expected {len(names)} comma-separated fields",
                    text.rstrip("\r"),
                )
            )
        bad_rows.append(number - 1)
    rejected.extend(utf8_bad.values())  # (only if the parser accepted the marker; defensive)
    bad_rows.extend(r.row_number for r in utf8_bad.values() if r.row_number is not None)
    rows_read = table.num_rows + len(rejected)
    if bad_rows:
        keep = np.ones(rows_read + 1, dtype=bool)
        keep[0] = False
        keep[np.asarray(bad_rows, dtype=np.int64)] = False
        row_numbers = np.flatnonzero(keep)
    else:
        row_numbers = np.arange(1, table.num_rows + 1, dtype=np.int64)
    if truncated is not None and truncated.strip(b"\r"):
        rows_read += 1
        rejected.append(
            QuarantinedRow(
                rows_read,
                "truncated_last_line",
                "the last line has no line ending: the file was cut off; download it again",
                truncated.decode("utf-8", errors="backslashreplace"),
            )
        )
    return ParsedCSV(table, row_numbers, rows_read, rejected)
