"""Binomial tail probabilities and Clopper-Pearson limits in log space, for the far tails where
``scipy``'s tail functions underflow to 0 (below about 1e-300).

A dispersion-widened comparison of two large counts (a force's 42,501 against 65,506 with a
dispersion of 387) needs the exact two-sided p-value at a normal deviate near 70 (log p about
-2,473) and the exact interval at a tail of about exp(-748). Both are far below the smallest
double, so they are computed as logarithms here:

- a tail ``P(X <= x)`` below the mean (or ``P(X >= x)`` above it) is a sum of binomial
  probabilities that shrink geometrically away from ``x`` (ratio ``r < 1`` at ``x`` and smaller
  beyond), so the log-sum-exp of ``log pmf`` over the ``ceil(60 / -log r)`` terms next to ``x``
  is the tail to double precision (the rest is below ``r^W / (1 - r)`` of it);
- the two-sided p-value is the same minimum-likelihood rule as
  :func:`peelian.analysis.stats._poisson._binom_two_sided` (``scipy.stats.binomtest``), with the
  other tail's start found by bisection on ``log pmf``;
- a Clopper-Pearson limit solves ``log P(X >= a | n, p_l) = log tail`` (or
  ``log P(X <= a | n, p_u)``) for ``logit p`` by Brent's method.

Sources: Clopper CJ, Pearson ES (1934), *Biometrika* 26: 404-413; Hollander M, Wolfe DA,
Chicken E (2014), *Nonparametric Statistical Methods*, 3rd ed., s2.1 (the two-sided rule);
Brent RP (1973), *Algorithms for Minimization without Derivatives*, ch. 4.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

__all__ = ["clopper_pearson_log", "log_binom_cdf", "log_binom_sf", "log_binom_two_sided"]

_TINY = 1e-250  # below this the ordinary tail functions lose digits or underflow
_RERR = 1 + 1e-7  # scipy.stats.binomtest's relative tolerance for "as likely as observed"


def _window_sum(ks: np.ndarray, n: float, p: float) -> float:
    return float(special.logsumexp(stats.binom.logpmf(ks, n, p)))


def log_binom_cdf(x: float, n: float, p: float) -> float:
    """``log P(X <= x)`` for ``X ~ Binomial(n, p)``, accurate where the tail underflows."""
    if x < 0:
        return -math.inf
    if x >= n:
        return 0.0
    direct = float(stats.binom.cdf(x, n, p))
    if direct > _TINY or n * p <= x:
        return math.log(direct) if direct > 0 else -math.inf
    r = x * (1 - p) / ((n - x + 1) * p)  # pmf(x - 1) / pmf(x) < 1 below the mean
    width = int(min(x + 1, math.ceil(60 / -math.log(r)) + 2)) if r > 0 else 1
    return _window_sum(np.arange(x - width + 1, x + 1), n, p)


def log_binom_sf(k: float, n: float, p: float) -> float:
    """``log P(X >= k)`` for ``X ~ Binomial(n, p)``, accurate where the tail underflows."""
    if k <= 0:
        return 0.0
    if k > n:
        return -math.inf
    direct = float(stats.binom.sf(k - 1, n, p))
    if direct > _TINY or n * p >= k:
        return math.log(direct) if direct > 0 else -math.inf
    r = (n - k) * p / ((k + 1) * (1 - p))  # pmf(k + 1) / pmf(k) < 1 above the mean
    width = int(min(n - k + 1, math.ceil(60 / -math.log(r)) + 2)) if r > 0 else 1
    return _window_sum(np.arange(k, k + width), n, p)


def log_binom_two_sided(x: float, n: float, p: float) -> float:
    """``log`` of the two-sided minimum-likelihood p-value (as ``scipy.stats.binomtest``)."""
    pn = p * n
    if n == 0 or x == pn:
        return 0.0
    thr = float(stats.binom.logpmf(x, n, p)) + math.log(_RERR)
    if x < pn:  # other tail [first, n]: the smallest i >= ceil(pn) with log pmf(i) <= thr
        lo, hi = math.ceil(pn), n + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if stats.binom.logpmf(mid, n, p) <= thr:
                hi = mid
            else:
                lo = mid + 1
        other = log_binom_sf(lo, n, p) if lo <= n else -math.inf
        res = float(np.logaddexp(log_binom_cdf(x, n, p), other))
    else:  # other tail [0, last]: the largest i <= floor(pn) with log pmf(i) <= thr
        lo, hi = 0, math.floor(pn) + 1
        while lo < hi:
            mid = (lo + hi) // 2
            if stats.binom.logpmf(mid, n, p) > thr:
                hi = mid
            else:
                lo = mid + 1
        other = log_binom_cdf(lo - 1, n, p) if lo >= 1 else -math.inf
        res = float(np.logaddexp(log_binom_sf(x, n, p), other))
    return min(res, 0.0)


def clopper_pearson_log(a: float, b: float, log_tail: float) -> tuple[float, float]:
    """Clopper-Pearson limits ``(p_l, p_u)`` of ``a / (a + b)`` with each tail ``exp(log_tail)``.

    ``p_l`` solves ``P(X >= a | n, p_l) = tail`` (0 when ``a = 0``); ``p_u`` solves
    ``P(X <= a | n, p_u) = tail`` (1 when ``b = 0``), ``n = a + b``.
    """
    n = a + b
    est = float(special.logit(a / n)) if 0 < a < n else (40.0 if b == 0 else -40.0)
    pl, pu = 0.0, 1.0
    if a > 0:
        f = lambda t: log_binom_sf(a, n, float(special.expit(t))) - log_tail  # noqa: E731
        low = est - 1.0
        while f(low) > 0:
            low -= 2 * (est - low)
        pl = float(special.expit(optimize.brentq(f, low, est, xtol=1e-13, rtol=1e-13)))
    if b > 0:
        g = lambda t: log_binom_cdf(a, n, float(special.expit(t))) - log_tail  # noqa: E731
        high = est + 1.0
        while g(high) > 0:
            high += 2 * (high - est)
        pu = float(special.expit(optimize.brentq(g, est, high, xtol=1e-13, rtol=1e-13)))
    return pl, pu
