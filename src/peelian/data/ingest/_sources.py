"""Expand what the user gave (zips, folders, CSV files) into the files to ingest.

Zip members and folder files are read one at a time (``SourceFile.load``), so memory holds one
file at a time. Things that are not data files (a PNG in a zip, a README) become ``skipped``
entries in the report, decided from the member's name and its first bytes without reading it
whole; a path that does not exist or is not a CSV at all is an
:class:`~peelian.errors.IngestError` before anything is written.

Zip bombs and oversized exports are refused before anything is read or written, from the sizes
the archive declares, by :class:`IngestLimits` (each limit names the option and environment
variable that raises it). A member that holds more than it declares fails its read (Python's
``zipfile`` stops at the declared size and checks the CRC), and no read asks for more than the
per-file limit.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from peelian.data.ingest._csv import looks_binary
from peelian.errors import IngestError

__all__ = ["IngestLimits", "SourceFile", "expand_sources"]

_OFFICE = {
    ".xlsx": "an Excel workbook",
    ".xlsm": "an Excel workbook",
    ".xls": "an Excel workbook",
    ".ods": "a spreadsheet",
    ".docx": "a Word document",
}
_HINT = "Give police.uk zips, folders in the police.uk layout (YYYY-MM/...csv) or CSV files."
_MIB = 1 << 20
#: The compression ratio is only checked for members larger than this (tiny files may compress
#: very well and are harmless).
RATIO_FLOOR_BYTES = _MIB


@dataclass(frozen=True)
class IngestLimits:
    """Limits that stop a zip bomb or a mistaken giant file before it is read.

    - ``max_file_bytes``: one CSV file or zip member, uncompressed (default 1 GiB; police.uk's
      largest monthly file, the Metropolitan Police street file, is about 20 MB).
    - ``max_total_bytes``: everything in one ingest, uncompressed (default 16 GiB).
    - ``max_ratio``: uncompressed / compressed size of a zip member over 1 MiB (default 100;
      police.uk CSVs compress about 4 to 16 times, zip bombs 1,000 times and more).
    - ``max_members``: members of one zip (default 50,000; every force for ten years of police.uk
      is about 16,000).

    The CLI sets them with ``--max-file-mb``, ``--max-total-mb``, ``--max-ratio`` (or
    ``PEELIAN_INGEST_MAX_FILE_MB``, ``PEELIAN_INGEST_MAX_TOTAL_MB``, ``PEELIAN_INGEST_MAX_RATIO``).
    """

    max_file_bytes: int = 1 << 30
    max_total_bytes: int = 16 << 30
    max_ratio: float = 100.0
    max_members: int = 50_000

    def check_file(self, label: str, size: int) -> None:
        if size > self.max_file_bytes:
            raise IngestError(
                f"{label} is {size / _MIB:,.1f} MB uncompressed, over the limit of "
                f"{self.max_file_bytes / _MIB:,.0f} MB for one file; nothing was read or stored.",
                "If this is a genuine export, raise the limit with --max-file-mb N (or "
                "PEELIAN_INGEST_MAX_FILE_MB=N); otherwise the file is not what it claims to be.",
            )

    def check_ratio(self, label: str, size: int, compressed: int) -> None:
        ratio = size / max(compressed, 1)
        if size > RATIO_FLOOR_BYTES and ratio > self.max_ratio:
            raise IngestError(
                f"{label} would expand {ratio:,.0f} times ({compressed:,} bytes to {size:,}), over "
                f"the limit of {self.max_ratio:,.0f} times: it looks like a zip bomb, so nothing "
                "was read or stored.",
                "police.uk files compress 4 to 16 times. If this archive is genuine, raise the "
                "limit with --max-ratio N (or PEELIAN_INGEST_MAX_RATIO=N).",
            )

    def check_total(self, total: int) -> None:
        if total > self.max_total_bytes:
            raise IngestError(
                f"The files to ingest hold {total / _MIB:,.0f} MB uncompressed, over the limit of "
                f"{self.max_total_bytes / _MIB:,.0f} MB for one ingest; nothing was read or "
                "stored.",
                "Ingest fewer files at a time, or raise the limit with --max-total-mb N (or "
                "PEELIAN_INGEST_MAX_TOTAL_MB=N).",
            )


@dataclass
class SourceFile:
    """One file to ingest: ``path`` as shown (``zip!member`` for zip members), its base
    ``name`` (for the police.uk naming pattern), its (declared) size, a loader for its bytes and
    one for its first bytes (to recognise it without reading it whole)."""

    path: str
    name: str
    size: int
    load: Callable[[], bytes]
    skip_reason: str | None = None
    head: Callable[[int], bytes] | None = None

    def first_bytes(self, n: int = 4096) -> bytes:
        return self.head(n) if self.head is not None else self.load()[:n]


def _zip_members(path: Path, limits: IngestLimits) -> list[SourceFile]:
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(
            f"{path} is not a readable zip archive ({exc}).",
            "Download it again from data.police.uk, or unzip it and give the folder.",
        ) from exc
    files = [i for i in infos if not i.is_dir()]
    if len(files) > limits.max_members:
        raise IngestError(
            f"{path} holds {len(files):,} files, over the limit of {limits.max_members:,} for "
            "one zip; nothing was read or stored.",
            "Unzip it and ingest its folders in parts.",
        )
    out: list[SourceFile] = []
    for info in sorted(files, key=lambda i: i.filename):
        name = info.filename
        label = f"{path}!{name}"
        skip = None if name.lower().endswith(".csv") else "not a .csv file"
        if skip is None:  # only members that will be read are held to the limits
            limits.check_file(label, info.file_size)
            limits.check_ratio(label, info.file_size, info.compress_size)

        def read(n: int, zf: zipfile.ZipFile = zf, name: str = name) -> bytes:
            try:
                with zf.open(name) as fh:
                    return fh.read(n)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise IngestError(
                    f"Cannot read {name} in {path}: {exc}.",
                    "The zip is damaged: download it again.",
                ) from exc

        def load(read: Callable[[int], bytes] = read, label: str = label) -> bytes:
            data = read(limits.max_file_bytes + 1)
            limits.check_file(label, len(data))
            return data

        out.append(SourceFile(label, name, info.file_size, load, skip, read))
    return out


def _file(path: Path, *, direct: bool, limits: IngestLimits) -> list[SourceFile]:
    if direct and path.suffix.lower() in _OFFICE:
        raise IngestError(
            f"{path} is {_OFFICE[path.suffix.lower()]}, not a police.uk CSV file.",
            "Give the CSV files as downloaded from data.police.uk (or export the sheet as CSV).",
        )
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() == ".zip":
        return _zip_members(path, limits)
    what = looks_binary(head)
    if what is not None and direct:
        raise IngestError(f"{path} is {what}, not a police.uk CSV file.", _HINT)
    skip = None
    if what is not None:
        skip = f"{what}, not a CSV file"
    elif path.suffix.lower() not in {".csv", ".txt", ""} and not direct:
        skip = f"not a .csv file ({path.suffix})"
    size = path.stat().st_size
    if skip is None:
        limits.check_file(str(path), size)

    def first(n: int, path: Path = path) -> bytes:
        with path.open("rb") as fh:
            return fh.read(n)

    return [SourceFile(str(path), path.name, size, path.read_bytes, skip, first)]


def expand_sources(
    paths: Iterable[str | Path], limits: IngestLimits | None = None
) -> list[SourceFile]:
    """The files to ingest, in a stable order (sorted within each zip or folder).

    Raises :class:`~peelian.errors.IngestError` when a file, a zip member or the total is over
    ``limits`` (default :class:`IngestLimits`), before anything is read.
    """
    limits = limits or IngestLimits()
    out: list[SourceFile] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise IngestError(f"{path} does not exist.", _HINT)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                out.extend(_file(child, direct=False, limits=limits))
        else:
            out.extend(_file(path, direct=True, limits=limits))
    if not out:
        raise IngestError(f"No files found in {', '.join(map(str, paths))}.", _HINT)
    limits.check_total(sum(s.size for s in out if s.skip_reason is None))
    return out
