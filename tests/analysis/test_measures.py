"""The measures engine on the real Northumbria police.uk demo data, and known answers."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from peelian.analysis.measures import (
    MONTHLY_COLUMNS,
    VALUE_COLUMNS,
    compute,
    measure_counts,
)
from peelian.analysis.stats import dispersion_adjusted, seasonal_design
from peelian.errors import ParameterError
from peelian.offences import cchi_weights
from peelian.schemas.measure_definitions import load_measure_definitions

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "measures"))
import demo_frames

CONTRACT = [
    "measure",
    "label",
    "source",
    "unit",
    "area_level",
    "area_code",
    "area_name",
    "period_end",
    "current",
    "baseline",
    "change",
    "change_pct",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "current_ci_low",
    "current_ci_high",
    "baseline_ci_low",
    "baseline_ci_high",
    "p_value",
    "significant",
    "direction_good",
    "assessment",
    "rate_per_1000",
    "eb_rate_per_1000",
    "harm",
    "spc_signal",
    "narrative",
]


@pytest.fixture(scope="module")
def demo() -> dict:
    pu = demo_frames.policeuk_counts()
    cat = load_measure_definitions().select(
        [
            "neighbourhood-crime-policeuk",
            "policeuk-burglary",
            "policeuk-all-crime",
            "policeuk-all-crime-harm",
            "policeuk-robbery",
            "policeuk-shoplifting",
            "homicide",
        ]
    )
    w = cchi_weights("category")
    counts = measure_counts(
        cat, policeuk=pu, harm_weights=dict(zip(w["category"], w["cchi_days"], strict=True))
    )
    res = compute(
        counts,
        cat,
        demo_frames.demo_areas(),
        lookup=demo_frames.demo_lookup(),
        coverage={"policeuk": sorted(pu["month"].unique())},
        source_notes={"force": "no force records have been loaded"},
    )
    return {"pu": pu, "res": res, "cat": cat}


def _window(pu: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    return pu[(pu["month"] >= first) & (pu["month"] <= last)]


def test_contract_columns_and_ranges(demo: dict) -> None:
    v, m = demo["res"].values, demo["res"].monthly
    assert set(CONTRACT) <= set(v.columns) and list(v.columns) == list(VALUE_COLUMNS)
    assert list(m.columns) == list(MONTHLY_COLUMNS)
    p = v["p_value"].dropna()
    assert ((p >= 0) & (p <= 1)).all()
    both = v.dropna(subset=["p_value", "p_adjusted"])
    assert (both["p_adjusted"] >= both["p_value"] - 1e-12).all()
    ok = v.dropna(subset=["current"])
    assert (
        (ok["current_ci_low"] <= ok["current"]) & (ok["current"] <= ok["current_ci_high"])
    ).all()
    assert set(v["assessment"]) <= {
        "improving",
        "worsening",
        "no significant change",
        "not assessed",
    }
    assert v["narrative"].str.len().gt(40).all()


def test_force_totals_reconcile_with_the_raw_rows(demo: dict) -> None:
    pu, v = demo["pu"], demo["res"].values
    cur = _window(pu, "2021-09", "2022-08")
    prev = _window(pu, "2020-09", "2021-08")
    crimes = cur[cur["category"] != "Anti-social behaviour"]["n"].sum()
    row = v[(v["measure"] == "policeuk-all-crime") & (v["area_level"] == "force")].iloc[0]
    assert row["current"] == crimes == 141258
    assert row["comparison"] == prev[prev["category"] != "Anti-social behaviour"]["n"].sum()
    assert row["period_end"] == "2022-08" and row["area_code"] == "E23000007"
    burg = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "force")].iloc[0]
    assert burg["current"] == cur[cur["category"] == "Burglary"]["n"].sum()
    # every LSOA row adds up to the force total minus rows without a usable LSOA
    lsoa = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "lsoa")]
    assert len(lsoa) == 916
    areas = demo_frames.demo_areas()
    in_area = cur["lsoa_code"].isin(areas.loc[areas["level"] == "lsoa11", "code"])
    assert lsoa["current"].sum() == cur[in_area & (cur["category"] == "Burglary")]["n"].sum()
    assert lsoa["current"].sum() < burg["current"]


def test_csp_equals_its_lsoas(demo: dict) -> None:
    v = demo["res"].values
    areas = demo_frames.demo_areas()
    l11 = areas[areas["level"] == "lsoa11"].set_index("code")["csp_code"]
    lsoa = v[(v["measure"] == "policeuk-robbery") & (v["area_level"] == "lsoa")].copy()
    lsoa["csp"] = lsoa["area_code"].map(l11)
    by_csp = lsoa.groupby("csp")["current"].sum()
    csp = v[(v["measure"] == "policeuk-robbery") & (v["area_level"] == "csp")].set_index(
        "area_code"
    )
    assert csp.loc[by_csp.index, "current"].tolist() == by_csp.tolist()
    assert csp.loc["E08000037", "area_name"] == "Gateshead"
    assert (csp["population"] > 100_000).all()
    rate = csp["current"] / csp["population"] * 1000
    assert csp["rate_per_1000"].tolist() == pytest.approx(rate.tolist())


def test_missing_baseline_is_honest(demo: dict) -> None:
    v = demo["res"].values
    row = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "force")].iloc[0]
    assert np.isnan(row["baseline"]) and not row["baseline_available"]
    assert row["compared_with"] == "previous 12 months"
    assert "start in May 2020" in row["note"]
    assert "No comparison with the baseline" in row["narrative"]
    assert (
        "compared with 5,859 in the previous 12 months (to August 2021) (+18%)" in row["narrative"]
    )
    hom = v[v["measure"] == "homicide"]
    assert len(hom) == 1 and np.isnan(hom["current"].iloc[0])  # no force records: one honest row
    assert hom["narrative"].iloc[0] == (
        "No figure for homicides in the 12 months to August 2022: no force records have been loaded."
    )


def test_significance_uses_fdr_at_lsoa_level(demo: dict) -> None:
    v = demo["res"].values
    lsoa = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "lsoa")]
    raw_sig = (lsoa["p_value"] < 0.05).sum()
    assert lsoa["significant"].sum() <= raw_sig
    within = lsoa[(lsoa["p_value"] < 0.05) & ~lsoa["significant"]]
    assert len(within) > 0
    assert within["narrative"].str.contains("within normal variation").all()
    assert within["narrative"].str.contains("after adjusting for 916 LSOAs").all()


def test_harm_and_eb(demo: dict) -> None:
    v = demo["res"].values
    pu = demo["pu"]
    cur = _window(pu, "2021-09", "2022-08")
    w = cchi_weights("category").set_index("category")["cchi_days"]
    expected = (cur["n"] * cur["category"].map(w)).sum()
    row = v[(v["measure"] == "policeuk-all-crime-harm") & (v["area_level"] == "force")].iloc[0]
    assert row["harm"] == pytest.approx(expected)
    assert "Cambridge Crime Harm Index" in row["narrative"]
    lsoa = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "lsoa")].dropna(
        subset=["eb_rate_per_1000"]
    )
    overall = lsoa["current"].sum() / lsoa["population"].sum() * 1000
    assert (
        np.abs(lsoa["eb_rate_per_1000"] - overall) <= np.abs(lsoa["rate_per_1000"] - overall) + 1e-9
    ).all()


def test_monthly_part_and_spc(demo: dict) -> None:
    m = demo["res"].monthly
    f = m[(m["measure"] == "policeuk-burglary") & (m["area_level"] == "force")]
    assert len(f) == 28 and f["month"].min() == "2020-05"
    pu = demo["pu"]
    aug = pu[(pu["month"] == "2022-08") & (pu["category"] == "Burglary")]["n"].sum()
    assert f.set_index("month").loc["2022-08", "count"] == aug
    last24 = f[f["month"] >= "2020-09"]
    assert last24["centre"].notna().all() and last24["centre"].nunique() == 1
    v = demo["res"].values
    row = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "force")].iloc[0]
    assert row["spc_chart"].startswith("XmR")  # over-dispersed force counts: reported switch
    assert row["trend_model"] == "seasonal negbin" or row["trend_model"].startswith("seasonal")


def _force_series(pu: pd.DataFrame, category: str) -> pd.Series:
    return pu[pu["category"] == category].groupby("month")["n"].sum().sort_index()


def test_over_dispersed_force_counts_widen_the_test(demo: dict) -> None:
    """Force shoplifting: +9% is 'significant' by the exact test (p < 0.001) but the monthly
    counts vary ~11 times more than Poisson, so allowing for that it is within normal
    variation. The dispersion equals statsmodels' quasi-Poisson scale of the same model."""
    v, pu = demo["res"].values, demo["pu"]
    row = v[(v["measure"] == "policeuk-shoplifting") & (v["area_level"] == "force")].iloc[0]
    y = _force_series(pu, "Shoplifting")
    assert len(y) == 28 and row["current"] == y.iloc[-12:].sum() == 8769
    x, _ = seasonal_design(list(y.index))
    current = (np.arange(28) >= 16).astype(float)
    ref = sm.GLM(y.to_numpy(float), np.column_stack([x, current]), family=sm.families.Poisson())
    scale = ref.fit(scale="X2").scale
    assert row["dispersion_estimate"] == pytest.approx(scale, rel=1e-5)
    assert row["dispersion"] == row["dispersion_estimate"] > 10
    assert row["p_value"] < 1e-7  # the exact test alone would call it a rise
    expected = dispersion_adjusted(8769, 8032, phi=row["dispersion"])
    assert row["p_value_adjusted"] == pytest.approx(float(expected["p_value_adjusted"]))
    assert 0.05 < row["p_value_adjusted"] < 0.2
    assert row["previous_p_value_adjusted"] == row["p_value_adjusted"]  # compared with previous
    assert row["ci_low_adjusted"] < 1 < row["ci_high_adjusted"]
    assert row["ci_low_adjusted"] < row["ci_low"] and row["ci_high_adjusted"] > row["ci_high"]
    assert not row["significant"] and row["assessment"] == "no significant change"
    assert row["test_used"] == "exact Poisson widened for over-dispersion (quasi-Poisson)"
    assert (
        "(+9%). Allowing for the usual month-to-month variation in shoplifting offences, this is "
        "within normal variation (p = 0.093 allowing for that variation, which is 11.4 times what "
        "chance alone gives; exact Poisson test p < 0.001; rate ratio 1.09, 95% CI 0.99 to 1.21)."
    ) in row["narrative"]
    burg = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "force")].iloc[0]
    assert burg["dispersion"] > 1 and burg["p_value_adjusted"] > burg["p_value"]
    assert burg["significant"] and burg["p_value_adjusted"] < 0.001  # +18% survives
    assert (
        "Allowing for the usual month-to-month variation in burglaries, this is a "
        in (burg["narrative"])
    )
    # the decision and the FDR use the widened p-values; p_value stays the exact one
    lsoa = v[(v["measure"] == "policeuk-burglary") & (v["area_level"] == "lsoa")]
    assert (lsoa["p_value_adjusted"] >= lsoa["p_value"] - 1e-12).all()
    assert set(lsoa["test_used"]) <= {
        "exact Poisson (no over-dispersion detected)",
        "exact Poisson widened for over-dispersion (quasi-Poisson)",
        "exact Poisson (too few months or events to check over-dispersion)",
    }
    same = lsoa[lsoa["dispersion"] == 1]
    assert (same["p_value_adjusted"] == same["p_value"]).all() and len(same) > 500


def _homicide_occurrences() -> pd.DataFrame:
    """18 homicides in the 12 months to June 2019, 13 in the 12 months to December 2021."""
    rows = []
    base = [f"2018-{m:02d}" for m in range(7, 13)] + [f"2019-{m:02d}" for m in range(1, 7)]
    cur = [f"2021-{m:02d}" for m in range(1, 13)]
    for i in range(18):
        rows.append({"month": base[i % 12], "ho_code": "1", "lsoa_code": "E01008162"})
    for i in range(13):
        rows.append(
            {
                "month": cur[i % 12],
                "ho_code": "4.1" if i % 4 == 0 else "1",
                "lsoa_code": "E01008162",
            }
        )
    for i in range(50):  # other violence that must not count
        rows.append({"month": cur[i % 12], "ho_code": "8N", "lsoa_code": "E01008162"})
    occ = pd.DataFrame(rows)
    for flag in (
        "domestic_abuse",
        "knife",
        "firearm_discharged",
        "alcohol",
        "drugs",
        "cyber",
        "public_space",
        "vawg",
        "gang",
        "county_lines",
    ):
        occ[flag] = False
    occ["hate_strands"] = ""
    occ["policeuk_category"] = "Violence and sexual offences"
    return occ


def test_the_performance_report_sentence() -> None:
    cat = load_measure_definitions().select(["homicide"])
    counts = measure_counts(cat, occurrences=_homicide_occurrences())
    months = [f"{y}-{m:02d}" for y in range(2018, 2022) for m in range(1, 13)][6:]
    res = compute(
        counts,
        cat,
        demo_frames.demo_areas(),
        period_end="2021-12",
        area_levels=["force"],
        coverage={"force": months},
    )
    row = res.values.iloc[0]
    assert (row["current"], row["baseline"], row["compared_with"]) == (13, 18, "baseline")
    assert row["narrative"].startswith(
        "There were 13 homicides in the 12 months to December 2021, compared with 18 in the 12 "
        "months to June 2019 (-28%). This is within normal variation (exact test p = 0.47; 95% "
        "intervals 6.9 to 22.2 and 10.7 to 28.4)."
    )
    assert row["p_value"] == pytest.approx(0.473, abs=5e-4)
    assert row["assessment"] == "no significant change"
    assert "numbers are small" in row["narrative"]


def test_rare_event_series_keeps_the_exact_answer() -> None:
    """A realistic homicide series (Poisson, about 1.3 a month, every month from July 2018 to
    December 2021) with 18 in the baseline and 13 in 2021: the dispersion check finds nothing,
    so the answer and the sentence are exactly the 13 vs 18 ones."""
    occ = _homicide_occurrences()
    rng = np.random.default_rng(4)
    middle = [f"2019-{m:02d}" for m in range(7, 13)] + [f"2020-{m:02d}" for m in range(1, 13)]
    k = rng.poisson(1.3, len(middle))
    extra = pd.concat([occ.iloc[[0]]] * int(k.sum()), ignore_index=True)
    extra["month"] = np.repeat(middle, k)
    occ = pd.concat([occ, extra], ignore_index=True)
    cat = load_measure_definitions().select(["homicide"])
    counts = measure_counts(cat, occurrences=occ)
    months = [f"{y}-{m:02d}" for y in range(2018, 2022) for m in range(1, 13)][6:]
    row = compute(
        counts,
        cat,
        demo_frames.demo_areas(),
        period_end="2021-12",
        area_levels=["force"],
        coverage={"force": months},
    ).values.iloc[0]
    assert (row["current"], row["baseline"]) == (13, 18)
    assert row["dispersion"] == 1 and row["dispersion_estimate"] < 1.5
    assert row["test_used"] == "exact Poisson (no over-dispersion detected)"
    assert row["p_value_adjusted"] == row["p_value"] == pytest.approx(0.473, abs=5e-4)
    assert row["ci_low_adjusted"] == row["ci_low"]
    assert row["narrative"].startswith(
        "There were 13 homicides in the 12 months to December 2021, compared with 18 in the 12 "
        "months to June 2019 (-28%). This is within normal variation (exact test p = 0.47; 95% "
        "intervals 6.9 to 22.2 and 10.7 to 28.4). The numbers are small, so only a large change could "
        "be told from chance (the rate ratio's 95% interval is 0.33 to 1.56)."
    )


def test_external_series_and_bad_parameters() -> None:
    cat = load_measure_definitions().select(["hospital-admissions-sharp-object-u25"])
    months = [f"{y}-{m:02d}" for y in (2018, 2019, 2020, 2021) for m in range(1, 13)]
    ext = pd.DataFrame(
        {
            "series": "hospital-admissions-sharp-object-u25",
            "area_level": "force",
            "area_code": "E23000007",
            "month": months,
            "value": [4.0] * 24 + [2.0] * 24,
        }
    )
    counts = measure_counts(cat, external=ext)
    res = compute(
        counts, cat, demo_frames.demo_areas(), period_end="2021-12", area_levels=["force"]
    )
    row = res.values.iloc[0]
    assert row["current"] == 24 and row["baseline"] == 48
    assert row["significant"] and row["assessment"] == "improving"
    assert "statistically significant fall, an improvement" in row["narrative"]
    with pytest.raises(ParameterError, match="area_level"):
        compute(counts, cat, demo_frames.demo_areas(), area_levels=["region"])
    with pytest.raises(ParameterError, match="period_end"):
        compute(counts, cat, demo_frames.demo_areas(), period_end="Dec 2021")
    late = compute(
        counts, cat, demo_frames.demo_areas(), period_end="2023-06", area_levels=["force"]
    )
    assert np.isnan(late.values.iloc[0]["current"])
    assert "are not complete" in late.values.iloc[0]["narrative"]
