"""Save and load analysis results (frames as Parquet) in the store.

    run_id = save_result(store, "gistar", "violence-and-sexual-offences",
                         {"cells": frame}, params={...}, summary={...})
    run = latest_result(store, "gistar", "violence-and-sexual-offences")
    run.frames["cells"]        # a pandas DataFrame, exactly as saved

GeoDataFrames are saved with their geometry as WKB (``geometry`` column) and come back as
GeoDataFrames in EPSG:27700 unless the saved CRS says otherwise.

Column types survive the round trip (:func:`parquet_safe`): a column of flags with gaps (Python
or numpy booleans and ``None``/NaN, which pandas holds as ``object``) is stored as a nullable
boolean, not as the strings ``'True'``/``'False'``; numbers stay numbers; text stays text. Runs
saved before this rule, whose flags were stored as those strings, are read back as booleans.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from sqlalchemy import delete, insert, select

from peelian import __version__
from peelian.data.store import Store
from peelian.data.tables import analysis_frames, analysis_runs
from peelian.errors import NotFoundError

__all__ = [
    "ResultRun",
    "delete_results",
    "latest_result",
    "list_results",
    "load_result",
    "parquet_safe",
    "save_result",
]


@dataclass(frozen=True)
class ResultRun:
    """One persisted analysis run."""

    id: int
    kind: str
    name: str
    created_at: dt.datetime
    params: dict[str, Any]
    summary: dict[str, Any]
    peelian_version: str
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)


_NUMERIC = {"integer", "floating", "mixed-integer-float", "decimal"}
_FLAG_STRINGS = frozenset({"True", "False"})


def parquet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose columns Parquet stores with their meaning: ``object`` columns of
    flags (booleans with gaps, ``None`` or NaN) become nullable booleans, of numbers floats, of
    mixed values that Arrow cannot type nullable strings; categoricals become strings. Other
    columns (text, numbers, datetimes, lists, geometry) are kept as they are.

    Before this, a job stringified its object columns, so ``significant`` came back as
    ``'True'``/``'False'`` - both truthy, and unusable in a boolean mask (issue 11, item 10)."""
    import pyarrow as pa

    out = frame.copy()
    for col in out.columns:
        series = out[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            out[col] = series.astype("string")
            continue
        if series.dtype != object or col == "geometry":
            continue
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred == "boolean":
            out[col] = series.astype("boolean")
        elif inferred in _NUMERIC:
            out[col] = pd.to_numeric(series, errors="coerce").astype("float64")
        elif inferred in ("mixed", "mixed-integer"):
            try:
                pa.array(series, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                out[col] = series.map(lambda v: None if _missing(v) else str(v)).astype("string")
    return out


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):  # lists and arrays are values, not gaps
        return False


def _restore_flags(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns of text holding only ``'True'``/``'False'`` (runs saved before
    :func:`parquet_safe`) as nullable booleans."""
    for col in frame.columns:
        series = frame[col]
        if series.dtype == object:
            if pd.api.types.infer_dtype(series, skipna=True) != "string":
                continue
        elif not pd.api.types.is_string_dtype(series.dtype):
            continue
        present = series.dropna()
        if present.empty or present.iloc[0] not in _FLAG_STRINGS:
            continue  # cheap test first: most text columns fail on their first value
        if set(present.unique()) <= _FLAG_STRINGS:
            frame[col] = series.map({"True": True, "False": False}).astype("boolean")
    return frame


def _to_parquet(frame: pd.DataFrame) -> bytes:
    frame = parquet_safe(frame)
    buf = io.BytesIO()
    # A GeoDataFrame writes GeoParquet (geometry as WKB, with its CRS), a DataFrame plain Parquet.
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _from_parquet(payload: bytes) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(payload))
    meta = table.schema.metadata or {}
    if b"geo" in meta:
        import geopandas as gpd

        return _restore_flags(gpd.read_parquet(io.BytesIO(payload)))
    return _restore_flags(table.to_pandas())


def save_result(
    store: Store,
    kind: str,
    name: str,
    frames: dict[str, pd.DataFrame],
    *,
    params: dict[str, Any] | None = None,
    summary: dict[str, Any] | None = None,
    keep: int | None = 5,
) -> int:
    """Persist a run with its frames in one transaction; keep the newest ``keep`` runs of this
    kind and name (``None`` keeps all). Returns the run id."""
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with store.begin() as conn:
        run_id = conn.execute(
            insert(analysis_runs).returning(analysis_runs.c.id),
            {
                "kind": kind,
                "name": name,
                "created_at": now,
                "params": _jsonable(params or {}),
                "summary": _jsonable(summary or {}),
                "peelian_version": __version__,
            },
        ).scalar_one()
        rows = [
            {"run_id": run_id, "part": part, "n_rows": len(frame), "payload": _to_parquet(frame)}
            for part, frame in frames.items()
        ]
        if rows:
            conn.execute(insert(analysis_frames), rows)
        if keep is not None:
            old = (
                conn.execute(
                    select(analysis_runs.c.id)
                    .where(analysis_runs.c.kind == kind, analysis_runs.c.name == name)
                    .order_by(analysis_runs.c.created_at.desc(), analysis_runs.c.id.desc())
                    .offset(keep)
                )
                .scalars()
                .all()
            )
            if old:
                conn.execute(delete(analysis_frames).where(analysis_frames.c.run_id.in_(old)))
                conn.execute(delete(analysis_runs).where(analysis_runs.c.id.in_(old)))
    return int(run_id)


def _run_from_row(row: Any, frames: dict[str, pd.DataFrame]) -> ResultRun:
    return ResultRun(
        id=int(row.id),
        kind=row.kind,
        name=row.name,
        created_at=row.created_at,
        params=row.params or {},
        summary=row.summary or {},
        peelian_version=row.peelian_version,
        frames=frames,
    )


def load_result(store: Store, run_id: int, parts: list[str] | None = None) -> ResultRun:
    """Load one run by id (all its frames, or only ``parts``)."""
    with store.engine.connect() as conn:
        row = conn.execute(select(analysis_runs).where(analysis_runs.c.id == run_id)).first()
        if row is None:
            raise NotFoundError(
                f"There is no analysis run {run_id}.", "List runs with `peelian info`."
            )
        q = select(analysis_frames.c.part, analysis_frames.c.payload).where(
            analysis_frames.c.run_id == run_id
        )
        if parts is not None:
            q = q.where(analysis_frames.c.part.in_(parts))
        frames = {part: _from_parquet(payload) for part, payload in conn.execute(q)}
    return _run_from_row(row, frames)


def latest_result(
    store: Store, kind: str, name: str | None = None, parts: list[str] | None = None
) -> ResultRun:
    """The newest run of ``kind`` (and ``name``); :class:`NotFoundError` if there is none."""
    q = select(analysis_runs.c.id).where(analysis_runs.c.kind == kind)
    if name is not None:
        q = q.where(analysis_runs.c.name == name)
    q = q.order_by(analysis_runs.c.created_at.desc(), analysis_runs.c.id.desc()).limit(1)
    with store.engine.connect() as conn:
        run_id = conn.execute(q).scalar()
    if run_id is None:
        what = f"{kind!r}" + (f" named {name!r}" if name else "")
        raise NotFoundError(
            f"No {what} results have been computed yet.",
            "Run the matching peelian command (or `peelian demo`) to compute them.",
        )
    return load_result(store, int(run_id), parts)


def list_results(store: Store, kind: str | None = None) -> pd.DataFrame:
    """Runs (without frames), newest first: id, kind, name, created_at, params, summary."""
    q = select(analysis_runs).order_by(analysis_runs.c.created_at.desc(), analysis_runs.c.id.desc())
    if kind is not None:
        q = q.where(analysis_runs.c.kind == kind)
    return store.read_frame(q)


def delete_results(store: Store, kind: str, name: str | None = None) -> int:
    """Delete all runs of a kind (and name); returns how many."""
    q = select(analysis_runs.c.id).where(analysis_runs.c.kind == kind)
    if name is not None:
        q = q.where(analysis_runs.c.name == name)
    with store.begin() as conn:
        ids = conn.execute(q).scalars().all()
        if ids:
            conn.execute(delete(analysis_frames).where(analysis_frames.c.run_id.in_(ids)))
            conn.execute(delete(analysis_runs).where(analysis_runs.c.id.in_(ids)))
    return len(ids)


def _jsonable(obj: Any) -> Any:
    """Make params/summary JSON-safe (numpy scalars, dates, NaN)."""
    import math

    import numpy as np

    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and (math.isnan(obj) or math.isinf(obj)):
        return None
    if isinstance(obj, dt.date | dt.datetime):
        return obj.isoformat()
    return obj
