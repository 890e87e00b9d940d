"""Grids over a real area (central Newcastle/Gateshead) with real police.uk events."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import h3
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from peelian.analysis.grid import (
    CELL_COLUMNS,
    count_events,
    event_coordinates,
    h3_grid,
    hex_grid,
    make_grid,
    square_grid,
)
from peelian.errors import EmptySelectionError, ParameterError, SchemaError
from peelian.schemas.months import months_between

ROOT = Path(__file__).parents[2]
FIXTURE = ROOT / "tests/fixtures/hotspots/newcastle_2020-05_2022-08.csv.gz"
BOX = (421000.0, 561000.0, 427000.0, 567000.0)


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return pd.read_csv(FIXTURE)


@pytest.fixture(scope="module")
def area():
    """Newcastle upon Tyne's real boundary cut to the fixture's box (an irregular polygon)."""
    lad = gpd.read_file(ROOT / "demo-data/boundaries/lad2024_northumbria.geojson").to_crs(27700)
    newcastle = lad.loc[lad["ltla24_name"] == "Newcastle upon Tyne", "geometry"].union_all()
    return shapely.intersection(newcastle, shapely.box(*BOX))


@pytest.mark.parametrize("kind,size", [("square", 250.0), ("hex", 250.0), ("h3", None)])
def test_cells_tile_the_area_exactly(area, kind: str, size: float | None) -> None:
    grid = make_grid(area, kind, size, resolution=9 if kind == "h3" else None)
    cells = grid.cells
    assert tuple(cells.columns) == CELL_COLUMNS
    assert cells.crs.to_epsg() == 27700
    assert cells["cell_id"].is_unique
    assert pd.api.types.is_string_dtype(cells["cell_id"])
    for col in ("x", "y", "area", "in_area_share"):
        assert cells[col].dtype == np.float64
    assert ((cells["in_area_share"] > 0) & (cells["in_area_share"] <= 1 + 1e-9)).all()
    # clipped cells add up to the area, without overlaps
    assert cells["area"].sum() == pytest.approx(area.area, rel=1e-9)
    assert np.allclose(cells.geometry.area, cells["area"], rtol=1e-9)
    assert shapely.union_all(cells.geometry.values).area == pytest.approx(area.area, rel=1e-6)


def test_square_lattice_is_anchored_and_ids_are_stable(area) -> None:
    grid = square_grid(area, 250)
    assert grid.origin == (421000.0, 562750.0)  # the Tyne is the southern edge
    first = grid.cells.iloc[0]
    m = re.fullmatch(r"sq250_(\d+)_(\d+)", first["cell_id"])
    assert m and float(m[1]) + 125 == first["x"] and float(m[2]) + 125 == first["y"]
    # a 500 m grid cell holds exactly four 250 m cells' worth of area
    assert square_grid(area, 500).total_area == pytest.approx(grid.total_area)
    raster = grid.to_raster(np.arange(grid.n_cells))
    assert raster.shape == grid.lattice_shape == (17, 24)
    assert np.array_equal(grid.from_raster(raster), np.arange(grid.n_cells))
    assert grid.mask.sum() == grid.n_cells


def test_counts_reconcile_every_event(events: pd.DataFrame, area) -> None:
    grid = square_grid(area, 250)
    weights = {"Violence and sexual offences": 194.21, "Shoplifting": 1.0, "Robbery": 365.0}
    counts = count_events(grid, events, harm_weights=weights)
    rep = counts.report
    assert rep["n_events"] == len(events) == 87138
    assert rep["n_unlocated"] == 624
    inside = shapely.contains_xy(area, events["easting"], events["northing"])
    assert rep["n_in_area"] == int(inside.sum()) == int(counts.n.sum())
    assert rep["n_in_area"] + rep["n_unlocated"] + rep["n_outside_area"] == rep["n_events"]
    assert counts.periods == tuple(months_between("2020-05", "2022-08"))
    assert counts.n.shape == (grid.n_cells, 28)
    # harm is count x weight, and ASB (no CCHI weight) is reported, not silently dropped
    sel = events[inside]
    expected = sum(w * (sel["category"] == c).sum() for c, w in weights.items())
    assert counts.harm.sum() == pytest.approx(expected)
    assert rep["harm_unweighted"]["Anti-social behaviour"] == int(
        (sel["category"] == "Anti-social behaviour").sum()
    )
    long = counts.to_frame()
    assert list(long.columns) == ["cell_id", "period", "n", "harm"]
    assert long["n"].sum() == rep["n_in_area"]
    wide = counts.cells_frame()
    assert wide["n"].sum() == rep["n_in_area"]


def test_periods_can_be_fixed_and_outside_months_are_reported(events, area) -> None:
    grid = square_grid(area, 500)
    counts = count_events(grid, events, periods=months_between("2022-01", "2022-03"))
    n_in = int(
        (
            shapely.contains_xy(area, events["easting"], events["northing"])
            & events["month"].isin(["2022-01", "2022-02", "2022-03"])
        ).sum()
    )
    assert counts.n.sum() == n_in
    rep = counts.report
    assert rep["n_in_area"] + rep["n_outside_period"] + rep["n_outside_area"] + rep[
        "n_unlocated"
    ] == len(events)


def test_hex_and_h3_assignment_match_their_geometry(events, area) -> None:
    pts = events.dropna(subset=["easting"]).iloc[:3000]
    for grid in (hex_grid(area, 300), h3_grid(area, 9)):
        pos = grid.locate_events(pts)
        hit = pos >= 0
        geoms = grid.geometry[pos[hit]]
        xy = shapely.points(pts["easting"].to_numpy()[hit], pts["northing"].to_numpy()[hit])
        # every located point lies in (or on the edge of) its cell's polygon
        assert (shapely.distance(geoms, xy) < 1.0).all()
    assert h3.is_valid_cell(h3_grid(area, 9).cells["cell_id"].iloc[0])


def test_points_outside_never_stretch_the_grid(area) -> None:
    far = pd.DataFrame(
        {
            "easting": [300000.0, 424000.0],
            "northing": [500000.0, 565000.0],
            "month": ["2021-01", "2021-01"],
        }
    )
    grid = square_grid(area, 250)
    counts = count_events(grid, far)
    assert counts.report["n_outside_area"] == 1 and counts.n.sum() == 1
    assert grid.lattice_shape == (17, 24)


def test_lon_lat_is_refused_with_a_fix() -> None:
    lonlat = pd.DataFrame({"easting": [-1.61, -1.6], "northing": [54.97, 54.98]})
    with pytest.raises(SchemaError, match="look like longitude/latitude.*27700"):
        event_coordinates(lonlat, "kde")
    with pytest.raises(SchemaError, match="only have longitude/latitude"):
        event_coordinates(pd.DataFrame({"longitude": [-1.6], "latitude": [54.9]}), "kde")
    geo = gpd.GeoDataFrame(
        {"easting": [1.0]}, geometry=gpd.points_from_xy([-1.6], [54.9]), crs=4326
    )
    with pytest.raises(SchemaError, match="longitude/latitude"):
        event_coordinates(geo, "kde")
    with pytest.raises(SchemaError, match="boundary in metres"):
        square_grid(shapely.box(-1.7, 54.9, -1.5, 55.0), 250)


def test_empty_selection_and_bad_parameters(area) -> None:
    grid = square_grid(area, 500)
    empty = pd.DataFrame({"easting": [], "northing": [], "month": []})
    with pytest.raises(EmptySelectionError, match="None of the 0 selected events"):
        count_events(grid, empty)
    with pytest.raises(
        ParameterError,
        match=r"The 'cell_size' parameter of square_grid must be a "
        r"number > 0\. Got -5\.",
    ):
        square_grid(area, -5)
    with pytest.raises(ParameterError, match="'kind' parameter of make_grid must be one of"):
        make_grid(area, "triangle", 100)


def test_small_cells_warn_and_auto_size_is_reported(area, caplog) -> None:
    grid = square_grid(area, 100)
    assert "anonymises" in grid.choices["warnings"][0]
    auto = square_grid(area)
    # the area's bounding box is 6 km x ~6 km: 6000/150 = 40 m, floored at 200 m
    assert auto.cell_size == 200.0
    assert "Chainey 2013" in auto.choices["cell_size"]["rule"]


@settings(max_examples=25, deadline=None)
@given(
    pts=st.lists(
        st.tuples(st.floats(420000, 428000), st.floats(560000, 568000)), min_size=1, max_size=200
    ),
    size=st.sampled_from([150.0, 333.0, 500.0]),
    kind=st.sampled_from(["square", "hex"]),
)
def test_counts_sum_to_in_area_points(area, pts, size, kind) -> None:
    xy = np.asarray(pts)
    frame = pd.DataFrame({"easting": xy[:, 0], "northing": xy[:, 1], "month": "2021-06"})
    grid = make_grid(area, kind, size)
    counts = count_events(grid, frame, allow_empty=True)
    inside = shapely.contains_xy(area, xy[:, 0], xy[:, 1])
    assert counts.n.sum() == inside.sum()
    assert counts.report["n_outside_area"] == (~inside).sum()


def test_cells_touching_the_area_only_at_a_corner_are_not_in_the_grid() -> None:
    # two 250 m squares meeting at one point: the two lattice cells that only touch it are out
    area = shapely.union(shapely.box(0, 0, 250, 250), shapely.box(250, 250, 500, 500))
    area = shapely.affinity.translate(area, 400000, 500000)
    grid = square_grid(area, 250)
    assert grid.lattice_shape == (2, 2) and grid.n_cells == 2
    assert list(grid.cell_ids) == ["sq250_400000_500000", "sq250_400250_500250"]
    # the boundary runs along their edges, so they count as cut, yet are whole
    assert not grid.interior.any() and grid.area.tolist() == [62500.0, 62500.0]


def test_boundary_cells_are_clipped_only_when_asked(area) -> None:
    grid = square_grid(area, 250)
    assert "_clip" not in grid.__dict__ and "area" not in grid.__dict__
    cut = ~grid.interior
    assert cut.sum() == len(grid._cut) > 0
    # lazily clipped areas equal a direct overlay of the full cells with the boundary
    full = shapely.box(grid.x - 125, grid.y - 125, grid.x + 125, grid.y + 125)
    direct = shapely.area(shapely.intersection(full, area))
    assert np.allclose(grid.area, direct, rtol=1e-9, atol=1e-6)
    assert (grid.area[grid.interior] == 62500.0).all() and (grid.area[cut] <= 62500.0).all()
    assert (grid.area[cut] < 62000.0).sum() > 20  # the real (river) edge cuts cells


def test_h3_grid_is_built_vectorised_and_locates_points_like_h3(events, area) -> None:
    grid = h3_grid(area, 9)
    ids = np.asarray(grid.cell_ids, dtype=object)
    assert all(h3.get_resolution(c) == 9 for c in ids[:50])
    # every cell's polygon is H3's own boundary, projected to BNG
    lat, lon = zip(*h3.cell_to_boundary(ids[0]), strict=True)
    from peelian.analysis.grid import to_bng

    bx, by = to_bng(np.asarray(lon), np.asarray(lat))
    full = grid._polygons[0]
    assert np.allclose(shapely.get_coordinates(full)[:-1], np.column_stack([bx, by]))
    pts = events.dropna(subset=["easting"]).iloc[:2000]
    pos = grid.locate_events(pts)
    from peelian.analysis.grid import to_wgs84

    plon, plat = to_wgs84(pts["easting"].to_numpy(), pts["northing"].to_numpy())
    expect = [h3.latlng_to_cell(a, b, 9) for a, b in zip(plat, plon, strict=True)]
    hit = pos >= 0
    inside = shapely.contains_xy(area, pts["easting"].to_numpy(), pts["northing"].to_numpy())
    assert np.array_equal(hit, inside) and hit.sum() > 900
    assert list(ids[pos[hit]]) == list(np.asarray(expect, dtype=object)[hit])
