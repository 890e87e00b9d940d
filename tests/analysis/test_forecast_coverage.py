"""Coverage over the crime-possible cells, tie-averaged scores and proper scores per event
(issue 12 item 6): hand examples with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from peelian.analysis.forecast import (
    CRIME_POSSIBLE,
    WHOLE_FORCE,
    AllHistory,
    CountCube,
    MovingAverage,
    backtest,
    crime_possible,
    evaluate_forecast,
    flag_share,
    jaccard,
    make_models,
    period_index,
    poisson_deviance,
    tie_rank,
)

KM2 = 1e6


def test_ties_at_the_boundary_enter_with_their_expected_share() -> None:
    # all-history counts 2, 1, 1, 0 on four 1 km^2 cells; flag half the area (2 cells):
    # cell 0 wholly, then one of the tied cells 1 and 2 at random -> each has share 1/2
    score = np.array([2.0, 1.0, 1.0, 0.0])
    area = np.full(4, KM2)
    share = flag_share(score, area, 0.5)
    np.testing.assert_allclose(share, [1.0, 0.5, 0.5, 0.0])
    observed = np.array([0.0, 2.0, 0.0, 1.0])  # N = 3
    row = evaluate_forecast(score, observed, area, coverages=(0.5,)).iloc[0]
    # expected hits over the two equally likely tie-breaks: (2 + 0) / 2 = 1
    assert row["hits"] == pytest.approx(1.0)
    assert row["hit_rate"] == pytest.approx(1 / 3)
    assert row["pai"] == pytest.approx((1 / 3) / 0.5)
    # perfect: cells 1 (2 events) and 3 (1 event) -> 3 hits; PEI = 1 / 3
    assert row["perfect_hits"] == pytest.approx(3.0)
    assert row["pei"] == pytest.approx(1 / 3)
    assert row["flagged_cells"] == pytest.approx(2.0)
    assert row["flagged_km2"] == pytest.approx(2.0)


def test_tie_average_equals_the_mean_over_every_tie_break() -> None:
    rng = np.random.default_rng(3)
    score = rng.integers(0, 3, 12).astype(float)
    area = np.full(12, KM2)
    observed = rng.poisson(1.0, 12).astype(float)
    coverage = 5 / 12
    got = evaluate_forecast(score, observed, area, coverages=(coverage,))["hits"].iloc[0]
    hits = []
    for _ in range(4000):  # random tie-breaks: take the 5 best cells, ties in random order
        order = np.lexsort((rng.random(12), -score))
        hits.append(observed[order[:5]].sum())
    assert got == pytest.approx(np.mean(hits), abs=0.05)


def test_pai_and_pei_at_coverage_of_the_crime_possible_cells() -> None:
    # ten 1 km^2 cells; only cells 0-3 are crime-possible (the rest is moor)
    area = np.full(10, KM2)
    domain = np.zeros(10, bool)
    domain[:4] = True
    expected = np.array([0.1, 4.0, 1.0, 0.5, 9.0, 0, 0, 0, 0, 0])  # cell 4 is outside the domain
    observed = np.array([5.0, 3.0, 2.0, 0.0, 1.0, 0, 0, 0, 0, 1.0])  # N = 12
    ev = evaluate_forecast(expected, observed, area, coverages=(0.25, 0.5), domain=domain)
    q = ev.iloc[0]  # 25 % of the 4 km^2 domain = cell 1 (never cell 4, outside the domain)
    assert q["domain_cells"] == 4 and q["domain_km2"] == pytest.approx(4.0)
    assert q["flagged_km2"] == pytest.approx(1.0)
    assert q["hits"] == pytest.approx(3.0)
    assert q["hit_rate"] == pytest.approx(3 / 12)  # events outside the domain are misses
    assert q["pai"] == pytest.approx((3 / 12) / 0.25)
    assert q["perfect_hits"] == pytest.approx(5.0)  # cell 0, the domain's best
    assert q["pei"] == pytest.approx(3 / 5)
    assert q["events_outside_domain"] == pytest.approx(2.0)
    h = ev.iloc[1]  # half the domain: cells 1 and 2 -> 5 hits; perfect: cells 0 and 1 -> 8
    assert h["pai"] == pytest.approx((5 / 12) / 0.5)
    assert h["pei"] == pytest.approx(5 / 8)
    # over the whole force, 25 % is 2.5 km^2: cells 4 and 1 and half of cell 2
    whole = evaluate_forecast(expected, observed, area, coverages=(0.25,)).iloc[0]
    assert whole["domain_cells"] == 10
    assert whole["hits"] == pytest.approx(1.0 + 3.0 + 0.5 * 2.0)
    assert whole["pai"] == pytest.approx((5 / 12) / 0.25)


def test_log_likelihood_and_deviance_per_event_match_scipy() -> None:
    lam = np.array([0.5, 2.0, 0.0, 1.5])
    y = np.array([1.0, 0.0, 2.0, 3.0])
    row = evaluate_forecast(lam, y, np.full(4, KM2), coverages=(0.5,)).iloc[0]
    floored = np.maximum(lam, 1e-4)
    assert row["ll_per_event"] == pytest.approx(poisson.logpmf(y, floored).sum() / 6)
    # deviance = 2 [log P(y | y) - log P(y | lambda)], summed over cells
    dev = 2 * (poisson.logpmf(y, np.maximum(y, 1e-300)).sum() - poisson.logpmf(y, floored).sum())
    assert poisson_deviance(lam, y) == pytest.approx(dev)
    assert row["deviance_per_event"] == pytest.approx(dev / 6)
    assert poisson_deviance(y + 1, y + 1) == pytest.approx(0.0)  # a perfect forecast


def test_tie_rank_and_weighted_jaccard() -> None:
    assert tie_rank(np.array([1.0, 3.0, 3.0, 0.0, 1.0])).tolist() == [3, 1, 1, 5, 3]
    a = np.array([1.0, 0.5, 0.5, 0.0])
    b = np.array([1.0, 1.0, 0.0, 0.0])
    assert jaccard(a, b) == pytest.approx((1 + 0.5) / (1 + 1 + 0.5))
    assert jaccard(a > 0.9, b > 0.9) == pytest.approx(0.5)


def _context_cube() -> CountCube:
    """Four 1 km^2 cells, five months. Cell 3 has its first event (of any type) in the last
    month: it must not be crime-possible when that month is forecast."""
    counts = np.array(
        [[2, 1, 2, 1, 2], [0, 1, 0, 1, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 3]], dtype=float
    )
    context = counts.copy()
    context[2] = [0, 1, 0, 0, 0]  # an event of another type in cell 2
    return CountCube(
        counts=counts,
        x=np.array([500.0, 1500.0, 2500.0, 3500.0]),
        y=np.full(4, 500.0),
        area=np.full(4, KM2),
        periods=period_index("2022-01", "2022-05", "M"),
        cell_size=1000.0,
        context=context,
    )


def test_crime_possible_uses_every_type_and_never_the_test_month() -> None:
    cube = _context_cube()
    mask, rule = crime_possible(cube.window(4))
    assert mask.tolist() == [True, True, True, False]  # cell 3 only has events in May
    assert "any type" in rule and "2022-01 to 2022-04" in rule
    assert crime_possible(cube)[0].tolist() == [True, True, True, True]
    # without a context, the cube's own type stands in (and the rule says so)
    own = CountCube(counts=cube.counts[:, :4], x=cube.x, y=cube.y, area=cube.area,
                    periods=cube.periods[:4], cell_size=1000.0)  # fmt: skip
    mask, rule = crime_possible(own)
    assert mask.tolist() == [True, True, False, False] and "this type" in rule


def test_backtest_scores_the_crime_possible_cells_of_the_training_months() -> None:
    cube = _context_cube()
    res = backtest(cube, {"ma": MovingAverage(k=2)}, ["2022-05"], coverages=(1 / 3,))
    r = res.results.set_index("area_basis")
    cp, wf = r.loc[CRIME_POSSIBLE], r.loc[WHOLE_FORCE]
    assert cp["domain_cells"] == 3 and cp["domain_km2"] == pytest.approx(3.0)
    # moving average of Mar-Apr: 1.5, 0.5, 0; a third of the 3 km^2 is cell 0: 2 of 6 events
    assert cp["hits"] == pytest.approx(2.0) and cp["n_events"] == 6
    assert cp["events_outside_domain"] == pytest.approx(3.0)  # cell 3's novel events
    assert wf["domain_cells"] == 4 and wf["flagged_km2"] == pytest.approx(4 / 3)
    assert res.params["crime_possible_rule"].startswith("cells with at least one police.uk")
    # skill is measured against the all-history counts, fitted as the reference
    ref = AllHistory().fit(cube.window(4)).predict().expected
    ref_row = evaluate_forecast(ref, cube.counts[:, 4], cube.area, coverages=(1 / 3,),
                                domain=np.array([True, True, True, False])).iloc[0]  # fmt: skip
    assert cp["pai_skill"] == pytest.approx(cp["pai"] / ref_row["pai"] - 1)
    assert cp["ll_gain"] == pytest.approx(cp["ll_per_event"] - ref_row["ll_per_event"])


def test_summary_counts_the_months_a_model_beats_all_history() -> None:
    cube = _context_cube()
    models = make_models("all_history,last_period")
    res = backtest(cube, models, ["2022-04", "2022-05"], coverages=(0.5,))
    s = res.summary.set_index(["model", "area_basis"])
    assert s.loc[("all_history", CRIME_POSSIBLE), "pai_months_better"] == 0
    assert s.loc[("all_history", CRIME_POSSIBLE), "pai_skill_mean"] == pytest.approx(0.0)
    assert s.loc[("all_history", CRIME_POSSIBLE), "n_periods"] == 2
    assert set(res.summary["coverage"]) == {50.0}


def test_forecast_map_flags_ties_as_the_scores_count_them() -> None:
    cube = _context_cube()
    fc = AllHistory().fit(cube.window(4)).predict()  # expected 1.5, 0.5, 0, 0
    frame = fc.to_frame(0.5)  # half of the 3 crime-possible km^2: cell 0 and half of cell 1
    assert frame["crime_possible"].tolist() == [True, True, True, False]
    np.testing.assert_allclose(frame["flag_share"], [1.0, 0.5, 0.0, 0.0])
    assert frame["flagged"].tolist() == [True, False, False, False]
    assert frame["tied"].tolist() == [False, True, False, False]
    assert frame["rank"].tolist() == [1, 2, 3, 3]  # cells 2 and 3 tie at 0: one shared rank
    stated = fc.coverage_statement(0.5)
    assert stated["domain_cells"] == 3 and stated["domain_km2"] == pytest.approx(3.0)
    assert stated["flagged_cells"] == 1 and stated["tied_cells"] == 1
    assert stated["expected_flagged_km2"] == pytest.approx(1.5)
    whole = fc.coverage_statement(0.5, WHOLE_FORCE)
    assert whole["domain_cells"] == 4 and whole["expected_flagged_km2"] == pytest.approx(2.0)


def test_churn_is_the_weighted_jaccard_of_flag_shares() -> None:
    cube = _context_cube()
    res = backtest(cube, {"all_history": AllHistory()}, ["2022-04", "2022-05"], coverages=(0.5,))
    r = res.results[res.results["area_basis"] == CRIME_POSSIBLE].set_index("month")
    # April: all-history over Jan-Mar = 5/3, 1/3, 0 on 3 possible cells -> shares 1, 0.5, 0
    # May:   over Jan-Apr = 1.5, 0.5, 0 -> the same shares: churn 1
    assert np.isnan(r.loc["2022-04", "churn_jaccard"])
    assert r.loc["2022-05", "churn_jaccard"] == pytest.approx(1.0)
    assert isinstance(res.results, pd.DataFrame)


def test_build_cube_counts_the_context_of_every_type() -> None:
    from pathlib import Path

    import shapely

    from peelian.analysis.forecast import build_cube, feature_names
    from peelian.analysis.grid import square_grid

    fixture = Path(__file__).parents[1] / "fixtures" / "forecast" / "newcastle_events.csv.gz"
    events = pd.read_csv(fixture)
    grid = square_grid(shapely.box(422000, 561000, 428000, 567000), 250)
    burglary = events[events["category"] == "Burglary"]
    cube, report = build_cube(grid, burglary, context_events=events)
    assert report["context_read"] == len(events)
    assert cube.context.sum() == report["context_counted"] <= len(events)
    assert set(cube.context_types) == {"Burglary", "Violence and sexual offences"}
    np.testing.assert_allclose(sum(cube.context_types.values()), cube.context)
    np.testing.assert_allclose(cube.context_types["Burglary"], cube.counts)
    names = feature_names(cube)
    assert {"ctx_all", "ctx_nb", "type_Burglary", "type_Violence and sexual offences"} <= set(names)
    # a window keeps the context of its own months only
    w = cube.window(10)
    assert w.context.shape == (cube.n_cells, 10) and w.context_types["Burglary"].shape[1] == 10
