"""Hotspot forecasting: estimators on a count cube, metrics and rolling-origin backtests.

    from peelian.analysis.grid import square_grid
    from peelian.analysis.forecast import build_cube, make_models, backtest
    grid = square_grid(boundary, 250)                      # boundary in EPSG:27700
    cube, report = build_cube(grid, events)                # events: easting, northing, month
    result = backtest(cube, make_models("all"), ["2022-03", "2022-04"])
    result.summary                  # per model, area basis (crime-possible / whole force), coverage

Every forecaster follows the scikit-learn estimator contract (``fit(cube)`` returns ``self``;
``predict()`` returns a :class:`GridForecast` for the next period; ``get_params()``;
:class:`peelian.errors.NotFittedError` before ``fit``). See docs/guide/forecasting.md and the model
cards in docs/model-cards/.
"""

from __future__ import annotations

from collections.abc import Sequence

from peelian.analysis.forecast._backtest import (
    AREA_BASES,
    REFERENCE,
    BacktestResult,
    backtest,
    summarise_backtest,
)
from peelian.analysis.forecast._base import CRIME_POSSIBLE, WHOLE_FORCE, Forecaster, GridForecast
from peelian.analysis.forecast._baselines import (
    AllHistory,
    MovingAverage,
    NaiveLastPeriod,
    ProspectiveHotspot,
    RetrospectiveKDE,
)
from peelian.analysis.forecast._binning import PRECISION_NEEDED, build_cube, check_time_precision
from peelian.analysis.forecast._cube import (
    FREQS,
    CountCube,
    crime_possible,
    cube_from_counts,
    period_index,
)
from peelian.analysis.forecast._ensemble import Ensemble
from peelian.analysis.forecast._learned import PoissonBoost, feature_names
from peelian.analysis.forecast._metrics import (
    COVERAGES,
    DEFAULT_COVERAGE,
    LAMBDA_FLOOR,
    brier_score,
    capture,
    evaluate_forecast,
    flag_cells,
    flag_share,
    jaccard,
    poisson_deviance,
    poisson_log_likelihood,
    tie_rank,
)
from peelian.analysis.forecast._sepp import (
    COLLAPSE_SHARE,
    GridSEPP,
    sepp_em,
    sepp_log_likelihood,
)
from peelian.errors import ParameterError

__all__ = [
    "AREA_BASES",
    "COLLAPSE_SHARE",
    "COVERAGES",
    "CRIME_POSSIBLE",
    "DEFAULT_COVERAGE",
    "FREQS",
    "LAMBDA_FLOOR",
    "MODEL_NAMES",
    "PRECISION_NEEDED",
    "REFERENCE",
    "WHOLE_FORCE",
    "AllHistory",
    "BacktestResult",
    "CountCube",
    "Ensemble",
    "Forecaster",
    "GridForecast",
    "GridSEPP",
    "MovingAverage",
    "NaiveLastPeriod",
    "PoissonBoost",
    "ProspectiveHotspot",
    "RetrospectiveKDE",
    "backtest",
    "brier_score",
    "build_cube",
    "capture",
    "check_time_precision",
    "crime_possible",
    "cube_from_counts",
    "evaluate_forecast",
    "feature_names",
    "flag_cells",
    "flag_share",
    "jaccard",
    "make_model",
    "make_models",
    "period_index",
    "poisson_deviance",
    "poisson_log_likelihood",
    "sepp_em",
    "sepp_log_likelihood",
    "summarise_backtest",
    "tie_rank",
]

#: The models ``make_models("all")`` builds, in this order. ``prospective_2004`` is prospective
#: hotspotting with the published parameters (Bowers, Johnson & Pease 2004: 400 m, two months);
#: ``prospective`` uses the parameters chosen on validation months.
MODEL_NAMES: tuple[str, ...] = (
    "all_history",
    "last_period",
    "moving_average",
    "kde",
    "prospective",
    "prospective_2004",
    "sepp",
    "learned",
    "ensemble",
)


def make_model(name: str) -> Forecaster:
    """A forecaster by name with peelian's defaults.

    The baselines' defaults were chosen on the six months 2021-09..2022-02 of the Northumbria
    police.uk data by mean PAI at 5 % of the whole force; the learned model's were compared on the
    crime-possible cells of the 12 origins 2021-09..2022-08 (benchmarks/results/forecast_tuning.md
    says how, and that the latter is not a held-out choice).
    """
    if name == "all_history":
        return AllHistory()
    if name == "last_period":
        return NaiveLastPeriod()
    if name == "naive":
        raise ParameterError(
            "There is no model 'naive' any more: the name meant the last period in peelian and "
            "all-history counts in open_cp.",
            "Use 'last_period' (last month) or 'all_history' (open_cp's naive).",
        )
    if name == "moving_average":
        return MovingAverage(k=12)
    if name == "kde":
        return RetrospectiveKDE(bandwidth=400.0, kernel="quartic")
    if name == "prospective":
        return ProspectiveHotspot(bandwidth=250.0, time_window=52.0)
    if name == "prospective_2004":
        return ProspectiveHotspot(bandwidth=400.0, time_window=8.0)
    if name == "sepp":
        return GridSEPP()
    if name == "learned":
        return PoissonBoost()
    if name == "ensemble":
        return Ensemble(members=[make_model("sepp"), make_model("learned")], weights=[0.5, 0.5])
    raise ParameterError(
        f"There is no forecasting model {name!r}.", f"Choose from: {', '.join(MODEL_NAMES)}."
    )


def make_models(names: str | Sequence[str] = "all") -> dict[str, Forecaster]:
    """Models by name: ``"all"``, a comma-separated string or a list of names."""
    if isinstance(names, str):
        names = MODEL_NAMES if names.strip() == "all" else [n.strip() for n in names.split(",")]
    models = {n: make_model(n) for n in names if n}
    if not models:
        raise ParameterError("No forecasting model was named.", f"Choose from: {MODEL_NAMES}.")
    return models
