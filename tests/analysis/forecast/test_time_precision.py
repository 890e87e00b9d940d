"""Daily and weekly count cubes: month-precision events are refused (what, why, how to fix);
minute-precision events are counted per day, and the self-exciting model fitted on them finds
near repeats where there are some and says plainly when there are none."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from peelian.analysis.forecast import (
    PRECISION_NEEDED,
    GridSEPP,
    build_cube,
    check_time_precision,
    crime_possible,
)
from peelian.analysis.grid import square_grid
from peelian.errors import DataPrecisionError

#: Four 500 m cells in a row (British National Grid metres).
GRID = square_grid(box(420000, 560000, 422000, 560500), 500)


def _events(times: list[str], eastings: list[float], precision: str = "minute") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "easting": eastings,
            "northing": [560250.0] * len(times),
            "reported_at": pd.to_datetime(times),
            "month": [t[:7] for t in times],
            "time_precision": precision,
            "category": "Burglary",
        }
    )


def test_police_uk_months_are_refused_for_days_and_weeks() -> None:
    ev = _events(["2022-03-01 00:00"] * 3, [420100.0] * 3, precision="month")
    for freq in ("D", "W"):
        with pytest.raises(DataPrecisionError) as err:
            build_cube(GRID, ev, freq=freq, time_column="reported_at")
        msg = str(err.value)
        assert "3 of the 3 events are dated only as: month (3)" in msg
        assert "police.uk records give the month of each crime, not the day" in msg
        assert err.value.hint is not None and "--freq M" in err.value.hint
        assert err.value.exit_code == 5
    # the police.uk 'month' column holds months: refused even without a precision column
    with pytest.raises(DataPrecisionError, match="'month' column holds only months"):
        build_cube(GRID, ev.drop(columns="time_precision"), freq="D")
    # a monthly cube of the same events is fine
    cube, _ = build_cube(GRID, ev, freq="M")
    assert cube.counts.sum() == 3


def test_mixed_precision_names_the_coarse_rows() -> None:
    ev = pd.concat(
        [_events(["2022-03-02 10:15"], [420100.0]),
         _events(["2022-03-01 00:00"] * 2, [420600.0] * 2, precision="month")],
        ignore_index=True,
    )  # fmt: skip
    with pytest.raises(DataPrecisionError, match="2 of the 3 events"):
        check_time_precision(ev, "D", "reported_at")
    check_time_precision(ev, "M", "month")  # months need only months
    assert PRECISION_NEEDED == {"M": "month", "W": "day", "D": "day"}


def test_minute_times_are_counted_per_day_with_force_record_context() -> None:
    ev = _events(
        ["2022-03-01 23:59", "2022-03-02 00:01", "2022-03-02 13:00", "2022-03-04 08:00"],
        [420100.0, 420100.0, 421600.0, 420100.0],
    )
    ctx = _events(["2022-03-01 12:00", "2022-03-03 12:00"], [420600.0, 421100.0])
    ctx["category"] = ["Shoplifting", "Drugs"]
    cube, report = build_cube(
        GRID, ev, freq="D", time_column="reported_at", context_events=pd.concat([ev, ctx]),
        context_by_type=False, context_source="force-record",
    )  # fmt: skip
    assert [str(p) for p in cube.periods] == [
        "2022-03-01",
        "2022-03-02",
        "2022-03-03",
        "2022-03-04",
    ]
    first = int(np.flatnonzero(cube.x < 420500)[0])
    third = int(np.flatnonzero((cube.x > 421500) & (cube.x < 422000))[0])
    np.testing.assert_array_equal(cube.counts[first], [1, 1, 0, 1])
    np.testing.assert_array_equal(cube.counts[third], [0, 1, 0, 0])
    assert report["events_counted"] == 4 and report["freq"] == "D"
    assert report["context_counted"] == 6
    assert cube.context_types == {}  # one cells x days array per type is not kept
    mask, rule = crime_possible(cube.window(3))
    assert mask.sum() == 4  # every cell had some record in the first three days
    assert rule.startswith("cells with at least one force-record event of any type")
    assert cube.window(2).context_source == "force-record"


def _hawkes_days(mu: np.ndarray, theta: float, omega: float, days: int, seed: int) -> list:
    """Event times (days) of a Hawkes process per cell: background mu per day, each event
    having Poisson(theta) offspring after Exponential(omega) delays."""
    rng = np.random.default_rng(seed)
    out = []
    for c, m in enumerate(mu):
        gen = list(rng.uniform(0, days, rng.poisson(m * days)))
        times = list(gen)
        while gen:
            nxt = []
            for t in gen:
                for d in rng.exponential(1 / omega, rng.poisson(theta)):
                    if t + d < days:
                        nxt.append(t + d)
            times += nxt
            gen = nxt
        out += [(c, t) for t in times]
    return out


def test_sepp_on_a_daily_cube_recovers_triggering_from_minute_times() -> None:
    grid = square_grid(box(420000, 560000, 440000, 561000), 1000)  # 20 cells of 1 km
    mu = np.random.default_rng(3).uniform(0.01, 0.03, grid.n_cells)
    pts = _hawkes_days(mu, 0.5, 0.15, 900, seed=4)
    start = pd.Timestamp("2019-01-01")
    ev = pd.DataFrame(
        {
            "easting": [grid.x[c] for c, _ in pts],
            "northing": [grid.y[c] for c, _ in pts],
            "reported_at": [start + pd.Timedelta(days=t) for _, t in pts],
            "time_precision": "minute",
        }
    )
    cube, report = build_cube(
        grid, ev, freq="D", time_column="reported_at",
        periods=pd.period_range("2019-01-01", periods=900, freq="D"),
    )  # fmt: skip
    assert report["events_counted"] == len(pts)
    m = GridSEPP(max_iter=1000, tol=1e-8).fit(cube)
    assert m.theta_ == pytest.approx(0.5, rel=0.15)
    assert m.omega_ == pytest.approx(0.15, rel=0.3)
    assert not m.collapsed_ and m.predict().warnings == ()


def test_sepp_on_daily_counts_without_repeats_says_it_is_the_data() -> None:
    rng = np.random.default_rng(8)
    grid = square_grid(box(420000, 560000, 440000, 561000), 1000)
    counts = rng.poisson(0.05, (grid.n_cells, 400))
    days = pd.period_range("2021-01-01", periods=400, freq="D")
    cells, t = np.nonzero(counts)
    reps = counts[cells, t]
    ev = pd.DataFrame(
        {
            "easting": np.repeat(grid.x[cells], reps),
            "northing": np.repeat(grid.y[cells], reps),
            "reported_at": np.repeat(days[t].to_timestamp() + pd.Timedelta(hours=12), reps),
            "time_precision": "minute",
        }
    )
    cube, _ = build_cube(grid, ev, freq="D", time_column="reported_at", periods=days)
    np.testing.assert_array_equal(cube.counts, counts)
    m = GridSEPP().fit(cube)
    assert m.collapsed_ and m.theta_ < 0.02
    (warning,) = m.predict().warnings
    assert "Counted per day, these events show no more repeats" in warning
    assert "dated only to the" not in warning
    # collapsed, the forecast is each cell's historical mean
    np.testing.assert_allclose(m.predict().expected, counts.mean(axis=1), rtol=0.05, atol=2e-3)
