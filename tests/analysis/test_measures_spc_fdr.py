"""Control charts at ward and LSOA level keep their false signals rare (issue 12 item 3,
decision 0012): stable Poisson series run through the measures engine's own SPC path, exact
conditional run tests against simulation, and a real spike still found with limits that agree
with the flagged month."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from peelian.analysis.measures import compute, measure_counts
from peelian.analysis.stats import family_spc, runs_pvalues
from peelian.schemas.measure_definitions import load_measure_definitions

FORCE = "E23000007"
MONTHS = [f"{2019 + m // 12}-{m % 12 + 1:02d}" for m in range(48)]


def _areas(n_lsoa: int) -> pd.DataFrame:
    lsoas = [f"E0100{i:04d}" for i in range(n_lsoa)]
    wards = [f"E0500{i // 10:04d}" for i in range(n_lsoa)]
    csps = [f"E0800{i // 200:04d}" for i in range(n_lsoa)]
    ward_codes = sorted(set(wards))
    frames = [
        pd.DataFrame(
            {
                "code": lsoas,
                "level": "lsoa21",
                "name": lsoas,
                "parent_code": wards,
                "ward_code": wards,
                "csp_code": csps,
                "force_code": FORCE,
                "population": 1500.0,
            }
        ),
        pd.DataFrame(
            {
                "code": ward_codes,
                "level": "ward",
                "name": ward_codes,
                "parent_code": None,
                "ward_code": None,
                "csp_code": [f"E0800{int(w[5:]) // 20:04d}" for w in ward_codes],
                "force_code": FORCE,
                "population": 15000.0,
            }
        ),
        pd.DataFrame(
            {
                "code": sorted(set(csps)),
                "level": "csp",
                "name": sorted(set(csps)),
                "parent_code": None,
                "ward_code": None,
                "csp_code": None,
                "force_code": FORCE,
                "population": 300000.0,
            }
        ),
        pd.DataFrame(
            {
                "code": [FORCE],
                "level": "force",
                "name": ["Force"],
                "parent_code": None,
                "ward_code": None,
                "csp_code": None,
                "force_code": None,
                "population": 900000.0,
            }
        ),
    ]
    return pd.concat(frames, ignore_index=True)


def _run(y: np.ndarray) -> pd.DataFrame:
    """Monthly burglary counts ``y`` (LSOA x month) through measure_counts and compute."""
    lsoas = [f"E0100{i:04d}" for i in range(len(y))]
    rr, tt = np.nonzero(y)
    pu = pd.DataFrame(
        {
            "month": np.array(MONTHS)[tt],
            "lsoa_code": np.array(lsoas)[rr],
            "category": "Burglary",
            "n": y[rr, tt],
        }
    )
    cat = load_measure_definitions().select(["policeuk-burglary"])
    res = compute(
        measure_counts(cat, policeuk=pu),
        cat,
        _areas(len(y)),
        area_levels=["ward", "lsoa"],
        coverage={"policeuk": MONTHS},
        spc_months=48,
    )
    return res


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stable_poisson_series_rarely_signal_through_the_engine(seed: int) -> None:
    """600 LSOAs (60 wards), means spread from 0.1 to 50 a month, 48 stable months. Before the
    change 41% of LSOA rows signalled (88% of those with a mean under 0.5 a month)."""
    rng = np.random.default_rng(seed)
    mean = np.exp(rng.uniform(np.log(0.1), np.log(50), 600))
    y = rng.poisson(mean[:, None], size=(600, 48))
    v = _run(y).values
    lsoa = v[v["area_level"] == "lsoa"].sort_values("area_code")
    ward = v[v["area_level"] == "ward"]
    assert len(lsoa) == 600 and len(ward) == 60
    assert (lsoa["spc_months"] == 48).all()
    signalled = lsoa["spc_signal"] != "none"
    small = mean < 0.5
    assert small.sum() > 50
    assert signalled.mean() <= 0.05
    assert signalled.to_numpy()[small].mean() <= 0.05
    assert (ward["spc_signal"] != "none").mean() <= 0.05
    # what the pages show: the family, the method, and p <= q <= 1
    assert (
        lsoa["spc_fdr_family"]
        == ("all 600 LSOAs × Burglary, charts of January 2019 to December 2022")
    ).all()
    assert ward["spc_fdr_family"].str.startswith("all 60 wards × Burglary").all()
    assert lsoa["spc_method"].str.contains("Benjamini-Hochberg FDR 5% across the family").all()
    assert (lsoa["spc_p_value"] <= lsoa["spc_q_value"] + 1e-15).all()
    assert lsoa["spc_q_value"].between(0, 1).all()


def test_a_real_spike_is_found_and_the_limits_agree() -> None:
    rng = np.random.default_rng(7)
    mean = np.exp(rng.uniform(np.log(0.1), np.log(50), 600))
    y = rng.poisson(mean[:, None], size=(600, 48))
    target = int(np.argmin(np.abs(mean - 1.0)))  # about one a month
    y[target, 40] = 14
    res = _run(y)
    v = res.values.set_index(["area_level", "area_code"])
    code = f"E0100{target:04d}"
    row = v.loc[("lsoa", code)]
    assert row["spc_signal"] == "1 month above the upper limit (latest 2022-05)"
    assert row["spc_q_value"] < 0.05
    m = res.monthly
    chart = m[(m["area_level"] == "lsoa") & (m["area_code"] == code)].set_index("month")
    # the drawn limit is the exact binomial quantile at the family's tail: the spike is above
    # it and no other month is
    assert chart.loc["2022-05", "count"] > chart.loc["2022-05", "ucl"]
    other = chart.drop(index="2022-05")
    assert (other["count"] <= other["ucl"]).all()
    assert (chart["signal"].astype(str) == "above").sum() == 1
    total = y[target].sum()
    assert chart["centre"].iloc[0] == pytest.approx(total / 48)
    # force and CSP charts are still read one at a time, without a family
    assert (v.xs("lsoa")["spc_fdr_family"] != "").all()


def test_runs_pvalues_equal_simulation() -> None:
    """P(longest run >= L) and P(runs <= r) given n1 above and n2 below, against 200,000
    random orders."""
    rng = np.random.default_rng(11)
    for n1, n2, length, runs in ((10, 10, 8, 4), (4, 20, 9, 6), (12, 30, 12, 10)):
        base = np.array([1] * n1 + [-1] * n2)
        perms = rng.permuted(np.tile(base, (200_000, 1)), axis=1)
        change = np.diff(perms, axis=1) != 0
        n_runs = change.sum(axis=1) + 1
        # longest run per permutation
        idx = np.arange(perms.shape[1])
        starts = np.where(np.c_[np.ones(len(perms), bool), change], idx, 0)
        last_start = np.maximum.accumulate(starts, axis=1)
        longest = (idx - last_start + 1).max(axis=1)
        p_long, p_few = runs_pvalues([n1], [n2], [length], [runs])
        assert p_long[0] == pytest.approx((longest >= length).mean(), abs=0.003)
        assert p_few[0] == pytest.approx((n_runs <= runs).mean(), abs=0.003)


def test_family_spc_one_chart_equals_its_own_exact_test() -> None:
    """A family of one: the chart's p-value is 4 x 24 x the exact conditional tail of its
    largest month (Binomial(total, 1/24)), and q = p."""
    from scipy import stats

    x = np.full((1, 24), 2.0)
    x[0, 5] = 12
    r = family_spc(x, np.array(["c"], object), np.array(["f"], object))
    tail = stats.binom.sf(11, x.sum(), 1 / 24)
    assert r["p_above"][0] == pytest.approx(24 * tail)
    assert r["p_value"][0] == pytest.approx(min(1, 4 * 24 * tail))
    assert r["q_value"][0] == r["p_value"][0] and r["signal"][0]
    assert r["point"][0, 5] == 1 and r["n_above"][0] == 1 and r["ucl"][0, 5] < 12


def test_u_chart_with_equal_exposures_equals_the_c_chart() -> None:
    rng = np.random.default_rng(3)
    x = rng.poisson(3.0, (40, 24)).astype(float)
    x[0, 7] = 15
    fam = np.array(["f"] * 40, object)
    c = family_spc(x, np.array(["c"] * 40, object), fam)
    u = family_spc(x, np.array(["u"] * 40, object), fam, exposure=np.full(x.shape, 2.5))
    for key in ("p_value", "q_value", "p_above", "p_below"):
        assert np.allclose(c[key], u[key], rtol=1e-12), key
    assert (c["point"] == u["point"]).all() and np.allclose(c["ucl"], u["ucl"])
    assert c["signal"][0] and c["point"][0, 7] == 1
