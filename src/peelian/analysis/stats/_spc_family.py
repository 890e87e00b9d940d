"""Control charts for many small areas at once, with the false-signal rate controlled.

A Shewhart c-chart with 3-sigma limits and the Anhøj run rules is calibrated for one chart of a
roughly normal measure. Run over every LSOA of a force, on counts whose mean is often below one
a month, it signals on about 40% of perfectly stable Poisson series: the normal limits of a
skewed count are too narrow (``0.2 + 3 sqrt(0.2) = 1.54``, so every month with two events
signals), a mean of 0.2 puts most months below the centre line in long runs, and a few hundred
charts at 5% each give dozens of signals by chance. Here each chart gets one p-value that is
valid for small counts, and the signals are the charts whose p-value survives the
Benjamini-Hochberg false discovery rate across a stated family (e.g. every LSOA of the force
for one measure over the same months).

Per chart (the covered months of the window; ``x_t`` the counts, ``S`` their total):

1. **Exact probability limits.** Given ``S``, a stable Poisson process spreads the events over
   the months as ``x_t ~ Binomial(S, pi_t)`` with ``pi_t = 1 / T`` (c-chart) or the month's
   share of the exposure (u-chart): the conditional exact test of Poisson homogeneity (Fisher
   RA (1950), The significance of deviations from expectation in a Poisson series,
   *Biometrics* 6: 17-24; Cox DR, Lewis PAW (1966), *The Statistical Analysis of Series of
   Events*, s6.2), free of the estimated centre. Each month's upper and lower tail
   probabilities; a side's p-value is ``T`` times the smallest (Bonferroni across months). The
   limits drawn are the binomial quantiles at the tail the family's threshold implies, the
   "probability limits" of Montgomery DC (2009), *Introduction to Statistical Quality
   Control*, 6th ed., s7.3.3 (exact instead of ``c_bar +/- 3 sqrt(c_bar)``). XmR rows (counts
   more variable than Poisson; Wheeler 1995) use the normal tails of ``(x - x_bar) / sigma``,
   ``sigma = MR_bar / 1.128``, the chart's own assumption.
2. **Run rules calibrated for any distribution.** Anhøj's two rules (a long run on one side of
   the centre line; too few crossings of it; Anhøj & Olesen 2014) as exact tests conditional on
   the numbers of points above (``n1``) and below (``n2``) the centre line: under a stable
   process every order of those points is equally likely, whatever the count distribution.
   ``P(runs <= r)`` by Swed FS, Eisenhart C (1943), Tables for testing randomness of grouping in
   a sequence of alternatives, *Ann Math Stat* 14: 66-87 (Wald A, Wolfowitz J (1940),
   *Ann Math Stat* 11: 147-162); ``P(longest run >= L)`` by counting the arrangements whose runs
   are all shorter (compositions with bounded parts; Mood AM (1940), The distribution theory of
   runs, *Ann Math Stat* 11: 367-392).
3. **One p-value per chart**: ``min(1, 4 min(p_above, p_below, p_long_run, p_few_crossings))``
   (Bonferroni across the four rules), then **Benjamini-Hochberg across the family**
   (Benjamini Y, Hochberg Y (1995), *JRSS B* 57: 289-300). A chart signals when its adjusted
   p-value is below ``alpha``; the family's threshold ``t*`` (the largest p-value rejected, at
   least ``alpha / m``) sets the drawn limits at the per-month tail ``t* / (4 T)``, so a month
   outside them is exactly a month that makes its chart signal. Under a stable process the
   chance that any chart of a family signals is at most ``alpha``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from scipy import stats

from peelian.analysis.stats._fdr import bh_adjust_grouped
from peelian.analysis.stats._poisson import on_unique
from peelian.analysis.stats._spc import anhoj_rules
from peelian.errors import ParameterError

__all__ = ["RULES_IN_CHART_P", "family_spc", "runs_pvalues"]

#: The rules a chart's p-value combines (Bonferroni): above, below, long run, few crossings.
RULES_IN_CHART_P = 4


@lru_cache(maxsize=65536)
def _compositions(n: int, k: int, m: int) -> int:
    """Ways to write ``n`` as an ordered sum of ``k`` parts, each between 1 and ``m``."""
    if k == 0:
        return 1 if n == 0 else 0
    if n < k or n > k * m:
        return 0
    total = 0
    for j in range(k + 1):
        rest = n - j * m - 1
        if rest < k - 1:
            break
        total += (-1) ** j * math.comb(k, j) * math.comb(rest, k - 1)
    return total


@lru_cache(maxsize=65536)
def _p_longest_at_least(n1: int, n2: int, length: int) -> float:
    """P(longest run of either kind >= length | n1 above, n2 below, random order)."""
    if n1 == 0 or n2 == 0 or length <= 1:
        return 1.0
    m = length - 1
    shorter = 0
    for k1 in range(1, n1 + 1):
        for k2 in (k1 - 1, k1, k1 + 1):
            if 1 <= k2 <= n2:
                ways = _compositions(n1, k1, m) * _compositions(n2, k2, m)
                shorter += 2 * ways if k1 == k2 else ways
    total = math.comb(n1 + n2, n1)
    return float(Fraction(total - shorter, total))


@lru_cache(maxsize=65536)
def _p_runs_at_most(n1: int, n2: int, runs: int) -> float:
    """P(number of runs <= runs | n1, n2, random order) (Swed & Eisenhart 1943)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    c = math.comb
    ways = 0
    for r in range(2, runs + 1):
        k = r // 2
        if r % 2 == 0:
            ways += 2 * c(n1 - 1, k - 1) * c(n2 - 1, k - 1)
        else:
            ways += c(n1 - 1, k) * c(n2 - 1, k - 1) + c(n1 - 1, k - 1) * c(n2 - 1, k)
    return float(Fraction(ways, c(n1 + n2, n1)))


def runs_pvalues(
    n_above: npt.ArrayLike, n_below: npt.ArrayLike, longest: npt.ArrayLike, runs: npt.ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Exact conditional p-values of Anhøj's two rules: ``P(longest run >= longest)`` and
    ``P(number of runs <= runs)`` given the points above and below the centre line.

    >>> p_long, p_few = runs_pvalues([10], [10], [8], [4])
    >>> round(float(p_long[0]), 4), round(float(p_few[0]), 4)
    (0.0074, 0.001)
    """
    cols = [np.asarray(x, dtype=np.int64).reshape(-1) for x in (n_above, n_below, longest, runs)]
    key = np.column_stack(cols)
    uniq, inv = np.unique(key, axis=0, return_inverse=True)
    p_long = np.array([_p_longest_at_least(int(a), int(b), int(L)) for a, b, L, _ in uniq])
    p_few = np.array([_p_runs_at_most(int(a), int(b), int(r)) for a, b, _, r in uniq])
    inv = inv.reshape(-1)
    return p_long[inv], p_few[inv]


def _run_stats(x: np.ndarray, centre: np.ndarray) -> tuple[np.ndarray, ...]:
    """Points above and below the centre line (ties and gaps ignored), longest run, runs."""
    with np.errstate(invalid="ignore"):
        sign = np.nan_to_num(np.sign(x - centre), nan=0.0)
    n1, n2 = (sign > 0).sum(axis=1), (sign < 0).sum(axis=1)
    r = anhoj_rules(sign, np.zeros(len(x)))  # the same runs, found vectorised
    runs = np.where(n1 + n2 > 0, r["crossings"] + 1, 0)
    return n1, n2, r["longest_run"].astype(np.int64), runs.astype(np.int64)


def _point_tails(
    x: np.ndarray, kind: np.ndarray, share: np.ndarray, total: np.ndarray, z: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Upper and lower tail probability of each month of the u- and XmR rows (1 elsewhere and
    where not covered). A c-chart row's tails only matter at its largest and smallest month
    (every month has the same share), see :func:`_c_row_tails`."""
    up, down = np.ones_like(x), np.ones_like(x)
    cov = ~np.isnan(x)
    pois = cov & (kind == "u")[:, None]
    if pois.any():
        s = np.broadcast_to(total[:, None], x.shape)
        up[pois], down[pois] = on_unique(
            lambda k, n, p: (stats.binom.sf(k - 1, n, p), stats.binom.cdf(k, n, p)),
            x[pois],
            s[pois],
            share[pois],
        )
    norm = cov & (kind == "xmr")[:, None] & np.isfinite(z)
    up[norm], down[norm] = stats.norm.sf(z[norm]), stats.norm.cdf(z[norm])
    return up, down


def _c_row_tails(x: np.ndarray, total: np.ndarray, t_cov: np.ndarray) -> tuple[np.ndarray, ...]:
    """Smallest upper and lower tail of each c-chart row: at its largest and smallest month."""
    with np.errstate(invalid="ignore"):
        hi = np.nan_to_num(np.nanmax(np.where(np.isnan(x), -np.inf, x), axis=1), neginf=0.0)
        lo = np.nan_to_num(np.nanmin(np.where(np.isnan(x), np.inf, x), axis=1), posinf=0.0)
    share = 1.0 / t_cov
    return on_unique(
        lambda a, b, n, p: (stats.binom.sf(a - 1, n, p), stats.binom.cdf(b, n, p)),
        hi,
        lo,
        total,
        share,
    )


def _centre_and_shares(
    x: np.ndarray, kind: np.ndarray, exposure: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-point centre line, each month's share of the events (c: 1/T; u: of the exposure),
    the total ``S`` and the XmR sigma per row."""
    cov = ~np.isnan(x)
    t_cov = cov.sum(axis=1)
    total = np.where(cov, x, 0).sum(axis=1)
    share = np.where(cov, 1.0, 0.0) / np.maximum(t_cov, 1)[:, None]
    if exposure is not None:
        ex = np.where(cov, np.broadcast_to(exposure, x.shape), 0.0)
        u_rows = kind == "u"
        with np.errstate(invalid="ignore", divide="ignore"):
            share[u_rows] = ex[u_rows] / ex[u_rows].sum(axis=1, keepdims=True)
    centre = np.where(cov, total[:, None] * share, np.nan)
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(np.where(cov.any(axis=1, keepdims=True), x, 0.0), axis=1)
        d = np.abs(np.diff(x, axis=1)) if x.shape[1] > 1 else np.full((len(x), 1), np.nan)
        mr = np.nanmean(np.where(np.isnan(d).all(axis=1, keepdims=True), 0.0, d), axis=1)
    xmr = kind == "xmr"
    centre[xmr] = np.where(cov[xmr], mean[xmr, None], np.nan)
    return centre, share, total, mr / 1.128


def family_spc(
    values: npt.ArrayLike,
    kind: npt.ArrayLike,
    families: npt.ArrayLike,
    *,
    exposure: npt.ArrayLike | None = None,
    alpha: float = 0.05,
) -> dict[str, np.ndarray]:
    """Control charts of many series with Benjamini-Hochberg control across each family.

    ``values``: one row per chart, one column per month (NaN = month not covered): counts for
    ``kind`` "c" and "u" rows, the plotted values (counts or rates) for "xmr" rows.
    ``families``: the family of each row (rows sharing a key are adjusted together).
    ``exposure``: per row and month, for "u" rows (residents, days...).

    Returns per row: ``p_value`` (the chart's p-value), ``q_value`` (BH-adjusted within its
    family), ``signal`` (q < alpha), ``family_size``, ``p_above``, ``p_below``,
    ``p_long_run``, ``p_few_crossings``, ``n_above``, ``n_below`` (months outside the drawn
    limits), ``long_run``, ``few_crossings`` (rules that reach the family's threshold),
    ``longest_run``, ``crossings``; per row and month: ``centre``, ``lcl``, ``ucl`` (units of
    ``values``; a month is outside when below ``lcl`` or above ``ucl``) and ``point`` (+1
    above, -1 below, 0 inside).
    """
    if not (isinstance(alpha, int | float) and 0 < alpha < 1):
        raise ParameterError(
            f"The 'alpha' parameter of family_spc must be in (0, 1). Got {alpha!r}."
        )
    x = np.asarray(values, dtype=float)
    k = np.asarray(kind, dtype=object)
    fam = np.asarray(families, dtype=object)
    if x.ndim != 2 or len(k) != len(x) or len(fam) != len(x):
        raise ParameterError(
            "family_spc needs one row of values, one kind and one family per chart."
        )
    ex = None if exposure is None else np.asarray(exposure, dtype=float)
    if (k == "u").any() and (
        ex is None or np.any((~np.isnan(x) & ~(np.broadcast_to(ex, x.shape) > 0))[k == "u"])
    ):
        raise ParameterError(
            "The u-charts of family_spc need an exposure > 0 in every covered month."
        )
    centre, share, total, sigma = _centre_and_shares(x, k, ex)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - centre) / sigma[:, None]
    up, down = _point_tails(x, k, share, total, z)
    t_cov = np.maximum((~np.isnan(x)).sum(axis=1), 1)
    is_c = k == "c"
    up_min, down_min = up.min(axis=1), down.min(axis=1)
    if is_c.any():
        up_min[is_c], down_min[is_c] = _c_row_tails(x[is_c], total[is_c], t_cov[is_c])
    p_above = np.minimum(1.0, t_cov * up_min)
    p_below = np.minimum(1.0, t_cov * down_min)
    n1, n2, longest, runs = _run_stats(x, centre)
    p_long, p_few = runs_pvalues(n1, n2, longest, runs)
    p = np.minimum(1.0, RULES_IN_CHART_P * np.minimum.reduce([p_above, p_below, p_long, p_few]))
    q = bh_adjust_grouped(p, fam)
    signal = q < alpha
    codes, uniq = _factor(fam)
    size = np.bincount(codes, minlength=len(uniq))
    best = np.zeros(len(uniq))
    np.maximum.at(best, codes[signal], p[signal])
    thr = np.maximum(alpha / size, best)[codes]  # the family's p-value threshold t*
    tail = thr / (RULES_IN_CHART_P * t_cov)  # per month and side
    lcl, ucl = _limits(x, k, share, total, centre, sigma, tail)
    point = np.where(up <= tail[:, None], 1, np.where(down <= tail[:, None], -1, 0))
    with np.errstate(invalid="ignore"):  # c-charts: a month beyond its row's exact limits
        point[is_c] = np.where(x[is_c] > ucl[is_c], 1, np.where(x[is_c] < lcl[is_c], -1, 0))
    point = np.where(np.isnan(x), 0, point)
    return {
        "centre": centre,
        "lcl": lcl,
        "ucl": ucl,
        "point": point,
        "p_value": p,
        "q_value": q,
        "signal": signal,
        "family_size": size[codes],
        "p_above": p_above,
        "p_below": p_below,
        "p_long_run": p_long,
        "p_few_crossings": p_few,
        "n_above": (point == 1).sum(axis=1),
        "n_below": (point == -1).sum(axis=1),
        "long_run": RULES_IN_CHART_P * p_long <= thr,
        "few_crossings": RULES_IN_CHART_P * p_few <= thr,
        "longest_run": longest,
        "crossings": np.maximum(runs - 1, 0),
    }


def _factor(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniq, codes = np.unique(keys.astype(str), return_inverse=True)
    return codes.reshape(-1), uniq


def _limits(
    x: np.ndarray,
    kind: np.ndarray,
    share: np.ndarray,
    total: np.ndarray,
    centre: np.ndarray,
    sigma: np.ndarray,
    tail: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Probability limits at the per-month tail: binomial quantiles (c, u) or normal (XmR)."""
    cov = ~np.isnan(x)
    lcl, ucl = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    q = np.broadcast_to(tail[:, None], x.shape)

    def quantiles(qq: np.ndarray, n: np.ndarray, p: np.ndarray) -> tuple[np.ndarray, ...]:
        return on_unique(
            lambda a, b, c: (stats.binom.isf(a, b, c), stats.binom.ppf(a, b, c)), qq, n, p
        )

    is_c = kind == "c"
    if is_c.any():  # one limit per c-chart row (every month has the same share)
        t_cov = np.maximum(cov[is_c].sum(axis=1), 1)
        hi, lo = quantiles(tail[is_c], total[is_c], 1.0 / t_cov)
        ucl[is_c] = np.where(cov[is_c], hi[:, None], np.nan)
        lcl[is_c] = np.where(cov[is_c], lo[:, None], np.nan)
    pois = cov & (kind == "u")[:, None]
    if pois.any():  # u-charts: per month
        s = np.broadcast_to(total[:, None], x.shape)
        ucl[pois], lcl[pois] = quantiles(q[pois], s[pois], share[pois])
    xmr = cov & (kind == "xmr")[:, None]
    half = stats.norm.isf(q) * sigma[:, None]
    ucl[xmr], lcl[xmr] = (centre + half)[xmr], (centre - half)[xmr]
    return lcl, ucl
