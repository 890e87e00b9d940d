"""Save and load analysis results (frames as Parquet) in the store.

    run_id = save_result(store, "gistar", "violence-and-sexual-offences",
                         {"cells": frame}, params={...}, summary={...})
    run = latest_result(store, "gistar", "violence-and-sexual-offences")
    run.frames["cells"]        # a pandas DataFrame, exactly as saved

GeoDataFrames are saved with their geometry as WKB (``geometry`` column) and come back as
GeoDataFrames in EPSG:27700 unless the saved CRS says otherwise.
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


def _to_parquet(frame: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    try:
        import geopandas as gpd

        if isinstance(frame, gpd.GeoDataFrame):
            frame.to_parquet(buf, index=False)
            return buf.getvalue()
    except ImportError:  # pragma: no cover
        pass
    frame.to_parquet(buf, index=False)
    return buf.getvalue()


def _from_parquet(payload: bytes) -> pd.DataFrame:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(payload))
    meta = table.schema.metadata or {}
    if b"geo" in meta:
        import geopandas as gpd

        return gpd.read_parquet(io.BytesIO(payload))
    return table.to_pandas()


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
