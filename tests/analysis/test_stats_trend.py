"""Seasonal trend (batched IRLS) agrees with statsmodels GLMs; over-dispersion is detected."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm

from peelian.analysis.stats import seasonal_design, seasonal_trend, seasonal_trend_batch
from peelian.errors import ParameterError

MONTHS = [f"{2019 + (m // 12)}-{m % 12 + 1:02d}" for m in range(4, 52)]  # 48 months from 2019-05


def _series(rng: np.random.Generator, slope: float, alpha: float = 0.0) -> np.ndarray:
    x, _ = seasonal_design(MONTHS)
    season = np.r_[0, 0, np.sin(np.arange(11) / 11 * 2 * np.pi) * 0.2]
    mu = np.exp(np.log(40) + slope * x[:, 1] + x @ season)
    if alpha:
        mu = rng.gamma(1 / alpha, mu * alpha)
    return rng.poisson(mu).astype(float)


def test_poisson_fit_equals_statsmodels() -> None:
    rng = np.random.default_rng(11)
    y = _series(rng, -0.1)
    r = seasonal_trend_batch(y, MONTHS, family="poisson")
    x, seasonal = seasonal_design(MONTHS)
    assert seasonal and x.shape == (48, 13)
    ref = sm.GLM(y, x, family=sm.families.Poisson()).fit()
    assert r["trend_pct"][0] == pytest.approx(100 * (np.exp(ref.params[1]) - 1), rel=1e-6)
    assert r["p_value"][0] == pytest.approx(ref.pvalues[1], rel=1e-4)
    assert r["dispersion"][0] == pytest.approx(ref.pearson_chi2 / ref.df_resid, rel=1e-6)


def test_negbin_fit_equals_statsmodels_for_its_alpha() -> None:
    rng = np.random.default_rng(5)
    y = _series(rng, 0.15, alpha=0.15)
    r = seasonal_trend_batch(y, MONTHS)
    assert r["family"][0] == "negbin"  # the over-dispersion check switched the family
    assert r["dispersion_p"][0] < 0.05
    x, _ = seasonal_design(MONTHS)
    ref = sm.GLM(y, x, family=sm.families.NegativeBinomial(alpha=r["alpha"][0])).fit()
    assert np.log1p(r["trend_pct"][0] / 100) == pytest.approx(ref.params[1], rel=1e-5)
    assert r["p_value"][0] == pytest.approx(ref.pvalues[1], rel=1e-3)


def test_batch_equals_one_by_one_and_handles_missing() -> None:
    rng = np.random.default_rng(2)
    ys = np.vstack([_series(rng, s) for s in (-0.2, 0.0, 0.2)])
    ys[1, :5] = np.nan
    batch = seasonal_trend_batch(ys, MONTHS, family="poisson")
    for i in range(3):
        one = seasonal_trend_batch(ys[i], MONTHS, family="poisson")
        assert batch["trend_pct"][i] == pytest.approx(one["trend_pct"][0], rel=1e-8)
    assert batch["n_months"].tolist() == [48, 43, 48]


def test_trend_result_and_description() -> None:
    rng = np.random.default_rng(9)
    y = _series(rng, -0.3)
    r = seasonal_trend(y, MONTHS)
    assert r.significant and r.trend_pct < 0
    assert "falling" in r.description
    flat = seasonal_trend(np.full(48, 40.0), MONTHS)
    assert not flat.significant and "no significant" in flat.description
    empty = seasonal_trend(np.zeros(48), MONTHS)
    assert np.isnan(empty.p_value) and "too few" in empty.description


def test_trend_refuses_bad_input() -> None:
    with pytest.raises(ParameterError, match="months"):
        seasonal_trend_batch(np.ones(3), MONTHS)
    with pytest.raises(ParameterError, match="family"):
        seasonal_trend_batch(np.ones(48), MONTHS, family="gamma")


def test_a_series_too_sparse_for_a_trend_is_not_estimable_and_never_infinite() -> None:
    import warnings

    from peelian.analysis.stats._trend import seasonal_trend_batch

    months = [f"{y}-{m:02d}" for y in (2019, 2020, 2021, 2022) for m in range(1, 13)]
    y = np.zeros((3, 48))
    y[0, -1] = 1  # one event, in the last month: the fitted growth is unbounded
    y[2] = np.random.default_rng(1).poisson(5, 48)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        r = seasonal_trend_batch(y, months)
    for key in ("trend_pct", "trend_low", "trend_high", "p_value"):
        assert np.isnan(r[key][0]), key
        assert np.isfinite(r[key][2]), key
    assert r["family"][0] == "" and r["family"][2] in ("poisson", "negbin")
