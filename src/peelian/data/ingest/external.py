"""External series: a partner's monthly figures (e.g. hospital admissions for assault with a sharp
object), imported with the same reconciliation and quarantine as every other source, and kept as
persisted results of kind ``external_series`` (read back by
:func:`peelian.data.counts.external_series`).

- :func:`import_external_series` -- read a CSV, quarantine bad rows with their reason, save the
  good rows as the newest result of each series, in one ingest batch.
- :func:`save_external_series` -- persist a frame that is already checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import insert, select

from peelian import __version__
from peelian.data.counts import EXTERNAL_KIND
from peelian.data.ingest.batch import QuarantinedRow, open_batch
from peelian.data.results import _to_parquet, save_result
from peelian.data.store import Store
from peelian.data.tables import analysis_frames, analysis_runs, areas
from peelian.errors import IngestError, NotFoundError, SchemaError
from peelian.schemas.months import MONTH_PATTERN

__all__ = ["import_external_series", "save_external_series"]


def save_external_series(store: Store, name: str, frame: pd.DataFrame, *, source: str) -> int:
    """Persist a partner-supplied monthly series (series, area_level, area_code, month, value)."""
    need = {"series", "area_level", "area_code", "month", "value"}
    if not need <= set(frame.columns):
        raise SchemaError(f"An external series needs the columns {sorted(need)}.")
    return save_result(
        store,
        EXTERNAL_KIND,
        name,
        {"series": frame},
        params={"source": source},
        summary={"rows": len(frame)},
        keep=3,
    )


def import_external_series(
    store: Store,
    path: str | Path,
    *,
    series: str | None = None,
    area_code: str | None = None,
    command: str | None = None,
) -> dict[str, Any]:
    """Import a partner's monthly series CSV (columns month, value and optionally series,
    area_code, area_level) with reconciliation: bad rows (bad_month, bad_value, no_series,
    duplicate_month) are quarantined with their reason; good rows are saved as the newest
    ``external_series`` result of each series name. Returns the batch report."""
    p = Path(path)
    if not p.is_file():
        raise NotFoundError(f"Series file {p} does not exist.", "Check the path.")
    data = p.read_bytes()
    try:
        frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False)
    except Exception as exc:
        raise IngestError(f"{p} is not a readable CSV ({exc}).", "Export it as UTF-8 CSV.") from exc
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    if not {"month", "value"} <= set(frame.columns):
        raise IngestError(
            f"{p.name} needs the columns month and value (got {', '.join(frame.columns)}).",
            "See docs/guide/measures.md, section External series.",
        )
    if series is None and "series" not in frame.columns:
        raise IngestError(f"{p.name} has no series column.", "Name the series with --series NAME.")
    default_area = area_code or _force_code(store)
    good: list[dict[str, Any]] = []
    bad: list[QuarantinedRow] = []
    seen: set[tuple[str, str, str]] = set()
    for i, row in enumerate(frame.to_dict("records"), start=1):
        raw = ",".join(str(v) for v in row.values())
        name = (row.get("series") or series or "").strip()
        month = str(row["month"]).strip()[:7]
        code = (row.get("area_code") or default_area or "").strip()
        level = (row.get("area_level") or "force").strip() or "force"
        if not name:
            bad.append(QuarantinedRow(i, "no_series", "No series name.", raw))
            continue
        if not re.match(MONTH_PATTERN, month):
            bad.append(
                QuarantinedRow(i, "bad_month", f"Month {row['month']!r} is not YYYY-MM.", raw)
            )
            continue
        try:
            value = float(str(row["value"]).replace(",", ""))
        except ValueError:
            value = float("nan")
        if not (value >= 0):
            bad.append(
                QuarantinedRow(i, "bad_value", f"Value {row['value']!r} is not a number >= 0.", raw)
            )
            continue
        if level not in ("force", "csp"):
            bad.append(
                QuarantinedRow(
                    i, "bad_area_level", f"Area level {level!r} is not force or csp.", raw
                )
            )
            continue
        key = (name, code, month)
        if key in seen:
            bad.append(
                QuarantinedRow(i, "duplicate_month", f"{name} {code} {month} appears twice.", raw)
            )
            continue
        seen.add(key)
        good.append(
            {"series": name, "area_level": level, "area_code": code, "month": month, "value": value}
        )
    sha = hashlib.sha256(data).hexdigest()
    with open_batch(store, source="external", command=command) as batch:
        rec = batch.add_file(str(p), "external_series", sha256=sha, size_bytes=len(data))
        rec.quarantine(bad)
        good_frame = pd.DataFrame(
            good, columns=["series", "area_level", "area_code", "month", "value"]
        )
        runs = {}
        for name, part in good_frame.groupby("series"):
            runs[str(name)] = save_external_series_conn(batch.conn, str(name), part, source=str(p))
        rec.finish(
            rows_read=len(frame),
            rows_stored=len(good_frame),
            action="loaded",
            extra={"series": sorted(runs), "months": int(good_frame["month"].nunique())},
        )
        return batch.report


def save_external_series_conn(conn: Any, name: str, frame: pd.DataFrame, *, source: str) -> int:
    """:func:`save_external_series` inside an open transaction (the import's batch)."""
    run_id = conn.execute(
        insert(analysis_runs).returning(analysis_runs.c.id),
        {
            "kind": EXTERNAL_KIND,
            "name": name,
            "created_at": dt.datetime.now(dt.UTC).replace(tzinfo=None),
            "params": {"source": source},
            "summary": {"rows": len(frame)},
            "peelian_version": __version__,
        },
    ).scalar_one()
    conn.execute(
        insert(analysis_frames),
        [
            {
                "run_id": run_id,
                "part": "series",
                "n_rows": len(frame),
                "payload": _to_parquet(frame.reset_index(drop=True)),
            }
        ],
    )
    return int(run_id)


def _force_code(store: Store) -> str | None:
    frame = store.read_frame(select(areas.c.code).where(areas.c.level == "force"))
    return str(frame["code"].iloc[0]) if len(frame) == 1 else None
