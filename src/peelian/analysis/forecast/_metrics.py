"""How good is a grid forecast? Hit rate, PAI, PEI, RRI and proper scores.

Definitions (peelian DOMAIN.md section 5):

- **Hit rate** HR(c) = n / N: the share of the period's N events that fall in the flagged cells,
  the highest-ranked cells whose in-area area covers the fraction c of the scored area. N counts
  every event of the period in the force area, so events outside the scored area are misses.
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
- **Poisson log-likelihood** of the observed counts under the forecast means (a proper score;
  Gneiting & Raftery 2007, "Strictly proper scoring rules, prediction, and estimation", JASA 102:
  359-378), summed over every cell of the force and divided by the period's events
  (``ll_per_event``), with expected counts floored at :data:`LAMBDA_FLOOR` so a zero forecast for
  a cell that has events scores finitely; ``log_lik`` is the same sum per cell.
- **Poisson deviance** per event, 2 sum[y log(y / lambda) - (y - lambda)] / N (McCullagh & Nelder
  1989, "Generalized Linear Models", section 2.3): 0 for a forecast equal to the outcome.
- **Brier score** (Brier 1950) of P(count > 0) = 1 - exp(-lambda) against whether the cell had
  any event, mean over cells.

**The scored area.** A share of the whole force area is mostly moorland, forest and sea-edge where
police.uk records nothing, so "5 % of the force" is hundreds of km^2 and PAI saturates near its
ceiling of 1 / c. Coverage is therefore measured over the *crime-possible* cells
(:func:`crime_possible`): cells with at least one police.uk event of any type in the training
periods (never the test period: no look-ahead). Passing ``domain=None`` scores over the whole
force instead (labelled so wherever it is shown).

Coverage is measured on in-area cell area (cells clipped to the study area). A forecast flags
cells in order of expected events (a sliver of a cell cut by the coast is not promoted by its
tiny area). The perfect forecast flags cells in order of observed events per km^2, which is the
most events any choice of that much area can hold, so PEI <= 1. **Ties** at the coverage boundary
are counted in expectation (:func:`flag_share`): the tied group enters with the fraction of its
area that fills the coverage exactly, which equals the mean over random tie-breaks. So the
flagged area is exactly c of the scored area for every model, and a model with many ties (the
all-history counts, the last period) is neither favoured nor penalised by an arbitrary order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.special import gammaln, xlogy

from peelian.errors import ParameterError, SchemaError

__all__ = [
    "COVERAGES",
    "DEFAULT_COVERAGE",
    "LAMBDA_FLOOR",
    "brier_score",
    "capture",
    "evaluate_forecast",
    "flag_cells",
    "flag_share",
    "jaccard",
    "poisson_deviance",
    "poisson_log_likelihood",
    "tie_rank",
]

#: The shares of the scored area the backtest reports (0.1, 0.5, 1, 2 and 5 %).
COVERAGES: tuple[float, ...] = (0.001, 0.005, 0.01, 0.02, 0.05)

#: The coverage maps and plans flag by default: 1 % of the crime-possible area (on the
#: Northumbria 250 m grid about 63 cells, 4 km^2: a patrol lead can cover it).
DEFAULT_COVERAGE: float = 0.01

#: Smallest expected count used in the Poisson log-likelihood (documented; avoids log(0)).
LAMBDA_FLOOR: float = 1e-4


def _check_coverage(coverage: float) -> None:
    if not (0 < coverage <= 1):
        raise ParameterError(
            f"The 'coverage' parameter must be a fraction of the area in (0, 1]. Got {coverage}.",
            "Use 0.01 for 1% of the area.",
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


def flag_share(
    score: np.ndarray, area: np.ndarray, coverage: float, domain: np.ndarray | None = None
) -> np.ndarray:
    """Each cell's expected share of being flagged when the highest-``score`` cells of ``domain``
    (default: all cells) are taken until their area is ``coverage`` of the domain's area, ties at
    the boundary broken at random: 1 for cells wholly inside, the same fraction f in (0, 1) for
    every cell of the tied group at the boundary (f x its area fills the coverage exactly), 0 for
    the rest and for cells outside ``domain``."""
    _check_coverage(coverage)
    score = np.asarray(score, dtype=float)
    area = np.asarray(area, dtype=float)
    share = np.zeros(len(score))
    idx = np.arange(len(score)) if domain is None else np.flatnonzero(domain)
    if not len(idx):
        return share
    order, starts, sizes = _groups(score[idx])
    g_area = np.add.reduceat(area[idx][order], starts)
    cum = np.cumsum(g_area)
    target = coverage * cum[-1]
    full = int(np.searchsorted(cum, target * (1 + 1e-12), side="right"))  # groups wholly inside
    group_share = np.zeros(len(starts))
    group_share[:full] = 1.0
    if full < len(starts):
        covered = cum[full - 1] if full else 0.0
        group_share[full] = min(max((target - covered) / g_area[full], 0.0), 1.0)
    share[idx[order]] = np.repeat(group_share, sizes)
    return share


def capture(
    score: np.ndarray,
    area: np.ndarray,
    values: Sequence[np.ndarray],
    coverage: float,
    domain: np.ndarray | None = None,
) -> list[float]:
    """Sum of each array in ``values`` over the top-``score`` cells covering ``coverage`` of the
    area of ``domain``, the tie group at the boundary entering fractionally (its expected share)."""
    share = flag_share(score, area, coverage, domain)
    return [float(np.dot(share, np.asarray(v, dtype=float))) for v in values]


def flag_cells(
    score: np.ndarray, area: np.ndarray, coverage: float, domain: np.ndarray | None = None
) -> np.ndarray:
    """Boolean mask of the cells wholly inside the flagged area (share 1 in :func:`flag_share`).
    Cells tied at the boundary are not in it: show them as "tied" (``0 < share < 1``), as the
    scores count them, rather than picking some by an arbitrary order."""
    return flag_share(score, area, coverage, domain) >= 1.0


def tie_rank(score: np.ndarray) -> np.ndarray:
    """1 = most expected events; tied cells share the best rank of their group (competition
    ranking), so no cell is ranked above an equal one by its position in the grid."""
    s = -np.asarray(score, dtype=float)
    ordered = np.sort(s)
    return np.searchsorted(ordered, s, side="left").astype(np.int64) + 1


def poisson_log_likelihood(expected: np.ndarray, observed: np.ndarray) -> float:
    """Mean over cells of log P(observed | Poisson(expected)), expected floored at
    :data:`LAMBDA_FLOOR`."""
    lam = np.maximum(np.asarray(expected, dtype=float), LAMBDA_FLOOR)
    y = np.asarray(observed, dtype=float)
    return float(np.mean(y * np.log(lam) - lam - gammaln(y + 1)))


def poisson_deviance(expected: np.ndarray, observed: np.ndarray) -> float:
    """Total Poisson deviance 2 sum[y log(y / lambda) - (y - lambda)], expected floored at
    :data:`LAMBDA_FLOOR` (y log y = 0 at y = 0)."""
    lam = np.maximum(np.asarray(expected, dtype=float), LAMBDA_FLOOR)
    y = np.asarray(observed, dtype=float)
    return float(2.0 * np.sum(xlogy(y, y) - xlogy(y, lam) - (y - lam)))


def brier_score(expected: np.ndarray, observed: np.ndarray) -> float:
    """Mean over cells of (P(count > 0) - 1[observed > 0])^2 with P = 1 - exp(-expected)."""
    p = 1.0 - np.exp(-np.asarray(expected, dtype=float))
    o = (np.asarray(observed) > 0).astype(float)
    return float(np.mean((p - o) ** 2))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Overlap of two flagged maps: |A and B| / |A or B| for boolean masks, and the weighted form
    sum(min) / sum(max) (Ruzicka) for flag shares, so tied cells count by their share."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    union = float(np.maximum(a, b).sum())
    return float(np.minimum(a, b).sum() / union) if union else 1.0


def evaluate_forecast(
    expected: np.ndarray,
    observed: np.ndarray,
    area: np.ndarray,
    coverages: Sequence[float] = COVERAGES,
    *,
    domain: np.ndarray | None = None,
) -> pd.DataFrame:
    """Score one forecast against one period's observed counts.

    ``domain`` (boolean per cell, e.g. :func:`crime_possible`) is the scored area: coverage is a
    fraction of its area and only its cells are flagged; ``None`` scores over every cell. Returns
    one row per coverage with: coverage (fraction of the scored area), hit_rate, pai, pei, rri,
    hits (expected events captured), perfect_hits, predicted_in_flagged, flagged_cells (expected
    number), flagged_km2, domain_cells, domain_km2, n_events, events_outside_domain, and the
    scores that do not depend on coverage: ll_per_event, deviance_per_event (over every cell),
    log_lik (per cell) and brier. HR, PAI, PEI and RRI are NaN when the period has no events.
    """
    expected = np.asarray(expected, dtype=float)
    observed = np.asarray(observed, dtype=float)
    area = np.asarray(area, dtype=float)
    if not (expected.shape == observed.shape == area.shape) or expected.ndim != 1:
        raise SchemaError("expected, observed and area must be 1-d arrays of the same length.")
    if np.any(area <= 0):
        raise SchemaError("Every cell's area must be > 0.")
    if domain is not None:
        domain = np.asarray(domain, dtype=bool)
        if domain.shape != expected.shape:
            raise SchemaError("The scored-area mask must have one value per cell.")
    inside = np.ones(len(area), dtype=bool) if domain is None else domain
    km2 = area / 1e6
    n_events = float(observed.sum())
    lam = np.maximum(expected, LAMBDA_FLOOR)
    ll_sum = float(np.sum(observed * np.log(lam) - lam - gammaln(observed + 1)))
    dev = poisson_deviance(expected, observed)
    common = {
        "domain_cells": int(inside.sum()),
        "domain_km2": float(km2[inside].sum()),
        "n_events": n_events,
        "events_outside_domain": float(observed[~inside].sum()),
        "ll_per_event": ll_sum / n_events if n_events > 0 else np.nan,
        "deviance_per_event": dev / n_events if n_events > 0 else np.nan,
        "log_lik": ll_sum / len(area),
        "brier": brier_score(expected, observed),
    }
    rows = []
    for c in coverages:
        share = flag_share(expected, area, c, domain)
        hits, pred = float(share @ observed), float(share @ expected)
        (best,) = capture(observed / km2, area, [observed], c, domain)
        hr = hits / n_events if n_events > 0 else np.nan
        rows.append(
            {
                "coverage": float(c),
                "hit_rate": hr,
                "pai": hr / c if n_events > 0 else np.nan,
                "pei": hits / best if best > 0 else np.nan,
                "rri": pred / hits if hits > 0 else np.nan,
                "hits": hits,
                "perfect_hits": best,
                "predicted_in_flagged": pred,
                "flagged_cells": float(share.sum()),
                "flagged_km2": float(share @ km2),
                **common,
            }
        )
    return pd.DataFrame(rows)
