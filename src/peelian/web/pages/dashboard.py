"""Overview, Measures (with drill-down), Map and area profile pages."""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from peelian.data.frames import is_synthetic_source
from peelian.errors import NotFoundError, ParameterError
from peelian.web.api._params import MapLevel, MapMetric, Month
from peelian.web.auth import SessionUser
from peelian.web.context import command_for
from peelian.web.pages._helpers import add_page, attempt
from peelian.web.services import events, results
from peelian.web.services.areas import area_detail, areas_frame
from peelian.web.services.disclosure import hidden_below
from peelian.web.services.profile import area_profile
from peelian.web.services.status import data_status, synthetic_sources

__all__ = ["router"]

router = APIRouter()


def _empty(kind: str, state: dict[str, Any] | None) -> dict[str, Any] | None:
    if state is None:
        return None
    return {**state, "command": command_for(kind)}


def is_synthetic(ctx: Any, rows: list[dict[str, Any]]) -> bool:
    """True when any row comes from a source holding synthetic rows in this store (force
    records or survey responses made by peelian's generator: ``provenance`` in the data status).
    """
    synthetic = synthetic_sources(ctx)
    return any(is_synthetic_source(row.get("source"), synthetic) for row in rows)


def _force_code(ctx: Any) -> str | None:
    frame = areas_frame(ctx)
    forces = frame[frame["level"] == "force"]
    return str(forces["code"].iloc[0]) if len(forces) else None


def overview(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    status = data_status(ctx)
    trend = events.counts(ctx, by="month", limit=1000)["items"]
    values, empty = attempt(lambda: results.measures_values(ctx, area_level="force", limit=1000))
    measures: list[dict[str, Any]] = []
    changes: dict[str, Any] = {"items": [], "total": 0, "family": None, "family_size": 0}
    run = None
    if values is not None:
        sparks = results.sparklines(ctx, "force")
        harm = results.harm_by_month(ctx)
        for row in values["items"]:
            spark = harm if row.get("unit") == "cchi_harm" else sparks.get(row["measure"], [])
            measures.append({**row, "spark": spark})
        changes = results.significant_changes(ctx, hidden_below=hidden_below(ctx, user))
        run = values["run"]
    return {
        "title": "Overview",
        "period_end": measures[0]["period_end"] if measures else status["month_to"],
        "measures": measures,
        "changes": changes["items"],
        "changes_total": changes["total"],
        "changes_family": changes["family"],
        "changes_family_size": changes["family_size"],
        "fdr": changes.get("fdr"),
        "small_counts": results.small_counts_note(hidden_below(ctx, user)),
        "measures_empty": _empty("measures", empty),
        "measures_run": run,
        "synthetic": is_synthetic(ctx, measures),
        "trend": trend,
        "data": {
            k: status[k]
            for k in ("events", "outcomes", "stops", "month_from", "month_to", "forces")
        },
        "results": results.result_runs(ctx),
        "victims_code": _victims_code_tile(ctx),
    }


def _victims_code_tile(ctx: Any) -> dict[str, Any] | None:
    """The Victims' Code compliance tile (force level), or None before it is computed."""
    from peelian.casework.victims import compliance

    try:
        s = compliance(ctx.store)["summary"]
    except NotFoundError:
        return None
    return {k: s[k] for k in ("as_at", "overall", "trend_test", "synthetic", "edition")}


def measures_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    code = request.query_params.get("area") or _force_code(ctx)
    measure = request.query_params.get("measure")
    catalogue, empty = attempt(lambda: results.measures_catalogue(ctx))
    base: dict[str, Any] = {"title": "Measures", "area": None, "measure": None}
    if code:
        try:
            base["area"] = area_detail(ctx, code)
        except NotFoundError:
            if request.query_params.get("area"):
                raise
    if catalogue is None:
        return {**base, "empty": _empty("measures", empty), "measures": [], "children": []}
    ids = [m["measure"] for m in catalogue["measures"]]
    if measure and measure not in ids:
        raise NotFoundError(f"There is no measure {measure!r}.", f"Choose one of {', '.join(ids)}.")
    measure = measure or (ids[0] if ids else None)
    area_code = code if base["area"] else None
    hide = hidden_below(ctx, user)
    if area_code:
        rows = results.measures_values(ctx, area_code=area_code, limit=1000, hidden_below=hide)
    else:
        rows = results.measures_values(ctx, area_level="force", limit=1000, hidden_below=hide)
    rows = rows["items"]
    children: list[dict[str, Any]] = []
    if area_code and measure:
        children = results.measures_values(
            ctx, measure=measure, parent=area_code, limit=1000, hidden_below=hide
        )["items"]
        children.sort(key=lambda r: (not bool(r.get("significant")), r.get("verdict_p") or 1.0))
    monthly = None
    if measure:
        monthly, _ = attempt(partial(results.measure_monthly, ctx, measure, area_code, hide))
    return {
        **base,
        "empty": None,
        "catalogue": catalogue["measures"],
        "period_end": catalogue["period_end"],
        "measure": measure,
        "measures": rows,
        "children": children,
        "monthly": monthly["months"] if monthly else [],
        "synthetic": is_synthetic(ctx, rows),
        "run": catalogue["run"],
        "small_counts": results.small_counts_note(hide),
    }


def map_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    status = data_status(ctx)
    q = request.query_params
    level = q.get("level", "ward")
    metric = q.get("metric", "count")
    if level not in ("lsoa21", "ward", "csp"):
        raise ParameterError(f"The map 'level' must be lsoa21, ward or csp. Got {level!r}.")
    if metric not in events.METRICS:
        raise ParameterError(f"The map 'metric' must be count, rate or harm. Got {metric!r}.")
    month_to = q.get("month_to") or status["month_to"]
    month_from = q.get("month_from") or (
        status["months"][-12] if len(status["months"]) >= 12 else status["month_from"]
    )
    category = q.get("category") or None
    values = events.area_values(
        ctx,
        level=level,
        metric=metric,
        month_from=month_from,
        month_to=month_to,
        category=category,
    )
    runs = results.result_runs(ctx)
    return {
        "title": "Map",
        "level": level,
        "metric": metric,
        "month_from": month_from,
        "month_to": month_to,
        "category": category,
        "months": status["months"],
        "categories": [c["category"] for c in status["events_by_category"]],
        "values": values,
        "layers": {
            "gistar": runs["gistar"]["computed"],
            "forecast": runs["forecast"]["computed"],
        },
        "commands": {k: v["command"] for k, v in runs.items()},
        "areas_loaded": bool(status["areas"]),
        "synthetic_figures": _layer_figures(ctx, runs),
    }


def _layer_figures(ctx: Any, runs: dict[str, Any]) -> list[str]:
    """The map's hotspot and forecast layers (their default runs) made from synthetic records;
    the area shading is police.uk data (real, public)."""
    figures = []
    for kind, label in (("gistar", "Gi* hot and cold spots layer"), ("forecast", "Forecast layer")):
        if runs[kind]["computed"]:
            cells, _ = attempt(partial(results.hotspot_cells, ctx, kind, limit=1))
            figures.append((label, (cells or {}).get("run")))
    return results.synthetic_figures(ctx, figures)


def area_page(request: Request, user: SessionUser, code: str) -> dict[str, Any]:
    ctx = request.app.state.ctx
    profile = area_profile(ctx, code, hidden_below=hidden_below(ctx, user))
    return {
        "title": f"{profile['area']['name']} ({profile['area']['level']})",
        **profile,
        "synthetic": is_synthetic(ctx, profile["measures"]["items"]),
    }


#: The columns of the measures tables' CSV (the figures each verdict used, and how).
MEASURE_CSV = (
    "measure", "label", "area_level", "area_code", "area_name", "period_end", "unit",
    "current", "comparison", "compared_with", "change_pct", "harm", "harm_comparison",
    "harm_change_pct", "rate_ratio", "verdict_ci_low", "verdict_ci_high", "verdict_level",
    "verdict_p", "verdict_method", "fdr_family", "significant", "assessment", "spc_signal",
    "suppressed",
)  # fmt: skip
CHANGES_CSV = (*MEASURE_CSV, "list_ci_low", "list_ci_high", "list_level", "list_p")

#: The query parameters each page reads (validated, documented, and the only ones its cache
#: keys on).
MEASURES_QUERY: dict[str, Any] = {
    "area": Annotated[str | None, Query(max_length=16, description="ONS area code")],
    "measure": Annotated[str | None, Query(max_length=80, description="Measure id")],
}
MAP_QUERY: dict[str, Any] = {
    "level": Annotated[MapLevel | None, Query(description="Area level (default ward)")],
    "metric": Annotated[MapMetric | None, Query(description="count, rate or harm")],
    "month_from": Month,
    "month_to": Month,
    "category": Annotated[str | None, Query(max_length=100, description="police.uk category")],
}

add_page(router, "/", "overview.html", overview, title="Overview",
         csv=lambda d: d["changes"], csv_columns=CHANGES_CSV)  # fmt: skip
add_page(router, "/measures", "measures.html", measures_page, title="Measures",
         csv=lambda d: [*d.get("measures", []), *d.get("children", [])],
         csv_columns=MEASURE_CSV, query=MEASURES_QUERY)  # fmt: skip
add_page(router, "/map", "map.html", map_page, title="Map", query=MAP_QUERY)
add_page(router, "/areas/{code}", "area.html", area_page, title="Area profile")
