"""``fetch_policeuk``: download one force's police.uk street, outcomes and stop-and-search files.

Source: the monthly archive ``{base}/data/archive/YYYY-MM.zip`` (all forces, the 36 months up to
YYYY-MM), read with range requests so only the force's members travel; which months exist comes
from the API's ``{base}/api/crimes-street-dates`` (https://data.police.uk/docs/method/crimes-street-dates/).
The files are written exactly as published under ``OUT/YYYY-MM/YYYY-MM-<force>-<kind>.csv``, the
layout ``peelian ingest policeuk OUT`` reads.

Resumable and verified: ``OUT/fetch-manifest.json`` records every file written (sha256, bytes,
rows, header check, source member). A rerun skips files whose bytes still match the manifest and
fetches again any that are missing or corrupt. Zip members are CRC-checked as they are read.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from peelian.data.fetch._http import PoliteClient, TokenBucket
from peelian.data.fetch._remotezip import open_remote_zip
from peelian.errors import FetchError, ParameterError
from peelian.schemas.months import parse_month

__all__ = ["DEFAULT_BASE_URL", "HEADERS", "KINDS", "fetch_policeuk", "months_between"]

DEFAULT_BASE_URL = "https://data.police.uk"
KINDS = ("street", "outcomes", "stop-and-search")
HEADERS = {
    "street": "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context",
    "outcomes": "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type",
    "stop-and-search": "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,Outcome,Outcome linked to object of search,Removal of more than just outer clothing",
}
ARCHIVE_MONTHS = 36
MANIFEST = "fetch-manifest.json"
Progress = Callable[[str, int, int], None]


def _month(value: str, name: str) -> tuple[int, int]:
    m = parse_month(value, name)  # the vocabulary's one month parser
    return int(m[:4]), int(m[5:])


def _shift(month: str, n: int) -> str:
    y, m = _month(month, "month")
    k = y * 12 + (m - 1) + n
    return f"{k // 12:04d}-{k % 12 + 1:02d}"


def months_between(month_from: str, month_to: str) -> list[str]:
    """Every month from ``month_from`` to ``month_to`` inclusive (YYYY-MM strings)."""
    a, b = _month(month_from, "from"), _month(month_to, "to")
    if a > b:
        raise ParameterError(f"--from {month_from} is after --to {month_to}.")
    out, cur = [], month_from
    while cur <= month_to:
        out.append(cur)
        cur = _shift(cur, 1)
    return out


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(path: Path) -> str | None:
    if not path.is_file():
        return None
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _parse_check(data: bytes, kind: str) -> int:
    """Rows of a police.uk CSV whose header is the published one; raises FetchError otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FetchError(f"A downloaded {kind} file is not UTF-8 text.", "Run again.") from exc
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or ",".join(rows[0]) != HEADERS[kind]:
        raise FetchError(
            f"A downloaded {kind} file does not have the police.uk {kind} header.",
            "The archive layout may have changed; report it with the month.",
        )
    width = len(rows[0])
    if any(len(r) != width for r in rows[1:]):
        raise FetchError(f"A downloaded {kind} file has rows of the wrong width.", "Run again.")
    return len(rows) - 1


class _Manifest:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = {"files": {}, "absent": {}}
        if path.is_file():
            try:
                self.data = json.loads(path.read_text())
                self.data.setdefault("files", {})
                self.data.setdefault("absent", {})
            except (json.JSONDecodeError, OSError):
                self.data = {
                    "files": {},
                    "absent": {},
                }  # unreadable: start again, files re-verified

    def save(self) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(self.data, indent=2, sort_keys=True))
        tmp.replace(self.path)


def _available_months(http: PoliteClient, base: str, force: str) -> dict[str, bool]:
    """{month: force has stop-and-search that month} from the crimes-street-dates API."""
    resp = http.get(f"{base}/api/crimes-street-dates")
    if resp.status_code != 200:
        raise FetchError(
            f"{base}/api/crimes-street-dates answered HTTP {resp.status_code}.",
            "Check --base-url (default https://data.police.uk).",
        )
    try:
        return {d["date"]: force in d.get("stop-and-search", []) for d in resp.json()}
    except (ValueError, KeyError, TypeError) as exc:
        raise FetchError(
            f"{base}/api/crimes-street-dates did not return the documented JSON list.",
            "Check --base-url.",
        ) from exc


def _plan(months: list[str], latest: str) -> list[tuple[str, list[str]]]:
    """Archives to read: each YYYY-MM.zip holds the 36 months up to YYYY-MM."""
    remaining = sorted(months)
    plan = []
    while remaining:
        archive = min(latest, _shift(remaining[0], ARCHIVE_MONTHS - 1))
        first = _shift(archive, -(ARCHIVE_MONTHS - 1))
        covered = [m for m in remaining if first <= m <= archive]
        if not covered:  # pragma: no cover - months after `latest` were removed before
            break
        plan.append((archive, covered))
        remaining = [m for m in remaining if m not in covered]
    return plan


def fetch_policeuk(
    force: str,
    month_from: str,
    month_to: str,
    out_dir: Path,
    *,
    base_url: str = DEFAULT_BASE_URL,
    cache_dir: Path | None = None,
    rate: float = 15.0,
    burst: int = 30,
    client: PoliteClient | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Download ``force``'s files for ``month_from``..``month_to`` into ``out_dir``.

    Returns ``{"force", "from", "to", "out", "files": [{path, month, kind, action, rows, bytes,
    sha256}], "absent": [...], "not_published": [...], "requests", "retries", "throttled",
    "bytes_downloaded"}``; action is ``downloaded`` or ``cached``.
    """
    if not re.fullmatch(r"[a-z][a-z-]*[a-z]", force or ""):
        raise ParameterError(
            f"The force must be its police.uk id, e.g. 'northumbria' or 'metropolitan'. Got {force!r}."
        )
    months = months_between(month_from, month_to)
    base = base_url.rstrip("/")
    out_dir.mkdir(parents=True, exist_ok=True)
    cache_dir = cache_dir or out_dir / ".cache"
    manifest = _Manifest(out_dir / MANIFEST)
    http = client or PoliteClient(bucket=TokenBucket(rate, burst))
    files: list[dict[str, Any]] = []
    absent: list[str] = []
    try:
        available = _available_months(http, base, force)
        published = [m for m in months if m in available]
        not_published = [m for m in months if m not in available]
        if not published:
            raise FetchError(
                f"police.uk has none of the months {month_from}..{month_to} "
                f"(it has {min(available, default='none')}..{max(available, default='none')}).",
                "Choose months that are published.",
            )
        wanted = [(m, k) for m in published for k in KINDS]
        todo: list[tuple[str, str]] = []
        for month, kind in wanted:
            rel = f"{month}/{month}-{force}-{kind}.csv"
            entry = manifest.data["files"].get(rel)
            if entry and _file_sha256(out_dir / rel) == entry["sha256"]:
                files.append(
                    {
                        "path": rel,
                        "month": month,
                        "kind": kind,
                        "action": "cached",
                        **_public(entry),
                    }
                )
            elif rel in manifest.data["absent"]:
                absent.append(rel)
            else:
                todo.append((month, kind))
        done = len(wanted) - len(todo)
        if on_progress:
            on_progress("police.uk files", done, len(wanted))
        latest = max(available)
        for archive, covered in _plan(sorted({m for m, _ in todo}), latest):
            url = f"{base}/data/archive/{archive}.zip"
            opened = open_remote_zip(http, url, cache_dir / f"{archive}.zip")
            if opened is None:
                raise FetchError(
                    f"{url} does not exist.",
                    "The archive may not be published yet; try an earlier --to.",
                )
            fh, how = opened
            try:
                zf = zipfile.ZipFile(fh)
            except zipfile.BadZipFile as exc:
                fh.close()
                (cache_dir / f"{archive}.zip").unlink(missing_ok=True)
                raise FetchError(
                    f"{url} is not a valid zip (corrupt download).", "Run the command again."
                ) from exc
            with fh, zf:
                names = {n.rsplit("/", 1)[-1]: n for n in zf.namelist()}
                for month, kind in [(m, k) for m, k in todo if m in covered]:
                    rel = f"{month}/{month}-{force}-{kind}.csv"
                    member = names.get(f"{month}-{force}-{kind}.csv")
                    if member is None:
                        absent.append(rel)
                        manifest.data["absent"][rel] = f"not in {archive}.zip"
                        manifest.save()
                    else:
                        files.append(
                            _extract(
                                zf,
                                member,
                                out_dir,
                                rel,
                                month,
                                kind,
                                f"{archive}.zip!{member}",
                                how,
                                manifest,
                            )
                        )
                    done += 1
                    if on_progress:
                        on_progress("police.uk files", done, len(wanted))
    finally:
        if client is None:
            http.close()
    files.sort(key=lambda f: f["path"])
    return {
        "force": force,
        "from": month_from,
        "to": month_to,
        "out": str(out_dir),
        "files": files,
        "absent": sorted(absent),
        "not_published": not_published,
        "requests": http.stats["requests"],
        "retries": http.stats["retries"],
        "throttled": http.stats["throttled"],
        "bytes_downloaded": http.stats["bytes"],
    }


def _public(entry: dict[str, Any]) -> dict[str, Any]:
    return {k: entry[k] for k in ("rows", "bytes", "sha256") if k in entry}


def _extract(
    zf: zipfile.ZipFile,
    member: str,
    out_dir: Path,
    rel: str,
    month: str,
    kind: str,
    source: str,
    how: str,
    manifest: _Manifest,
) -> dict[str, Any]:
    try:
        data = zf.read(member)  # raises BadZipFile on a CRC mismatch
    except zipfile.BadZipFile as exc:
        raise FetchError(
            f"{source} failed its CRC check (corrupt transfer).", "Run the command again."
        ) from exc
    rows = _parse_check(data, kind)
    target = out_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".csv.part")
    tmp.write_bytes(data)
    os.replace(tmp, target)
    entry = {
        "rows": rows,
        "bytes": len(data),
        "sha256": _sha256(data),
        "source": source,
        "read_by": how,
        "header_ok": True,
        "fetched_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    manifest.data["files"][rel] = entry
    manifest.save()
    return {"path": rel, "month": month, "kind": kind, "action": "downloaded", **_public(entry)}
