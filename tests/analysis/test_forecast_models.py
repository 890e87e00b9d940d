"""Forecasters: the estimator contract, known answers, and the SEPP's EM on simulated data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from peelian.analysis.forecast import (
    MODEL_NAMES,
    AllHistory,
    CountCube,
    Ensemble,
    GridForecast,
    GridSEPP,
    MovingAverage,
    NaiveLastPeriod,
    PoissonBoost,
    ProspectiveHotspot,
    RetrospectiveKDE,
    backtest,
    build_cube,
    feature_names,
    make_model,
    make_models,
    period_index,
    sepp_log_likelihood,
)
from peelian.analysis.grid import square_grid
from peelian.errors import NotFittedError, ParameterError, SchemaError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "forecast" / "newcastle_events.csv.gz"
BOX = shapely.box(422000, 561000, 428000, 567000)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


@pytest.fixture(scope="module")
def burglary_cube(events: pd.DataFrame) -> CountCube:
    cube, _ = build_cube(square_grid(BOX, 250), events[events["category"] == "Burglary"])
    return cube


def tiny_cube() -> CountCube:
    # 3 x 3 cells of 100 m, 4 months
    xs, ys = np.meshgrid(np.arange(3) * 100 + 50.0, np.arange(3) * 100 + 50.0)
    counts = np.zeros((9, 4))
    counts[4] = [1, 2, 3, 6]  # the centre cell
    counts[0] = [2, 0, 0, 0]
    return CountCube(
        counts=counts,
        x=xs.ravel(),
        y=ys.ravel(),
        area=np.full(9, 100.0 * 100.0),
        periods=period_index("2022-01", "2022-04", "M"),
        cell_size=100.0,
    )


def test_fixture_cube_reconciles(events: pd.DataFrame) -> None:
    grid = square_grid(BOX, 250)
    assert grid.n_cells == 24 * 24 and grid.total_area == pytest.approx(36e6)
    sub = events[events["category"] == "Burglary"]
    cube, report = build_cube(grid, sub)
    assert report["events_read"] == len(sub) == 2990
    assert report["events_counted"] + report["unlocated"] + report["outside_area"] == len(sub)
    assert cube.counts.sum() == report["events_counted"]
    assert cube.n_periods == 28 and str(cube.periods[0]) == "2020-05"


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_estimator_contract(name: str, burglary_cube: CountCube) -> None:
    model = make_model(name)
    params = model.get_params()
    assert isinstance(params, dict)
    with pytest.raises(NotFittedError):
        model.predict()
    train = burglary_cube.window(burglary_cube.index_of("2022-03"))
    assert model.fit(train) is model
    assert model.get_params().keys() == params.keys()
    fc = model.predict()
    assert isinstance(fc, GridForecast)
    assert str(fc.period) == "2022-03" and fc.model == model.name
    assert fc.expected.shape == (burglary_cube.n_cells,)
    assert (fc.expected >= 0).all() and np.isfinite(fc.expected).all()
    # calibrated to the right order of magnitude: within a factor 2 of the recent monthly total
    recent = train.counts[:, -6:].sum(axis=0).mean()
    assert recent / 2 < fc.expected.sum() < recent * 2
    frame = fc.to_frame(0.05)
    assert list(frame.columns) == ["cell_id", "x", "y", "area_m2", "predicted", "rank",
                                   "crime_possible", "flag_share", "flagged", "tied"]  # fmt: skip
    # the flagged area (tied cells by their share) is exactly 5 % of the crime-possible area
    possible_area = frame.loc[frame["crime_possible"], "area_m2"].sum()
    assert (frame["flag_share"] * frame["area_m2"]).sum() == pytest.approx(0.05 * possible_area)
    assert not frame.loc[~frame["crime_possible"], "flag_share"].any()
    # tied cells share a rank; the ranks still order the forecast
    assert frame["rank"].min() == 1
    order = frame.sort_values("predicted", ascending=False)
    assert order["rank"].is_monotonic_increasing


def test_get_params_and_set_params_round_trip() -> None:
    m = RetrospectiveKDE(bandwidth=300.0)
    assert m.get_params() == {"bandwidth": 300.0, "kernel": "quartic", "window": None}
    m.set_params(bandwidth=800.0)
    assert m.bandwidth == 800.0
    clone = type(m)(**m.get_params())
    assert clone.get_params() == m.get_params()
    with pytest.raises(ParameterError, match="no parameter"):
        m.set_params(radius=3)


@pytest.mark.parametrize(
    ("model", "match"),
    [
        (MovingAverage(k=0), "'k' parameter of MovingAverage must be an integer >= 1"),
        (RetrospectiveKDE(bandwidth=-5), "'bandwidth' parameter of RetrospectiveKDE"),
        (RetrospectiveKDE(kernel="box"), "'kernel'"),
        (ProspectiveHotspot(time_window=0), "'time_window'"),
        (GridSEPP(max_iter=0), "'max_iter'"),
        (PoissonBoost(estimator="forest"), "'estimator'"),
        (Ensemble(members=[]), "members"),
    ],
)
def test_bad_parameters_are_refused_at_fit(model, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        model.fit(tiny_cube())


def test_fit_refuses_non_cube_and_too_short_history() -> None:
    with pytest.raises(SchemaError, match="CountCube"):
        NaiveLastPeriod().fit(np.zeros((3, 3)))
    with pytest.raises(SchemaError, match="at least 4 periods"):
        PoissonBoost().fit(tiny_cube().window(3))


def test_naive_and_moving_average_by_hand() -> None:
    cube = tiny_cube()
    assert NaiveLastPeriod().fit(cube).predict().expected[4] == 6
    ma = MovingAverage(k=3).fit(cube).predict().expected
    assert ma[4] == pytest.approx((2 + 3 + 6) / 3) and ma[0] == 0
    assert str(NaiveLastPeriod().fit(cube).predict().period) == "2022-05"


def test_kde_conserves_mean_events_and_peaks_at_the_hotspot() -> None:
    cube = tiny_cube()
    exp = RetrospectiveKDE(bandwidth=150.0).fit(cube).predict().expected
    assert exp.sum() == pytest.approx(cube.counts.sum() / cube.n_periods)
    assert exp.argmax() == 4
    assert exp[1] > exp[8]  # cell 1 neighbours both the centre and cell 0


def test_prospective_weights_follow_bowers_johnson_pease() -> None:
    cube = tiny_cube()
    m = ProspectiveHotspot(bandwidth=100.0, time_window=8.0).fit(cube)
    w = m.time_weights(4)
    week = 365.25 / 12 / 7
    # the last month's events are half a month (2.17 weeks) old; older months beyond 8 weeks
    assert w[-1] == pytest.approx(1 / (1 + 0.5 * week))
    assert w[-2] == pytest.approx(1 / (1 + 1.5 * week))
    assert w[0] == 0 and w[1] == 0
    k = m.kernel_
    assert k[1, 1] == 1 and k[1, 2] == pytest.approx(0.5) and k[0, 0] == 0  # diagonal > 100 m
    exp = m.predict().expected
    raw_centre = 6 * w[-1] + 3 * w[-2]
    raw_edge = 0.5 * raw_centre
    assert exp[4] / exp[1] == pytest.approx(raw_centre / raw_edge)


def _simulate_hawkes(mu: np.ndarray, theta: float, omega: float, horizon: float, seed: int):
    """Per-cell Hawkes process by branching: background Poisson(mu T), each event has
    Poisson(theta) offspring at Exp(omega) delays (Mohler et al. 2015 model)."""
    rng = np.random.default_rng(seed)
    cells, times = [], []
    for n, m in enumerate(mu):
        gen = rng.uniform(0, horizon, rng.poisson(m * horizon))
        while len(gen):
            cells.append(np.full(len(gen), n))
            times.append(gen)
            k = rng.poisson(theta, len(gen))
            child = np.repeat(gen, k) + rng.exponential(1 / omega, k.sum())
            gen = child[child < horizon]
    return np.concatenate(cells), np.concatenate(times)


@pytest.mark.parametrize("seed", [1, 7])
def test_sepp_em_recovers_known_parameters(seed: int) -> None:
    n_cells, horizon = 200, 2000
    rng = np.random.default_rng(seed + 100)
    mu = rng.uniform(0.005, 0.02, n_cells)  # background events per day
    theta, omega = 0.6, 0.1  # 0.6 offspring per event, mean delay 10 days
    cell, t = _simulate_hawkes(mu, theta, omega, horizon, seed)
    counts = np.zeros((n_cells, horizon))
    np.add.at(counts, (cell, np.floor(t).astype(int)), 1)
    cube = CountCube(
        counts=counts,
        x=np.arange(n_cells) * 1000.0,
        y=np.zeros(n_cells),
        area=np.full(n_cells, 1e6),
        periods=pd.period_range("2015-01-01", periods=horizon, freq="D"),
        cell_size=1000.0,
    )
    m = GridSEPP(max_iter=1000, tol=1e-8).fit(cube)
    assert m.converged_
    # Daily periods place events at midday: the ~5% of offspring born on their parent's day look
    # like background and the shortest delays are lost, so omega is biased low (-13% here).
    assert m.theta_ == pytest.approx(theta, rel=0.08)
    assert m.omega_ == pytest.approx(omega, rel=0.2)
    assert m.mu_.mean() == pytest.approx(mu.mean(), rel=0.1)
    assert np.corrcoef(m.mu_, mu)[0, 1] > 0.75
    # EM reaches the maximum likelihood: at least as likely as the true parameters
    assert m.log_lik_ >= sepp_log_likelihood(counts, mu, theta, omega)


def test_sepp_prediction_formula() -> None:
    cube = tiny_cube()
    m = GridSEPP().fit(cube)
    ages = 4 - (np.arange(4) + 0.5)
    want = m.mu_ + m.theta_ * (1 - np.exp(-m.omega_)) * (cube.counts @ np.exp(-m.omega_ * ages))
    np.testing.assert_allclose(m.predict().expected, want)
    assert m.mu_[8] == 0  # a cell that never had an event has no background rate


def test_learned_model_uses_covariates_and_harm(burglary_cube: CountCube) -> None:
    rng = np.random.default_rng(0)
    cube = CountCube(
        counts=burglary_cube.counts,
        x=burglary_cube.x,
        y=burglary_cube.y,
        area=burglary_cube.area,
        periods=burglary_cube.periods,
        cell_size=burglary_cube.cell_size,
        harm=burglary_cube.counts * 52.0,
        covariates={"population": rng.uniform(0, 500, burglary_cube.n_cells),
                    "imd_score": np.full(burglary_cube.n_cells, np.nan)},
    )  # fmt: skip
    names = feature_names(cube)
    assert {"harm_all", "cov_population", "cov_imd_score", "last", "nb_m12", "ewm6"} <= set(names)
    assert "ctx_all" not in names  # no all-types context in this cube
    m = PoissonBoost(max_iter=20).fit(cube.window(24))
    assert m.feature_names_ == names and m.n_train_rows_ > 0
    assert m.predict().expected.sum() > 0


def test_ensemble_is_the_weighted_mean(burglary_cube: CountCube) -> None:
    train = burglary_cube.window(20)
    a = NaiveLastPeriod().fit(train).predict().expected
    b = MovingAverage(k=6).fit(train).predict().expected
    ens = Ensemble([NaiveLastPeriod(), MovingAverage(k=6)], weights=[3, 1]).fit(train)
    np.testing.assert_allclose(ens.predict().expected, 0.75 * a + 0.25 * b)


def test_make_models() -> None:
    assert list(make_models("all")) == list(MODEL_NAMES)
    assert list(make_models("last_period, kde")) == ["last_period", "kde"]
    with pytest.raises(ParameterError, match="all_history"):
        make_model("naive")  # peelian's "naive" was the last period; open_cp's is all-history
    with pytest.raises(ParameterError, match="no forecasting model 'oracle'"):
        make_models("oracle")


def test_all_history_is_the_mean_of_every_past_period() -> None:
    cube = tiny_cube()
    exp = AllHistory().fit(cube).predict().expected
    assert exp[4] == pytest.approx((1 + 2 + 3 + 6) / 4) and exp[0] == pytest.approx(0.5)


def _monthly_poisson_cube(seed: int) -> CountCube:
    """Stable Poisson counts per cell and month: no triggering at all."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.5, 1.0, 300)
    counts = rng.poisson(rate[:, None], (300, 24)).astype(float)
    return CountCube(counts=counts, x=np.arange(300) * 250.0, y=np.zeros(300),
                     area=np.full(300, 62500.0), periods=period_index("2020-01", "2021-12", "M"),
                     cell_size=250.0)  # fmt: skip


def test_sepp_says_when_it_collapses_to_the_historical_mean() -> None:
    cube = _monthly_poisson_cube(5)
    m = GridSEPP().fit(cube)
    assert m.collapsed_ and m.trigger_share_ < 0.05
    fc = m.predict()
    assert len(fc.warnings) == 1 and "collapsed to the historical mean" in fc.warnings[0]
    assert "month" in fc.warnings[0] and "day or minute" in fc.warnings[0]
    # ... and it is then (almost) the all-history mean
    mean = AllHistory().fit(cube).predict().expected
    assert np.corrcoef(fc.expected, mean)[0, 1] > 0.99
    res = backtest(cube, {"sepp": GridSEPP()}, ["2021-12"], coverages=(0.05,))
    assert "collapsed" in res.warnings["sepp"][0]
    assert make_model("kde").fit(cube).predict().warnings == ()


def test_sepp_does_not_flag_real_triggering_in_daily_data() -> None:
    rng = np.random.default_rng(11)
    mu = rng.uniform(0.005, 0.02, 150)
    cell, t = _simulate_hawkes(mu, 0.6, 0.1, 1500, 11)
    counts = np.zeros((150, 1500))
    np.add.at(counts, (cell, np.floor(t).astype(int)), 1)
    cube = CountCube(counts=counts, x=np.arange(150) * 1000.0, y=np.zeros(150),
                     area=np.full(150, 1e6),
                     periods=pd.period_range("2015-01-01", periods=1500, freq="D"),
                     cell_size=1000.0)  # fmt: skip
    m = GridSEPP(max_iter=500).fit(cube)
    assert not m.collapsed_ and m.trigger_share_ > 0.2
    assert m.predict().warnings == ()
