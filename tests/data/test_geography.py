"""The area hierarchy loaded from the bundled Northumbria demo data, on SQLite and PostgreSQL.

The demo data is loaded twice per database (module fixture): the second load must replace the
first exactly (idempotent), so every assertion below also checks that nothing was duplicated.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from sqlalchemy import func, select

from peelian.data.geography import (
    area,
    area_children,
    area_lookup,
    areas_frame,
    deprivation_frame,
    ethnicity_frame,
    force_boundary,
    load_areas,
    population_frame,
)
from peelian.data.store import open_store
from peelian.data.tables import ingest_batches, ingest_files, quarantine
from peelian.errors import NotFoundError, ParameterError

NORTHUMBRIA = "E23000007"
PG_URL = os.environ.get("PEELIAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CSP_NAMES = {
    "E06000057": "Northumberland",
    "E08000021": "Newcastle upon Tyne",
    "E08000022": "North Tyneside",
    "E08000023": "South Tyneside",
    "E08000024": "Sunderland",
    "E08000037": "Gateshead",
}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Any, dict[str, Any], dict[str, Any]]]:
    """(store, first report, second report) after loading the demo data twice."""
    schema = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('geo') / 'store.sqlite'}"
    else:
        unavailable = request.getfixturevalue("pg_unavailable")
        if unavailable:
            pytest.skip(unavailable)
        import psycopg

        schema = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    store = open_store(url)
    try:
        first = load_areas(store)
        second = load_areas(store)
        yield store, first, second
    finally:
        store.dispose()
        if schema:
            import psycopg

            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_level_counts_for_northumbria(loaded: Any) -> None:
    store, first, second = loaded
    expected = {"lsoa11": 916, "lsoa21": 927, "ward": 177, "csp": 6, "force": 1}
    assert first["levels"] == expected and second["levels"] == expected
    for level, n in expected.items():
        frame = areas_frame(store, level, with_geometry=False, force_code=NORTHUMBRIA)
        assert len(frame) == n and frame["code"].is_unique
    csps = areas_frame(store, "csp", with_geometry=False)
    assert dict(zip(csps["code"], csps["name"], strict=True)) == CSP_NAMES


def test_population_totals_reconcile_at_every_level(loaded: Any) -> None:
    store, _, _ = loaded
    for level in ("lsoa11", "lsoa21", "ward", "csp", "force"):
        frame = areas_frame(store, level, with_geometry=False)
        assert frame["population"].sum() == 1_470_444, level  # ONS mid-2020, Northumbria
        assert set(frame["population_year"]) == {2020}
    mid19 = population_frame(store, "force", 2019)
    assert mid19["population"].sum() == 1_463_903
    assert sorted(mid19["age"]) == list(range(91))
    by_csp = population_frame(store, "csp", 2020).groupby("code")["population"].sum()
    csps = areas_frame(store, "csp", with_geometry=False).set_index("code")["population"]
    assert (by_csp == csps.astype(int)).all()
    assert by_csp["E08000021"] == 306_824  # Newcastle upon Tyne mid-2020


def test_unchanged_lsoa_keeps_its_population_and_split_ones_share_it(loaded: Any) -> None:
    store, _, _ = loaded
    from sqlalchemy import select as sel

    from peelian.data.tables import lsoa_lookup

    lk = store.read_frame(sel(lsoa_lookup))
    l11 = areas_frame(store, "lsoa11", with_geometry=False).set_index("code")["population"]
    l21 = areas_frame(store, "lsoa21", with_geometry=False).set_index("code")["population"]
    unchanged = lk[(lk["change_code"] == "U") & lk["lsoa11_code"].isin(l11.index)]
    assert len(unchanged) == 891
    same = (
        unchanged["lsoa11_code"].map(l11).to_numpy() == unchanged["lsoa21_code"].map(l21).to_numpy()
    )
    assert same.all()
    split = lk[(lk["change_code"] == "S") & lk["lsoa11_code"].isin(l11.index)]
    for code, group in split.groupby("lsoa11_code"):
        assert group["lsoa21_code"].map(l21).sum() == l11[code]


def test_known_lsoa_deprivation(loaded: Any) -> None:
    store, _, _ = loaded
    # Gateshead 027A, as published in IMD 2019 (LSOA 2011) and IMD 2025 (LSOA 2021).
    a11 = area(store, "E01008162", "lsoa11")
    assert (a11["imd_decile"], a11["imd_rank"], a11["imd_version"]) == (4, 11206, 2019)
    a21 = area(store, "E01008162", "lsoa21")
    assert (a21["imd_decile"], a21["imd_version"]) == (4, 2025)
    assert a21["imd_score"] == pytest.approx(24.104)
    assert a21["rural_urban"] == "Urban: Nearer to a major town or city"
    dep = deprivation_frame(store, "lsoa11", 2019)
    crime = dep[(dep["code"] == "E01008162") & (dep["domain"] == "Crime")].iloc[0]
    assert (crime["decile"], crime["rank"]) == (1, 1648)
    assert len(dep) == 916 * 8
    force = area(store, NORTHUMBRIA)
    assert (
        force["level"] == "force" and 20 < force["imd_score"] < 35 and force["imd_decile"] is None
    )


def test_hierarchy_is_consistent(loaded: Any) -> None:
    store, _, _ = loaded
    l21 = areas_frame(store, "lsoa21", with_geometry=False)
    wards = areas_frame(store, "ward", with_geometry=False)
    csps = areas_frame(store, "csp", with_geometry=False)
    l11 = areas_frame(store, "lsoa11", with_geometry=False)
    assert l21["ward_code"].notna().all() and set(l21["ward_code"]) == set(wards["code"])
    assert (l21["parent_code"] == l21["ward_code"]).all()
    assert (
        wards["csp_code"].isin(csps["code"]).all()
        and (wards["parent_code"] == wards["csp_code"]).all()
    )
    assert (csps["force_code"] == NORTHUMBRIA).all() and (csps["parent_code"] == NORTHUMBRIA).all()
    assert l11["csp_code"].isin(csps["code"]).all() and (l11["force_code"] == NORTHUMBRIA).all()
    # every LSOA 2021's CSP is its ward's CSP
    ward_csp = wards.set_index("code")["csp_code"]
    assert (l21["ward_code"].map(ward_csp) == l21["csp_code"]).all()
    lookup = area_lookup(store)
    assert len(lookup) == 916 + 927 and set(lookup["level"]) == {"lsoa11", "lsoa21"}


def test_children(loaded: Any) -> None:
    store, _, _ = loaded
    assert set(area_children(store, NORTHUMBRIA)["code"]) == set(CSP_NAMES)
    newcastle_wards = area_children(store, "E08000021")
    assert len(newcastle_wards) > 0 and set(newcastle_wards["level"]) == {"ward"}
    ward = newcastle_wards["code"].iat[0]
    lsoas = area_children(store, ward)
    assert set(lsoas["ward_code"]) == {ward} and set(lsoas["level"]) == {"lsoa21"}
    assert len(area_children(store, NORTHUMBRIA, "lsoa11")) == 916
    with pytest.raises(ParameterError, match="no areas below"):
        area_children(store, lsoas["code"].iat[0], None)
    with pytest.raises(NotFoundError):
        area(store, "E99999999")


def test_geometry_is_british_national_grid(loaded: Any) -> None:
    store, _, _ = loaded
    gdf = areas_frame(store, "lsoa21")
    assert gdf.crs.to_epsg() == 27700
    expected = ["code", "name", "level", "parent_code", "ward_code", "csp_code", "force_code",
                "population", "imd_decile", "imd_score", "area_km2", "geometry"]  # fmt: skip
    assert set(expected) <= set(gdf.columns)
    assert gdf.geometry.is_valid.all() and gdf.geometry.notna().all()
    minx, miny, maxx, maxy = gdf.total_bounds
    assert 350_000 < minx < maxx < 480_000 and 500_000 < miny < maxy < 660_000
    boundary = force_boundary(store, NORTHUMBRIA)
    assert boundary.area / 1e6 == pytest.approx(5570.1, rel=1e-3)
    inside = shapely.contains(boundary, gdf.geometry.representative_point().to_numpy())
    assert inside.mean() > 0.99
    # Areas of the LSOAs add up to the force area (generalised boundaries: within 1%).
    assert gdf["area_km2"].sum() == pytest.approx(boundary.area / 1e6, rel=0.01)
    wards = areas_frame(store, "ward")
    assert (wards["geometry_source"] == "dissolved").sum() == 20  # North Tyneside 2024 wards
    with pytest.raises(NotFoundError, match="peelian areas load"):
        force_boundary(store, "E23000008")


def test_ethnicity(loaded: Any) -> None:
    store, _, _ = loaded
    force = ethnicity_frame(store, "force")
    assert len(force) == 5 and force["residents"].sum() == 1_447_744  # Census 2021 residents
    assert force["share"].sum() == pytest.approx(1.0)
    lsoa = ethnicity_frame(store, "lsoa21")
    assert lsoa["code"].nunique() == 927


def test_batches_reconcile_and_reload_replaces(loaded: Any) -> None:
    store, first, second = loaded
    for report in (first, second):
        for f in report["files"]:
            assert f["rows_read"] == f["rows_stored"] + f["rows_quarantined"]
            assert f["rows_quarantined"] == sum(f["reasons"].values())
    by_kind = {f["kind"]: f for f in first["files"]}
    assert by_kind["boundary_ward"]["reasons"] == {"ward_not_in_lookup": 20}
    assert by_kind["lookup_lsoa11_ltla"]["reasons"] == {"outside_loaded_areas": 71}
    assert by_kind["boundary_lsoa21"]["rows_stored"] == 927
    assert {f["action"] for f in first["files"] if f["kind"] != "unrecognised"} == {"loaded"}
    assert {f["action"] for f in second["files"] if f["kind"] != "unrecognised"} == {"replaced"}
    with store.engine.connect() as conn:
        batches = conn.execute(
            select(func.count())
            .select_from(ingest_batches)
            .where(ingest_batches.c.source == "areas")
        ).scalar()
        quarantined = conn.execute(
            select(func.count())
            .select_from(quarantine.join(ingest_files))
            .where(ingest_files.c.batch_id == second["batch"])
        ).scalar()
    assert batches == 2
    assert quarantined == sum(f["rows_quarantined"] for f in second["files"])


def test_bad_level_is_a_parameter_error(loaded: Any) -> None:
    store, _, _ = loaded
    with pytest.raises(ParameterError, match="'level' parameter of areas_frame"):
        areas_frame(store, "county")


def test_nothing_loaded_says_how_to_load(store: Any) -> None:
    with pytest.raises(NotFoundError, match="peelian areas load"):
        areas_frame(store, "lsoa21")


def test_demo_data_dir_used_by_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from peelian.data.geography._load import _as_paths

    monkeypatch.delenv("PEELIAN_DEMO_DATA", raising=False)
    assert _as_paths(None)[0].name == "demo-data"
    assert _as_paths([]) == _as_paths(None)
    assert _as_paths(tmp_path) == [tmp_path]
