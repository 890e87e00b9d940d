"""Rolling-origin backtests: train on the periods before T, forecast T, score it, repeat.

For every model and test period T the model is fitted on the cube's periods before T only
(Tashman 2000, "Out-of-sample tests of forecasting accuracy: an analysis and review",
International Journal of Forecasting 16: 437-450) and its forecast is scored with
:func:`~peelian.analysis.forecast.evaluate_forecast` at each coverage of two areas: the
**crime-possible** cells of the training periods (the headline: cells with a police.uk event of any
type before T, so no look-ahead) and the **whole force** (every in-area cell, kept for comparison
and labelled so). Skill is measured against the all-history counts (open_cp's "naive"), which is
always fitted as the reference. Patrol-map churn is the weighted Jaccard (Ruzicka) similarity of
consecutive test periods' flag shares, so cells tied at the boundary count by their share.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.forecast._base import CRIME_POSSIBLE, WHOLE_FORCE, Forecaster, GridForecast
from peelian.analysis.forecast._baselines import AllHistory
from peelian.analysis.forecast._cube import CountCube, crime_possible
from peelian.analysis.forecast._ensemble import Ensemble
from peelian.analysis.forecast._metrics import COVERAGES, evaluate_forecast, flag_share, jaccard
from peelian.errors import ParameterError

__all__ = ["AREA_BASES", "REFERENCE", "BacktestResult", "backtest", "summarise_backtest"]

#: The areas coverage is measured over, headline first.
AREA_BASES: tuple[str, ...] = (CRIME_POSSIBLE, WHOLE_FORCE)
#: The model every skill figure is measured against (open_cp's "naive").
REFERENCE = "all_history"

SCORES = (
    "hit_rate", "pai", "pei", "rri", "ll_per_event", "deviance_per_event", "log_lik", "brier",
    "churn_jaccard", "pai_skill", "ll_gain", "deviance_skill",
)  # fmt: skip


@dataclass(frozen=True)
class BacktestResult:
    """What a backtest found.

    ``results``: one row per model, test period, area basis (``crime-possible`` or ``whole
    force``) and coverage: model, month, area_basis, coverage (% of that area), hit_rate, pai,
    pei, rri, hits, perfect_hits, predicted_in_flagged, flagged_cells, flagged_km2, domain_cells,
    domain_km2, n_events, events_outside_domain, ll_per_event, deviance_per_event, log_lik,
    brier, churn_jaccard (against the previous test period; NaN for the first), and skill against
    the all-history counts: pai_skill (PAI / reference PAI - 1), ll_gain (log-likelihood per event
    minus the reference's), deviance_skill (1 - deviance / reference deviance), pai_better and
    ll_better (1 when the model beat the reference that month). ``summary``: per model, area basis
    and coverage the mean, std, min and max over test periods of each score, and
    ``pai_months_better`` / ``ll_months_better`` (months out of ``n_periods``). ``timings``:
    seconds per model. ``warnings``: per model, what it said about its fits (e.g. the
    self-exciting model's collapse). ``forecasts``: the last test period's forecast per model.
    """

    results: pd.DataFrame
    summary: pd.DataFrame
    timings: dict[str, float]
    params: dict[str, Any]
    forecasts: dict[str, GridForecast] = field(default_factory=dict, repr=False)
    warnings: dict[str, list[str]] = field(default_factory=dict)

    def best_model(
        self, coverage: float = 1.0, score: str = "pai", area_basis: str = CRIME_POSSIBLE
    ) -> str:
        """The model with the highest mean ``score`` at ``coverage`` (% of the area basis)."""
        s = self.summary[
            np.isclose(self.summary["coverage"], coverage)
            & (self.summary["area_basis"] == area_basis)
        ]
        if s.empty:
            raise ParameterError(f"The backtest has no results at {coverage}% of the area.")
        return str(s.sort_values(f"{score}_mean", ascending=False)["model"].iloc[0])


def summarise_backtest(results: pd.DataFrame) -> pd.DataFrame:
    """Mean, std, min and max over test periods of every score, per model, area basis and
    coverage, with the months in which the model beat the all-history counts."""
    keys = ["model", "area_basis", "coverage"]
    grouped = results.groupby(keys, sort=False)
    agg = grouped[[c for c in SCORES if c in results]].agg(["mean", "std", "min", "max"])
    agg.columns = [f"{a}_{b}" for a, b in agg.columns]
    agg = agg.reset_index()
    agg.insert(3, "n_periods", grouped.size().values)
    for col in ("pai_better", "ll_better"):
        if col in results:
            agg[col.replace("_better", "_months_better")] = grouped[col].sum().values
    for col in ("domain_cells", "domain_km2"):
        agg[f"{col}_mean"] = grouped[col].mean().values
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
    earlier period; ``coverages`` are fractions of the area (default 0.1, 0.5, 1, 2 and 5 %).
    Ensembles reuse their members' forecasts when the members are also being backtested. The
    crime-possible cells come from the cube's ``context`` (all police.uk types) in the training
    periods; without one, from the cube's own type (the run's params say which rule was used).
    """
    if not models:
        raise ParameterError("The 'models' parameter of backtest must name at least one model.")
    idx = sorted({cube.index_of(p) for p in test_periods})
    if not idx:
        raise ParameterError("The 'test_periods' parameter of backtest must name a period.")
    if idx[0] < 1:
        raise ParameterError(
            f"Test period {cube.periods[idx[0]]} has no earlier period to train on.",
            "Choose a later first test period.",
        )
    rows: list[pd.DataFrame] = []
    timings = dict.fromkeys(models, 0.0)
    warnings: dict[str, list[str]] = {}
    last: dict[str, GridForecast] = {}
    prev_flags: dict[tuple[str, str], dict[float, np.ndarray]] = {}
    rule = ""
    for k in idx:
        train = cube.window(k)
        domain, rule = crime_possible(train)
        cache: dict[str, GridForecast] = {}
        observed = cube.counts[:, k]
        ref = _forecast(AllHistory(), train, cache)
        ref_scores = {
            basis: evaluate_forecast(ref.expected, observed, cube.area, coverages,
                                     domain=domain if basis == CRIME_POSSIBLE else None)
            for basis in AREA_BASES
        }  # fmt: skip
        for name, model in models.items():
            t0 = time.perf_counter()
            fc = _forecast(model, train, cache)
            timings[name] += time.perf_counter() - t0
            for w in fc.warnings:
                warnings.setdefault(name, [])
                if w not in warnings[name]:
                    warnings[name].append(w)
            for basis in AREA_BASES:
                dom = domain if basis == CRIME_POSSIBLE else None
                scores = evaluate_forecast(fc.expected, observed, cube.area, coverages, domain=dom)
                _add_skill(scores, ref_scores[basis])
                flags = {c: flag_share(fc.expected, cube.area, c, dom) for c in coverages}
                before = prev_flags.get((name, basis))
                scores["churn_jaccard"] = [
                    jaccard(flags[c], before[c]) if before else np.nan for c in coverages
                ]
                scores.insert(0, "area_basis", basis)
                scores.insert(0, "month", str(cube.periods[k]))
                scores.insert(0, "model", name)
                scores["coverage"] = scores["coverage"] * 100
                rows.append(scores)
                prev_flags[(name, basis)] = flags
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
            "area_bases": list(AREA_BASES),
            "crime_possible_rule": rule.split(" (")[0],
            "reference": REFERENCE,
        },
        forecasts=last,
        warnings=warnings,
    )


def _add_skill(scores: pd.DataFrame, ref: pd.DataFrame) -> None:
    """Skill columns against the reference's scores (same coverages, same order)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scores["pai_skill"] = scores["pai"].to_numpy() / ref["pai"].to_numpy() - 1
        scores["ll_gain"] = scores["ll_per_event"].to_numpy() - ref["ll_per_event"].to_numpy()
        scores["deviance_skill"] = 1 - (
            scores["deviance_per_event"].to_numpy() / ref["deviance_per_event"].to_numpy()
        )
    scores["pai_better"] = _better(scores["pai"].to_numpy(), ref["pai"].to_numpy())
    scores["ll_better"] = _better(scores["ll_per_event"].to_numpy(), ref["ll_per_event"].to_numpy())


def _better(mine: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """1 where ``mine`` beats ``ref`` by more than rounding (a relative 1e-9), else 0."""
    return ((mine > ref) & ~np.isclose(mine, ref, rtol=1e-9, atol=1e-12)).astype(float)


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
            warnings=tuple(w for p in parts for w in p.warnings),
        )
    else:
        fc = type(model)(**model.get_params()).fit(train).predict()
    cache[key] = fc
    return fc
