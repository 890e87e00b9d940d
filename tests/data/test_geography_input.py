"""Geography input that is not clean: invalid geometry is repaired and counted, bad rows are
quarantined with reasons, and files that are not geography are skipped or refused."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from peelian.data.datasets import demo_file
from peelian.data.geography import apportion, areas_frame, load_areas, population_frame
from peelian.errors import IngestError

WARD = "E05001069"  # Bridges, Gateshead


def _small_inputs(tmp: Path) -> dict[str, Path]:
    """Three LSOA 2021 areas of one ward (one made invalid), their lookup and a population file
    with one good row per LSOA and three bad rows."""
    lsoa = gpd.read_file(demo_file("boundaries/lsoa2021_northumbria.geojson"))
    lsoa = lsoa[lsoa["ward24_code"] == WARD].head(3).reset_index(drop=True)
    x, y = lsoa.geometry.iat[0].centroid.coords[0]
    bowtie = {
        "type": "Polygon",
        "coordinates": [[[x, y], [x + 0.01, y + 0.01], [x + 0.01, y], [x, y + 0.01], [x, y]]],
    }
    data = json.loads(lsoa.to_json())
    data["features"][0]["geometry"] = bowtie
    (tmp / "lsoa21.geojson").write_text(json.dumps(data))
    codes = list(lsoa["lsoa21_code"])
    lookup = pd.read_csv(demo_file("lookups/lookup_lsoa11_lsoa21_ltla22.csv"), dtype=str)
    lookup[lookup["lsoa21_code"].isin(codes)].to_csv(tmp / "lookup.csv", index=False)
    pop = pd.read_csv(demo_file("population/population20_lsoa11_northumbria.csv"), dtype=str)
    good = pop[pop["lsoa11_code"].isin(codes)].iloc[:2]
    bad_number = pop[pop["lsoa11_code"] == codes[2]].assign(**{"5": "five"})
    bad_code = good.head(1).assign(lsoa11_code="nonsense")
    elsewhere = pop[~pop["lsoa11_code"].isin(codes)].head(1)
    pd.concat([good, bad_number, bad_code, elsewhere]).to_csv(
        tmp / "population20_small.csv", index=False
    )
    (tmp / "notes.csv").write_text("a,b\n1,2\n")
    return {"codes": codes, "good_total": good["total_population"].astype(int).sum()}  # type: ignore[dict-item]


def test_repairs_quarantines_and_skips(store: Any, tmp_path: Path) -> None:
    info = _small_inputs(tmp_path)
    report = load_areas(store, tmp_path)
    files = {Path(f["path"]).name: f for f in report["files"]}
    assert report["geometries_repaired"] == 1
    assert files["lsoa21.geojson"]["geometries_repaired"] == 1
    assert files["population20_small.csv"]["rows_read"] == 5
    assert files["population20_small.csv"]["rows_stored"] == 2
    assert files["population20_small.csv"]["reasons"] == {
        "bad_code": 1,
        "bad_number": 1,
        "outside_loaded_areas": 1,
    }
    assert files["notes.csv"]["action"] == "skipped"
    gdf = areas_frame(store, "lsoa21")
    assert len(gdf) == 3 and gdf.geometry.is_valid.all()
    # the ward and CSP are built from the LSOAs (no ward/LA boundary given): dissolved geometry
    wards = areas_frame(store, "ward")
    assert list(wards["code"]) == [WARD] and wards["geometry_source"].iat[0] == "dissolved"
    assert wards["population"].iat[0] == info["good_total"]
    assert population_frame(store, "ward", 2020)["population"].sum() == info["good_total"]


def test_no_boundary_file_is_refused(store: Any, tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("a,b\n1,2\n")
    with pytest.raises(IngestError, match="No area boundary file"):
        load_areas(store, tmp_path)


def test_not_utf8_is_refused(store: Any, tmp_path: Path) -> None:
    (tmp_path / "bad.csv").write_bytes(b"lsoa11_code,lsoa21_code,change_code\n\xff\xfe,\x80,U\n")
    with pytest.raises(IngestError, match="not UTF-8"):
        load_areas(store, tmp_path)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 5000), min_size=1, max_size=6),
    st.lists(st.floats(0, 1000, allow_nan=False), min_size=1, max_size=4),
)
def test_apportion_keeps_every_person(values: list[int], weights: list[float]) -> None:
    """Largest-remainder apportionment: whole people, nobody lost or invented, >= 0."""
    vals = pd.DataFrame({"source": "A", "age": range(len(values)), "value": values})
    w = pd.DataFrame(
        {"source": "A", "target": [f"T{i}" for i in range(len(weights))], "weight": weights}
    )
    out = apportion(vals, w, by=["age"])
    assert (out["value"] >= 0).all()
    assert out.groupby("age")["value"].sum().tolist() == values
    if sum(weights) > 0:
        share = out.groupby("target")["value"].sum() / max(sum(values), 1)
        expected = pd.Series(weights, index=w["target"]) / sum(weights)
        assert (share - expected).abs().max() <= len(values) / max(sum(values), 1) + 1e-9
