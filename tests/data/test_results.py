"""Persisted analysis results round-trip exactly on both dialects."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box

from peelian.data.results import delete_results, latest_result, list_results, save_result
from peelian.errors import NotFoundError


def test_frames_round_trip_and_newest_wins(store) -> None:
    frame = pd.DataFrame({"cell_id": ["a", "b"], "z": [1.5, -0.25], "n": [3, 0]})
    geo = gpd.GeoDataFrame({"cell_id": ["a"]}, geometry=[box(0, 0, 150, 150)], crs=27700)
    first = save_result(store, "gistar", "burglary", {"cells": frame}, params={"cell_size": 150})
    second = save_result(
        store,
        "gistar",
        "burglary",
        {"cells": frame.iloc[:1], "geo": geo},
        summary={"bandwidth": 412.0},
    )
    assert second > first
    run = latest_result(store, "gistar", "burglary")
    assert run.id == second and run.summary == {"bandwidth": 412.0}
    pd.testing.assert_frame_equal(run.frames["cells"], frame.iloc[:1])
    assert isinstance(run.frames["geo"], gpd.GeoDataFrame)
    assert run.frames["geo"].crs.to_epsg() == 27700
    assert run.frames["geo"].geometry.iloc[0].area == pytest.approx(150 * 150)
    assert list(list_results(store, "gistar")["id"]) == [second, first]


def test_keep_prunes_old_runs_and_missing_kind_is_not_found(store) -> None:
    for i in range(4):
        save_result(store, "measures", "all", {"m": pd.DataFrame({"i": [i]})}, keep=2)
    assert len(list_results(store, "measures")) == 2
    assert latest_result(store, "measures").frames["m"]["i"].tolist() == [3]
    assert delete_results(store, "measures") == 2
    with pytest.raises(NotFoundError, match="No 'measures' results"):
        latest_result(store, "measures")
