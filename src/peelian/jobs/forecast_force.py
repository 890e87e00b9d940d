"""Daily and weekly forecasts from force records: store -> day/week count cube -> forecasters.

    compute_force_backtest(store, crime_type="Burglary", test_from="2021-12-01",
                           test_to="2021-12-14", freq="D", models="all_history,sepp")
    compute_force_forecast(store, crime_type="Burglary", freq="D", model="sepp")

police.uk publishes the month of each crime, so near repeats (days to a few weeks; Johnson &
Bowers 2004) are invisible in it and the self-exciting model collapses to the historical mean
(decision 0014). Force records carry the time to the minute: counted per day or week, the model
can see repeats. A store without force records, or records timed only to the month, is refused
with :class:`peelian.errors.DataPrecisionError` (what, why and how to fix).

Times are when each crime was **reported** (``reported_at``): what was known at the forecast
origin, so a backtest never trains on a crime reported after its origin. The crime-possible cells
are the cells with a force record of any type in the training periods. Nothing is saved: the
dashboard shows monthly forecasts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from peelian.analysis.forecast import (
    DEFAULT_COVERAGE,
    FREQS,
    BacktestResult,
    CountCube,
    GridForecast,
    GridSEPP,
    backtest,
    build_cube,
    make_model,
    make_models,
)
from peelian.analysis.grid import Grid, square_grid
from peelian.data.store import Store
from peelian.errors import DataPrecisionError, EmptySelectionError, ParameterError
from peelian.jobs.hotspots import crime_slug, load_boundary, load_force_selection

__all__ = [
    "DEFAULT_HISTORY",
    "compute_force_backtest",
    "compute_force_forecast",
    "force_cube",
    "parse_period",
]

#: Periods of history a daily or weekly cube holds before the first forecast (bounds memory: a
#: cube is cells x periods, about 90,000 cells for Northumbria at 250 m).
DEFAULT_HISTORY: dict[str, int] = {"D": 182, "W": 104}
_FORMATS = {"D": "YYYY-MM-DD", "W": "YYYY-MM-DD (any day of the week)"}


def parse_period(value: str, freq: str, name: str) -> pd.Period:
    """``value`` (a date) as a period of ``freq`` (``D`` or ``W``), or a ParameterError naming the
    option ``name``."""
    _check_freq(freq)
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ParameterError(
            f"{name} must be a date, {_FORMATS[freq]}, for a {FREQS[freq]}ly forecast. "
            f"Got {value!r}.",
            f"Give a date such as 2021-12-01 with --freq {freq}, or use --freq M with months.",
        ) from None
    return pd.Period(day, freq=freq)


def _check_freq(freq: str) -> None:
    if freq not in ("D", "W"):
        raise ParameterError(
            f"Force-record forecasts are daily ('D') or weekly ('W'). Got {freq!r}.",
            "Monthly forecasts come from police.uk: use --freq M.",
        )


def _refuse_month_precision(crime_type: str, freq: str) -> DataPrecisionError:
    return DataPrecisionError(
        f"A {FREQS[freq]}ly forecast of {crime_type} needs event times to the day or minute. "
        "This store holds no force records, and police.uk records are dated only to the month "
        "of each crime, so near repeats (days to weeks) cannot be seen.",
        "Load force records, which are timed to the minute (`peelian ingest force DIR --mapping "
        "NAME`), or forecast by month: `peelian forecast ... --freq M`.",
    )


def force_cube(
    store: Store,
    *,
    crime_type: str,
    freq: str = "D",
    cell_size: float = 250,
    last: pd.Period | None = None,
    history: int | None = None,
) -> tuple[CountCube, Grid, dict[str, Any]]:
    """The count cube of a crime type's force records per day or week (``freq``) on a square grid
    over the force area: the ``history`` periods up to ``last`` (default: the last reported day or
    week), with the force records of every type as the context that defines the crime-possible
    cells. Refuses month-precision data (police.uk) with DataPrecisionError."""
    _check_freq(freq)
    history = DEFAULT_HISTORY[freq] if history is None else int(history)
    if history < 2:
        raise ParameterError(
            f"The history must be at least 2 periods. Got {history}.", "Use --history 2 or more."
        )
    from peelian.data.frames import provenance

    if provenance(store)["force"]["rows"] == 0:
        raise _refuse_month_precision(crime_type, freq)
    if last is None:
        events = load_force_selection(store, crime_type, None, None)
        last = pd.Period(pd.to_datetime(events["reported_at"], errors="coerce").max(), freq=freq)
    periods = pd.period_range(end=last, periods=history, freq=freq)
    span = (periods[0].start_time.date().isoformat(), periods[-1].end_time.date().isoformat())
    events = load_force_selection(store, crime_type, *span)
    context = load_force_selection(store, "all", *span)
    boundary, choices = load_boundary(store)
    grid = square_grid(boundary, cell_size)
    cube, report = build_cube(
        grid, events, freq=freq, time_column="reported_at", periods=periods,
        context_events=context, context_by_type=False, context_source="force-record",
    )  # fmt: skip
    if cube.counts.sum() == 0:
        raise EmptySelectionError(
            f"No force records of {crime_type} were reported in the force area between "
            f"{periods[0]} and {periods[-1]}.",
            "Choose dates inside the loaded records (`peelian info`) or a longer --history.",
        )
    synthetic = bool(events["synthetic"].any()) if "synthetic" in events else False
    meta = {
        "crime_type": crime_type,
        "slug": crime_slug(crime_type),
        "source": "force records",
        "synthetic": synthetic,
        "freq": freq,
        "time_basis": "reported_at: when each crime was reported (known at the origin)",
        "cell_size": float(cell_size),
        "n_cells": grid.n_cells,
        "area_km2": grid.total_area / 1e6,
        "report": report,
        "choices": dict(choices, **grid.choices),
    }
    return cube, grid, meta


def compute_force_backtest(
    store: Store,
    *,
    crime_type: str,
    test_from: str,
    test_to: str,
    freq: str = "D",
    cell_size: float = 250,
    models: str | list[str] = "all_history,sepp",
    history: int | None = None,
) -> tuple[BacktestResult, dict[str, Any]]:
    """Rolling-origin backtest over the days (or weeks) ``test_from``..``test_to`` of force
    records, each origin fitted on the ``history`` periods before the first test period and the
    test periods before it (see :func:`peelian.analysis.forecast.backtest`); nothing is saved."""
    first = parse_period(test_from, freq, "--test-from")
    final = parse_period(test_to, freq, "--test-to")
    if final < first:
        raise ParameterError(
            f"--test-from ({first}) is after --test-to ({final}).", "Swap the two dates."
        )
    tests = pd.period_range(first, final, freq=freq)
    history = DEFAULT_HISTORY[freq] if history is None else int(history)
    cube, _, meta = force_cube(store, crime_type=crime_type, freq=freq, cell_size=cell_size,
                               last=final, history=history + len(tests))  # fmt: skip
    result = backtest(cube, make_models(models), [str(p) for p in tests])
    meta.update(
        best_model=result.best_model(DEFAULT_COVERAGE * 100),
        best_model_rule=f"highest mean PAI at {DEFAULT_COVERAGE:.0%} of the crime-possible area",
        test_periods=[str(p) for p in tests],
        history=history,
        timings=result.timings,
        warnings=result.warnings,
        crime_possible_rule=result.params["crime_possible_rule"],
    )
    return result, meta


def compute_force_forecast(
    store: Store,
    *,
    crime_type: str,
    freq: str = "D",
    cell_size: float = 250,
    model: str = "sepp",
    history: int | None = None,
) -> tuple[GridForecast, Grid, dict[str, Any]]:
    """Fit ``model`` on the last ``history`` days (weeks) of force records and forecast the next
    one. ``best`` means the self-exciting model (no daily backtest is saved to choose from)."""
    cube, grid, meta = force_cube(store, crime_type=crime_type, freq=freq, cell_size=cell_size,
                                  history=history)  # fmt: skip
    if model == "best":
        model = "sepp"
        meta["choices"]["model"] = {
            "value": model,
            "rule": "no daily or weekly backtest is saved: the self-exciting model, made for "
            "times to the day or minute",
        }
    fitted = make_model(model).fit(cube)
    fc = fitted.predict()
    meta.update(model=model, period=str(fc.period), warnings=list(fc.warnings))
    if isinstance(fitted, GridSEPP):
        meta["fit"] = {
            "theta": fitted.theta_, "omega_per_period": fitted.omega_,
            "trigger_share": fitted.trigger_share_, "collapsed": bool(fitted.collapsed_),
            "n_iter": fitted.n_iter_, "converged": bool(fitted.converged_),
        }  # fmt: skip
    return fc, grid, meta
