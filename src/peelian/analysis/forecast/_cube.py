"""The count cube every forecaster reads: cells x periods of event counts on a square grid.

Forecasters never see events or grid internals, only a :class:`CountCube`: per-cell counts for
consecutive periods (months, weeks or days), the cells' centres (British National Grid metres),
their in-area areas (cells clipped to the study area) and optional per-cell harm and covariates.
Build one from a grid's cell frame and events with :func:`cube_from_counts`, or directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.errors import ParameterError, SchemaError

__all__ = ["FREQS", "CountCube", "crime_possible", "cube_from_counts", "period_index"]

#: Period lengths a cube may have: month (police.uk), week and day (force records).
FREQS: dict[str, str] = {"M": "month", "W": "week", "D": "day"}

#: Length of one period in weeks (prospective hotspotting measures time in weeks).
PERIOD_WEEKS: dict[str, float] = {"M": 365.25 / 12 / 7, "W": 1.0, "D": 1 / 7}


def period_index(start: Any, stop: Any, freq: str) -> pd.PeriodIndex:
    """Consecutive periods from ``start`` to ``stop`` inclusive (``freq`` in ``M``, ``W``, ``D``)."""
    if freq not in FREQS:
        raise ParameterError(
            f"The 'freq' parameter must be one of {sorted(FREQS)}. Got {freq!r}.",
            "Use 'M' for police.uk data, 'W' or 'D' for force records.",
        )
    return pd.period_range(pd.Period(start, freq=freq), pd.Period(stop, freq=freq), freq=freq)


@dataclass(frozen=True, eq=False)
class CountCube:
    """Event counts per cell and period, with the cells' geometry summary.

    ``counts`` has shape (n_cells, n_periods); ``x``/``y`` are cell centres in EPSG:27700 metres on a
    regular lattice of ``cell_size``; ``area`` is each cell's area inside the study area in m^2
    (edge cells are clipped, so PAI coverage is measured on the real area); ``harm`` (optional) has
    the shape of ``counts`` and holds harm-weighted counts; ``context`` (optional) has the shape
    of ``counts`` and holds the counts of *every* police.uk event type in the cell and period (it
    defines the crime-possible cells, :func:`crime_possible`, and feeds the learned model);
    ``context_types`` (optional) maps each police.uk type to its counts per cell and period (the
    learned model reads each type's history: burglary follows homes, violence the night-time
    economy); ``covariates`` maps a name (e.g. ``population``, ``imd_score``) to a per-cell array (NaN
    allowed).
    """

    counts: np.ndarray
    x: np.ndarray
    y: np.ndarray
    area: np.ndarray
    periods: pd.PeriodIndex
    cell_size: float
    cell_id: np.ndarray | None = None
    harm: np.ndarray | None = None
    covariates: Mapping[str, np.ndarray] = field(default_factory=dict)
    context: np.ndarray | None = None
    context_types: Mapping[str, np.ndarray] = field(default_factory=dict)
    #: Where ``context`` came from, named in the crime-possible rule (police.uk events, or the
    #: force's own records for daily and weekly cubes).
    context_source: str = "police.uk"

    def __post_init__(self) -> None:
        counts = np.asarray(self.counts, dtype=float)
        if counts.ndim != 2:
            raise SchemaError(
                f"A count cube needs a 2-d counts array (cells x periods); got {counts.ndim} dims."
            )
        n, t = counts.shape
        if len(self.periods) != t:
            raise SchemaError(f"The cube has {t} periods of counts but {len(self.periods)} labels.")
        for name in ("x", "y", "area"):
            arr = np.asarray(getattr(self, name), dtype=float)
            if arr.shape != (n,):
                raise SchemaError(f"The cube's {name!r} must have one value per cell ({n}).")
            object.__setattr__(self, name, arr)
        if np.any(counts < 0) or not np.all(np.isfinite(counts)):
            raise SchemaError("Counts must be finite and >= 0.", "Check the cube's input counts.")
        if not self.cell_size or self.cell_size <= 0:
            raise ParameterError(
                f"The 'cell_size' parameter of the cube must be a number > 0. Got {self.cell_size}."
            )
        if np.any(self.area <= 0):
            raise SchemaError(
                "Every cell needs an in-area area > 0.", "Drop cells entirely outside the area."
            )
        object.__setattr__(self, "counts", counts)
        if self.cell_id is None:
            object.__setattr__(self, "cell_id", np.arange(n))
        if self.harm is not None:
            harm = np.asarray(self.harm, dtype=float)
            if harm.shape != counts.shape:
                raise SchemaError("The cube's harm array must have the shape of its counts.")
            object.__setattr__(self, "harm", harm)
        if self.context is not None:
            ctx = np.asarray(self.context, dtype=float)
            if ctx.shape != counts.shape:
                raise SchemaError("The cube's context array must have the shape of its counts.")
            object.__setattr__(self, "context", ctx)
        types = {k: np.asarray(v, dtype=np.float32) for k, v in dict(self.context_types).items()}
        for k, v in types.items():
            if v.shape != counts.shape:
                raise SchemaError(f"Context type {k!r} must have the shape of the cube's counts.")
        object.__setattr__(self, "context_types", types)
        covs = {k: np.asarray(v, dtype=float) for k, v in dict(self.covariates).items()}
        for k, v in covs.items():
            if v.shape != (n,):
                raise SchemaError(f"Covariate {k!r} must have one value per cell ({n}).")
        object.__setattr__(self, "covariates", covs)

    # -- shape ----------------------------------------------------------------------------------
    @property
    def n_cells(self) -> int:
        return int(self.counts.shape[0])

    @property
    def n_periods(self) -> int:
        return int(self.counts.shape[1])

    @property
    def freq(self) -> str:
        """``M``, ``W`` or ``D``."""
        code = self.periods.freqstr.upper()
        return code[0] if code[0] in FREQS else code

    @property
    def next_period(self) -> pd.Period:
        """The period a forecast fitted on this cube is for."""
        return self.periods[-1] + 1

    @property
    def total_area(self) -> float:
        return float(self.area.sum())

    @property
    def area_fraction(self) -> np.ndarray:
        """Each cell's in-area share of a full cell (1 for interior cells)."""
        return np.minimum(self.area / (self.cell_size**2), 1.0)

    # -- the lattice --------------------------------------------------------------------------
    def lattice(self) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
        """Row and column of each cell on the regular lattice, and the lattice shape."""
        col = np.rint((self.x - self.x.min()) / self.cell_size).astype(np.int64)
        row = np.rint((self.y - self.y.min()) / self.cell_size).astype(np.int64)
        return row, col, (int(row.max()) + 1, int(col.max()) + 1)

    # -- slicing --------------------------------------------------------------------------------
    def window(self, stop: int | None = None, start: int = 0) -> CountCube:
        """The cube restricted to periods ``[start, stop)`` (same cells)."""
        sl = slice(start, stop)
        return CountCube(
            counts=self.counts[:, sl],
            x=self.x,
            y=self.y,
            area=self.area,
            periods=self.periods[sl],
            cell_size=self.cell_size,
            cell_id=self.cell_id,
            harm=None if self.harm is None else self.harm[:, sl],
            covariates=self.covariates,
            context=None if self.context is None else self.context[:, sl],
            context_types={k: v[:, sl] for k, v in self.context_types.items()},
            context_source=self.context_source,
        )

    def index_of(self, period: Any) -> int:
        """Position of ``period`` (e.g. ``"2022-03"``) in the cube."""
        p = pd.Period(period, freq=self.periods.freq)
        try:
            return int(self.periods.get_loc(p))
        except KeyError:
            raise ParameterError(
                f"Period {p} is not in the data ({self.periods[0]} to {self.periods[-1]}).",
                "Choose periods inside the loaded data.",
            ) from None


def crime_possible(cube: CountCube) -> tuple[np.ndarray, str]:
    """The cells where crime can happen, judged from ``cube``'s periods only (pass the training
    window, never the test period: no look-ahead), and the rule used.

    A cell is crime-possible when it had at least one police.uk event of any type (the cube's
    ``context``) in those periods; police.uk snaps every event to one of about 750,000 map points
    on streets and at places with addresses, so cells of moor, forest or water never hold one.
    Daily and weekly cubes of force records carry the force's own records of every type as their
    context (``context_source``), and the rule names them. Without a context the cube's own event
    type stands in (a narrower mask, said in the rule).
    """
    if cube.context is not None:
        return cube.context.sum(axis=1) > 0, (
            f"cells with at least one {cube.context_source} event of any type in the training "
            f"periods ({cube.periods[0]} to {cube.periods[-1]})"
        )
    return cube.counts.sum(axis=1) > 0, (
        "cells with at least one event of this type in the training periods "
        f"({cube.periods[0]} to {cube.periods[-1]}); no all-types counts were given"
    )


def cube_from_counts(
    cells: pd.DataFrame,
    counts: pd.DataFrame,
    periods: pd.PeriodIndex,
    *,
    cell_size: float,
    harm: pd.DataFrame | None = None,
    covariates: Mapping[str, np.ndarray] | None = None,
) -> CountCube:
    """A cube from a grid's cell frame and long-format counts.

    ``cells`` has one row per in-area cell with ``cell_id``, ``x``, ``y`` and ``area`` (m^2, clipped);
    ``counts`` has ``cell_id``, ``period`` (anything :class:`pandas.Period` accepts at the
    cube's frequency) and ``n`` (and ``harm`` if ``harm`` is not given separately). Counts on
    cells that are not in ``cells`` or periods outside ``periods`` are refused (they would be lost).
    """
    for col in ("cell_id", "x", "y", "area"):
        if col not in cells.columns:
            raise SchemaError(f"The cell frame needs a {col!r} column.")
    pos = pd.Index(cells["cell_id"])
    if not pos.is_unique:
        raise SchemaError("Cell ids must be unique.")
    n, t = len(cells), len(periods)
    mat = np.zeros((n, t))
    hmat = np.zeros((n, t)) if (harm is not None or "harm" in counts.columns) else None
    if len(counts):
        ci = pos.get_indexer(counts["cell_id"])
        per = pd.PeriodIndex(
            [pd.Period(p, freq=periods.freq) for p in counts["period"]], freq=periods.freq
        )
        ti = periods.get_indexer(per)
        if (ci < 0).any() or (ti < 0).any():
            raise SchemaError(
                f"{int((ci < 0).sum())} count rows name unknown cells and {int((ti < 0).sum())} "
                "name periods outside the cube.",
                "Assign events to the same grid and period range.",
            )
        np.add.at(mat, (ci, ti), counts["n"].to_numpy(dtype=float))
        if hmat is not None and "harm" in counts.columns:
            np.add.at(hmat, (ci, ti), counts["harm"].to_numpy(dtype=float))
    return CountCube(
        counts=mat,
        x=cells["x"].to_numpy(float),
        y=cells["y"].to_numpy(float),
        area=cells["area"].to_numpy(float),
        periods=periods,
        cell_size=float(cell_size),
        cell_id=cells["cell_id"].to_numpy(),
        harm=hmat,
        covariates=dict(covariates or {}),
    )
