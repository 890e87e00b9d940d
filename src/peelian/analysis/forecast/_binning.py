"""Build a count cube from events on a grid of :mod:`peelian.analysis.grid`.

The grid places events in cells (``Grid.locate``); this module adds the time axis at any
period length (month, week or day), so force records with minute-precision times can be
forecast weekly or daily.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.forecast._cube import FREQS, CountCube, period_index
from peelian.analysis.grid import Grid
from peelian.errors import DataPrecisionError, EmptySelectionError, ParameterError, SchemaError

__all__ = ["PRECISION_NEEDED", "build_cube", "check_time_precision"]

#: Time precisions from finest to coarsest (the ``time_precision`` column of peelian's frames:
#: force records are ``minute``, police.uk events ``month``).
_PRECISION_RANK: dict[str, int] = {"minute": 0, "hour": 1, "day": 2, "week": 3, "month": 4}
#: The coarsest time precision each period length can use: a day or a week needs the day an
#: event happened (an event dated only to its month cannot be placed in a week).
PRECISION_NEEDED: dict[str, str] = {"M": "month", "W": "day", "D": "day"}


def check_time_precision(events: pd.DataFrame, freq: str, time_column: str = "month") -> None:
    """Refuse to count ``events`` per period of ``freq`` when their times are coarser than the
    period (STYLE practice 8: precision travels with the data and methods check it).

    Reads the events' ``time_precision`` column (``minute``, ``hour``, ``day``, ``week`` or
    ``month``) when there is one; a ``time_column`` named ``month`` holds months, so it can only
    make monthly cubes. Raises :class:`peelian.errors.DataPrecisionError` saying what, why and how
    to fix.
    """
    needed = PRECISION_NEEDED.get(freq, "month")
    if needed == "month":
        return
    unit = FREQS[freq]
    fix = (
        f"Use force records, whose times are to the minute (`peelian ingest force`, then "
        f"`peelian forecast ... --freq {freq}`), or forecast by month (`--freq M`)."
    )
    if time_column == "month":
        raise DataPrecisionError(
            f"A {unit}ly count cube needs the day each event happened; the {time_column!r} "
            "column holds only months (police.uk publishes the month of each crime, not the day).",
            fix,
        )
    if "time_precision" not in events.columns or not len(events):
        return
    prec = events["time_precision"].astype(str).str.lower()
    rank = prec.map(_PRECISION_RANK)
    coarse = rank.isna() | (rank > _PRECISION_RANK[needed])
    if coarse.any():
        kinds = ", ".join(f"{k} ({n:,})" for k, n in prec[coarse].value_counts().items())
        raise DataPrecisionError(
            f"A {unit}ly count cube needs event times to the day or finer; {int(coarse.sum()):,} "
            f"of the {len(events):,} events are dated only as: {kinds}. police.uk records give "
            "the month of each crime, not the day, so near repeats within days cannot be seen.",
            fix,
        )


def build_cube(
    grid: Grid,
    events: pd.DataFrame,
    *,
    freq: str = "M",
    time_column: str = "month",
    periods: pd.PeriodIndex | None = None,
    harm_weights: Mapping[str, float] | None = None,
    category_column: str = "category",
    harm_column: str | None = None,
    covariates: Mapping[str, np.ndarray] | None = None,
    context_events: pd.DataFrame | None = None,
    context_by_type: bool = True,
    context_source: str = "police.uk",
) -> tuple[CountCube, dict[str, Any]]:
    """Count ``events`` (``easting``, ``northing`` and ``time_column``) on a square ``grid`` per
    period of ``freq`` (``M``, ``W`` or ``D``).

    Harm per event comes from ``harm_column`` (a per-event weight) or ``harm_weights`` (category
    -> weight, e.g. CCHI days, read from ``category_column``). ``periods`` defaults to every
    period from the first to the last event's. Returns the cube and a reconciliation:
    ``events_read = events_counted + unlocated + outside_area + outside_periods``.

    ``context_events`` (police.uk events of every type, same columns) are counted on the same
    cells and periods into the cube's ``context`` (and, per ``category_column`` value, its
    ``context_types``): they define the crime-possible cells that forecasts are scored over
    (:func:`peelian.analysis.forecast.crime_possible`). The report gives ``context_read`` and
    ``context_counted``. ``context_by_type=False`` keeps only the all-types counts (a daily
    cube per type would need one cells x days array per type); ``context_source`` names where the
    context came from in the crime-possible rule.

    Counting per day or week (``freq`` ``D`` or ``W``) needs events timed to the day or finer:
    events whose ``time_precision`` is ``month`` (police.uk) are refused with
    :class:`peelian.errors.DataPrecisionError` (:func:`check_time_precision`).
    """
    if freq not in FREQS:
        raise ParameterError(f"The 'freq' parameter must be one of {sorted(FREQS)}. Got {freq!r}.")
    if grid.kind != "square":
        raise ParameterError(
            f"Forecasting needs a square grid; this grid is {grid.kind!r}.",
            "Build it with peelian.analysis.grid.square_grid(boundary, cell_size).",
        )
    if time_column not in events.columns:
        raise SchemaError(f"Events need a {time_column!r} column to be counted per period.")
    check_time_precision(events, freq, time_column)
    pos = grid.locate_events(events)
    x = pd.to_numeric(events["easting"], errors="coerce").to_numpy(float)
    unlocated = ~np.isfinite(x)
    stamps = pd.to_datetime(events[time_column].astype(str), errors="coerce")
    when = pd.PeriodIndex(stamps, freq=freq)
    if periods is None:
        ok_when = when[(pos >= 0) & stamps.notna().to_numpy()]
        if not len(ok_when):
            raise EmptySelectionError(
                f"None of the {len(events):,} events lies in the study area with a valid "
                f"{time_column!r}.",
                "Check the crime type, the dates and the boundary.",
            )
        periods = period_index(ok_when.min(), ok_when.max(), freq)
    ti = periods.get_indexer(when)
    use = (pos >= 0) & (ti >= 0)
    counts = np.zeros((grid.n_cells, len(periods)))
    np.add.at(counts, (pos[use], ti[use]), 1.0)
    harm = None
    if harm_column is not None or harm_weights is not None:
        if harm_column is not None:
            w = pd.to_numeric(events[harm_column], errors="coerce").to_numpy(float)
        else:
            if category_column not in events.columns:
                raise SchemaError(f"Harm weights need a {category_column!r} column.")
            w = events[category_column].map(dict(harm_weights or {})).to_numpy(float)
        harm = np.zeros_like(counts)
        np.add.at(harm, (pos[use], ti[use]), np.nan_to_num(w[use]))
    context, context_types = None, {}
    if context_events is not None:
        cpos = grid.locate_events(context_events)
        cwhen = pd.PeriodIndex(
            pd.to_datetime(context_events[time_column].astype(str), errors="coerce"), freq=freq
        )
        cti = periods.get_indexer(cwhen)
        cuse = (cpos >= 0) & (cti >= 0)
        context = np.zeros((grid.n_cells, len(periods)))
        np.add.at(context, (cpos[cuse], cti[cuse]), 1.0)
        if context_by_type and category_column in context_events.columns:
            cats = context_events[category_column].astype(str).to_numpy()
            for cat in sorted(set(cats[cuse])):
                sel = cuse & (cats == cat)
                arr = np.zeros((grid.n_cells, len(periods)), dtype=np.float32)
                np.add.at(arr, (cpos[sel], cti[sel]), 1.0)
                context_types[cat] = arr
    cube = CountCube(
        counts=counts,
        x=grid.x,
        y=grid.y,
        area=grid.area,
        periods=periods,
        cell_size=float(grid.cell_size),
        cell_id=np.asarray(grid.cell_ids),
        harm=harm,
        covariates=dict(covariates or {}),
        context=context,
        context_types=context_types,
        context_source=context_source,
    )
    report = {
        "events_read": len(events),
        "events_counted": int(use.sum()),
        "unlocated": int(unlocated.sum()),
        "outside_area": int(((pos < 0) & ~unlocated).sum()),
        "outside_periods": int(((pos >= 0) & (ti < 0)).sum()),
        "first_period": str(periods[0]),
        "last_period": str(periods[-1]),
        "freq": freq,
    }
    if context is not None:
        report["context_read"] = len(context_events)
        report["context_counted"] = int(context.sum())
    return cube, report
