"""Hotspots (Gi*, emerging, KDE, concentration) and Forecasts (backtests, forecast map, Grip plan)
pages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from peelian.web.api._params import CrimeSet
from peelian.web.auth import SessionUser
from peelian.web.context import command_for
from peelian.web.pages._helpers import add_page, attempt
from peelian.web.services import results

__all__ = ["router"]

router = APIRouter()


def _empty(kind: str, state: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if state is None else {**state, "command": command_for(kind)}


def hotspots_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    name = request.query_params.get("name") or None
    gistar, g_empty = attempt(
        lambda: results.hotspot_cells(ctx, "gistar", name, classification="hot", limit=50)
    )
    emerging, e_empty = attempt(lambda: results.hotspot_cells(ctx, "emerging", name, limit=50))
    kde, k_empty = attempt(lambda: results.hotspot_cells(ctx, "kde", name, limit=1))
    conc, c_empty = attempt(lambda: results.concentration(ctx, name))
    counts: dict[str, int] = {}
    if gistar is not None:
        cells = ctx.run(gistar["run"]["id"]).frames["cells"]
        counts = {str(k): int(v) for k, v in cells["hotspot"].value_counts().items()}
    patterns: dict[str, int] = {}
    if emerging is not None:
        cells = ctx.run(emerging["run"]["id"]).frames["cells"]
        patterns = {str(k): int(v) for k, v in cells["pattern"].value_counts().items()}
    names = sorted(
        set(ctx.run_names("gistar"))
        | set(ctx.run_names("emerging"))
        | set(ctx.run_names("concentration"))
    )
    return {
        "title": "Hotspots",
        "name": name or (gistar or emerging or {}).get("run", {}).get("name"),
        "names": names,
        "gistar": gistar,
        "gistar_counts": counts,
        "gistar_empty": _empty("gistar", g_empty),
        "emerging": emerging,
        "emerging_patterns": patterns,
        "emerging_empty": _empty("emerging", e_empty),
        "kde": kde["run"] if kde else None,
        "kde_empty": _empty("kde", k_empty),
        "concentration": conc,
        "concentration_figures": {
            row["statistic"]: row["value"] for row in (conc or {}).get("statistics", [])
        },
        "concentration_empty": _empty("concentration", c_empty),
        "can_export": user.allows("analyst"),
        "synthetic_figures": results.synthetic_figures(
            ctx,
            [
                ("Getis-Ord Gi* hot and cold spots", (gistar or {}).get("run")),
                ("Emerging hot spots", (emerging or {}).get("run")),
                ("Kernel density", (kde or {}).get("run")),
                ("Crime concentration", (conc or {}).get("run")),
            ],
        ),
    }


def forecasts_page(request: Request, user: SessionUser) -> dict[str, Any]:
    ctx = request.app.state.ctx
    name = request.query_params.get("name") or None
    backtest, b_empty = attempt(lambda: results.backtest(ctx, name))
    forecast, f_empty = attempt(
        lambda: results.hotspot_cells(ctx, "forecast", name, classification="true", limit=50)
    )
    grip, g_empty = attempt(lambda: results.grip_plan(ctx))
    if grip is not None:
        grip = {k: v for k, v in grip.items() if k != "hotspots_geojson"}
    return {
        "title": "Forecasts",
        "backtest": backtest,
        "backtest_empty": _empty("backtest", b_empty),
        "forecast": forecast,
        "forecast_empty": _empty("forecast", f_empty),
        "grip": grip,
        "grip_empty": _empty("grip_plan", g_empty),
        "synthetic_figures": results.synthetic_figures(
            ctx,
            [
                ("Backtest comparison", (backtest or {}).get("run")),
                ("Current forecast", (forecast or {}).get("run")),
                (
                    "Grip patrol plan: hotspots, harm and high-risk hours from synthetic force "
                    "records (do not deploy officers on it)",
                    (grip or {}).get("run"),
                ),
            ],
        ),
    }


add_page(
    router, "/hotspots", "hotspots.html", hotspots_page, title="Hotspots", query={"name": CrimeSet}
)
add_page(
    router,
    "/forecasts",
    "forecasts.html",
    forecasts_page,
    title="Forecasts",
    query={"name": CrimeSet},
)
