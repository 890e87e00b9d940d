"""``load_areas``: read geography files, build the hierarchy and store it as one ingest batch."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert

from peelian.data.datasets import demo_data_dir
from peelian.data.geography._build import LEVELS, build_hierarchy
from peelian.data.geography._files import SourceFile, discover, read_source
from peelian.data.ingest.batch import QuarantinedRow, open_batch
from peelian.data.store import Store
from peelian.data.tables import (
    area_deprivation,
    area_ethnicity,
    area_population,
    areas,
    lsoa_lookup,
)
from peelian.errors import IngestError

__all__ = ["load_areas"]

Progress = Callable[[str, int, int], None]
_CHUNK = 5000
_S, _I, _F = "str", "int", "float"


def _as_paths(paths_or_dir: str | Path | Sequence[str | Path] | None) -> list[Path]:
    if paths_or_dir is None or (
        isinstance(paths_or_dir, Sequence)
        and not isinstance(paths_or_dir, str)
        and not paths_or_dir
    ):
        return [demo_data_dir()]
    if isinstance(paths_or_dir, str | Path):
        return [Path(paths_or_dir)]
    return [Path(p) for p in paths_or_dir]


def _none(value: Any) -> Any:
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        return value
    return value


def _area_rows(frame: pd.DataFrame, batch_id: int) -> list[dict[str, Any]]:
    import shapely

    geoms = frame["geometry"].to_numpy(dtype=object)
    wkb = [
        None
        if g is None or isinstance(g, float)
        else shapely.to_wkb(g, hex=True, output_dimension=2)
        for g in geoms
    ]
    rows = []
    for i, rec in enumerate(frame.drop(columns=["geometry"]).to_dict("records")):
        row = {k: _none(v) for k, v in rec.items()}
        for k in ("population", "population_year", "imd_decile", "imd_rank", "imd_version"):
            if row.get(k) is not None:
                row[k] = int(row[k])
        for k in ("imd_score", "area_km2", "centroid_easting", "centroid_northing"):
            if row.get(k) is not None:
                row[k] = float(row[k])
        row["geometry_wkb"] = wkb[i]
        row["batch_id"] = batch_id
        rows.append(row)
    return rows


def _insert(conn: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), _CHUNK):
        conn.execute(insert(table), rows[start : start + _CHUNK])


def _column_values(series: pd.Series, kind: str) -> list[Any]:
    mask = series.isna().to_numpy()
    values = series.to_numpy(dtype=object)
    if kind == "int":
        return [None if m else int(v) for v, m in zip(values, mask, strict=True)]
    if kind == "float":
        return [None if m else float(v) for v, m in zip(values, mask, strict=True)]
    return [None if m else str(v) for v, m in zip(values, mask, strict=True)]


def _bulk_insert(conn: Any, table: Any, frame: pd.DataFrame, kinds: dict[str, str]) -> None:
    """Insert a frame fast inside the open transaction: SQLite ``executemany`` of tuples on the
    driver connection, PostgreSQL ``COPY ... FROM STDIN`` (psycopg 3)."""
    if frame.empty:
        return
    names = list(kinds)
    rows = list(zip(*(_column_values(frame[c], kinds[c]) for c in names), strict=True))
    dbapi = conn.connection.driver_connection
    cols = ", ".join(f'"{n}"' for n in names)
    if conn.dialect.name == "sqlite":
        cur = dbapi.cursor()
        marks = ", ".join("?" * len(names))
        cur.executemany(f'INSERT INTO "{table.name}" ({cols}) VALUES ({marks})', rows)
        cur.close()
    elif conn.dialect.name == "postgresql":
        with dbapi.cursor() as cur, cur.copy(f'COPY "{table.name}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row(row)
    else:  # pragma: no cover - other dialects: the portable path
        _insert(conn, table, [dict(zip(names, r, strict=True)) for r in rows])


def load_areas(
    store: Store,
    paths_or_dir: str | Path | Sequence[str | Path] | None = None,
    *,
    command: str | None = None,
    on_progress: Progress | None = None,
) -> dict[str, Any]:
    """Load boundaries, lookups, population, ethnicity and IMD into the areas hierarchy.

    ``paths_or_dir``: files and/or folders (searched recursively); default: the bundled demo
    data. Files are recognised by their columns. Loading replaces every area table (idempotent:
    no duplicates however often it runs) in one transaction, recorded as an ingest batch with
    ``source="areas"``. Returns the batch report: ``{"batch", "levels", "choices", "files":
    [{path, kind, rows_read, rows_stored, rows_quarantined, reasons, action, ...}]}``.
    """
    files = discover(_as_paths(paths_or_dir))
    sources: list[SourceFile] = []
    for i, path in enumerate(files):
        if on_progress:
            on_progress(f"reading {path.name}", i, len(files))
        sources.append(read_source(path))
    usable = [s for s in sources if s.kind != "unrecognised"]
    if not any(s.kind.startswith("boundary_") for s in usable):
        raise IngestError(
            f"No area boundary file among {len(files)} file(s) given "
            f"({', '.join(p.name for p in files[:5]) or 'none'}).",
            "Give LSOA/ward/local authority/force boundaries (GeoJSON or GeoPackage with an "
            "ONS code column such as lsoa21_code), or no path for the bundled demo data.",
        )
    if on_progress:
        on_progress("building the hierarchy", len(files), len(files))
    built = build_hierarchy(usable)

    with open_batch(store, source="areas", command=command) as batch:
        conn = batch.conn
        for table in (area_deprivation, area_ethnicity, area_population, lsoa_lookup, areas):
            conn.execute(delete(table))
        if on_progress:
            on_progress("writing areas", 0, 1)
        _insert(conn, areas, _area_rows(built.areas, batch.id))
        _bulk_insert(
            conn,
            lsoa_lookup,
            built.lsoa_lookup,
            {"lsoa11_code": _S, "lsoa21_code": _S, "change_code": _S},
        )
        _bulk_insert(
            conn,
            area_population,
            built.area_population,
            {"code": _S, "level": _S, "year": _I, "age": _I, "population": _I},
        )
        _bulk_insert(
            conn,
            area_ethnicity,
            built.area_ethnicity,
            {"code": _S, "level": _S, "ethnic_group": _S, "residents": _I, "total_residents": _I},
        )
        _bulk_insert(
            conn,
            area_deprivation,
            built.area_deprivation,
            {
                "code": _S,
                "level": _S,
                "version": _I,
                "domain": _S,
                "decile": _I,
                "rank": _I,
                "score": _F,
            },
        )
        repaired = 0
        prior: dict[str, Any] = {}
        for src in sources:
            previous = batch.current_file(src.kind, None, None)
            if previous is not None and previous["batch_id"] == batch.id:
                previous = prior.get(src.kind)
            prior.setdefault(src.kind, previous)
            record = batch.add_file(
                str(src.path), src.kind, sha256=src.sha256, size_bytes=src.size_bytes
            )
            seen: set[int | None] = set()
            rows = []
            for row, reason, detail, raw in src.rejected:
                if row in seen:
                    continue
                seen.add(row)
                rows.append(QuarantinedRow(row, reason, detail, raw))
            record.quarantine(rows)
            repaired += src.repaired
            if src.kind == "unrecognised":
                record.finish(rows_read=0, rows_stored=0, action="skipped", note=src.note)
                continue
            record.finish(
                rows_read=src.rows_read,
                rows_stored=src.rows_read - len(rows),
                action="replaced" if previous else "loaded",
                replaced_file_id=previous["id"] if previous else None,
                extra={"geometries_repaired": src.repaired, "year": src.year},
            )
        counts = built.areas.groupby("level").size()
        batch.extra = {
            "source": "areas",
            "levels": {lv: int(counts.get(lv, 0)) for lv in LEVELS},
            "geometries_repaired": repaired,
            "population_rows": len(built.area_population),
            "choices": built.choices,
        }
        report = batch.report
    return report
