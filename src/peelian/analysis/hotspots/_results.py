"""The frozen result every hotspot function returns, and the shared front end (events ->
grid -> counts) with its reporting of automatic choices."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from peelian.analysis.grid import CellCounts, Grid, check_params, count_events, make_grid

__all__ = ["HotspotResult", "base_frame", "exact_locations", "prepare_counts"]

log = logging.getLogger("peelian.analysis.hotspots")


@dataclass(frozen=True, eq=False)
class HotspotResult:
    """What a hotspot analysis returns: the per-cell columns (fixed, documented), the parameters
    used, every automatic choice with its rule, the reconciliation report of the events, headline
    figures (``summary``) and any warnings. Extra frames (e.g. the z-score cube of emerging
    hotspots or the Lorenz curve) are in ``frames``.

    The per-cell results are held as arrays (``data``) on the ``grid``; ``table`` (a DataFrame
    with ``cell_id``, no geometry) and ``cells`` (the GeoDataFrame with the clipped polygons) are
    built on first use, so an analysis on half a million cells does not pay for polygons and
    string ids that the caller may never read.
    """

    analysis: str
    data: dict[str, Any]
    grid: Grid
    params: dict[str, Any]
    choices: dict[str, Any] = field(default_factory=dict)
    report: dict[str, Any] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)

    @cached_property
    def table(self) -> pd.DataFrame:
        """The per-cell columns with ``cell_id`` first, without geometry (fast; for CSV/JSON)."""
        return pd.DataFrame({"cell_id": self.grid.cell_ids, **self.data}, copy=False)

    @cached_property
    def cells(self) -> gpd.GeoDataFrame:
        """The per-cell GeoDataFrame (EPSG:27700): ``table`` plus the clipped cell polygons."""
        return gpd.GeoDataFrame(self.table, geometry=self.grid.geometry, crs="EPSG:27700")

    def to_dict(self, *, with_cells: bool = False) -> dict[str, Any]:
        """A JSON-ready description (what ``--json`` prints); cells without geometry on request."""
        out: dict[str, Any] = {
            "analysis": self.analysis,
            "params": self.params,
            "choices": self.choices,
            "report": self.report,
            "summary": self.summary,
            "warnings": list(self.warnings),
            "n_cells": self.grid.n_cells,
        }
        if with_cells:
            out["cells"] = self.table.to_dict("records")
        return out


def prepare_counts(
    func: str,
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None,
    grid: str,
    resolution: int | None,
    harm_weights: Mapping[str, float] | None,
    by_period: bool,
    harm_col: str | None = None,
    periods: Sequence[str] | None = None,
    kinds: Sequence[str] = ("square", "hex", "h3"),
) -> tuple[Grid, CellCounts, dict[str, Any], list[str]]:
    """Build (or reuse) the grid and count the events; collect choices and warnings.

    ``boundary`` may be a shapely geometry (EPSG:27700) or an existing :class:`Grid`, which is
    then reused as is (same cells across analyses and runs).
    """
    check_params(func, {"cell_size": cell_size, "grid": grid, "resolution": resolution})
    if isinstance(boundary, Grid):
        g = boundary
    else:
        if grid not in kinds:
            from peelian.errors import ParameterError

            raise ParameterError(
                f"{func} works on {' or '.join(kinds)} grids; got grid={grid!r}.",
                f"Use grid={kinds[0]!r}.",
            )
        g = make_grid(boundary, grid, cell_size, resolution=resolution)
    if g.kind not in kinds:
        from peelian.errors import ParameterError

        raise ParameterError(
            f"{func} works on {' or '.join(kinds)} grids; this grid is {g.kind!r}.",
            f"Build a {kinds[0]} grid.",
        )
    counts = count_events(
        g, events, by_period=by_period, periods=periods, harm_weights=harm_weights,
        harm_col=harm_col,
    )  # fmt: skip
    choices = {k: v for k, v in g.choices.items() if k != "warnings"}
    warnings = list(g.choices.get("warnings", []))
    if warnings and exact_locations(events):
        # the small-cell warning is about police.uk's snapped locations, not exact ones
        warnings = [w for w in warnings if "anonymises" not in w]
        choices["small_cells"] = {
            "value": "allowed without warning",
            "rule": "every located event has location_precision 'exact' (force records), so "
            "cells below police.uk's ~200 m anonymisation scale are meaningful",
        }
    return g, counts, choices, warnings


def exact_locations(events: pd.DataFrame) -> bool:
    """True when every located event says its location is exact (force records)."""
    if "location_precision" not in events.columns:
        return False
    located = events["easting"].notna() if "easting" in events.columns else slice(None)
    prec = events.loc[located, "location_precision"]
    return bool(len(prec)) and bool((prec == "exact").all())


def base_frame(grid: Grid, counts: CellCounts) -> dict[str, Any]:
    """The leading per-cell columns every result shares after ``cell_id``: x, y, n, harm."""
    harm = counts.total_harm
    return {
        "x": grid.x,
        "y": grid.y,
        "n": counts.total_n.astype(np.int64),
        "harm": harm if harm is not None else np.full(grid.n_cells, np.nan),
    }
