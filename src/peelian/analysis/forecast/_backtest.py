"""Rolling-origin backtests: train on the periods before T, forecast T, score it, repeat.

For every model and test period T the model is fitted on the cube's periods before T only
(Tashman 2000, "Out-of-sample tests of forecasting accuracy: an analysis and review",
International Journal of Forecasting 16: 437-450) and its forecast is scored with
:func:`~peelian.analysis.forecast.evaluate_forecast` at each coverage. Patrol-map churn is the
Jaccard similarity of consecutive test periods' flagged cells.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.forecast._base import Forecaster, GridForecast
from peelian.analysis.forecast._cube import CountCube
from peelian.analysis.forecast._ensemble import Ensemble
from peelian.analysis.forecast._metrics import COVERAGES, evaluate_forecast, jaccard
from peelian.errors import ParameterError

__all__ = ["BacktestResult", "backtest", "summarise_backtest"]

SCORES = ("hit_rate", "pai", "pei", "rri", "log_lik", "brier", "churn_jaccard")


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest found.

    ``results``: one row per model, test period and coverage: model, month (the test period),
    coverage (% of the study area), hit_rate, pai, pei, rri, log_lik, brier, hits, perfect_hits,
    predicted_in_flagged, n_events, churn_jaccard (flagged cells compared with the previous test
    period's; NaN for the first). ``summary``: per model and coverage the mean, std, min and max
    over test periods of each score. ``timings``: seconds spent per model. ``forecasts``: the
    last test period's forecast per model.
    """

    results: pd.DataFrame
    summary: pd.DataFrame
    timings: dict[str, float]
    params: dict[str, Any]
    forecasts: dict[str, GridForecast] = field(default_factory=dict, repr=False)

    def best_model(self, coverage: float = 5.0, score: str = "pai") -> str:
        """The model with the highest mean ``score`` at ``coverage`` (% of the area)."""
        s = self.summary[np.isclose(self.summary["coverage"], coverage)]
        if s.empty:
            raise ParameterError(f"The backtest has no results at {coverage}% of the area.")
        return str(s.sort_values(f"{score}_mean", ascending=False)["model"].iloc[0])


def summarise_backtest(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, min and max over test periods of every score, per model and coverage."""
    agg = results.groupby(["model", "coverage"], sort=False)[list(SCORES)].agg(
        ["mean", "std", "min", "max"]
    )
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    agg = agg.reset_index()
    agg.insert(2, "n_periods", results.groupby(["model", "coverage"], sort=False).size().values)
    return agg


def backtest(
    cube: CountCube,
    models: Mapping[str, Forecaster],
    test_periods: Sequence[Any],
    *,
    coverages: Sequence[float] = COVERAGES,
) -> BacktestResult:
    """Rolling-origin backtest of ``models`` (name -> unfitted estimator) on ``cube``.

    ``test_periods`` are period labels (e.g. ``"2022-03"``) inside the cube, each with at least one
    earlier period; ``coverages`` are fractions of the area (default 0.5, 1, 2, 5 and 10 %).
    Ensembles reuse their members' forecasts when the members are also being backtested.
    """
    if not models:
        raise ParameterError("The 'models' parameter of backtest must name at least one model.")
    idx = sorted({cube.index_of(p) for p in test_periods})
    if not idx:
        raise ParameterError("The 'test_periods' parameter of backtest must name a period.")
    rows: list[pd.DataFrame] = []
    timings = dict.fromkeys(models, 0.0)
    last: dict[str, GridForecast] = {}
    prev_flags: dict[str, dict[float, np.ndarray]] = {}
    for k in idx:
        train = cube.window(k)
        cache: dict[str, GridForecast] = {}
        observed = cube.counts[:, k]
        for name, model in models.items():
            t0 = time.perf_counter()
            fc = _forecast(model, train, cache)
            timings[name] += time.perf_counter() - t0
            scores = evaluate_forecast(fc.expected, observed, cube.area, coverages)
            flags = {c: fc.flagged(c) for c in coverages}
            before = prev_flags.get(name)
            scores["churn_jaccard"] = [
                jaccard(flags[c], before[c]) if before else np.nan for c in coverages
            ]
            scores.insert(0, "month", str(cube.periods[k]))
            scores.insert(0, "model", name)
            scores["coverage"] = scores["coverage"] * 100
            rows.append(scores)
            prev_flags[name] = flags
            last[name] = fc
    results = pd.concat(rows, ignore_index=True)
    return BacktestResult(
        results=results,
        summary=summarise_backtest(results),
        timings=timings,
        params={
            "models": {n: m.describe() for n, m in models.items()},
            "test_periods": [str(cube.periods[k]) for k in idx],
            "coverages": [c * 100 for c in coverages],
            "cell_size": cube.cell_size,
            "n_cells": cube.n_cells,
            "area_km2": cube.total_area / 1e6,
        },
        forecasts=last,
    )


def _forecast(model: Forecaster, train: CountCube, cache: dict[str, GridForecast]) -> GridForecast:
    key = repr(model)
    if key in cache:
        return cache[key]
    if isinstance(model, Ensemble):
        parts = [_forecast(m, train, cache) for m in model.members]
        expected = model.combine(parts)
        fc = GridForecast(
            model=model.name,
            period=train.next_period,
            expected=expected,
            cube=train,
            params=model.describe()["params"],
        )
    else:
        fc = type(model)(**model.get_params()).fit(train).predict()
    cache[key] = fc
    return fc
