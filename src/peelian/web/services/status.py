"""What is loaded and where it came from: forces, months, rows per kind and category, areas,
ingest batches with their reconciliation, and the quarantine with its reasons (issue 2's page)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from sqlalchemy import func, select

from peelian.data.tables import analysis_runs, events, ingest_batches, ingest_files, quarantine
from peelian.errors import NotFoundError
from peelian.web.context import WebContext
from peelian.web.services.common import jsonable, page, records

__all__ = [
    "batch_detail",
    "batches",
    "data_status",
    "quarantine_page",
    "quarantine_reasons",
    "synthetic_sources",
]

_FILE_COLUMNS = [
    "id",
    "batch_id",
    "path",
    "kind",
    "force",
    "month",
    "rows_read",
    "rows_stored",
    "rows_quarantined",
    "reasons",
    "action",
    "reconciles",
]


def _status(ctx: WebContext) -> dict[str, Any]:
    """Engineer A's :func:`peelian.data.frames.data_status` (what ``peelian info`` prints), plus
    what the dashboard adds: per-force summaries, missing months, monthly totals, location
    precision and which results are computed."""
    from peelian.data.frames import data_status as base_status

    store = ctx.store
    status = jsonable(base_status(store))
    status.pop("database", None)  # the server's database URL is not for every viewer
    by_force_month = pd.DataFrame(status.get("by_force_month") or [])
    months = list(status.get("months") or [])
    forces = []
    if len(by_force_month):
        for force, grp in by_force_month.groupby("force", sort=True):
            with_events = grp[grp["events"] > 0]
            forces.append(
                {
                    "force": force,
                    "events": int(grp["events"].sum()),
                    "outcomes": int(grp["outcomes"].sum()),
                    "stops": int(grp["stops"].sum()),
                    "month_from": with_events["month"].min() if len(with_events) else None,
                    "month_to": with_events["month"].max() if len(with_events) else None,
                    "months": int(with_events["month"].nunique()),
                }
            )
    missing = []
    if months:
        span = pd.period_range(months[0], months[-1], freq="M").strftime("%Y-%m").tolist()
        missing = sorted(set(span) - set(months))
    located = store.read_frame(
        select(events.c.location_precision, func.count().label("n")).group_by(
            events.c.location_precision
        )
    )
    runs = store.read_frame(
        select(
            analysis_runs.c.kind,
            func.count().label("runs"),
            func.max(analysis_runs.c.created_at).label("latest"),
        ).group_by(analysis_runs.c.kind)
    )
    events_by_month = (
        by_force_month.groupby("month", as_index=False)["events"].sum()
        if len(by_force_month)
        else pd.DataFrame(columns=["month", "events"])
    )
    return {
        **status,
        "force_summary": forces,
        "months_missing": missing,
        "month_from": months[0] if months else None,
        "month_to": months[-1] if months else None,
        "events_by_month": records(events_by_month),
        "events_by_location_precision": {
            str(r.location_precision): int(r.n) for r in located.itertuples()
        },
        "results": records(runs),
    }


def synthetic_sources(ctx: WebContext) -> set[str]:
    """The sources (``force``, ``survey``) holding generated rows (``provenance`` of the cached
    data status), for the pages' synthetic labels."""
    status = ctx.derived("data_status", lambda: _status(ctx))
    return {k for k, v in status.get("provenance", {}).items() if v["synthetic"]}


def data_status(ctx: WebContext) -> dict[str, Any]:
    """What is loaded (the data page and ``peelian info``'s content), cached per data version."""
    status = dict(ctx.derived("data_status", lambda: _status(ctx)))
    status["last_batches"] = batches(ctx, limit=5, offset=0)["items"]
    return status


def _files_frame(ctx: WebContext, batch_ids: list[int]) -> pd.DataFrame:
    if not batch_ids:
        return pd.DataFrame(columns=_FILE_COLUMNS)
    files = ctx.store.read_frame(
        select(ingest_files)
        .where(ingest_files.c.batch_id.in_(batch_ids))
        .order_by(ingest_files.c.id)
    )
    files["reconciles"] = files["rows_read"] == files["rows_stored"] + files["rows_quarantined"]
    return files


def batches(ctx: WebContext, *, limit: int = 20, offset: int = 0) -> dict[str, Any]:
    """Ingest batches, newest first, each with its files and their reconciliation."""
    frame = ctx.store.read_frame(
        select(
            ingest_batches.c.id,
            ingest_batches.c.source,
            ingest_batches.c.started_at,
            ingest_batches.c.finished_at,
            ingest_batches.c.status,
            ingest_batches.c.command,
            ingest_batches.c.peelian_version,
        ).order_by(ingest_batches.c.id.desc())
    )
    result = page(frame, limit, offset)
    ids = [int(b["id"]) for b in result["items"]]
    files = _files_frame(ctx, ids)
    for item in result["items"]:
        mine = files[files["batch_id"] == item["id"]]
        item["files"] = records(mine, _FILE_COLUMNS)
        item["rows_read"] = int(mine["rows_read"].sum())
        item["rows_stored"] = int(mine["rows_stored"].sum())
        item["rows_quarantined"] = int(mine["rows_quarantined"].sum())
        item["reconciles"] = bool(mine["reconciles"].all()) if len(mine) else True
        actions = mine["action"].value_counts()
        item["actions"] = {str(k): int(v) for k, v in actions.items()}
    return result


def batch_detail(ctx: WebContext, batch_id: int) -> dict[str, Any]:
    """One batch with all its files and its stored report."""
    with ctx.store.engine.connect() as conn:
        row = (
            conn.execute(select(ingest_batches).where(ingest_batches.c.id == batch_id))
            .mappings()
            .first()
        )
    if row is None:
        raise NotFoundError(
            f"There is no ingest batch {batch_id}.", "List batches at /api/batches."
        )
    files = _files_frame(ctx, [batch_id])
    return {
        **records(pd.DataFrame([dict(row)]))[0],
        "files": records(files, _FILE_COLUMNS),
        "reconciles": bool(files["reconciles"].all()) if len(files) else True,
    }


def quarantine_reasons(ctx: WebContext) -> list[dict[str, Any]]:
    """Quarantined rows per reason and file kind, most frequent first."""
    frame = ctx.store.read_frame(
        select(quarantine.c.reason, ingest_files.c.kind, func.count().label("rows"))
        .join(ingest_files, ingest_files.c.id == quarantine.c.file_id)
        .group_by(quarantine.c.reason, ingest_files.c.kind)
        .order_by(func.count().desc())
    )
    return records(frame)


def quarantine_page(
    ctx: WebContext,
    *,
    reason: str | None = None,
    batch_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
    with_raw: bool = False,
) -> dict[str, Any]:
    """Quarantined rows with their reason and detail (the raw row only for ``with_raw``)."""
    cols = [
        quarantine.c.id,
        quarantine.c.file_id,
        ingest_files.c.batch_id,
        ingest_files.c.path,
        ingest_files.c.kind,
        quarantine.c.row_number,
        quarantine.c.reason,
        quarantine.c.detail,
    ]
    if with_raw:
        cols.append(quarantine.c.raw)
    q = select(*cols).join(ingest_files, ingest_files.c.id == quarantine.c.file_id)
    count_q = (
        select(func.count())
        .select_from(quarantine)
        .join(ingest_files, ingest_files.c.id == quarantine.c.file_id)
    )
    if reason:
        q = q.where(quarantine.c.reason == reason)
        count_q = count_q.where(quarantine.c.reason == reason)
    if batch_id is not None:
        q = q.where(ingest_files.c.batch_id == batch_id)
        count_q = count_q.where(ingest_files.c.batch_id == batch_id)
    # Page in SQL: the quarantine can be large.
    page(pd.DataFrame(), limit, offset)  # validates limit/offset
    frame = ctx.store.read_frame(q.order_by(quarantine.c.id).limit(limit).offset(offset))
    with ctx.store.engine.connect() as conn:
        total = int(conn.execute(count_q).scalar_one())
    return {
        "items": records(frame),
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if offset + limit < total else None,
        "raw_included": with_raw,
    }
