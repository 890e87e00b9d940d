"""u-charts with the population of each month's year, Western Electric rules, and the
over-dispersion switch, on real demo police.uk counts."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from peelian.analysis.measures import compute, measure_counts, month_index, month_label
from peelian.analysis.stats import spc_batch
from peelian.schemas.measure_definitions import MeasureCatalogue, load_measure_definitions

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "measures"))
import demo_frames


def _shifted(months_back: int) -> pd.DataFrame:
    """Real demo robbery and burglary counts moved ``months_back`` months earlier, so that the
    24-month chart window spans 2018 to 2020 (when the published population changes)."""
    pu = demo_frames.policeuk_counts()
    pu = pu[pu["category"].isin(["Robbery", "Burglary"])].copy()
    pu["month"] = [month_label(m - months_back) for m in month_index(pu["month"])]
    return pu


def _u_catalogue() -> MeasureCatalogue:
    cat = load_measure_definitions().select(["policeuk-robbery", "policeuk-burglary"])
    return dataclasses.replace(cat, definitions=tuple(dataclasses.replace(d, spc="u") for d in cat))


@pytest.fixture(scope="module")
def u_run() -> dict:
    pu = _shifted(22)  # 2020-05..2022-08 -> 2018-07..2020-10
    cat = _u_catalogue()
    pby = demo_frames.population_by_year()
    res = compute(
        measure_counts(cat, policeuk=pu),
        cat,
        demo_frames.demo_areas(),
        period_end="2020-06",
        area_levels=["force", "csp"],
        lookup=demo_frames.demo_lookup(),
        coverage={"policeuk": sorted(pu["month"].unique())},
        population_by_year=pby,
    )
    return {"pu": pu, "res": res, "pby": pby}


def test_u_chart_uses_each_years_population(u_run: dict) -> None:
    v, m, pby = u_run["res"].values, u_run["res"].monthly, u_run["pby"]
    rows = v[v["spc_chart"] == "u (population by year)"]
    assert len(rows) >= 3  # robbery in most CSPs varies like Poisson: a u-chart
    r = rows.iloc[0]
    pop = pby[(pby["level"] == r["area_level"]) & (pby["code"] == r["area_code"])].set_index(
        "year"
    )["population"]
    assert pop[2019] != pop[2020]
    chart = m[(m["measure"] == r["measure"]) & (m["area_code"] == r["area_code"])].copy()
    chart = chart[chart["centre"].notna()].sort_values("month")
    assert len(chart) == 24 and chart["month"].iloc[0] == "2018-07"
    # each month's residents (thousands): its year's estimate; 2018 uses 2019 (the nearest)
    n = chart["month"].astype(str).str[:4].astype(int).clip(2019, 2020).map(pop).to_numpy() / 1000
    counts = chart["count"].to_numpy()
    ubar = counts.sum() / n.sum()
    assert chart["centre"].to_numpy() == pytest.approx(ubar * n)
    assert chart["ucl"].to_numpy() == pytest.approx((ubar + 3 * np.sqrt(ubar / n)) * n)
    assert chart["lcl"].to_numpy() == pytest.approx(np.maximum(ubar - 3 * np.sqrt(ubar / n), 0) * n)
    ref = spc_batch(counts, "u", exposure=n)
    assert ref["centre"][0] == pytest.approx(ubar)
    flagged = chart["signal"].astype(str).isin(["above", "below"]).to_numpy()
    assert (flagged == (ref["point"][0] != 0)).all()
    # centre in 2019 and 2020 differs as the population does
    c19 = chart[chart["month"].astype(str).str.startswith("2019")]["centre"].iloc[0]
    c20 = chart[chart["month"].astype(str).str.startswith("2020")]["centre"].iloc[0]
    assert c20 / c19 == pytest.approx(pop[2020] / pop[2019])


def test_u_chart_over_dispersed_and_constant_population(u_run: dict) -> None:
    v = u_run["res"].values
    force_burg = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "force")].iloc[0]
    assert force_burg["spc_chart"] == "XmR (rates per 1,000 over-dispersed for a u-chart)"
    cat = _u_catalogue()
    pu = u_run["pu"]
    res = compute(
        measure_counts(cat, policeuk=pu),
        cat,
        demo_frames.demo_areas(),
        period_end="2020-06",
        area_levels=["csp"],
        lookup=demo_frames.demo_lookup(),
        coverage={"policeuk": sorted(pu["month"].unique())},
    )
    labels = set(res.values["spc_chart"])
    assert "u (constant population)" in labels and "u (population by year)" not in labels


def test_western_electric_rules_in_the_engine() -> None:
    pu = demo_frames.policeuk_counts()
    cat = load_measure_definitions().select(["policeuk-robbery"])
    kw = dict(
        area_levels=["csp"],
        lookup=demo_frames.demo_lookup(),
        coverage={"policeuk": sorted(pu["month"].unique())},
    )
    counts = measure_counts(cat, policeuk=pu)
    we = compute(counts, cat, demo_frames.demo_areas(), rules="western_electric", **kw)
    an = compute(counts, cat, demo_frames.demo_areas(), **kw)
    assert we.summary["spc"]["rules"] == "western_electric"
    assert (we.monthly["ucl"].fillna(-1) == an.monthly["ucl"].fillna(-1)).all()  # same limits
    words = ("beyond 2 sigma", "beyond 1 sigma", "8 in a row", "limit", "none")
    for text in we.values["spc_signal"]:
        assert any(w in text for w in words) and "crossings" not in text
    # by hand: Gateshead's c-chart and Newcastle's XmR chart (over-dispersed), WE rules
    for code, kind, said in (
        ("E08000037", "c", "4 of 5 beyond 1 sigma"),
        ("E08000021", "xmr", "4 of 5 beyond 1 sigma; 8 in a row on one side"),
    ):
        r = we.values.set_index("area_code").loc[code]
        assert r["spc_chart"].lower().startswith(kind[0]) and r["spc_signal"] == said
        chart = we.monthly[we.monthly["area_code"] == code].dropna(subset=["centre"])
        res = spc_batch(chart["count"].to_numpy()[None, :], kind, rules="western_electric")
        found = [
            label
            for key, label in (
                ("we_rule2", "2 of 3 beyond 2 sigma"),
                ("we_rule3", "4 of 5 beyond 1 sigma"),
                ("we_rule4", "8 in a row on one side"),
            )
            if res[key][0]
        ]
        assert "; ".join(found) == said and res["n_above"][0] == res["n_below"][0] == 0
