"""Persisted analysis results for the dashboard: measures, hotspots, forecasts, Grip plans.

Everything here reads runs saved by the jobs (kinds and columns in the results contract) through
the context's per-run cache; nothing is computed in a request beyond filtering and formatting.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from peelian.data.results import ResultRun
from peelian.errors import NotFoundError, ParameterError
from peelian.web.context import WebContext, command_for
from peelian.web.services.common import page, records, scalar

__all__ = [
    "HOTSPOT_KINDS",
    "backtest",
    "cells_geojson",
    "concentration",
    "forecast",
    "grip_plan",
    "hotspot_cells",
    "measure_monthly",
    "measures_catalogue",
    "measures_values",
    "result_runs",
    "run_meta",
    "significant_changes",
]

HOTSPOT_KINDS: tuple[str, ...] = ("gistar", "emerging", "kde")
_CELL_PART = {"gistar": "cells", "emerging": "cells", "kde": "cells", "forecast": "cells"}


def run_meta(run: ResultRun) -> dict[str, Any]:
    """Which run a response comes from (id, kind, name, when, with which settings)."""
    return {
        "id": run.id,
        "kind": run.kind,
        "name": run.name,
        "created_at": run.created_at.isoformat(),
        "params": run.params,
        "summary": run.summary,
        "peelian_version": run.peelian_version,
    }


def result_runs(ctx: WebContext) -> dict[str, Any]:
    """For each result kind: the names computed, or the command that computes it."""
    out = {}
    for kind in ("measures", *HOTSPOT_KINDS, "concentration", "backtest", "forecast", "grip_plan"):
        names = ctx.run_names(kind)
        out[kind] = {"names": names, "computed": bool(names), "command": command_for(kind)}
    return out


def _part(run: ResultRun, part: str) -> pd.DataFrame:
    if part not in run.frames:
        raise NotFoundError(
            f"The {run.kind} run {run.id} has no part {part!r} (it has {sorted(run.frames)}).",
            f"Recompute it with `{command_for(run.kind)}`.",
        )
    return run.frames[part]


# -- measures ---------------------------------------------------------------------------------
def _values(ctx: WebContext) -> tuple[ResultRun, pd.DataFrame]:
    run = ctx.latest("measures", "all")
    return run, _part(run, "values")


def measures_catalogue(ctx: WebContext) -> dict[str, Any]:
    """Each measure once: id, label, unit, source, the good direction; and the period."""
    run, values = _values(ctx)
    cols = [c for c in ("measure", "label", "unit", "source", "direction_good") if c in values]
    cat = values[cols].drop_duplicates("measure")
    period = sorted(values["period_end"].astype(str).unique()) if "period_end" in values else []
    return {
        "run": run_meta(run),
        "period_end": period[-1] if period else None,
        "measures": records(cat),
    }


def measures_values(
    ctx: WebContext,
    *,
    measure: str | None = None,
    area_level: str | None = None,
    area_code: str | None = None,
    parent: str | None = None,
    assessment: str | None = None,
    significant: bool | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Measure values filtered by measure, area (or the children of ``parent``) and result."""
    run, values = _values(ctx)
    mask = pd.Series(True, index=values.index)
    if measure:
        if measure not in set(values["measure"]):
            raise NotFoundError(
                f"There is no measure {measure!r} in the latest measures run.",
                "List measures at /api/measures/catalogue.",
            )
        mask &= values["measure"] == measure
    if area_level:
        mask &= values["area_level"] == area_level
    if area_code:
        mask &= values["area_code"] == area_code
    if parent:
        from peelian.web.services.areas import areas_frame

        frame = areas_frame(ctx)
        kids = set(frame.loc[frame["parent_code"] == parent, "code"])
        mask &= values["area_code"].isin(kids)
    if assessment:
        mask &= values["assessment"] == assessment
    if significant is not None:
        mask &= values["significant"].fillna(False).astype(bool) == significant
    if not (area_level or area_code or parent):
        mask &= values["area_level"] == "force"
    # Stable: within an area the measures keep the engine's (catalogue) order.
    chosen = values[mask].sort_values(["area_level", "area_name"], kind="stable")
    return page(chosen, limit, offset, run=run_meta(run))


def measure_monthly(ctx: WebContext, measure: str, area_code: str | None = None) -> dict[str, Any]:
    """The monthly series with SPC centre line, limits and signals for one measure and area."""
    run = ctx.latest("measures", "all")
    monthly = _part(run, "monthly")
    rows = monthly[monthly["measure"] == measure]
    if rows.empty:
        raise NotFoundError(
            f"There is no monthly series for measure {measure!r}.",
            "List measures at /api/measures/catalogue.",
        )
    if area_code:
        rows = rows[rows["area_code"] == area_code]
    else:
        rows = rows[rows["area_level"] == "force"]
    return {
        "measure": measure,
        "area_code": area_code or (scalar(rows["area_code"].iloc[0]) if len(rows) else None),
        "run": run_meta(run),
        "months": records(rows.sort_values("month")),
    }


def sparklines(ctx: WebContext, area_level: str = "force") -> dict[str, list[dict[str, Any]]]:
    """Monthly series per measure at one level (for the overview's sparklines)."""
    run = ctx.latest("measures", "all")
    monthly = _part(run, "monthly")
    rows = monthly[monthly["area_level"] == area_level].sort_values("month")
    cols = ["month", "count", "centre", "lcl", "ucl", "signal"]
    return {str(m): records(g, cols) for m, g in rows.groupby("measure", sort=False)}


def significant_changes(ctx: WebContext, limit: int = 12) -> list[dict[str, Any]]:
    """Below force level, the significant changes of the latest period, strongest evidence first:
    by the FDR-adjusted p-value that decided ``significant`` (Benjamini-Hochberg over the
    dispersion-widened p), then the widened p itself."""
    _, values = _values(ctx)
    sig = values[(values["area_level"] != "force") & values["significant"].fillna(False)]
    keys = [c for c in ("p_adjusted", "p_value_adjusted", "p_value") if c in sig.columns]
    sig = sig.sort_values([*keys, "area_code"]).head(limit)
    return records(sig)


# -- hotspots and forecasts -------------------------------------------------------------------
def _kind(kind: str) -> None:
    if kind not in (*HOTSPOT_KINDS, "forecast"):
        raise ParameterError(
            f"The hotspot kind must be one of {', '.join(HOTSPOT_KINDS)}. Got {kind!r}."
        )


def _default_name(ctx: WebContext, kind: str, name: str | None) -> str:
    if name:
        return name
    names = ctx.run_names(kind)
    if not names:
        ctx.latest(kind)  # raises NotFoundError with the command to run
    preferred = "violence-and-sexual-offences"
    return preferred if preferred in names else names[0]


def hotspot_cells(
    ctx: WebContext,
    kind: str,
    name: str | None = None,
    *,
    classification: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Cells of a hotspot run (gistar/emerging/kde) or forecast, strongest first.

    ``classification`` filters Gi* by ``hotspot`` (hot/cold/none), emerging by ``pattern``, and
    forecasts by ``flagged`` ("true").
    """
    _kind(kind)
    name = _default_name(ctx, kind, name)
    run = ctx.latest(kind, name)
    cells = _part(run, _CELL_PART[kind])
    cells = _classify(kind, cells, classification)
    return page(cells, limit, offset, run=run_meta(run), names=ctx.run_names(kind))


def _classify(kind: str, cells: pd.DataFrame, classification: str | None) -> pd.DataFrame:
    if kind == "gistar":
        if classification:
            cells = cells[cells["hotspot"] == classification]
        return cells.sort_values(["p_adjusted", "gistar"], ascending=[True, False])
    if kind == "emerging":
        if classification:
            cells = cells[cells["pattern"] == classification]
        return cells.sort_values(["trend_p", "n_total"], ascending=[True, False])
    if kind == "kde":
        return cells.sort_values("density", ascending=False)
    if classification:
        cells = cells[cells["flagged"].astype(str).str.lower() == classification.lower()]
    return cells.sort_values("rank")


def cells_geojson(
    ctx: WebContext,
    kind: str,
    name: str | None = None,
    *,
    classification: str | None = None,
    max_cells: int = 5000,
) -> dict[str, Any]:
    """Cells as a GeoJSON FeatureCollection in WGS84 (properties = the cell's columns)."""
    _kind(kind)
    name = _default_name(ctx, kind, name)
    run = ctx.latest(kind, name)

    def build() -> dict[str, Any]:
        cells = _classify(kind, _part(run, _CELL_PART[kind]), classification)
        if kind == "gistar" and not classification:
            cells = cells[cells["hotspot"] != "none"]
        if kind == "emerging" and not classification:
            cells = cells[~cells["pattern"].isin(["No Pattern Detected", "none"])]
        if kind == "kde":
            cells = cells[cells["density"] > 0]
        truncated = len(cells) > max_cells
        cells = cells.head(max_cells)
        return {**_to_geojson(cells), "truncated": truncated, "run": run_meta(run)}

    return ctx.derived(("cells_geojson", run.id, classification, max_cells), build)  # type: ignore[no-any-return]


def _to_geojson(cells: pd.DataFrame) -> dict[str, Any]:
    import geopandas as gpd

    if not isinstance(cells, gpd.GeoDataFrame) or cells.geometry.isna().all():
        cells = gpd.GeoDataFrame(
            cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs="EPSG:27700"
        )
    if cells.crs is None:
        cells = cells.set_crs("EPSG:27700")
    cells = cells.to_crs("EPSG:4326")
    return json.loads(cells.to_json(na="null", drop_id=True))


def backtest(ctx: WebContext, name: str | None = None) -> dict[str, Any]:
    """Backtest scores per model and month, and the per-model summary."""
    name = _default_name(ctx, "backtest", name)
    run = ctx.latest("backtest", name)
    return {
        "run": run_meta(run),
        "names": ctx.run_names("backtest"),
        "summary": records(_part(run, "summary")),
        "results": records(_part(run, "results").sort_values(["model", "month"])),
    }


def forecast(ctx: WebContext, name: str | None = None, *, limit: int = 100) -> dict[str, Any]:
    """The current forecast: flagged cells first (by rank)."""
    return hotspot_cells(ctx, "forecast", name, limit=limit)


def grip_plan(ctx: WebContext) -> dict[str, Any]:
    """The Grip patrol plan: hotspots (rank, harm share, high-risk hours) and visits."""
    run = ctx.latest("grip_plan", "grip")
    hotspots = _part(run, "hotspots").sort_values("rank")
    visits = run.frames.get("visits", pd.DataFrame())
    if len(visits):
        visits = visits.sort_values(
            [c for c in ("date", "start_time", "hotspot_rank") if c in visits]
        )
    return {
        "run": run_meta(run),
        "hotspots": records(hotspots),
        "visits": records(visits),
        "hotspots_geojson": _to_geojson(hotspots) if len(hotspots) else None,
    }


# -- concentration ----------------------------------------------------------------------------
#: Points of the Lorenz curve sent to the browser (the job stores 1,001).
LORENZ_POINTS = 101


def concentration(ctx: WebContext, name: str | None = None) -> dict[str, Any]:
    """The latest crime-concentration run of a crime set (kind ``concentration``).

    ``statistics`` (statistic, value, label): shares of crime and harm in the top 1, 5 and 10% of
    cells; the Gini coefficient, Bernasco & Steenbeek's (2017) generalised Gini, the Gini
    expected from chance alone and the Poisson-adjusted Gini (Levin, Rosenfeld & Deckard 2017;
    Mohler et al. 2019); with two comparable 12-month periods, the Jaccard overlap and Spearman
    correlation of the top 5% of cells. ``shares``: crime and harm in the top 1-50% of cells.
    ``lorenz``: the Lorenz curve at :data:`LORENZ_POINTS` shares of cells. Point estimates: the
    run holds no intervals. Computed and cited in :mod:`peelian.analysis.hotspots` and saved by
    :func:`peelian.jobs.hotspots.run_concentration` (or by ``peelian hotspots concentration
    --save``, the same parts without the stability comparison).
    """
    name = _default_name(ctx, "concentration", name)
    run = ctx.latest("concentration", name)
    s = run.summary
    statistics = records(_part(run, "summary"))
    lorenz = _part(run, "lorenz")
    if len(lorenz) > LORENZ_POINTS:
        lorenz = lorenz.iloc[np.linspace(0, len(lorenz) - 1, LORENZ_POINTS).round().astype(int)]
    stability = s.get("stability")
    return {
        "run": run_meta(run),
        "names": ctx.run_names("concentration"),
        "period": s.get("period"),
        "n_events": s.get("n_events"),
        "n_cells": s.get("n_cells"),
        "cell_size": s.get("cell_size"),
        "statistics": statistics,
        "shares": list(s.get("shares") or []),
        "stability": {**stability, "periods": s.get("stability_periods")} if stability else None,
        "stability_note": s.get("stability_note"),
        "lorenz": records(lorenz),
    }
