"""The forecasters to beat: all-history counts, last period, moving average, retrospective KDE,
prospective hotspots."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from peelian.analysis.forecast._base import Forecaster
from peelian.analysis.forecast._cube import PERIOD_WEEKS, CountCube
from peelian.analysis.forecast._spatial import kernel_weights, smooth

__all__ = [
    "AllHistory",
    "MovingAverage",
    "NaiveLastPeriod",
    "ProspectiveHotspot",
    "RetrospectiveKDE",
]


def _calibrate(raw: np.ndarray, total: float) -> np.ndarray:
    """Scale a non-negative risk surface so it sums to ``total`` expected events."""
    s = raw.sum()
    return raw * (total / s) if s > 0 else np.full(len(raw), total / max(len(raw), 1))


class AllHistory(Forecaster):
    """Next period = the mean of every past period, cell by cell: the cells ranked by all their
    history of counts. This is open_cp's "naive" predictor (``open_cp.naive.CountingGridKernel``,
    Quick Analysis Software Ltd, open_cp documentation), the baseline every skill figure in
    peelian's backtests is measured against."""

    name: ClassVar[str] = "all_history"

    def __init__(self) -> None:
        pass

    def _fit(self, cube: CountCube) -> None:
        self.n_periods_ = cube.n_periods

    def _expected(self, cube: CountCube) -> np.ndarray:
        return cube.counts.mean(axis=1)


class NaiveLastPeriod(Forecaster):
    """Next period = last period, cell by cell (the persistence baseline)."""

    name: ClassVar[str] = "last_period"

    def __init__(self) -> None:
        pass

    def _fit(self, cube: CountCube) -> None:
        self.n_periods_ = cube.n_periods

    def _expected(self, cube: CountCube) -> np.ndarray:
        return cube.counts[:, -1].copy()


class MovingAverage(Forecaster):
    """Next period = mean of the last ``k`` periods, cell by cell."""

    name: ClassVar[str] = "moving_average"
    _constraints: ClassVar = {"k": ("int>=", 1)}

    def __init__(self, k: int = 3) -> None:
        self.k = k

    def _fit(self, cube: CountCube) -> None:
        self.k_used_ = min(self.k, cube.n_periods)

    def _expected(self, cube: CountCube) -> np.ndarray:
        return cube.counts[:, -min(self.k, cube.n_periods) :].mean(axis=1)


class RetrospectiveKDE(Forecaster):
    """Kernel density of all past events over space, as expected counts per cell.

    The counts of every period in the cube (or of the last ``window`` periods) are summed per cell,
    smoothed with a ``kernel`` of ``bandwidth`` metres over the cell centres (Chainey, Tompson &
    Uhlig 2008 found KDE the most accurate retrospective hotspot method), multiplied by each cell's
    in-area share and scaled to the mean events per period. Time plays no part: the classic
    "retrospective" hotspot map.
    """

    name: ClassVar[str] = "kde"
    _constraints: ClassVar = {
        "bandwidth": ("num>", 0),
        "kernel": ("in", {"quartic", "gaussian"}),
        "window": ("num_or_none>", 0),
    }

    def __init__(
        self, bandwidth: float = 500.0, kernel: str = "quartic", window: int | None = None
    ) -> None:
        self.bandwidth = bandwidth
        self.kernel = kernel
        self.window = window

    def _fit(self, cube: CountCube) -> None:
        self.kernel_ = kernel_weights(self.kernel, self.bandwidth, cube.cell_size)

    def _expected(self, cube: CountCube) -> np.ndarray:
        counts = cube.counts if self.window is None else cube.counts[:, -int(self.window) :]
        raw = smooth(cube, counts.sum(axis=1), self.kernel_) * cube.area_fraction
        return _calibrate(np.clip(raw, 0, None), counts.sum() / counts.shape[1])


class ProspectiveHotspot(Forecaster):
    """Prospective hotspotting (Bowers, Johnson & Pease 2004, "Prospective hot-spotting: the
    future of crime mapping?", British Journal of Criminology 44(5): 641-658).

    Each past event within ``bandwidth`` metres and ``time_window`` weeks adds
    1 / (1 + b) x 1 / (1 + w) to a cell's risk, where b is the number of distance bands
    (``band_width`` metres, default one cell) between the cell and the event's cell and w the event's
    age in weeks at the start of the forecast period. With month-resolution data an event is dated
    at the middle of its period (age of the last month's events: 2.2 weeks). The risk is scaled to
    the mean events per period over the time window.
    """

    name: ClassVar[str] = "prospective"
    _constraints: ClassVar = {
        "bandwidth": ("num>", 0),
        "time_window": ("num>", 0),
        "band_width": ("num_or_none>", 0),
    }

    def __init__(
        self, bandwidth: float = 400.0, time_window: float = 8.0, band_width: float | None = None
    ) -> None:
        self.bandwidth = bandwidth
        self.time_window = time_window
        self.band_width = band_width

    def _fit(self, cube: CountCube) -> None:
        self.kernel_ = kernel_weights(
            "inverse_band", self.bandwidth, cube.cell_size, band_width=self.band_width
        )
        self.period_weeks_ = PERIOD_WEEKS.get(cube.freq, 1.0)

    def time_weights(self, n_periods: int) -> np.ndarray:
        """Weight of each period of a cube of ``n_periods`` (oldest first), 0 beyond the window."""
        self._check_fitted()
        age = (n_periods - np.arange(n_periods) - 0.5) * self.period_weeks_
        return np.where(age <= self.time_window, 1.0 / (1.0 + age), 0.0)

    def _expected(self, cube: CountCube) -> np.ndarray:
        w = self.time_weights(cube.n_periods)
        if not w.any():  # window shorter than half a period: use the last period
            w[-1] = 1.0
        weighted = cube.counts @ w
        raw = smooth(cube, weighted, self.kernel_) * cube.area_fraction
        used = w > 0
        return _calibrate(np.clip(raw, 0, None), cube.counts[:, used].sum() / used.sum())
