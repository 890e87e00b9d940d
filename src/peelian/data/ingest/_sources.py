"""Expand what the user gave (zips, folders, CSV files) into the files to ingest.

Zip members and folder files are read one at a time (``SourceFile.load``), so memory holds one
file at a time. Things that are not data files (a PNG in a zip, a README) become ``skipped``
entries in the report; a path that does not exist or is not a CSV at all is an
:class:`~peelian.errors.IngestError` before anything is written.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from peelian.data.ingest._csv import looks_binary
from peelian.errors import IngestError

__all__ = ["SourceFile", "expand_sources"]

_OFFICE = {
    ".xlsx": "an Excel workbook",
    ".xlsm": "an Excel workbook",
    ".xls": "an Excel workbook",
    ".ods": "a spreadsheet",
    ".docx": "a Word document",
}
_HINT = "Give police.uk zips, folders in the police.uk layout (YYYY-MM/...csv) or CSV files."


@dataclass
class SourceFile:
    """One file to ingest: ``path`` as shown (``zip!member`` for zip members), its base
    ``name`` (for the police.uk naming pattern), its size and a loader for its bytes."""

    path: str
    name: str
    size: int
    load: Callable[[], bytes]
    skip_reason: str | None = None


def _zip_members(path: Path) -> list[SourceFile]:
    try:
        zf = zipfile.ZipFile(path)
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise IngestError(
            f"{path} is not a readable zip archive ({exc}).",
            "Download it again from data.police.uk, or unzip it and give the folder.",
        ) from exc
    out: list[SourceFile] = []
    for info in sorted(infos, key=lambda i: i.filename):
        if info.is_dir():
            continue
        name = info.filename

        def load(zf: zipfile.ZipFile = zf, name: str = name) -> bytes:
            try:
                return zf.read(name)
            except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
                raise IngestError(
                    f"Cannot read {name} in {path}: {exc}.",
                    "The zip is damaged: download it again.",
                ) from exc

        skip = None if name.lower().endswith(".csv") else "not a .csv file"
        out.append(SourceFile(f"{path}!{name}", name, info.file_size, load, skip))
    return out


def _file(path: Path, *, direct: bool) -> list[SourceFile]:
    if direct and path.suffix.lower() in _OFFICE:
        raise IngestError(
            f"{path} is {_OFFICE[path.suffix.lower()]}, not a police.uk CSV file.",
            "Give the CSV files as downloaded from data.police.uk (or export the sheet as CSV).",
        )
    with path.open("rb") as fh:
        head = fh.read(4096)
    if head.startswith(b"PK\x03\x04") or path.suffix.lower() == ".zip":
        return _zip_members(path)
    what = looks_binary(head)
    if what is not None and direct:
        raise IngestError(f"{path} is {what}, not a police.uk CSV file.", _HINT)
    skip = None
    if what is not None:
        skip = f"{what}, not a CSV file"
    elif path.suffix.lower() not in {".csv", ".txt", ""} and not direct:
        skip = f"not a .csv file ({path.suffix})"
    return [SourceFile(str(path), path.name, path.stat().st_size, path.read_bytes, skip)]


def expand_sources(paths: Iterable[str | Path]) -> list[SourceFile]:
    """The files to ingest, in a stable order (sorted within each zip or folder)."""
    out: list[SourceFile] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise IngestError(f"{path} does not exist.", _HINT)
        if path.is_dir():
            for child in sorted(p for p in path.rglob("*") if p.is_file()):
                if child.name.startswith("."):
                    continue
                out.extend(_file(child, direct=False))
        else:
            out.extend(_file(path, direct=True))
    if not out:
        raise IngestError(f"No files found in {', '.join(map(str, paths))}.", _HINT)
    return out
