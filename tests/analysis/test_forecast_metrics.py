"""Forecast metrics on hand-computed examples (DOMAIN.md section 5 definitions)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from peelian.analysis.forecast import (
    LAMBDA_FLOOR,
    brier_score,
    capture,
    evaluate_forecast,
    flag_cells,
    jaccard,
    poisson_log_likelihood,
)
from peelian.errors import ParameterError, SchemaError

KM2 = 1e6
OBS = np.array([5.0, 3.0, 2.0, 0.0])  # N = 10 events in four 1 km^2 cells
EXP = np.array([0.1, 4.0, 1.0, 0.0])  # ranks: cell 1, cell 2, cell 0, cell 3
AREA = np.full(4, KM2)


def _row(frame, c):
    return frame[np.isclose(frame["coverage"], c)].iloc[0]


def test_hit_rate_pai_pei_rri_by_hand() -> None:
    ev = evaluate_forecast(EXP, OBS, AREA, coverages=(0.25, 0.5, 0.375))
    one = _row(ev, 0.25)  # flags cell 1 (3 events); perfect flags cell 0 (5 events)
    assert one["hit_rate"] == pytest.approx(0.3)
    assert one["pai"] == pytest.approx(0.3 / 0.25)
    assert one["pei"] == pytest.approx(1.2 / 2.0)
    assert one["rri"] == pytest.approx(4.0 / 3.0)
    half = _row(ev, 0.5)  # cells 1 and 2: 5 events; perfect: cells 0 and 1, 8 events
    assert half["hit_rate"] == pytest.approx(0.5)
    assert half["pai"] == pytest.approx(1.0)
    assert half["pei"] == pytest.approx(5 / 8)
    assert half["rri"] == pytest.approx(5.0 / 5.0)
    # 1.5 cells: cell 1 and half of cell 2 -> 3 + 1 = 4 events expected
    frac = _row(ev, 0.375)
    assert frac["hits"] == pytest.approx(4.0)
    assert frac["pai"] == pytest.approx(0.4 / 0.375)
    assert (ev["n_events"] == 10).all()


def test_ties_count_in_expectation() -> None:
    ev = evaluate_forecast(np.ones(4), OBS, AREA, coverages=(0.25,))
    # all four cells tied: a random quarter of the area catches a quarter of the events
    assert ev["hits"].iloc[0] == pytest.approx(2.5)
    assert ev["pai"].iloc[0] == pytest.approx(1.0)


def test_coverage_is_measured_on_clipped_area() -> None:
    area = np.array([KM2, 0.5 * KM2, KM2, 0.5 * KM2])  # total 3 km^2
    exp = np.array([0.0, 2.0, 1.0, 0.0])  # densities: 0, 4, 1, 0 per km^2
    ev = evaluate_forecast(exp, OBS, area, coverages=(0.5 / 3,))
    row = ev.iloc[0]
    # the flagged area is exactly cell 1 (0.5 km^2 = 1/6 of the area): 3 of 10 events
    assert row["hit_rate"] == pytest.approx(0.3)
    assert row["pai"] == pytest.approx(0.3 * 6)
    assert row["pei"] == pytest.approx(1.0)  # cell 1 also has the most events per km^2
    mask = flag_cells(exp, area, 0.5 / 3)
    assert mask.tolist() == [False, True, False, False]


def test_slivers_are_ranked_by_expected_events_not_density() -> None:
    # cell 3 is a 1% sliver (coast): 0.05 expected events is a high density but few events
    area = np.array([KM2, KM2, KM2, 0.01 * KM2])
    exp = np.array([1.0, 0.5, 0.2, 0.05])
    obs = np.array([2.0, 1.0, 0.0, 1.0])
    ev = evaluate_forecast(exp, obs, area, coverages=(1 / 3.01,)).iloc[0]
    assert ev["hits"] == pytest.approx(2.0)  # cell 0 is flagged first, not the sliver
    # the perfect forecast ranks by observed density: the sliver (100 per km^2) then cell 0
    assert ev["perfect_hits"] == pytest.approx(1.0 + 2.0 * (1 - 0.01))


def test_no_events_gives_nan_not_a_crash() -> None:
    ev = evaluate_forecast(EXP, np.zeros(4), AREA, coverages=(0.25,))
    assert np.isnan(ev["hit_rate"].iloc[0]) and np.isnan(ev["pai"].iloc[0])


def test_capture_sums_several_arrays() -> None:
    hits, pred = capture(EXP, AREA, [OBS, EXP], 0.5)
    assert (hits, pred) == (pytest.approx(5.0), pytest.approx(5.0))


def test_log_likelihood_and_brier_by_hand() -> None:
    lam = np.array([0.5, 2.0, 0.0])
    y = np.array([1.0, 0.0, 2.0])
    ll = poisson_log_likelihood(lam, y)
    want = np.mean(poisson.logpmf(y, np.maximum(lam, LAMBDA_FLOOR)))
    assert ll == pytest.approx(want)
    p = 1 - np.exp(-lam)
    assert brier_score(lam, y) == pytest.approx(np.mean((p - np.array([1, 0, 1])) ** 2))


def test_jaccard() -> None:
    a = np.array([True, True, False, False])
    b = np.array([False, True, True, False])
    assert jaccard(a, b) == pytest.approx(1 / 3)
    assert jaccard(a, a) == 1.0
    assert jaccard(np.zeros(3, bool), np.zeros(3, bool)) == 1.0


@pytest.mark.parametrize("bad", [0.0, -0.1, 1.5])
def test_bad_coverage_is_refused(bad: float) -> None:
    with pytest.raises(ParameterError, match="coverage"):
        evaluate_forecast(EXP, OBS, AREA, coverages=(bad,))


def test_shape_mismatch_is_refused() -> None:
    with pytest.raises(SchemaError):
        evaluate_forecast(EXP[:3], OBS, AREA)
