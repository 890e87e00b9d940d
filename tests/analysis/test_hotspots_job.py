"""run_hotspots on both dialects: persisted gistar / emerging / kde runs per the contract."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from peelian.data.results import latest_result
from peelian.errors import NotFoundError

ROOT = Path(__file__).parents[2]
ZIP = ROOT / "demo-data/policeuk/northumbria_2020-05_2022-08.zip"
MONTHS = [f"2021-{m:02d}" for m in range(3, 13)]


def _violence_subset(folder: Path) -> None:
    with zipfile.ZipFile(ZIP) as zf:
        for month in MONTHS:
            name = f"{month}/{month}-northumbria-street.csv"
            frame = pd.read_csv(io.BytesIO(zf.read(name)), dtype=str)
            lon = pd.to_numeric(frame["Longitude"], errors="coerce")
            keep = (frame["Crime type"] == "Violence and sexual offences") & lon.between(-1.7, -1.5)
            (folder / month).mkdir()
            frame[keep].to_csv(folder / name, index=False)


def test_run_hotspots_persists_the_contract(store, tmp_path) -> None:
    from peelian.data.geography import load_areas
    from peelian.data.ingest import ingest_policeuk
    from peelian.jobs.hotspots import run_hotspots

    load_areas(store)
    _violence_subset(tmp_path)
    ingest_policeuk(store, [tmp_path])
    runs = run_hotspots(store, crime_type="Violence and sexual offences", cell_size=500)
    assert set(runs) == {"gistar", "emerging", "kde", "concentration"}
    name = "violence-and-sexual-offences"
    g = latest_result(store, "gistar", name)
    cells = g.frames["cells"]
    for col in (
        "cell_id",
        "x",
        "y",
        "n",
        "harm",
        "gistar",
        "p_value",
        "p_adjusted",
        "hotspot",
        "geometry",
    ):
        assert col in cells.columns
    assert cells.crs.to_epsg() == 27700
    assert g.summary["cell_size"] == 500 and g.summary["distance"] == 708
    assert g.summary["period"] == "2021-03..2021-12"
    assert g.summary["fdr"] is True and g.summary["alpha"] == 0.05
    # harm is the CCHI weight of violence times the count
    assert (cells["harm"] - cells["n"] * 194.21).abs().max() < 1e-6
    e = latest_result(store, "emerging", name).frames["cells"]
    for col in ("cell_id", "x", "y", "pattern", "trend_tau", "trend_p", "n_total", "geometry"):
        assert col in e.columns
    k = latest_result(store, "kde", name)
    assert {"cell_id", "x", "y", "density", "geometry"} <= set(k.frames["cells"].columns)
    assert k.summary["bandwidth"] > 0 and k.summary["kernel"] == "quartic"
    assert cells["n"].sum() == g.summary["report"]["n_in_area"]
    c = latest_result(store, "concentration", name)
    stats = c.frames["summary"].set_index("statistic")["value"]
    n = cells["n"].sort_values(ascending=False).to_numpy()
    assert stats["share_n_top_1pct"] == pytest.approx(
        n[: int(np.ceil(0.01 * len(n)))].sum() / n.sum()
    )
    # harm of violence alone is proportional to the count: the same shares
    assert stats["share_harm_top_10pct"] == pytest.approx(stats["share_n_top_10pct"])
    assert stats["n_events"] == n.sum() and "stability_jaccard" not in stats.index
    # only 2021-03..2021-12 is loaded: no previous 12 months to compare with, and it says so
    assert c.summary["stability_note"] == "no events in 2020-01..2020-12 to compare with"
    # chance spreads crime over the cells where any crime happened (issue 12 item 7a)
    assert c.summary["chance_benchmark"].startswith("crimes at random, uniformly over the")
    assert 0 < c.summary["chance_cells"] < c.summary["n_cells"]


FORCE = ROOT / "tests/fixtures/hotspots/force_synthetic"


def _force_store(store):
    from peelian.data.geography import load_areas
    from peelian.data.ingest.force import ingest_force

    load_areas(store)
    ingest_force(store, [FORCE], "synthetic_rms")
    return store


def test_force_selection_uses_offence_sets_and_serious_violence_types(store) -> None:
    from peelian.data.force_frames import load_involvements, load_occurrences
    from peelian.jobs.hotspots import load_selection
    from peelian.offences import offence_set

    _force_store(store)
    occ = load_occurrences(store)
    assert len(occ) == 2509
    psv = load_selection(store, "public-space-violence", "2021-01", "2021-12", source="force")
    # what the definition says, computed independently: violence (with or without injury or
    # homicide) in a public space, not domestic abuse, reported in 2021
    codes = offence_set("violence-against-the-person").codes
    expect = (
        occ["ho_code"].isin(
            offence_set("violence-with-injury").codes
            | offence_set("violence-without-injury").codes
            | offence_set("homicide").codes
        )
        & occ["public_space"].fillna(False).astype(bool)
        & ~occ["domestic_abuse"].fillna(False).astype(bool)
        & occ["month"].between("2021-01", "2021-12")
    )
    assert len(psv) == int(expect.sum()) > 50
    assert set(psv["ho_code"]) <= codes and (psv["category"] == psv["policeuk_category"]).all()
    # a type that needs the people involved (female victims) is evaluated with them
    vawg = load_selection(store, "vawg", None, None, source="force")
    mask = offence_set("vawg").mask(occ, load_involvements(store))
    assert len(vawg) == int(mask.sum()) > 100
    robbery = load_selection(store, "Robbery", None, None, source="force")
    assert set(robbery["ho_code"]) <= {"34A", "34B"}
    with pytest.raises(NotFoundError, match="Unknown crime type 'knives' for force records"):
        load_selection(store, "knives", None, None, source="force")


def test_force_kde_of_harm_is_weighted_by_home_office_code(store) -> None:
    from peelian.analysis import hotspots as hs
    from peelian.jobs.hotspots import harm_weights, load_boundary, load_selection

    _force_store(store)
    events = load_selection(store, "serious-violence", None, None, source="force")
    boundary, _ = load_boundary(store)
    weights = harm_weights("force")
    assert weights["1"] == 5475.0 and weights["34B"] > weights["105A"]
    res = hs.kde(
        events, boundary, cell_size=100, value="harm", harm_weights=weights, harm_col="ho_code",
        bandwidth=400,
    )  # fmt: skip
    # exact force locations: no police.uk anonymisation warning at 100 m, and the choice says so
    assert not res.warnings and "exact" in res.choices["small_cells"]["rule"]
    # total density x cell area = total harm of the events (each kernel integrates to 1; the
    # fixture lies well inside the force, and the grid sum of a 400 m kernel is within 1%)
    total_harm = sum(weights[c] for c in events["ho_code"])
    integral = float((res.table["density"] * 0.01).sum())
    assert integral == pytest.approx(total_harm, rel=0.01)
    assert res.report["harm_key"] == "ho_code" and res.report["harm_unweighted"] == {}
    count = hs.kde(events, boundary, cell_size=100, bandwidth=400)
    assert integral / float((count.table["density"] * 0.01).sum()) == pytest.approx(
        total_harm / len(events), rel=0.05
    )


def test_run_hotspots_on_force_records_with_concentration(store) -> None:
    from peelian.jobs.hotspots import run_hotspots

    _force_store(store)
    runs = run_hotspots(
        store, crime_type="violence-and-sexual-offences", source="force", cell_size=250,
        analyses=("gistar", "kde", "concentration"), grid="hex", month_from="2020-01",
        month_to="2021-12",
    )  # fmt: skip
    assert set(runs) == {"gistar", "kde", "concentration"}
    name = "force-violence-and-sexual-offences"
    g = latest_result(store, "gistar", name)
    assert g.summary["source"] == "force" and g.summary["grid"] == "hex"
    assert g.frames["cells"]["cell_id"].str.startswith("hex250_").all()
    assert latest_result(store, "kde", name).summary["grid"] == "square"
    c = latest_result(store, "concentration", name)
    summary = c.frames["summary"].set_index("statistic")["value"]
    lorenz = c.frames["lorenz"]
    assert list(lorenz.columns) == ["cell_share", "share_n", "share_harm"] and len(lorenz) == 1001
    assert lorenz["share_n"].is_monotonic_increasing and lorenz["share_n"].iloc[-1] == 1.0
    n = g.frames["cells"]["n"].sort_values(ascending=False).to_numpy()
    k = int(np.ceil(0.05 * len(n)))
    assert summary["share_n_top_5pct"] == pytest.approx(n[:k].sum() / n.sum())
    assert 0 < summary["gini_poisson_adjusted"] < summary["gini_generalised"] <= summary["gini"]
    # the latest 12 months against the 12 before, both in the data
    assert c.summary["stability_periods"] == {
        "before": ["2020-01", "2020-12"], "latest": ["2021-01", "2021-12"],
    }  # fmt: skip
    assert c.summary["stability_note"] is None
    assert 0 < summary["stability_jaccard"] < 1 and summary["stability_spearman_rho"] > 0.1
