"""Grip patrol plans: constraints, high-risk hours, 15-minute visits, determinism."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

from peelian.analysis.grid import square_grid
from peelian.analysis.grip import (
    DEFAULT_HOURLY_PROFILE,
    grip_plan,
    high_risk_hours,
    hourly_profile,
    schedule_visits,
    select_hotspots,
)
from peelian.errors import EmptySelectionError, ParameterError

FIXTURE = Path(__file__).parents[1] / "fixtures" / "forecast" / "newcastle_events.csv.gz"
START = dt.date(2022, 9, 5)


@pytest.fixture(scope="module")
def cells() -> pd.DataFrame:
    """150 m cells over central Newcastle scored by 12 months of real police.uk violence."""
    ev = pd.read_csv(FIXTURE)
    ev = ev[(ev["category"] == "Violence and sexual offences") & (ev["month"] >= "2021-09")]
    grid = square_grid(shapely.box(422000, 561000, 428000, 567000), 150)
    pos = grid.locate_events(ev)
    n = np.bincount(pos[pos >= 0], minlength=grid.n_cells).astype(float)
    frame = pd.DataFrame(
        {"cell_id": grid.cell_ids, "x": grid.x, "y": grid.y, "area": grid.area,
         "score": n * 194.21, "harm": n * 194.21}
    )  # fmt: skip
    # four "wards": the quadrants of the square
    frame["area_code"] = np.where(frame["x"] < 425000, "W", "E") + np.where(
        frame["y"] < 564000, "S", "N"
    )
    return frame


def test_selection_respects_separation_and_cap(cells: pd.DataFrame) -> None:
    chosen, skipped = select_hotspots(cells, 12, min_separation=400, max_per_area=4)
    assert len(chosen) == 12
    xy = chosen[["x", "y"]].to_numpy()
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    assert d[np.triu_indices(12, 1)].min() >= 400
    assert chosen["area_code"].value_counts().max() <= 4
    assert skipped["separation"] > 0  # the city centre's neighbouring cells were passed over
    assert chosen["rank"].tolist() == list(range(1, 13))
    # without constraints the top cells are simply the highest-harm ones
    plain, _ = select_hotspots(cells, 12)
    assert plain["harm"].tolist() == sorted(cells["harm"], reverse=True)[:12]


def test_hourly_profile_and_high_risk_hours() -> None:
    times = pd.Series(pd.to_datetime(["2022-01-01 23:10", "2022-01-02 23:50", "2022-01-03 01:00",
                                      "2022-01-03 12:00"]))  # fmt: skip
    prof = hourly_profile(times, np.array([1.0, 1.0, 1.0, 10.0]))
    assert prof[23] == 2 and prof[1] == 1 and prof[12] == 10 and prof.sum() == 13
    assert high_risk_hours(prof, share=0.5, min_hours=1) == [12]
    assert high_risk_hours(prof, share=0.9, min_hours=1) == [12, 23]
    assert high_risk_hours(prof, share=0.5, min_hours=2) == [12, 23]
    assert high_risk_hours(prof, share=0.5, min_hours=5) == [12, 23, 1]  # only hours with harm
    assert high_risk_hours(DEFAULT_HOURLY_PROFILE)[:2] == [22, 23]


def test_visits_are_15_minutes_inside_high_risk_hours_and_seeded() -> None:
    hs = pd.DataFrame({"rank": [1, 2], "cell_id": ["a", "b"]})
    hours = {1: [22, 23, 0], 2: [14]}
    v = schedule_visits(hs, hours, start=START, weeks=2, seed=3)
    assert len(v) == 2 * 14  # one visit per hotspot per day
    starts = pd.to_datetime(v["date"] + " " + v["start_time"])
    ends = pd.to_datetime(v["date"] + " " + v["end_time"])
    mins = (ends - starts).dt.total_seconds() / 60
    assert set(mins.where(mins > 0, mins + 24 * 60)) == {15}
    for rank, hrs in hours.items():
        sub = v[v["hotspot_rank"] == rank]
        assert set(pd.to_datetime(sub["start_time"], format="%H:%M").dt.hour) <= set(hrs)
        end_hour = pd.to_datetime(sub["end_time"], format="%H:%M")
        # a visit ends inside its starting hour (or exactly on the hour after it)
        assert ((end_hour.dt.minute == 0) | end_hour.dt.hour.isin(hrs)).all()
    assert v.equals(schedule_visits(hs, hours, start=START, weeks=2, seed=3))
    assert not v.equals(schedule_visits(hs, hours, start=START, weeks=2, seed=4))
    assert v["date"].min() == "2022-09-05" and v["date"].max() == "2022-09-18"


def test_plan_on_real_cells_with_default_profile(cells: pd.DataFrame) -> None:
    plan = grip_plan(cells, hotspots=10, weeks=4, start=START, min_separation=300,
                     max_per_area=3, seed=1)  # fmt: skip
    hs = plan.hotspots
    assert len(hs) == 10 and (hs["profile_source"] == "default").all()
    assert "default" in plan.choices["high_risk_hours"]["value"]
    share = hs["harm"].sum() / cells["harm"].sum()
    assert plan.summary["harm_share"] == pytest.approx(share)
    assert plan.summary["area_share"] == pytest.approx(hs["area_m2"].sum() / cells["area"].sum())
    # real concentration: 10 cells of 150 m (0.6% of this 36 km^2 square) hold > 5% of the harm
    assert plan.summary["area_share"] < 0.01 and plan.summary["harm_share"] > 0.05
    assert hs["cumulative_harm_share"].iloc[-1] == pytest.approx(plan.summary["harm_share"])
    assert len(plan.visits) == 10 * 28 and plan.summary["patrol_hours"] == pytest.approx(70.0)


def test_plan_uses_local_times_when_there_are_enough(cells: pd.DataFrame) -> None:
    top = cells.sort_values("harm", ascending=False).iloc[0]
    rng = np.random.default_rng(0)
    near = pd.DataFrame({"x": top["x"] + rng.uniform(-50, 50, 30), "y": top["y"],
                         "time": pd.Timestamp("2022-05-01 15:20"), "harm": 1.0})  # fmt: skip
    far = pd.DataFrame({"x": [0.0] * 5, "y": [0.0] * 5,
                        "time": pd.Timestamp("2022-05-01 03:00"), "harm": 1.0})  # fmt: skip
    plan = grip_plan(cells, hotspots=3, weeks=1, start=START, min_separation=1000,
                     timed_events=pd.concat([near, far]), seed=0)  # fmt: skip
    first = plan.hotspots.iloc[0]
    assert first["profile_source"] == "surroundings" and first["high_risk_hours"].startswith(
        "15-16"
    )
    assert (plan.hotspots["profile_source"].iloc[1:] == "force-wide").all()
    v1 = plan.visits[plan.visits["hotspot_rank"] == 1]
    assert v1["start_time"].str.startswith("15").all()


def test_bad_input_is_refused(cells: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match="'hotspots'"):
        select_hotspots(cells, 0)
    with pytest.raises(ParameterError, match="'weeks'"):
        grip_plan(cells, hotspots=2, weeks=0, start=START)
    with pytest.raises(EmptySelectionError):
        grip_plan(cells.assign(harm=0.0), hotspots=2, weeks=1, start=START)
