"""A learned forecaster: Poisson gradient boosting over lagged, neighbour and area features.

Each training row is one cell in one past period; the target is the cell's count in that period
and the features are known before it starts:

- ``lag1``, ``lag2``, ``lag3``: the cell's counts 1-3 periods before;
- ``mean_short`` (last ``short`` periods), ``mean_long`` (last ``long`` periods), ``mean_all``;
- ``nb_short``, ``nb_long``: mean counts of the 8 neighbouring cells over the same windows;
- ``ring_long``: a quartic-kernel density over ``ring_bandwidth`` metres of the last ``long``
  periods (the wider context a patrol area sits in);
- ``harm_long``: mean harm-weighted count of the last ``long`` periods (when the cube has harm);
- ``season_sin``, ``season_cos``: the target period's position in the year (month of year for
  monthly data, week of year for weekly, day of week for daily);
- ``level``: the whole area's count in the previous period relative to its mean (trend);
- every cube covariate (e.g. ``population``, ``imd_score``) and the cell's in-area share.

The model is scikit-learn's ``HistGradientBoostingRegressor(loss="poisson")`` (Friedman 2001,
gradient boosting; the Poisson deviance suits counts) or, with ``estimator="glm"``, a Poisson
regression on log1p-transformed features (McCullagh & Nelder 1989). Rows are cells with any
event in their 3x3 neighbourhood during the history; the other (never-active) cells get the
rate at which such cells had events in the training periods.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from peelian.analysis.forecast._base import Forecaster
from peelian.analysis.forecast._cube import CountCube
from peelian.analysis.forecast._spatial import kernel_weights, smooth

__all__ = ["PoissonBoost", "feature_names"]

_NEIGHBOURS = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])


def _log1p_abs(a: np.ndarray) -> np.ndarray:
    return np.log1p(np.nan_to_num(np.abs(a)))


def _season(period, freq: str) -> tuple[float, float]:
    if freq == "M":
        pos, length = period.month - 1, 12
    elif freq == "W":
        pos, length = period.week - 1, 52
    else:
        pos, length = period.dayofweek, 7
    a = 2 * np.pi * pos / length
    return float(np.sin(a)), float(np.cos(a))


def feature_names(cube: CountCube) -> list[str]:
    """The feature columns the learned model builds for ``cube``."""
    names = ["lag1", "lag2", "lag3", "mean_short", "mean_long", "mean_all"]
    names += ["nb_short", "nb_long", "ring_long", "season_sin", "season_cos", "level"]
    if cube.harm is not None:
        names.append("harm_long")
    names += [f"cov_{k}" for k in sorted(cube.covariates)] + ["area_share"]
    return names


class _Features:
    """Per-period feature blocks for one cube (computed once, reused for all targets)."""

    def __init__(self, cube: CountCube, short: int, long: int, ring_bandwidth: float) -> None:
        self.cube = cube
        self.short, self.long = short, long
        c = cube.counts
        n, t = c.shape
        zero = np.zeros((n, 1))
        self.cum = np.hstack([zero, np.cumsum(c, axis=1)])  # cum[:, k] = sum of periods < k
        self.nb = smooth(cube, c, _NEIGHBOURS)
        self.nb_cum = np.hstack([zero, np.cumsum(self.nb, axis=1)])
        self.ring_kernel = kernel_weights("quartic", ring_bandwidth, cube.cell_size)
        self.harm_cum = (
            None if cube.harm is None else np.hstack([zero, np.cumsum(cube.harm, axis=1)])
        )
        totals = c.sum(axis=0)
        self.totals = totals
        # an all-missing covariate carries no information (and breaks histogram binning)
        self.cov = [
            np.zeros(n) if np.isnan(v).all() else v
            for v in (cube.covariates[k] for k in sorted(cube.covariates))
        ]

    def _mean(self, cum: np.ndarray, k: int, w: int) -> np.ndarray:
        lo = max(k - w, 0)
        return (cum[:, k] - cum[:, lo]) / max(k - lo, 1)

    def block(self, k: int, rows: np.ndarray, ring: np.ndarray) -> np.ndarray:
        """Features for target period index ``k`` (data of periods < k) for the cells ``rows``."""
        c = self.cube.counts
        cols = []
        for lag in (1, 2, 3):
            cols.append(c[rows, k - lag] if k - lag >= 0 else np.full(len(rows), np.nan))
        cols.append(self._mean(self.cum, k, self.short)[rows])
        cols.append(self._mean(self.cum, k, self.long)[rows])
        cols.append(self._mean(self.cum, k, k)[rows])
        cols.append(self._mean(self.nb_cum, k, self.short)[rows])
        cols.append(self._mean(self.nb_cum, k, self.long)[rows])
        cols.append(ring[rows])
        period = self.cube.periods[k - 1] + 1
        s, co = _season(period, self.cube.freq)
        cols += [np.full(len(rows), s), np.full(len(rows), co)]
        mean_total = self.totals[:k].mean() if k else 0.0
        level = self.totals[k - 1] / mean_total if k and mean_total > 0 else 1.0
        cols.append(np.full(len(rows), level))
        if self.harm_cum is not None:
            cols.append(self._mean(self.harm_cum, k, self.long)[rows])
        cols += [v[rows] for v in self.cov]
        cols.append(self.cube.area_fraction[rows])
        return np.column_stack(cols)

    def ring(self, k: int) -> np.ndarray:
        return smooth(self.cube, self._mean(self.cum, k, self.long), self.ring_kernel)


class PoissonBoost(Forecaster):
    """Poisson gradient boosting (or GLM) over lagged counts, neighbours, season, harm and area
    covariates; see the module docstring for the features. ``train_periods`` target periods are
    used for training (the most recent ones). ``n_threads`` caps the OpenMP/BLAS threads (1 by
    default: spinning threads on a busy machine cost more than they save)."""

    name: ClassVar[str] = "learned"
    _constraints: ClassVar = {
        "estimator": ("in", {"gbm", "glm"}),
        "train_periods": ("int>=", 1),
        "short": ("int>=", 1),
        "long": ("int>=", 1),
        "ring_bandwidth": ("num>", 0),
        "max_iter": ("int>=", 1),
        "learning_rate": ("num>", 0),
        "max_leaf_nodes": ("int>=", 2),
        "min_samples_leaf": ("int>=", 1),
        "random_state": ("int>=", 0),
        "n_threads": ("int>=", 1),
    }

    def __init__(
        self,
        estimator: str = "gbm",
        train_periods: int = 6,
        short: int = 3,
        long: int = 12,
        ring_bandwidth: float = 750.0,
        max_iter: int = 50,
        learning_rate: float = 0.15,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 200,
        random_state: int = 0,
        n_threads: int = 1,
    ) -> None:
        self.estimator = estimator
        self.train_periods = train_periods
        self.short = short
        self.long = long
        self.ring_bandwidth = ring_bandwidth
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.random_state = random_state
        self.n_threads = n_threads

    def _min_periods(self) -> int:
        return 4

    def _active(self, cube: CountCube) -> np.ndarray:
        seen = cube.counts.sum(axis=1)
        return (seen + smooth(cube, seen, _NEIGHBOURS)) > 0

    def _fit(self, cube: CountCube) -> None:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.linear_model import PoissonRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler
        from threadpoolctl import threadpool_limits

        feats = _Features(cube, self.short, self.long, self.ring_bandwidth)
        active = self._active(cube)
        rows = np.flatnonzero(active)
        first = max(3, cube.n_periods - self.train_periods)
        xs, ys = [], []
        inactive_events, inactive_cells = 0.0, 0
        for k in range(first, cube.n_periods):
            ring = feats.ring(k)
            xs.append(feats.block(k, rows, ring))
            ys.append(cube.counts[rows, k])
            inactive_events += cube.counts[~active, k].sum()
            inactive_cells += int((~active).sum())
        x, y = np.vstack(xs), np.concatenate(ys)
        if self.estimator == "gbm":
            model = HistGradientBoostingRegressor(
                loss="poisson",
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=1.0,
                early_stopping=False,
                random_state=self.random_state,
            )
        else:
            model = make_pipeline(
                FunctionTransformer(_log1p_abs),
                StandardScaler(),
                PoissonRegressor(alpha=1e-4, max_iter=300),
            )
        # OpenMP threads spin badly on a busy machine: use n_threads (default 1) explicitly.
        with threadpool_limits(limits=self.n_threads):
            self.model_ = model.fit(x, y)
        self.feature_names_ = feature_names(cube)
        self.n_train_rows_ = len(y)
        self.inactive_rate_ = inactive_events / inactive_cells if inactive_cells else 0.0

    def _expected(self, cube: CountCube) -> np.ndarray:
        feats = _Features(cube, self.short, self.long, self.ring_bandwidth)
        k = cube.n_periods
        active = self._active(cube)
        rows = np.flatnonzero(active)
        out = np.full(cube.n_cells, self.inactive_rate_) * cube.area_fraction
        if len(rows):
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=self.n_threads):
                out[rows] = self.model_.predict(feats.block(k, rows, feats.ring(k)))
        return out
