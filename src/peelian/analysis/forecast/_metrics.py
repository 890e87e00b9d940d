"""How good is a grid forecast? Hit rate, PAI, PEI, RRI and proper scores.

Definitions (peelian DOMAIN.md section 5):

- **Hit rate** HR(c) = n / N: the share of the period's N events that fall in the flagged cells,
  the highest-ranked cells whose in-area area covers the fraction c of the study area.
- **PAI**, the Prediction Accuracy Index (Chainey, Tompson & Uhlig 2008, "The utility of hotspot
  mapping for predicting spatial patterns of crime", Security Journal 21: 4-28):
  PAI = HR / c = (n / N) / (a / A).
- **PEI**, the Predictive Efficiency Index (Hunt 2016, "Do crime hot spots move? Exploring the
  effects of the modifiable areal unit problem and modifiable temporal unit problem on crime hot
  spot stability", PhD thesis, American University): PEI = PAI / PAI*, where PAI* is the PAI of a
  perfect forecast (the cells with the most observed events) flagging the same area; 0 to 1.
- **RRI** (after Levine 2008, "The 'hottest' part of a hotspot: comments on 'The utility of
  hotspot mapping ...'", Security Journal 21: 295-302): predicted events in the flagged area /
  observed events in it; 1 means calibrated where patrols go, > 1 over-predicts.
- **Poisson log-likelihood** of the observed counts under the forecast means, per cell (a proper
  score; Gneiting & Raftery 2007), with expected counts floored at :data:`LAMBDA_FLOOR` so a zero
  forecast for a cell that has events scores finitely.
- **Brier score** (Brier 1950) of P(count > 0) = 1 - exp(-lambda) against whether the cell had
  any event, mean over cells.

Coverage is measured on in-area cell area (cells clipped to the study area). A forecast flags
cells in order of expected events (a sliver of a cell cut by the coast is not promoted by its
tiny area). The perfect forecast flags cells in order of observed events per km^2, which is the
most events any choice of that much area can hold, so PEI <= 1. Cells tied at the coverage boundary
are counted in expectation: the tied group enters with the fraction of its area that fills the
coverage exactly, which equals the mean over random tie-breaks. So the flagged area is exactly
c of the study area for every model, and a model with many ties (the naive last period) is
neither favoured nor penalised by an arbitrary order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln

from peelian.errors import ParameterError, SchemaError

__all__ = [
    "COVERAGES",
    "LAMBDA_FLOOR",
    "brier_score",
    "capture",
    "evaluate_forecast",
    "flag_cells",
    "jaccard",
    "poisson_log_likelihood",
]

#: The shares of the study area the backtest reports (0.5, 1, 2, 5 and 10 %).
COVERAGES: tuple[float, ...] = (0.005, 0.01, 0.02, 0.05, 0.10)

#: Smallest expected count used in the Poisson log-likelihood (documented; avoids log(0)).
LAMBDA_FLOOR: float = 1e-4


def _check_coverage(coverage: float) -> None:
    if not (0 < coverage <= 1):
        raise ParameterError(
            f"The 'coverage' parameter must be a fraction of the area in (0, 1]. Got {coverage}.",
            "Use 0.05 for 5% of the area.",
        )


def _groups(score: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cells sorted by score (descending), with the start index and size of each tie group."""
    order = np.lexsort((np.arange(len(score)), -score))
    s = score[order]
    new = np.ones(len(s), dtype=bool)
    new[1:] = s[1:] != s[:-1]
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, len(s)))
    return order, starts, sizes


def capture(
    score: np.ndarray, area: np.ndarray, values: Sequence[np.ndarray], coverage: float
) -> list[float]:
    """Sum of each array in ``values`` over the top-``score`` cells covering ``coverage`` of the
    area, the tie group at the boundary entering fractionally (its expected share)."""
    _check_coverage(coverage)
    score = np.asarray(score, dtype=float)
    area = np.asarray(area, dtype=float)
    order, starts, sizes = _groups(score)
    target = coverage * area.sum()
    g_area = np.add.reduceat(area[order], starts)
    cum = np.cumsum(g_area)
    full = int(np.searchsorted(cum, target, side="right"))  # groups entirely inside
    covered = cum[full - 1] if full else 0.0
    frac = 0.0
    if full < len(starts):
        frac = min(max((target - covered) / g_area[full], 0.0), 1.0)
    out = []
    for v in values:
        g = np.add.reduceat(np.asarray(v, dtype=float)[order], starts)
        total = g[:full].sum() + (frac * g[full] if full < len(starts) else 0.0)
        out.append(float(total))
    return out


def flag_cells(score: np.ndarray, area: np.ndarray, coverage: float) -> np.ndarray:
    """Boolean mask of the highest-``score`` cells, in order, until their area first reaches
    ``coverage`` of the total (ties broken by cell order; used for maps and churn)."""
    _check_coverage(coverage)
    score = np.asarray(score, dtype=float)
    area = np.asarray(area, dtype=float)
    order = np.lexsort((np.arange(len(score)), -score))
    cum = np.cumsum(area[order])
    k = int(np.searchsorted(cum, coverage * area.sum() * (1 - 1e-12), side="left")) + 1
    mask = np.zeros(len(score), dtype=bool)
    mask[order[: min(k, len(score))]] = True
    return mask


def poisson_log_likelihood(expected: np.ndarray, observed: np.ndarray) -> float:
    """Mean over cells of log P(observed | Poisson(expected)), expected floored at
    :data:`LAMBDA_FLOOR`."""
    lam = np.maximum(np.asarray(expected, dtype=float), LAMBDA_FLOOR)
    y = np.asarray(observed, dtype=float)
    return float(np.mean(y * np.log(lam) - lam - gammaln(y + 1)))


def brier_score(expected: np.ndarray, observed: np.ndarray) -> float:
    """Mean over cells of (P(count > 0) - 1[observed > 0])^2 with P = 1 - exp(-expected)."""
    p = 1.0 - np.exp(-np.asarray(expected, dtype=float))
    o = (np.asarray(observed) > 0).astype(float)
    return float(np.mean((p - o) ** 2))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """|A and B| / |A or B| of two flagged-cell masks (1 = the same patrol map)."""
    a, b = np.asarray(a, dtype=bool), np.asarray(b, dtype=bool)
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


def evaluate_forecast(
    expected: np.ndarray,
    observed: np.ndarray,
    area: np.ndarray,
    coverages: Sequence[float] = COVERAGES,
) -> pd.DataFrame:
    """Score one forecast against one period's observed counts.

    Returns one row per coverage with: coverage (fraction of the area), hit_rate, pai, pei, rri,
    hits (expected events captured), perfect_hits, predicted_in_flagged, n_events, log_lik and
    brier (the last two do not depend on coverage). HR, PAI, PEI and RRI are NaN when the period
    has no events (nothing to hit).
    """
    expected = np.asarray(expected, dtype=float)
    observed = np.asarray(observed, dtype=float)
    area = np.asarray(area, dtype=float)
    if not (expected.shape == observed.shape == area.shape) or expected.ndim != 1:
        raise SchemaError("expected, observed and area must be 1-d arrays of the same length.")
    if np.any(area <= 0):
        raise SchemaError("Every cell's area must be > 0.")
    km2 = area / 1e6
    n_events = float(observed.sum())
    ll = poisson_log_likelihood(expected, observed)
    br = brier_score(expected, observed)
    rows = []
    for c in coverages:
        hits, pred = capture(expected, area, [observed, expected], c)
        (best,) = capture(observed / km2, area, [observed], c)
        hr = hits / n_events if n_events > 0 else np.nan
        pai = hr / c if n_events > 0 else np.nan
        pei = hits / best if best > 0 else np.nan
        rri = pred / hits if hits > 0 else np.nan
        rows.append(
            {
                "coverage": float(c),
                "hit_rate": hr,
                "pai": pai,
                "pei": pei,
                "rri": rri,
                "hits": hits,
                "perfect_hits": best,
                "predicted_in_flagged": pred,
                "n_events": n_events,
                "log_lik": ll,
                "brier": br,
            }
        )
    return pd.DataFrame(rows)
