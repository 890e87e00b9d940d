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
from peelian.errors import EmptySelectionError, ParameterError, SchemaError

__all__ = ["build_cube"]


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
    ``context_counted``.
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
        if category_column in context_events.columns:
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
