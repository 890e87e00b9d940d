"""Forecasting and Grip jobs: store -> count cube -> forecasters / patrol plan -> results.

    run_backtest(store, crime_type="Burglary", test_from="2022-03", test_to="2022-08")
    run_forecast(store, crime_type="Burglary")             # next month, best backtested model
    run_grip_plan(store, weeks=4, hotspots=20)              # persisted plan

Results (``peelian.data.results``): kind ``backtest`` (parts ``results``, ``summary``), kind
``forecast`` (part ``cells``) under the crime type's slug, and kind ``grip_plan`` name ``grip``
(parts ``hotspots``, ``visits``). Every automatic choice is recorded in the run's summary.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.forecast import (
    CRIME_POSSIBLE,
    DEFAULT_COVERAGE,
    BacktestResult,
    CountCube,
    GridForecast,
    backtest,
    build_cube,
    make_model,
    make_models,
)
from peelian.analysis.grid import (
    Grid,
    cell_area_codes,
    cell_population,
    square_grid,
)
from peelian.analysis.grip import DEFAULT_PROFILE_NOTE, GripPlan, data_age_note, grip_plan
from peelian.data.results import latest_result, save_result
from peelian.data.store import Store
from peelian.errors import EmptySelectionError, NotFoundError, ParameterError
from peelian.jobs.hotspots import crime_slug, harm_weights, load_boundary, load_selection
from peelian.schemas.months import months_between

__all__ = [
    "GRIP_FALLBACK_CATEGORY",
    "cell_covariates",
    "compute_backtest",
    "compute_forecast",
    "compute_grip_plan",
    "forecast_cube",
    "run_backtest",
    "run_forecast",
    "run_grip_plan",
    "save_backtest",
    "save_forecast",
]

log = logging.getLogger("peelian.jobs.forecast")

#: police.uk category used for Grip when there are no force records.
GRIP_FALLBACK_CATEGORY = "Violence and sexual offences"


def cell_covariates(store: Store, grid: Grid) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Population and IMD score per cell from the loaded LSOAs (2021, else 2011 boundaries): see
    :func:`peelian.analysis.grid.cell_population` for the rule."""
    from peelian.data.geography import areas_frame

    for level in ("lsoa21", "lsoa11"):
        try:
            lsoa = areas_frame(store, level, with_geometry=True)
        except NotFoundError:
            continue
        if len(lsoa) == 0 or lsoa.geometry.isna().all():
            continue
        covs, counts = cell_population(grid, lsoa)
        info = {"level": level, "cells_with_lsoa": counts["cells_with_lsoa"],
                "rule": "cell centre in LSOA; population spread uniformly over the LSOA"}  # fmt: skip
        return covs, info
    return {}, {"level": None, "rule": "no LSOAs loaded: no population or deprivation features"}


def forecast_cube(
    store: Store,
    *,
    crime_type: str,
    cell_size: float = 250,
    month_from: str | None = None,
    month_to: str | None = None,
    covariates: bool = True,
) -> tuple[CountCube, Grid, dict[str, Any]]:
    """The police.uk count cube of a crime type on a square grid over the force area, with CCHI
    harm, the counts of every police.uk type per cell and month (the cube's ``context``: it
    defines the crime-possible cells forecasts are scored over) and (if areas are loaded)
    population and IMD per cell."""
    from peelian.data.frames import load_events

    events = load_selection(store, crime_type, month_from, month_to)
    context = load_events(store, month_from=month_from, month_to=month_to)
    boundary, choices = load_boundary(store)
    grid = square_grid(boundary, cell_size)
    covs, cov_info = cell_covariates(store, grid) if covariates else ({}, {"level": None})
    cube, report = build_cube(grid, events, harm_weights=harm_weights(), covariates=covs,
                              context_events=context)  # fmt: skip
    meta = {
        "crime_type": crime_type,
        "slug": crime_slug(crime_type),
        "cell_size": float(cell_size),
        "n_cells": grid.n_cells,
        "area_km2": grid.total_area / 1e6,
        "report": report,
        "covariates": cov_info,
        "choices": dict(choices, **grid.choices),
    }
    return cube, grid, meta


def compute_backtest(
    store: Store,
    *,
    crime_type: str,
    test_from: str,
    test_to: str,
    cell_size: float = 250,
    models: str | list[str] = "all",
) -> tuple[BacktestResult, dict[str, Any]]:
    """Rolling-origin backtest over the months ``test_from``..``test_to`` (see
    :func:`peelian.analysis.forecast.backtest`); nothing is saved."""
    months = months_between(test_from, test_to)
    cube, _, meta = forecast_cube(store, crime_type=crime_type, cell_size=cell_size,
                                  month_to=test_to)  # fmt: skip
    have = {str(p) for p in cube.periods}
    if missing := [m for m in months if m not in have]:
        raise ParameterError(
            f"The test months {missing[0]}..{missing[-1]} are not in the loaded data "
            f"({cube.periods[0]} to {cube.periods[-1]}).",
            "Choose test months inside the loaded data (`peelian info`).",
        )
    first = cube.index_of(months[0])
    if first < 4:
        raise ParameterError(
            f"Only {first} months of history precede {months[0]}; the forecasters need at least 4.",
            "Choose a later first test month or load more history.",
        )
    result = backtest(cube, make_models(models), months)
    meta["best_model"] = result.best_model(DEFAULT_COVERAGE * 100)
    meta["best_model_rule"] = (
        f"highest mean PAI at {DEFAULT_COVERAGE:.0%} of the crime-possible area"
    )
    meta["timings"] = result.timings
    meta["test_months"] = months
    meta["warnings"] = result.warnings
    meta["area_bases"] = result.params["area_bases"]
    meta["crime_possible_rule"] = result.params["crime_possible_rule"]
    return result, meta


def save_backtest(store: Store, result: BacktestResult, meta: dict[str, Any]) -> int:
    results = result.results
    return save_result(
        store,
        "backtest",
        meta["slug"],
        {"results": results, "summary": result.summary},
        params=dict(result.params, crime_type=meta["crime_type"]),
        summary={k: v for k, v in meta.items() if k != "slug"},
    )


def run_backtest(
    store: Store,
    *,
    crime_type: str,
    test_from: str,
    test_to: str,
    cell_size: float = 250,
    models: str | list[str] = "all",
) -> int:
    """Backtest and persist (kind ``backtest``, name = crime slug); returns the run id."""
    result, meta = compute_backtest(store, crime_type=crime_type, test_from=test_from,
                                    test_to=test_to, cell_size=cell_size, models=models)  # fmt: skip
    return save_backtest(store, result, meta)


def _best_model(store: Store, slug: str) -> tuple[str, dict[str, Any]]:
    try:
        run = latest_result(store, "backtest", slug, parts=["summary"])
    except NotFoundError:
        rule = "no backtest saved for this crime type: the ensemble (peelian's default)"
        return "ensemble", {"value": "ensemble", "rule": rule}
    s = run.frames["summary"]
    cover = DEFAULT_COVERAGE * 100
    if "area_basis" in s:  # runs before the crime-possible area was scored have no area basis
        s = s[s["area_basis"] == CRIME_POSSIBLE]
        what = f"{cover:g}% of the crime-possible area"
    else:
        cover, what = 5.0, "5% of the whole force area (an older backtest)"
    s = s[np.isclose(s["coverage"], cover)].sort_values("pai_mean", ascending=False)
    name = str(s["model"].iloc[0])
    if name == "naive":  # renamed: peelian's "naive" was the last period
        name = "last_period"
    rule = f"highest mean PAI at {what} in backtest run {run.id} ({s['pai_mean'].iloc[0]:.2f})"
    return name, {"value": name, "rule": rule}


def compute_forecast(
    store: Store,
    *,
    crime_type: str,
    cell_size: float = 250,
    model: str = "best",
    month_to: str | None = None,
) -> tuple[GridForecast, Grid, dict[str, Any]]:
    """Fit ``model`` (a name, or ``best``: the best model of the latest saved backtest) on all
    months up to ``month_to`` and forecast the next month."""
    cube, grid, meta = forecast_cube(store, crime_type=crime_type, cell_size=cell_size,
                                     month_to=month_to)  # fmt: skip
    if model == "best":
        model, choice = _best_model(store, meta["slug"])
        meta["choices"]["model"] = choice
    meta["model"] = model
    fc = make_model(model).fit(cube).predict()
    meta["month"] = str(fc.period)
    meta["warnings"] = list(fc.warnings)
    return fc, grid, meta


def save_forecast(
    store: Store,
    fc: GridForecast,
    grid: Grid,
    meta: dict[str, Any],
    coverage: float = DEFAULT_COVERAGE * 100,
) -> int:
    """Persist a forecast (kind ``forecast``): every cell with its rank (ties share a rank), flag
    share, flagged (wholly inside the top ``coverage`` % of the crime-possible area) and tied (in
    the tie group at the boundary); the run summary states the coverage in cells and km^2."""
    import geopandas as gpd

    frame = fc.to_frame(coverage / 100)
    meta = dict(meta, coverage=fc.coverage_statement(coverage / 100))
    cells = gpd.GeoDataFrame(
        frame[
            [
                "cell_id",
                "x",
                "y",
                "predicted",
                "rank",
                "crime_possible",
                "flag_share",
                "flagged",
                "tied",
            ]
        ].assign(area_m2=frame["area_m2"]),  # fmt: skip
        geometry=grid.geometry,
        crs="EPSG:27700",
    )
    return save_result(
        store,
        "forecast",
        meta["slug"],
        {"cells": cells},
        params={
            "model": meta["model"],
            "params": fc.params,
            "cell_size": meta["cell_size"],
            "coverage": coverage,
        },  # fmt: skip
        summary={k: v for k, v in meta.items() if k != "slug"},
    )


def run_forecast(
    store: Store,
    *,
    crime_type: str,
    cell_size: float = 250,
    model: str = "best",
    coverage: float = DEFAULT_COVERAGE * 100,
    month_to: str | None = None,
) -> int:
    """Forecast the next month and persist it (kind ``forecast``); returns the run id.
    ``coverage`` is a % of the crime-possible area (default 1 %)."""
    fc, grid, meta = compute_forecast(store, crime_type=crime_type, cell_size=cell_size,
                                      model=model, month_to=month_to)  # fmt: skip
    return save_forecast(store, fc, grid, meta, coverage)


# -- Grip ------------------------------------------------------------------------------------------
def _grip_events(store: Store) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Serious violence for Grip: force records (public space, not domestic, serious-violence
    set, CCHI by ONS subgroup), else police.uk violence (reported as the fallback)."""
    from peelian.data.force_frames import load_occurrences
    from peelian.offences import cchi_weights, home_office_codes, offence_set

    try:
        occ = load_occurrences(store, codes=offence_set("serious-violence").codes)
    except NotFoundError:
        occ = pd.DataFrame()
    if len(occ):
        n_all = len(occ)
        keep = (occ["public_space"] == True) & (occ["domestic_abuse"] != True)  # noqa: E712
        occ = occ[keep.fillna(False).to_numpy(bool)].copy()
        codes = home_office_codes().set_index("code")["ons_subgroup"]
        w = cchi_weights("subgroup").set_index("ons_subgroup")["cchi_days"]
        occ["harm"] = occ["ho_code"].map(codes).map(w).astype(float)
        occ["time"] = occ["committed_from"].fillna(occ["reported_at"])
        info = {
            "source": "force records",
            "selection": "serious-violence offence set, public_space = true, domestic_abuse "
            "= false; harm = CCHI days by ONS subgroup",
            "events_considered": n_all,
            "events_selected": len(occ),
            "unweighted": int(occ["harm"].isna().sum()),
            # generated records must be labelled wherever the plan is shown
            "synthetic": bool(occ["synthetic"].any()) if "synthetic" in occ else False,
        }
        occ["harm"] = occ["harm"].fillna(0.0)
        return occ, info
    events = load_selection(store, GRIP_FALLBACK_CATEGORY, None, None)
    events = events.assign(harm=harm_weights().get(GRIP_FALLBACK_CATEGORY, 1.0), time=pd.NaT)
    info = {
        "source": "police.uk (fallback)",
        "selection": f"police.uk category '{GRIP_FALLBACK_CATEGORY}' (no force records loaded): "
        "includes domestic and private-space violence, which Grip would exclude",
        "events_considered": len(events),
        "events_selected": len(events),
        "synthetic": False,
    }
    return events, info


def _area_codes(store: Store, grid: Grid, level: str) -> tuple[np.ndarray, dict[str, Any]]:
    """The ``level`` area code of each cell (see :func:`peelian.analysis.grid.cell_area_codes`)."""
    from peelian.data.geography import areas_frame

    try:
        areas = areas_frame(store, level, with_geometry=True)
    except NotFoundError:
        areas = None
    if areas is None or len(areas) == 0:
        return np.full(grid.n_cells, "unknown", dtype=object), {
            "value": None, "rule": f"no {level} areas loaded: no per-area cap possible"}  # fmt: skip
    return cell_area_codes(grid, areas), {"value": level, "rule": f"cell centre in {level} area"}


def compute_grip_plan(
    store: Store,
    *,
    weeks: int,
    hotspots: int,
    cell_size: float = 150,
    min_separation: float | None = None,
    max_per_area: int | None = None,
    area_level: str = "ward",
    start: dt.date | str | None = None,
    seed: int = 0,
    basis: str = "harm",
    lookback_months: int = 12,
) -> tuple[GripPlan, Grid, dict[str, Any]]:
    """Choose Grip hotspots and schedule patrols (see :func:`peelian.analysis.grip.grip_plan`).

    ``basis="harm"`` ranks cells by the harm of the last ``lookback_months`` months; ``"forecast"``
    by next month's forecast count (best backtested model) x the cell's mean harm per event.
    ``min_separation`` defaults to twice the cell size (no two hotspots side by side).
    """
    if basis not in ("harm", "forecast"):
        raise ParameterError(f"The 'basis' parameter must be 'harm' or 'forecast'. Got {basis!r}.")
    events, source = _grip_events(store)
    months = sorted(events["month"].dropna().astype(str).unique())
    if not months:
        raise EmptySelectionError("There are no serious violence events to plan patrols from.")
    window = months[-lookback_months:]
    recent = events[events["month"].astype(str).isin(window)]
    boundary, choices = load_boundary(store)
    grid = square_grid(boundary, cell_size)
    cube, report = build_cube(grid, recent, harm_column="harm",
                              periods=pd.period_range(window[0], window[-1], freq="M"))  # fmt: skip
    harm = cube.harm.sum(axis=1)
    score = harm
    choices = dict(choices, **grid.choices)
    if basis == "forecast":
        name, choice = _best_model(store, crime_slug(GRIP_FALLBACK_CATEGORY))
        choices["model"] = choice
        fc = make_model(name).fit(cube).predict()
        n = cube.counts.sum(axis=1)
        mean_harm = np.where(n > 0, harm / np.maximum(n, 1), harm.sum() / max(n.sum(), 1))
        score = fc.expected * mean_harm
    if min_separation is None:
        min_separation = 2.0 * cell_size
        choices["min_separation"] = {"value": min_separation, "rule": "twice the cell size"}
    area_code, area_choice = _area_codes(store, grid, area_level)
    csp_code = area_code if area_level == "csp" else _area_codes(store, grid, "csp")[0]
    choices["area_level"] = area_choice
    if start is None:
        today = dt.date.today()
        start = today + dt.timedelta(days=(7 - today.weekday()) % 7 or 7)
        choices["start"] = {"value": start.isoformat(), "rule": "next Monday"}
    elif isinstance(start, str):
        try:
            start = dt.date.fromisoformat(start)
        except ValueError:
            raise ParameterError(f"--start must be YYYY-MM-DD. Got {start!r}.") from None
    cells = pd.DataFrame({"cell_id": grid.cell_ids, "x": grid.x, "y": grid.y, "area": grid.area,
                          "score": score, "harm": harm, "area_code": area_code,
                          "csp_code": csp_code})  # fmt: skip
    timed = None
    if source["source"] == "force records":
        pos = grid.locate_events(recent)
        timed = pd.DataFrame({"x": recent["easting"].to_numpy(float),
                              "y": recent["northing"].to_numpy(float),
                              "time": recent["time"].to_numpy(),
                              "harm": recent["harm"].to_numpy(float)})[pos >= 0]  # fmt: skip
    plan = grip_plan(
        cells, hotspots=hotspots, weeks=weeks, start=start, timed_events=timed,
        min_separation=min_separation,
        max_per_area=max_per_area if area_choice["value"] else None, seed=seed,
    )  # fmt: skip
    meta = {
        "source": source,
        "months": [window[0], window[-1]],
        "basis": basis,
        "cell_size": float(cell_size),
        "report": report,
        "choices": dict(choices, **plan.choices),
        "summary": plan.summary,
        "profile_note": DEFAULT_PROFILE_NOTE if timed is None else None,
        # a plan made from data that end long before its visits says so (issue 12 item 8)
        "data_age": data_age_note([window[0], window[-1]], start),
    }
    return plan, grid, meta


def run_grip_plan(
    store: Store,
    *,
    weeks: int,
    hotspots: int,
    write_files: Callable[[GripPlan, Any, dict[str, Any]], dict[str, str]] | None = None,
    **options: Any,
) -> int:
    """Make a Grip plan and persist it (kind ``grip_plan``, name ``grip``); returns the run id.

    ``write_files(plan, hotspots, meta)`` (optional) writes the plan's files and returns their
    paths, recorded in the run summary as ``files``. Rendering belongs to the reports layer,
    which sits above jobs, so callers pass it in, e.g.
    ``write_files=functools.partial(peelian.reports.grip_plan.write_plan_files, Path("grip"))``.
    """
    import geopandas as gpd
    import shapely

    plan, grid, meta = compute_grip_plan(store, weeks=weeks, hotspots=hotspots, **options)
    h = grid.cell_size / 2
    hs = plan.hotspots
    geo = gpd.GeoDataFrame(
        hs[["rank", "cell_id", "x", "y", "harm", "expected_harm_share", "high_risk_hours",
            "csp_code", "area_code", "score", "area_m2", "profile_source"]],
        geometry=shapely.box(hs["x"] - h, hs["y"] - h, hs["x"] + h, hs["y"] + h),
        crs="EPSG:27700",
    )  # fmt: skip
    if write_files is not None:
        meta["files"] = write_files(plan, geo, meta)
    visits = plan.visits[["hotspot_rank", "date", "start_time", "end_time", "cell_id", "day",
                          "minutes"]]  # fmt: skip
    return save_result(
        store, "grip_plan", "grip", {"hotspots": geo, "visits": visits},
        params={"weeks": weeks, "hotspots": hotspots, **{k: str(v) for k, v in options.items()}},
        summary=meta,
    )  # fmt: skip
