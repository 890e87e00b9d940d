"""Events on a grid: assignment to cells, and counts and CCHI harm per cell per period.

Nothing is lost: every event is either counted in a cell or reported as unlocated (no
coordinates), outside the study area, outside the requested periods, or (for harm) in a category
without a harm weight. ``report["n_events"]`` always equals the sum of those parts.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from peelian.analysis.grid._checks import event_coordinates
from peelian.analysis.grid._grid import Grid
from peelian.errors import EmptySelectionError, SchemaError
from peelian.schemas.months import months_between

__all__ = ["HARM_KEY_COLUMNS", "CellCounts", "count_events", "event_weights"]

log = logging.getLogger("peelian.analysis.grid")


#: Where the harm key is looked for when no column is named: police.uk's crime type, then the
#: police.uk category force records carry.
HARM_KEY_COLUMNS: tuple[str, ...] = ("category", "policeuk_category")


def _category_column(events: pd.DataFrame) -> str | None:
    for col in HARM_KEY_COLUMNS:
        if col in events.columns:
            return col
    return None


def event_weights(
    events: pd.DataFrame, harm_weights: Mapping[str, float], harm_col: str | None = None
) -> tuple[np.ndarray, np.ndarray, str]:
    """Each event's harm weight from ``harm_weights`` keyed by the values of ``harm_col``.

    ``harm_col`` defaults to ``category`` (police.uk crime type) or, for force records,
    ``policeuk_category``; pass ``"ho_code"`` with Home Office code weights for force records.
    Returns (weights with 0 where unweighted, a mask of the unweighted events, the column used).
    """
    col = harm_col or _category_column(events)
    if col is None or col not in events.columns:
        raise SchemaError(
            f"Harm weighting needs a {col or 'category'!r} column (the key of the harm weights); "
            f"the events have {sorted(map(str, events.columns))[:12]}.",
            "Pass harm_col= naming the column that holds the weights' keys (e.g. 'ho_code').",
        )
    codes, keys = pd.factorize(events[col])
    wkey = np.asarray([harm_weights.get(str(k), np.nan) for k in keys], dtype=float)
    w = np.append(wkey, np.nan)[codes]
    missing = np.isnan(w)
    return np.nan_to_num(w, nan=0.0), missing, col


@dataclass(frozen=True, eq=False)
class CellCounts:
    """Counts (and harm) per cell per period on a :class:`Grid`.

    ``n`` is an int64 array (n_cells, n_periods); ``harm`` a float array of the same shape (or
    ``None`` when no weights were given). ``periods`` are ``YYYY-MM`` strings (or ``("all",)``
    when counted without periods). ``report`` reconciles every event.
    """

    grid: Grid
    periods: tuple[str, ...]
    n: np.ndarray
    harm: np.ndarray | None
    report: dict[str, Any] = field(default_factory=dict)
    #: each event's cell position (row of ``grid.cells``), -1 if it was not counted
    positions: np.ndarray | None = field(default=None, repr=False)

    @property
    def total_n(self) -> np.ndarray:
        """Count per cell over all periods."""
        return self.n.sum(axis=1)

    @property
    def total_harm(self) -> np.ndarray | None:
        return None if self.harm is None else self.harm.sum(axis=1)

    def to_frame(self, include_zeros: bool = False) -> pd.DataFrame:
        """Long format: ``cell_id``, ``period``, ``n``, ``harm`` (NaN without weights).

        Only non-zero rows unless ``include_zeros``; this is the shape
        :func:`peelian.analysis.forecast.cube_from_counts` reads.
        """
        ci, ti = (
            np.nonzero(self.n) if not include_zeros else np.indices(self.n.shape).reshape(2, -1)
        )
        if self.harm is not None and not include_zeros:
            hi, hj = np.nonzero(self.harm)
            pairs = np.unique(
                np.concatenate([ci * len(self.periods) + ti, hi * len(self.periods) + hj])
            )
            ci, ti = np.divmod(pairs, len(self.periods))
        return pd.DataFrame(
            {
                "cell_id": pd.array(self.grid.cell_ids[ci], dtype="str"),
                "period": pd.array(np.asarray(self.periods, dtype=str)[ti], dtype="str"),
                "n": self.n[ci, ti].astype(np.int64),
                "harm": (self.harm[ci, ti] if self.harm is not None else np.full(len(ci), np.nan)),
            }
        )

    def cells_frame(self) -> gpd.GeoDataFrame:
        """The grid's cells with total ``n`` and ``harm`` over all periods."""
        out = self.grid.cells.copy()
        out.insert(5, "n", self.total_n.astype(np.int64))
        harm = self.total_harm
        out.insert(6, "harm", harm if harm is not None else np.nan)
        return out


def count_events(
    grid: Grid,
    events: pd.DataFrame,
    *,
    by_period: bool = True,
    periods: Sequence[str] | None = None,
    harm_weights: Mapping[str, float] | None = None,
    harm_col: str | None = None,
    allow_empty: bool = False,
) -> CellCounts:
    """Assign ``events`` (``easting``/``northing`` in BNG metres, ``month`` ``YYYY-MM``) to
    ``grid`` cells and count them per cell per month, vectorised.

    ``periods`` fixes the months (events in other months are counted in the report as
    ``n_outside_period``); by default the range from the first to the last month present, with
    empty months included. ``harm_weights`` maps a category (police.uk crime type) to its Cambridge
    Crime Harm Index weight in days (Sherman, Neyroud & Neyroud 2016, "The Cambridge Crime Harm
    Index", Policing 10(3)), keyed by ``harm_col`` (see :func:`event_weights`: by default the
    police.uk category; ``"ho_code"`` for force records with code weights); events without a
    weight add 0 harm and are counted per key in ``report["harm_unweighted"]``.
    Raises :class:`~peelian.errors.EmptySelectionError` if no event falls in the area (unless
    ``allow_empty``).
    """
    x, y = event_coordinates(events, "count_events")
    n_events = len(events)
    unlocated = ~np.isfinite(x)
    pos = grid.locate(x, y)
    outside = (pos < 0) & ~unlocated
    if by_period:
        if "month" not in events.columns:
            raise SchemaError(
                "count_events needs a 'month' column (YYYY-MM) to count per period.",
                "Pass by_period=False to count over the whole selection.",
            )
        codes, uniques = pd.factorize(events["month"])
        labels = np.asarray([str(u)[:7] for u in uniques], dtype=object)
        if periods is None:
            present = np.unique(codes[(pos >= 0) & (codes >= 0)])
            periods = (
                months_between(min(labels[present]), max(labels[present])) if len(present) else []
            )
        periods = tuple(str(p) for p in periods)
        lut = np.append(pd.Index(periods).get_indexer(labels), -1)
        ti = lut[codes]
    else:
        periods = ("all",)
        ti = np.zeros(n_events, dtype=np.int64)
    off_period = (pos >= 0) & (ti < 0)
    use = (pos >= 0) & (ti >= 0)
    n_cells, n_periods = grid.n_cells, len(periods)
    flat = pos[use] * n_periods + ti[use]
    n = np.bincount(flat, minlength=n_cells * n_periods).reshape(n_cells, n_periods)
    report: dict[str, Any] = {
        "n_events": n_events,
        "n_in_area": int(use.sum()),
        "n_unlocated": int(unlocated.sum()),
        "n_outside_area": int(outside.sum()),
        "n_outside_period": int(off_period.sum()),
    }
    harm = None
    if harm_weights is not None:
        w, missing, col = event_weights(events, harm_weights, harm_col)
        missing &= use
        keys = events[col].astype("str").fillna("(none)").to_numpy()[missing]
        report["harm_key"] = col
        report["harm_unweighted"] = {
            str(k): int(v) for k, v in pd.Series(keys).value_counts(sort=False).items()
        }
        if missing.any():
            log.info("count_events: %d events have no harm weight", int(missing.sum()))
        harm = np.bincount(flat, weights=w[use], minlength=n_cells * n_periods).reshape(
            n_cells, n_periods
        )
    if report["n_outside_area"] or report["n_unlocated"]:
        log.info(
            "count_events: %d of %d events outside the area and %d unlocated (not counted)",
            report["n_outside_area"],
            n_events,
            report["n_unlocated"],
        )
    if not use.any() and not allow_empty:
        raise EmptySelectionError(
            f"None of the {n_events:,} selected events lies in the study area "
            f"({report['n_unlocated']:,} unlocated, {report['n_outside_area']:,} outside, "
            f"{report['n_outside_period']:,} outside the months).",
            "Widen the crime type or months, or check the boundary and the events' force.",
        )
    counted = np.where(use, pos, -1)
    return CellCounts(
        grid=grid, periods=tuple(periods), n=n, harm=harm, report=report, positions=counted
    )
