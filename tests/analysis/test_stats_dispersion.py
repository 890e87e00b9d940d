"""Dispersion-aware comparisons: the quasi-Poisson dispersion equals statsmodels', the widened
test equals the quasi-Poisson Wald test for large counts, phi = 1 leaves the exact answers, and
on over-dispersed series with no change the widened test keeps its error rate where the exact
test does not."""

from __future__ import annotations

import numpy as np
import pytest
import statsmodels.api as sm
from scipy import stats as sps

from peelian.analysis.stats import (
    compare_counts,
    dispersion_adjusted,
    exact_poisson_test,
    quasi_poisson_dispersion,
    rate_ratio_interval,
    seasonal_design,
)
from peelian.errors import ParameterError

MONTHS = [f"{2018 + (m // 12)}-{m % 12 + 1:02d}" for m in range(8, 56)]  # 48 months to 2022-07
CURRENT = np.array([i >= 36 for i in range(48)], dtype=float)


def _nb_series(rng: np.random.Generator, mean: float, alpha: float, n: int) -> np.ndarray:
    """Monthly counts with a season and NB2 extra variation (variance mu + alpha mu^2)."""
    season = 1 + 0.15 * np.sin(np.arange(48) / 12 * 2 * np.pi)
    mu = mean * season
    lam = rng.gamma(1 / alpha, mu * alpha, size=(n, 48)) if alpha else np.tile(mu, (n, 1))
    return rng.poisson(lam).astype(float)


def test_dispersion_equals_statsmodels_pearson_scale() -> None:
    rng = np.random.default_rng(3)
    y = _nb_series(rng, 400, 0.01, 1)[0]
    r = quasi_poisson_dispersion(y, MONTHS, indicators=CURRENT)
    x, _ = seasonal_design(MONTHS)
    ref = sm.GLM(y, np.column_stack([x, CURRENT]), family=sm.families.Poisson()).fit(scale="X2")
    assert r["dispersion"][0] == pytest.approx(ref.scale, rel=1e-6)
    assert r["df"][0] == ref.df_resid == 48 - 14
    assert r["dispersion"][0] > 2 and r["dispersion_p"][0] < 1e-6
    assert r["phi"][0] == r["dispersion"][0]  # detected: phi is the estimate


def test_poisson_series_is_not_flagged_and_phi_is_floored() -> None:
    rng = np.random.default_rng(8)
    ys = _nb_series(rng, 1.3, 0.0, 200)  # a rare event (homicide-like), pure Poisson
    r = quasi_poisson_dispersion(ys, MONTHS, indicators=CURRENT)
    flagged = (r["phi"] > 1).mean()
    assert flagged < 0.12  # the 5% test, with small-mean Pearson tails
    assert (r["phi"] >= 1).all()
    assert (r["phi"][r["dispersion"] < 1] == 1).all()
    empty = quasi_poisson_dispersion(np.zeros(48), MONTHS)
    assert np.isnan(empty["dispersion"][0]) and empty["phi"][0] == 1


def test_phi_one_leaves_the_exact_answers() -> None:
    a, b = np.array([13, 0, 100, 6931]), np.array([18, 5, 140, 5859])
    r = dispersion_adjusted(a, b, phi=1.0)
    assert r["p_value_adjusted"] == pytest.approx(exact_poisson_test(a, b), rel=1e-12)
    lo, hi = rate_ratio_interval(a, b)
    assert r["ci_low_adjusted"] == pytest.approx(lo, rel=1e-12)
    assert r["ci_high_adjusted"] == pytest.approx(hi, rel=1e-12)
    c = compare_counts(13, 18, dispersion=1.0)
    assert c.p_value_adjusted is None and c.test_used == "exact Poisson"
    assert c.narrative == compare_counts(13, 18).narrative


def test_widened_test_equals_quasi_poisson_wald_for_large_counts() -> None:
    for a, b, ta, tb, phi in [
        (6931, 5859, 12, 12, 2.32),
        (8769, 8032, 12, 12, 11.4),
        (1500, 2600, 12, 24, 4.0),
    ]:
        r = dispersion_adjusted(a, b, ta, tb, phi)
        fit = sm.GLM(
            np.array([a, b], dtype=float),
            np.array([[1.0, 1.0], [1.0, 0.0]]),
            family=sm.families.Poisson(),
            offset=np.log([ta, tb]),
        ).fit(scale=phi)
        assert r["p_value_adjusted"] == pytest.approx(fit.pvalues[1], rel=0.1)
        lo, hi = np.exp(fit.conf_int()[1])
        assert r["ci_low_adjusted"] == pytest.approx(lo, rel=2e-3)
        assert r["ci_high_adjusted"] == pytest.approx(hi, rel=2e-3)
    # zeros keep sensible limits: an exact interval at a wider level
    z = dispersion_adjusted(0, 5, phi=4.0)
    assert z["ci_low_adjusted"] == 0 and np.isfinite(z["ci_high_adjusted"])
    assert z["p_value_adjusted"] > exact_poisson_test(0, 5)


def test_widened_test_keeps_its_error_rate_on_overdispersed_series() -> None:
    """No real change; monthly counts ~ NB with phi about 1 + 0.01 * 400 = 5."""
    rng = np.random.default_rng(21)
    ys = _nb_series(rng, 400, 0.01, 400)
    cur, prev = ys[:, 36:].sum(axis=1), ys[:, 24:36].sum(axis=1)
    exact = exact_poisson_test(cur, prev)
    d = quasi_poisson_dispersion(ys, MONTHS, indicators=CURRENT)
    adj = dispersion_adjusted(cur, prev, phi=d["phi"], p_value=exact)
    assert (exact < 0.05).mean() > 0.3  # the exact test cries wolf (expected 0.38)
    assert (adj["p_value_adjusted"] < 0.05).mean() < 0.1
    assert np.median(d["phi"]) == pytest.approx(5, rel=0.35)


def test_compare_counts_with_dispersion_and_bad_values() -> None:
    c = compare_counts(8769, 8032, dispersion=11.4)
    assert c.p_value < 1e-7 and c.p_value_adjusted == pytest.approx(0.0926, abs=5e-4)
    assert not c.significant
    assert c.ci_ratio_adjusted[0] < 1 < c.ci_ratio_adjusted[1]
    assert c.narrative == (
        "8,769 in the first period compared with 8,032 in the second (+9%). Allowing for the "
        "usual month-to-month variation (dispersion 11.4), this is within normal variation "
        "(p = 0.093 allowing for it; exact Poisson test p < 0.001; rate ratio 1.09, 95% CI "
        "0.99-1.21)."
    )
    assert c.to_dict()["test_used"] == "exact Poisson widened for over-dispersion (quasi-Poisson)"
    assert "Spiegelhalter 2005" in c.citation
    for bad in (0, -1, float("nan"), float("inf"), True):
        with pytest.raises(ParameterError, match="dispersion"):
            compare_counts(3, 4, dispersion=bad)
    with pytest.raises(ParameterError, match="alpha"):
        quasi_poisson_dispersion(np.ones(48), MONTHS, alpha=5)
    with pytest.raises(ParameterError, match="months"):
        quasi_poisson_dispersion(np.ones(3), MONTHS)


def test_statistics_guide_examples_run() -> None:
    """The Python examples of docs/guide/statistics.md run and print what the page says, and
    so does its `peelian stats compare ... --dispersion` example."""
    import doctest
    import re
    from pathlib import Path

    from typer.testing import CliRunner

    from peelian.cli import app

    page = (Path(__file__).parents[2] / "docs" / "guide" / "statistics.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", page, flags=re.S)
    assert len(blocks) >= 3
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(verbose=False)
    for i, block in enumerate(blocks):
        runner.run(parser.get_doctest(block, {}, f"statistics.md[{i}]", None, 0))
    assert runner.failures == 0 and runner.tries >= 6
    console = re.search(
        r"\$ peelian stats compare 8769 8032 --dispersion 11.4\n(.*?)```", page, re.S
    )
    assert console is not None
    out = CliRunner().invoke(app, ["stats", "compare", "8769", "8032", "--dispersion", "11.4"])
    assert " ".join(out.stdout.split()) == " ".join(console.group(1).split())
    huge = re.search(r"\$ peelian stats compare 42501 65506 --dispersion 387\n(.*?)```", page, re.S)
    assert huge is not None
    out = CliRunner().invoke(app, ["stats", "compare", "42501", "65506", "--dispersion", "387"])
    assert " ".join(out.stdout.split()) == " ".join(huge.group(1).split())


def test_huge_dispersion_with_counts_in_the_thousands_is_not_noise() -> None:
    """Issue 12 item 1: force anti-social behaviour 42,501 against 65,506 with a dispersion of
    387. The exact p-value underflows (z about 70); clipping it at 1e-300 capped z at 37 and gave
    p = 0.06 and an interval of 0 to infinity. References computed here: the quasi-likelihood
    deviance test (McCullagh & Nelder s9.2: D / phi ~ chi2(1)) and statsmodels' quasi-Poisson
    GLM with scale = 387 (Wald)."""
    a, b, phi = 42501, 65506, 387.0
    r = compare_counts(a, b, dispersion=phi)
    n = a + b
    deviance = 2 * (a * np.log(a / (n / 2)) + b * np.log(b / (n / 2)))
    p_lr = float(sps.chi2.sf(deviance / phi, 1))
    glm = sm.GLM(
        np.array([a, b]), np.array([[1.0, 1.0], [1.0, 0.0]]), family=sm.families.Poisson()
    ).fit(scale=phi)
    p_wald, (w_lo, w_hi) = float(glm.pvalues[1]), np.exp(glm.conf_int()[1])
    assert round(p_lr, 5) == 0.00035 and round(p_wald, 5) == 0.00041
    assert r.p_value_adjusted == pytest.approx(p_lr, rel=0.01)
    assert 0.0003 < r.p_value_adjusted < 0.0005 and r.significant
    assert r.ci_ratio_adjusted is not None and r.ci_ratio_adjusted[1] is not None
    lo, hi = r.ci_ratio_adjusted
    assert (round(w_lo, 2), round(w_hi, 2)) == (0.51, 0.82)
    assert lo == pytest.approx(w_lo, abs=0.005) and hi == pytest.approx(w_hi, abs=0.005)
    assert lo < r.rate_ratio < hi
    # the same through the vectorised path the measures engine uses, and the level it stands for
    d = dispersion_adjusted([a, 13], [b, 18], phi=[phi, 1.0])
    assert d["p_value_adjusted"][0] == pytest.approx(r.p_value_adjusted)
    assert d["ci_low_adjusted"][0] == pytest.approx(lo) and np.isfinite(d["ci_high_adjusted"][0])
    assert d["level_adjusted"][0] == 1.0 and d["p_value_adjusted"][1] == pytest.approx(
        0.473, abs=1e-3
    )
