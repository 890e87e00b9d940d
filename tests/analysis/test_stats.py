"""Known answers and library agreement for peelian.analysis.stats."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats import rates as sm_rates
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

import peelian.analysis.stats as st
from peelian.analysis.stats import (
    anhoj_limits,
    anhoj_rules,
    bh_adjust,
    bh_adjust_grouped,
    c_chart_limits,
    compare_counts,
    compare_counts_arrays,
    eb_rates,
    exact_poisson_test,
    garwood_interval,
    rate_ratio_interval,
    spc_batch,
    spc_chart,
    u_chart_limits,
    western_electric_rules,
    wilson_interval,
    xmr_limits,
)
from peelian.errors import ParameterError

# Montgomery DC (2009), Introduction to Statistical Quality Control, 6th ed., Example 7.3 (Table
# 7.7): nonconformities in 26 successive samples of 100 printed circuit boards.
MONTGOMERY_7_3 = [
    21,
    24,
    16,
    12,
    15,
    5,
    28,
    20,
    31,
    25,
    20,
    24,
    16,
    19,
    10,
    17,
    13,
    22,
    18,
    39,
    30,
    24,
    16,
    19,
    17,
    15,
]


def test_public_names_resolve() -> None:
    for name in st.__all__:
        assert getattr(st, name) is not None


# -- the DOMAIN.md section 4 example -----------------------------------------------------------
def test_13_vs_18_known_answer() -> None:
    r = compare_counts(13, 18)
    assert r.p_value == pytest.approx(0.473, abs=5e-4)
    assert r.ci_a == pytest.approx((6.92, 22.23), abs=5e-3)
    assert r.ci_b == pytest.approx((10.67, 28.45), abs=5e-3)
    assert r.change == -5
    assert r.change_pct == pytest.approx(-27.78, abs=0.01)
    assert r.rate_ratio == pytest.approx(13 / 18)
    assert not r.significant
    assert "within normal variation" in r.narrative
    assert "p = 0.47" in r.narrative and "6.9 to 22.2 and 10.7 to 28.4" in r.narrative


def test_agrees_with_statsmodels_exact_cond() -> None:
    rng = np.random.default_rng(7)
    a = rng.integers(0, 300, 200)
    b = rng.integers(0, 300, 200)
    ta = rng.uniform(0.5, 3, 200)
    tb = rng.uniform(0.5, 3, 200)
    ours = exact_poisson_test(a, b, ta, tb)
    for i in range(200):
        if a[i] + b[i] == 0:
            continue
        ref = sm_rates.test_poisson_2indep(
            int(a[i]), ta[i], int(b[i]), tb[i], method="exact-cond"
        ).pvalue
        assert ours[i] == pytest.approx(ref, rel=1e-6, abs=1e-12)


def test_agrees_with_scipy_binomtest_and_chi2() -> None:
    for a, b in [(0, 5), (5, 0), (1, 1), (13, 18), (100, 140), (2, 30), (1000, 1100)]:
        ref = sps.binomtest(a, a + b, 0.5).pvalue
        assert float(exact_poisson_test(a, b)) == pytest.approx(ref, rel=1e-9)
        lo, hi = garwood_interval(a)
        assert hi == pytest.approx(sps.chi2.ppf(0.975, 2 * a + 2) / 2)
        assert lo == (0 if a == 0 else pytest.approx(sps.chi2.ppf(0.025, 2 * a) / 2))
        ci = sps.binomtest(a, a + b, 0.5).proportion_ci(method="exact")
        rlo, rhi = rate_ratio_interval(a, b)
        assert rlo == pytest.approx(ci.low / (1 - ci.low))
        if b > 0:
            assert rhi == pytest.approx(ci.high / (1 - ci.high))
        else:
            assert np.isinf(rhi)


def test_unequal_exposure_and_vectorised_shape() -> None:
    r = compare_counts_arrays([10, 40], [20, 20], [1, 1], [2, 1])
    assert r["rate_ratio"] == pytest.approx([1.0, 2.0])
    assert r["p_value"].shape == (2,)
    assert r["p_value"][0] == pytest.approx(1.0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ParameterError, match="whole counts"):
        exact_poisson_test(-1, 3)
    with pytest.raises(ParameterError, match="must be a number > 0"):
        exact_poisson_test(1, 3, 0, 1)
    with pytest.raises(ParameterError, match="level"):
        garwood_interval(3, level=95)
    with pytest.raises(ParameterError):
        compare_counts("13", 18)  # type: ignore[arg-type]


# -- FDR, Wilson, EB ---------------------------------------------------------------------------
def test_bh_matches_statsmodels() -> None:
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 1, 500) ** 3
    assert bh_adjust(p) == pytest.approx(multipletests(p, method="fdr_bh")[1])
    groups = rng.integers(0, 4, 500)
    adj = bh_adjust_grouped(p, groups)
    for g in range(4):
        assert adj[groups == g] == pytest.approx(multipletests(p[groups == g], method="fdr_bh")[1])
    withnan = np.array([0.01, np.nan, 0.04])
    assert np.isnan(bh_adjust(withnan)[1])
    assert bh_adjust(withnan)[[0, 2]] == pytest.approx([0.02, 0.04])


def test_wilson_matches_statsmodels() -> None:
    x = np.array([0, 1, 8, 50, 99, 100])
    n = np.array([10, 10, 10, 100, 100, 100])
    lo, hi = wilson_interval(x, n)
    ref_lo, ref_hi = proportion_confint(x, n, method="wilson")
    assert lo == pytest.approx(ref_lo)
    assert hi == pytest.approx(ref_hi)
    assert np.isnan(wilson_interval(0, 0)[0])


def test_eb_matches_esda_and_shrinks() -> None:
    from esda.smoothing import Empirical_Bayes

    rng = np.random.default_rng(3)
    pop = rng.integers(500, 5000, 300)
    e = rng.poisson(pop * rng.gamma(4, 0.005, 300))
    ours = eb_rates(e, pop)
    assert ours == pytest.approx(Empirical_Bayes(e, pop).r.ravel())
    raw = e / pop
    m = e.sum() / pop.sum()
    assert np.all(np.abs(ours - m) <= np.abs(raw - m) + 1e-12)


# -- SPC ---------------------------------------------------------------------------------------
def test_montgomery_c_chart_example() -> None:
    assert sum(MONTGOMERY_7_3) == 516
    centre, lcl, ucl = c_chart_limits(MONTGOMERY_7_3)
    assert centre[0] == pytest.approx(19.85, abs=0.005)
    assert ucl[0] == pytest.approx(33.22, abs=0.01)
    assert lcl[0] == pytest.approx(6.48, abs=0.01)
    chart = spc_chart(MONTGOMERY_7_3)
    # Montgomery: samples 6 (5 nonconformities) and 20 (39) are out of control
    flagged = chart.frame.index[chart.frame["signal"] != ""].tolist()
    assert flagged == [5, 19]
    assert chart.frame.loc[5, "signal"] == "below" and chart.frame.loc[19, "signal"] == "above"
    # Anhøj on the same series: 26 useful points, 8 runs (7 crossings) < 8 -> signal
    assert chart.details["crossings"] == 7 and chart.details["crossing_limit"] == 8
    assert "too few crossings" in chart.signals


def test_anhoj_limits_table() -> None:
    # Anhøj & Olesen (2014), PLoS ONE 9(11): e113825, Table 1 (longest run, fewest crossings)
    table = {
        10: (6, 2),
        11: (6, 2),
        12: (7, 3),
        13: (7, 3),
        14: (7, 4),
        15: (7, 4),
        16: (7, 4),
        17: (7, 5),
        18: (7, 5),
        19: (7, 6),
        20: (7, 6),
        21: (7, 6),
        22: (7, 7),
        23: (8, 7),
        24: (8, 8),
        25: (8, 8),
        26: (8, 8),
        27: (8, 9),
        28: (8, 9),
        29: (8, 10),
        30: (8, 10),
    }
    n = np.array(sorted(table))
    runs, crossings = anhoj_limits(n)
    assert runs.tolist() == [table[k][0] for k in n]
    assert crossings.tolist() == [table[k][1] for k in n]
    assert np.isnan(anhoj_limits([9])[0][0])


def test_anhoj_shift_and_points_on_centre_ignored() -> None:
    shift = [1.0] * 12 + [3.0] * 12
    r = anhoj_rules(shift, [2.0])
    assert r["longest_run"][0] == 12 and r["crossings"][0] == 1
    assert r["long_run"][0] and r["few_crossings"][0]
    alt = [1.0, 3.0] * 12
    r2 = anhoj_rules(alt, [2.0])
    assert r2["longest_run"][0] == 1 and r2["crossings"][0] == 23
    assert not r2["long_run"][0] and not r2["few_crossings"][0]
    with_median = [1.0, 2.0, 1.0, 2.0, 3.0] * 4
    r3 = anhoj_rules(with_median, [2.0])
    assert r3["n_useful"][0] == 12  # the 8 points on the centre line do not count
    batch = anhoj_rules(np.vstack([shift, alt]), [2.0, 2.0])
    assert batch["long_run"].tolist() == [True, False]


def test_u_chart_and_xmr() -> None:
    c = np.array([10, 12, 8, 30])
    n = np.array([100, 120, 80, 100])
    ubar, lcl, ucl = u_chart_limits(c, n)
    assert ubar[0] == pytest.approx(60 / 400)
    assert ucl[0, 0] == pytest.approx(0.15 + 3 * np.sqrt(0.15 / 100))
    res = spc_batch(c, "u", exposure=n)
    assert res["point"][0].tolist() == [0, 0, 0, 1]
    x = np.array([5.0, 7.0, 6.0, 8.0, 6.0])
    centre, lo, hi = xmr_limits(x)
    mr = np.mean(np.abs(np.diff(x)))
    assert hi[0] == pytest.approx(6.4 + 2.66 * mr) and lo[0] == pytest.approx(6.4 - 2.66 * mr)


def test_western_electric_rules() -> None:
    x = np.array([0.0] * 5 + [2.5, 2.5] + [0.0] * 3 + [1.5] * 4 + [-0.5] * 8 + [3.5])
    we = western_electric_rules(x, [0.0], [1.0])
    assert np.flatnonzero(we["rule1"][0]).tolist() == [22]
    assert np.flatnonzero(we["rule2"][0]).tolist() == [6]
    assert 13 in np.flatnonzero(we["rule3"][0])
    assert np.flatnonzero(we["rule4"][0]).tolist() == [21]
    chart = spc_chart(x + 10, rules="western_electric")
    assert chart.rules == "western_electric"


def test_spc_refuses_bad_kind() -> None:
    with pytest.raises(ParameterError, match="'kind'"):
        spc_batch([1, 2, 3], "p")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="exposure"):
        spc_batch([1, 2, 3], "u")
