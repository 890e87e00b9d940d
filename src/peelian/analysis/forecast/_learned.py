"""A learned forecaster: Poisson gradient boosting over history, neighbour and context features.

Each training row is one crime-possible cell in one past period (cells with a police.uk event of
any type before that period; see :func:`~peelian.analysis.forecast.crime_possible`); the target
is the cell's count in that period and every feature is known before it starts:

- the cell's own history: ``all`` (mean per period over all earlier periods, the all-history
  counts), ``m12`` and ``m3`` (means of the last 12 and 3 periods), ``last``, recency-weighted
  means ``ewm3``, ``ewm6``, ``ewm12``, ``ewm24`` (exponential weights with those half-lives in
  periods: a mixture of short- and long-run history that the model weighs), ``active`` (share
  of earlier periods with any event) and ``season_lag`` (the count one year before the target,
  for monthly and weekly cubes; -1 when the history is shorter);
- neighbours: ``nb_all``, ``nb_m12``, ``nb_m3`` (mean counts of the 8 adjacent cells),
  ``ring2_all`` (the 16 cells of the next ring), ``kde400``, ``kde800``, ``kde1500`` (quartic
  kernel densities of the all-history counts over those radii in metres);
- context (when the cube has the counts of every police.uk type): ``ctx_all``, ``ctx_m3``,
  ``ctx_nb``, ``ctx_kde800`` (how busy the place is: footfall, homes, night-time economy) and,
  per type, ``type_<name>``: the cell's all-history mean of that type (burglary follows homes,
  shoplifting shops, violence the night-time economy);
- ``harm_all`` (mean harm-weighted count, when the cube has harm); every cube covariate (e.g.
  ``population``, ``imd_score``); the cell's in-area share;
- time: ``season_sin``, ``season_cos`` (the target period's place in the year, or in the week for
  daily cubes) and ``level`` (the area's count over the last 3 periods relative to its mean).

The model is scikit-learn's ``HistGradientBoostingRegressor(loss="poisson")`` (Friedman 2001,
"Greedy function approximation: a gradient boosting machine", Annals of Statistics 29(5):
1189-1232; the Poisson deviance suits counts) or, with ``estimator="glm"``, an L2-regularised
Poisson regression on log1p-transformed, standardised features (McCullagh & Nelder 1989). The
cells that are not crime-possible get the rate at which such cells had events in the training
periods. The hyperparameters were chosen on validation origins before the test window
(benchmarks/results/forecast_tuning.md).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from peelian.analysis.forecast._base import Forecaster
from peelian.analysis.forecast._cube import CountCube
from peelian.analysis.forecast._spatial import kernel_weights, smooth

__all__ = ["PoissonBoost", "feature_names"]

_NEIGHBOURS = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
_RING2 = np.ones((5, 5))
_RING2[1:4, 1:4] = 0.0
_HALF_LIVES = (3, 6, 12, 24)
_KDE_RADII = (400.0, 800.0, 1500.0)
_SEASON = {"M": 12, "W": 52}


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
    names = ["all", "m12", "m3", "last", *[f"ewm{h}" for h in _HALF_LIVES], "active"]
    names += ["season_lag", "nb_all", "nb_m12", "nb_m3", "ring2_all"]
    names += [f"kde{int(r)}" for r in _KDE_RADII]
    if cube.context is not None:
        names += ["ctx_all", "ctx_m3", "ctx_nb", "ctx_kde800"]
    names += [f"type_{k}" for k in sorted(cube.context_types)]
    if cube.harm is not None:
        names.append("harm_all")
    names += [f"cov_{k}" for k in sorted(cube.covariates)]
    names += ["area_share", "season_sin", "season_cos", "level"]
    return names


class _Features:
    """Feature blocks for target periods of one cube (cumulative sums computed once)."""

    def __init__(self, cube: CountCube) -> None:
        self.cube = cube
        c = cube.counts
        n, t = c.shape
        zero = np.zeros((n, 1))
        self.cum = np.hstack([zero, np.cumsum(c, axis=1)])  # cum[:, k] = sum of periods < k
        self.hit_cum = np.hstack([zero, np.cumsum(c > 0, axis=1)])
        self.ctx_cum = (
            None if cube.context is None else np.hstack([zero, np.cumsum(cube.context, axis=1)])
        )
        self.harm_cum = (
            None if cube.harm is None else np.hstack([zero, np.cumsum(cube.harm, axis=1)])
        )
        self.kernels = {r: kernel_weights("quartic", r, cube.cell_size) for r in _KDE_RADII}
        # ewm[h][:, k] = sum_{j<k} 0.5^((k-1-j)/h) c_j, built recursively
        self.ewm = {}
        for h in _HALF_LIVES:
            d = 0.5 ** (1.0 / h)
            acc = np.zeros((n, t + 1))
            for k in range(1, t + 1):
                acc[:, k] = d * acc[:, k - 1] + c[:, k - 1]
            self.ewm[h] = (acc, d)
        self.totals = c.sum(axis=0)
        # an all-missing covariate carries no information (and breaks histogram binning)
        self.cov = [
            np.zeros(n) if np.isnan(v).all() else v
            for v in (cube.covariates[k] for k in sorted(cube.covariates))
        ]

    @staticmethod
    def _mean(cum: np.ndarray, k: int, w: int) -> np.ndarray:
        lo = max(k - w, 0)
        return (cum[:, k] - cum[:, lo]) / max(k - lo, 1)

    def block(self, k: int, rows: np.ndarray) -> np.ndarray:
        """Features for target period index ``k`` (data of periods < k) for the cells ``rows``."""
        cube, c = self.cube, self.cube.counts
        n = len(rows)
        own = np.column_stack(
            [self._mean(self.cum, k, k), self._mean(self.cum, k, 12), self._mean(self.cum, k, 3)]
        )
        cols = [own[rows, 0], own[rows, 1], own[rows, 2]]
        cols.append(c[rows, k - 1] if k >= 1 else np.zeros(n))
        for h in _HALF_LIVES:
            acc, d = self.ewm[h]
            norm = (1 - d**k) / (1 - d) if k else 1.0
            cols.append(acc[rows, k] / norm)
        cols.append(self._mean(self.hit_cum, k, k)[rows])
        lag = _SEASON.get(cube.freq)
        # -1 marks "no period a year before" (an all-missing column breaks histogram binning)
        cols.append(c[rows, k - lag] if lag and k >= lag else np.full(n, -1.0))
        nb = smooth(cube, own, _NEIGHBOURS)
        cols += [nb[rows, 0], nb[rows, 1], nb[rows, 2]]
        cols.append(smooth(cube, own[:, 0], _RING2)[rows])
        for r in _KDE_RADII:
            kern = self.kernels[r]
            cols.append(smooth(cube, own[:, 0], kern)[rows] / kern.sum())
        if self.ctx_cum is not None:
            ctx_all = self._mean(self.ctx_cum, k, k)
            cols += [ctx_all[rows], self._mean(self.ctx_cum, k, 3)[rows]]
            cols.append(smooth(cube, ctx_all, _NEIGHBOURS)[rows])
            kern = self.kernels[800.0]
            cols.append(smooth(cube, ctx_all, kern)[rows] / kern.sum())
        for name in sorted(cube.context_types):
            hist = cube.context_types[name][rows, :k]
            cols.append(hist.mean(axis=1, dtype=float) if k else np.zeros(n))
        if self.harm_cum is not None:
            cols.append(self._mean(self.harm_cum, k, k)[rows])
        cols += [v[rows] for v in self.cov]
        cols.append(cube.area_fraction[rows])
        period = cube.periods[k - 1] + 1
        s, co = _season(period, cube.freq)
        cols += [np.full(n, s), np.full(n, co)]
        mean_total = self.totals[:k].mean() if k else 0.0
        level = self.totals[max(k - 3, 0) : k].mean() / mean_total if k and mean_total else 1.0
        cols.append(np.full(n, level))
        return np.column_stack(cols)

    def possible(self, k: int) -> np.ndarray:
        """Crime-possible cells before period ``k``: any event of any type (or, without a
        context, any event of this type in the 3x3 neighbourhood)."""
        if self.ctx_cum is not None:
            return self.ctx_cum[:, k] > 0
        seen = self.cum[:, k]
        return (seen + smooth(self.cube, seen, _NEIGHBOURS)) > 0


class PoissonBoost(Forecaster):
    """Poisson gradient boosting (or GLM) over own, neighbour and context history, season, harm
    and area covariates; see the module docstring for the features. ``train_periods`` target
    periods are used for training (the most recent ones). ``n_threads`` caps the OpenMP/BLAS
    threads (1 by default: spinning threads on a busy machine cost more than they save)."""

    name: ClassVar[str] = "learned"
    _constraints: ClassVar = {
        "estimator": ("in", {"gbm", "glm"}),
        "train_periods": ("int>=", 1),
        "max_iter": ("int>=", 1),
        "learning_rate": ("num>", 0),
        "max_leaf_nodes": ("int>=", 2),
        "min_samples_leaf": ("int>=", 1),
        "l2_regularization": ("num>=", 0),
        "random_state": ("int>=", 0),
        "n_threads": ("int>=", 1),
    }

    def __init__(
        self,
        estimator: str = "gbm",
        train_periods: int = 12,
        max_iter: int = 100,
        learning_rate: float = 0.05,
        max_leaf_nodes: int = 15,
        min_samples_leaf: int = 200,
        l2_regularization: float = 1.0,
        random_state: int = 0,
        n_threads: int = 1,
    ) -> None:
        self.estimator = estimator
        self.train_periods = train_periods
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.random_state = random_state
        self.n_threads = n_threads

    def _min_periods(self) -> int:
        return 4

    def _estimator(self) -> Any:
        from sklearn.ensemble import HistGradientBoostingRegressor
        from sklearn.linear_model import PoissonRegressor
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import FunctionTransformer, StandardScaler

        if self.estimator == "gbm":
            return HistGradientBoostingRegressor(
                loss="poisson",
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                l2_regularization=self.l2_regularization,
                early_stopping=False,
                random_state=self.random_state,
            )
        return make_pipeline(
            FunctionTransformer(_log1p_abs),
            StandardScaler(),
            PoissonRegressor(alpha=max(self.l2_regularization, 1e-6) * 1e-3, max_iter=300),
        )

    def _fit(self, cube: CountCube) -> None:
        from threadpoolctl import threadpool_limits

        feats = _Features(cube)
        first = max(3, cube.n_periods - self.train_periods)
        xs, ys = [], []
        other_events, other_cells = 0.0, 0
        for k in range(first, cube.n_periods):
            possible = feats.possible(k)
            rows = np.flatnonzero(possible)
            xs.append(feats.block(k, rows))
            ys.append(cube.counts[rows, k])
            other_events += cube.counts[~possible, k].sum()
            other_cells += int((~possible).sum())
        x, y = np.vstack(xs), np.concatenate(ys)
        x = np.nan_to_num(x, nan=-1.0) if self.estimator == "glm" else x
        # OpenMP threads spin badly on a busy machine: use n_threads (default 1) explicitly.
        with threadpool_limits(limits=self.n_threads):
            self.model_ = self._estimator().fit(x, y)
        self.feature_names_ = feature_names(cube)
        self.n_train_rows_ = len(y)
        self.other_rate_ = other_events / other_cells if other_cells else 0.0

    def _expected(self, cube: CountCube) -> np.ndarray:
        from threadpoolctl import threadpool_limits

        feats = _Features(cube)
        k = cube.n_periods
        rows = np.flatnonzero(feats.possible(k))
        out = np.full(cube.n_cells, self.other_rate_) * cube.area_fraction
        if len(rows):
            x = feats.block(k, rows)
            x = np.nan_to_num(x, nan=-1.0) if self.estimator == "glm" else x
            with threadpool_limits(limits=self.n_threads):
                out[rows] = self.model_.predict(x)
        return out
