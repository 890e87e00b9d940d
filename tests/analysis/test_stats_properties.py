"""Hypothesis property tests for the exact statistics (STYLE practice 11)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as hs
from scipy import stats as sps

from peelian.analysis.stats import (
    bh_adjust,
    compare_counts,
    exact_poisson_test,
    garwood_interval,
    wilson_interval,
)

counts = hs.integers(min_value=0, max_value=5000)
expo = hs.floats(min_value=0.1, max_value=100, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(counts, counts, expo, expo)
def test_p_value_in_unit_interval_and_equals_scipy(a: int, b: int, ta: float, tb: float) -> None:
    p = float(exact_poisson_test(a, b, ta, tb))
    assert 0 <= p <= 1
    if a + b:
        assert np.isclose(p, sps.binomtest(a, a + b, ta / (ta + tb)).pvalue, rtol=1e-6, atol=1e-12)


@settings(max_examples=200, deadline=None)
@given(counts)
def test_garwood_contains_the_count(k: int) -> None:
    lo, hi = garwood_interval(k)
    assert 0 <= lo <= k <= hi


@settings(max_examples=200, deadline=None)
@given(hs.integers(1, 5000), hs.integers(1, 5000))
def test_rate_ratio_interval_contains_estimate(a: int, b: int) -> None:
    r = compare_counts(a, b)
    assert r.ci_ratio is not None and r.ci_ratio[1] is not None
    assert r.ci_ratio[0] <= r.rate_ratio <= r.ci_ratio[1]
    assert (r.p_value < 0.05) == (r.ci_ratio[0] > 1 or r.ci_ratio[1] < 1) or abs(
        r.p_value - 0.05
    ) < 0.02


@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.floats(0, 1, allow_nan=False), min_size=1, max_size=50))
def test_bh_adjusted_at_least_raw_and_at_most_one(p: list[float]) -> None:
    q = bh_adjust(p)
    assert np.all(q >= np.asarray(p) - 1e-12) and np.all(q <= 1)


@settings(max_examples=200, deadline=None)
@given(hs.integers(1, 1000), hs.data())
def test_wilson_contains_proportion(n: int, data: hs.DataObject) -> None:
    x = data.draw(hs.integers(0, n))
    lo, hi = wilson_interval(x, n)
    assert 0 <= lo <= x / n <= hi <= 1


@settings(max_examples=150, deadline=None)
@given(hs.integers(1000, 99999), hs.integers(1000, 99999), hs.floats(1.0, 1000.0))
def test_widened_interval_is_finite_and_contains_the_estimate(a: int, b: int, phi: float) -> None:
    """Issue 12 item 1: counts in the thousands never get an interval of 0 to infinity, for any
    dispersion in [1, 1000], and the p-value stays a probability."""
    r = compare_counts(a, b, dispersion=phi)
    ci = r.ci_ratio_adjusted if phi > 1 else r.ci_ratio
    assert ci is not None and ci[1] is not None
    assert 0 < ci[0] <= r.rate_ratio <= ci[1] < np.inf
    assert 0 <= r.decision_p <= 1
    if phi > 1:  # never narrower than the exact interval
        assert ci[0] <= r.ci_ratio[0] + 1e-12 and ci[1] >= r.ci_ratio[1] - 1e-12
