"""Wilson score intervals for proportions, vectorised.

Source: Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
*JASA* 22(158): 209-212; recommended by Brown, Cai & DasGupta (2001), *Statistical Science*
16(2): 101-133. Equal to ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy import stats

from peelian.errors import ParameterError

__all__ = ["wilson_interval"]


def wilson_interval(
    successes: npt.ArrayLike, n: npt.ArrayLike, level: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval ``(low, high)`` for ``successes / n`` (NaN where ``n = 0``).

    >>> low, high = wilson_interval(8, 10)
    >>> round(float(low), 4), round(float(high), 4)
    (0.4902, 0.9433)
    """
    if not 0 < level < 1:
        raise ParameterError(
            f"The 'level' parameter of wilson_interval must be between 0 and 1. Got {level!r}."
        )
    x = np.asarray(successes, dtype=float)
    m = np.asarray(n, dtype=float)
    if np.any((x < 0) | (x > m)):
        raise ParameterError(
            "The 'successes' parameter of wilson_interval must lie between 0 and n.",
            "Check that each group's successes were counted from its own responses.",
        )
    z = stats.norm.ppf(1 - (1 - level) / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = x / m
        denom = 1 + z**2 / m
        centre = (p + z**2 / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z**2 / (4 * m**2)) / denom
        low = np.where(m > 0, np.where(x == 0, 0.0, np.clip(centre - half, 0, 1)), np.nan)
        high = np.where(m > 0, np.where(x == m, 1.0, np.clip(centre + half, 0, 1)), np.nan)
    return low, high
