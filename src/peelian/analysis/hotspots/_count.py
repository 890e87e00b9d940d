"""Counts (and harm) per cell: the plain hotspot map, with monthly counts alongside."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.hotspots._results import (
    HotspotResult,
    base_frame,
    prepare_counts,
)

__all__ = ["COUNT_COLUMNS", "cell_counts"]

#: Columns of ``cell_counts(...).cells``: area in m^2 inside the study area; n_per_km2 and
#: harm_per_km2 divide by it (so clipped edge cells are not under-stated).
COUNT_COLUMNS: tuple[str, ...] = (
    "cell_id", "x", "y", "n", "harm", "area", "n_per_km2", "harm_per_km2", "geometry",
)  # fmt: skip


def cell_counts(
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    resolution: int | None = None,
    harm_weights: Mapping[str, float] | None = None,
    harm_col: str | None = None,
) -> HotspotResult:
    """Events and CCHI harm per cell over the whole selection (``frames["monthly"]`` has the
    long per-month counts: cell_id, period, n, harm). ``cells`` has :data:`COUNT_COLUMNS`."""
    g, counts, choices, warnings = prepare_counts(
        "count", events, boundary, cell_size=cell_size, grid=grid, resolution=resolution,
        harm_weights=harm_weights, harm_col=harm_col, by_period="month" in events.columns,
    )  # fmt: skip
    cols = base_frame(g, counts)
    km2 = g.area / 1e6
    cols.update(area=g.area, n_per_km2=cols["n"] / km2, harm_per_km2=cols["harm"] / km2)
    summary = {
        "n_cells": g.n_cells, "cell_size": g.cell_size, "grid": g.kind,
        "n_events": int(counts.n.sum()), "cells_with_events": int((cols["n"] > 0).sum()),
        "harm": float(np.nansum(cols["harm"])) if counts.harm is not None else None,
        "periods": list(counts.periods),
    }  # fmt: skip
    params = {"cell_size": g.cell_size, "grid": g.kind, "resolution": g.resolution}
    return HotspotResult(
        analysis="count", data=cols, grid=g, params=params, choices=choices,
        report=counts.report, summary=summary, warnings=tuple(warnings),
        frames={"monthly": counts.to_frame()},
    )  # fmt: skip
