"""What the pages, the API and the CSV show beside a verdict (issue 12 items 2, 3, 4, 9; issue 11
item 9), on a real measures run: the engine over South Tyneside's real police.uk counts
(2020-05..2022-08) at force, CSP, ward and LSOA level."""

from __future__ import annotations

import csv
import io
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from web_seed import PASSWORD

from peelian.analysis.measures import compute, measure_counts
from peelian.data.accounts.users import add_user
from peelian.data.results import save_result
from peelian.schemas.formatting import fmt_change, fmt_interval, fmt_number, fmt_p_value
from peelian.schemas.measure_definitions import load_measure_definitions
from peelian.web.services.events import category_weights

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "measures"))
import demo_frames

LAD = "E08000023"  # South Tyneside
MEASURES = [
    "policeuk-all-crime",
    "policeuk-all-crime-harm",
    "policeuk-anti-social-behaviour",
    "policeuk-public-order",
    "policeuk-criminal-damage-arson",
    "policeuk-possession-of-weapons",
    "policeuk-robbery",
]
#: A small measure relabelled as if counted from force records (its counts are real).
FORCE_LIKE = "policeuk-possession-of-weapons"


@pytest.fixture(scope="module")
def engine_run() -> dict[str, Any]:
    pu = demo_frames.policeuk_counts()
    a = demo_frames.demo_areas()
    l11 = set(a[(a["level"] == "lsoa11") & (a["csp_code"] == LAD)]["code"])
    pu = pu[pu["lsoa_code"].isin(l11) | pu["lsoa_code"].isna()]
    areas = a[a["level"].isin(["force", "csp"]) | (a["csp_code"] == LAD)]
    cat = load_measure_definitions().select(MEASURES)
    res = compute(
        measure_counts(cat, policeuk=pu, harm_weights=category_weights()),
        cat,
        areas,
        period_end="2022-08",
        area_levels=["force", "csp", "ward", "lsoa"],
        lookup=demo_frames.demo_lookup(),
        coverage={"policeuk": sorted(pu["month"].unique())},
    )
    values = res.values.copy()
    values.loc[values["measure"] == FORCE_LIKE, "source"] = "force"
    return {"values": values, "monthly": res.monthly, "summary": res.summary}


@pytest.fixture
def seeded(store, engine_run) -> dict[str, Any]:
    """Overrides the web conftest's seed: the real areas and events of South Tyneside and the
    real measures run above."""
    info = demo_frames.fill_store(store, lads=(LAD,))
    save_result(
        store,
        "measures",
        "all",
        {"values": engine_run["values"], "monthly": engine_run["monthly"]},
        params={"period_end": "2022-08"},
        summary={k: v for k, v in engine_run["summary"].items() if k != "areas"},
    )
    for role in ("admin", "analyst", "viewer"):
        add_user(store, role + "1", PASSWORD, role)
    return info


def _hi(r: dict[str, Any], key: str = "verdict_ci_high") -> float:
    """An upper bound; JSON null where the text says the interval is unbounded."""
    if r[key] is None and r["verdict_interval"].endswith("∞"):
        return float("inf")
    return r[key]


def _all(client, **params: Any) -> list[dict[str, Any]]:
    r = client.get("/api/measures", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text[:300]
    return r.json()["items"]


# -- item 2: the interval and p the verdict used ------------------------------------------------
def test_each_row_shows_the_interval_and_p_its_verdict_used(analyst, engine_run) -> None:
    fdr = engine_run["summary"]["fdr"]
    rows = [r for lv in ("force", "csp", "ward", "lsoa") for r in _all(analyst, area_level=lv)]
    tested = [r for r in rows if r["verdict_p"] is not None]
    assert len(tested) > 500
    quiet = [r for r in tested if r["assessment"] == "no significant change"]
    loud = [r for r in tested if r["assessment"] in ("improving", "worsening")]
    assert quiet and loud
    for r in quiet:
        if r["verdict_interval"] == "not estimable":  # 0 against 0: no interval excludes 1
            assert r["current"] == 0 and r["comparison"] == 0, r
            continue
        assert r["verdict_ci_low"] <= 1 <= _hi(r), r
        assert r["verdict_p"] >= fdr, r
    for r in loud:
        assert r["verdict_ci_low"] > 1 or _hi(r) < 1, r
        assert r["verdict_p"] < fdr, r
    # what the surfaces printed before (the exact 95% interval and p) contradicts the verdict
    contradicted = [
        r
        for r in quiet
        if (r["ci_low"] or 0) > 1 or (r["ci_high"] or np.inf) < 1 or r["p_value"] < fdr
    ]
    assert len(contradicted) >= 5
    # the method is named: over-dispersed rows say quasi-Poisson with their dispersion
    wide = [r for r in tested if r["test_used"] and "quasi" in r["test_used"]]
    assert wide
    for r in wide:
        assert r["verdict_method"].startswith(f"quasi-Poisson, dispersion {r['dispersion']:.1f}")
    for r in tested:
        if r["area_level"] != "force":
            assert "BH FDR over" in r["verdict_method"], r["verdict_method"]


def test_measures_page_and_csv_print_the_verdicts_pair(analyst) -> None:
    rows = _all(analyst, area_level="force")
    asb = next(r for r in rows if r["measure"] == "policeuk-anti-social-behaviour")
    html = analyst.get("/measures").text
    shown = fmt_interval(asb["verdict_ci_low"], asb["verdict_ci_high"])
    assert shown in html
    assert asb["verdict_method"] in html
    # a table cell never shows the exact interval in place of the widened one
    if asb["verdict_ci_low"] != asb["ci_low"]:
        assert fmt_interval(asb["ci_low"], asb["ci_high"]) not in html
    assert "––" not in re.sub(r"<[^>]+>", " ", html)  # no "0.03––" style gaps
    text = analyst.get("/measures.csv").text
    table = list(csv.DictReader(io.StringIO(text)))
    got = next(r for r in table if r["measure"] == asb["measure"])
    assert float(got["verdict_ci_low"]) == pytest.approx(asb["verdict_ci_low"])
    assert float(got["verdict_p"]) == pytest.approx(asb["verdict_p"])
    assert got["verdict_method"] == asb["verdict_method"]


# -- item 3: SPC badge and the list's FDR ---------------------------------------------------
def test_spc_badge_only_where_the_chart_signals(viewer) -> None:
    data = viewer.get("/index.json").json()
    signals = [
        m for m in data["measures"] if m["spc_signal"] not in (None, "", "none", "not assessed")
    ]
    html = viewer.get("/").text
    assert html.count(">SPC signal</span>") == len(signals)
    assert len(signals) < len(data["measures"])


def test_changes_list_controls_fdr_across_the_whole_list(viewer, engine_run) -> None:
    fdr = engine_run["summary"]["fdr"]
    v = engine_run["values"]
    below = v[(v["area_level"] != "force") & v["p_value_adjusted"].notna()]
    p = below["p_value_adjusted"].to_numpy(float)
    m = len(p)
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(ranked[::-1])[::-1]
    list_p = np.empty(m)
    list_p[order] = np.minimum(q, 1)
    expected = below.assign(list_p=list_p)
    expected = expected[(expected["list_p"] < fdr) & expected["significant"].astype(bool)]
    data = viewer.get("/index.json").json()
    assert data["changes_family_size"] == m
    assert data["changes_total"] == len(expected)
    # fewer than the union of the per-family discoveries
    assert data["changes_total"] < int(below["significant"].astype(bool).sum())
    for r in data["changes"]:
        want = expected[
            (expected["measure"] == r["measure"]) & (expected["area_code"] == r["area_code"])
        ]
        assert len(want) == 1
        assert r["list_p"] == pytest.approx(float(want["list_p"].iloc[0]), rel=1e-6, abs=1e-9)
        assert r["list_ci_low"] > 1 or r["list_ci_high"] < 1
    html = viewer.get("/").text
    assert "controlled across this list as a whole" in html
    assert f"over {m:,} tests" in html


# -- item 4: harm in days -------------------------------------------------------------------
def test_crime_harm_card_shows_days_and_plots_days(viewer, engine_run) -> None:
    v = engine_run["values"]
    harm = v[(v["measure"] == "policeuk-all-crime-harm") & (v["area_level"] == "force")].iloc[0]
    data = viewer.get("/index.json").json()
    card = next(m for m in data["measures"] if m["measure"] == "policeuk-all-crime-harm")
    assert card["harm"] == pytest.approx(harm["harm"])
    spark = card["spark"]
    assert {p["unit"] for p in spark} == {"days"}
    last12 = sum(p["count"] for p in spark if "2021-09" <= p["month"] <= "2022-08")
    assert last12 == pytest.approx(harm["harm"], rel=1e-9)
    html = viewer.get("/").text
    card_html = html[html.index("Crime harm (police.uk; CCHI)") :][:1500]
    assert f'{fmt_number(harm["harm"])} <span class="unit">days of harm' in card_html
    assert f'<p class="big">{fmt_number(harm["current"])}' not in card_html


# -- item 9: one formatter -------------------------------------------------------------------
def test_pages_print_changes_and_p_values_with_the_formatter(viewer) -> None:
    data = viewer.get("/index.json").json()
    html = viewer.get("/").text
    for m in data["measures"]:
        if m["change_pct"] is not None and m["unit"] != "cchi_harm":
            assert fmt_change(m["change_pct"]) in html
    assert "↓ -" not in html and "↑ +" not in html and "p = <" not in html
    fall = next(m for m in data["measures"] if (m["change_pct"] or 0) < 0)
    assert fmt_change(fall["change_pct"]).startswith("↓ ") and "-" not in fmt_change(
        fall["change_pct"]
    )
    assert fmt_p_value(1e-9) == "< 0.001"


# -- issue 11 item 9: small numbers ----------------------------------------------------------
def test_viewer_sees_small_force_record_counts_suppressed(viewer, analyst, engine_run) -> None:
    v = engine_run["values"]
    small = v[
        (v["measure"] == FORCE_LIKE)
        & (v["area_level"] == "lsoa")
        & (v["current"] > 0)
        & (v["current"] < 5)
    ]
    assert len(small) >= 5  # real counts of 1 to 4 in LSOAs
    l21 = demo_frames.demo_areas().query("level == 'lsoa21'")["code"]
    small = small[small["area_code"].isin(l21)]  # unchanged in 2021: it has a ward
    code = str(small["area_code"].iloc[0])
    seen = _all(viewer, area_level="lsoa", measure=FORCE_LIKE)
    row = next(r for r in seen if r["area_code"] == code)
    assert row["current"] is None and row["current_display"] == "<5" and row["suppressed"]
    assert row["change_pct"] is None and row["rate_ratio"] is None and row["verdict_p"] is None
    assert str(int(small["current"].iloc[0])) + " " not in (row["narrative"] or "")
    shown = [r["current"] for r in seen if r["current"] is not None]
    assert all(c == 0 or c >= 5 for c in shown)
    full = next(
        r for r in _all(analyst, area_level="lsoa", measure=FORCE_LIKE) if r["area_code"] == code
    )
    assert full["current"] == pytest.approx(float(small["current"].iloc[0]))
    assert not full.get("suppressed")
    # police.uk counts are public: never suppressed
    pub = _all(viewer, area_level="lsoa", measure="policeuk-robbery")
    assert any(r["current"] is not None and 0 < r["current"] < 5 for r in pub)
    # the page says so, and its CSV carries "<5", not the number
    page = viewer.get(f"/areas/{code}").text
    assert "Small numbers:" in page and "police.uk counts are public" in page
    a = demo_frames.demo_areas()
    parent = a[(a["code"] == code) & (a["level"] == "lsoa21")]["parent_code"].iloc[0]
    text = viewer.get("/measures.csv", params={"area": parent, "measure": FORCE_LIKE}).text
    got = next(r for r in csv.DictReader(io.StringIO(text)) if r["area_code"] == code)
    assert got["current"] == "<5"


def test_a_hidden_count_cannot_be_recovered_from_its_siblings(viewer, engine_run) -> None:
    v = engine_run["values"]
    a = demo_frames.demo_areas()
    a = a[a["level"] != "lsoa11"].drop_duplicates("code").set_index("code")
    rows = v[(v["measure"] == FORCE_LIKE) & (v["area_level"] == "lsoa")].copy()
    rows["parent"] = rows["area_code"].map(a["parent_code"])
    seen = pd.DataFrame(_all(viewer, area_level="lsoa", measure=FORCE_LIKE))
    seen["parent"] = seen["area_code"].map(a["parent_code"])
    hidden = seen[seen["current_display"].notna()]
    # no parent has exactly one hidden current count among its shown children
    per_parent = hidden.groupby("parent").size()
    assert (per_parent != 1).all()
    assert len(hidden) >= int(((rows["current"] > 0) & (rows["current"] < 5)).sum())


def test_one_decision_for_small_counts_and_a_configurable_threshold(tmp_path) -> None:
    from types import SimpleNamespace

    from peelian.config import Settings
    from peelian.web.services.disclosure import hidden_below, sees_small_counts

    ctx = SimpleNamespace(settings=Settings(data_dir=tmp_path, env="test", small_count_threshold=3))
    assert hidden_below(ctx, SimpleNamespace(role="viewer")) == 3
    assert hidden_below(ctx, SimpleNamespace(role="analyst")) is None
    default = SimpleNamespace(settings=Settings(data_dir=tmp_path, env="test"))
    assert hidden_below(default, SimpleNamespace(role="viewer")) == 5
    roles = ("viewer", "analyst", "admin", "supervisor", "safeguarding", "partner", "auditor")
    seen = {r: sees_small_counts(r) for r in (*roles, None)}
    assert seen == {
        "viewer": False,
        "analyst": True,  # reads prioritised people (policy: nominal)
        "admin": True,
        "supervisor": True,
        "safeguarding": True,
        "partner": False,  # person access only as far as an agreement shares
        "auditor": False,
        None: False,
    }


def test_raw_person_rows_follow_the_casework_policy() -> None:
    from types import SimpleNamespace

    from peelian.web.services.status import can_see_raw_person_rows

    roles = ("viewer", "analyst", "admin", "supervisor", "safeguarding", "partner", "auditor")
    sees = {r for r in roles if can_see_raw_person_rows(SimpleNamespace(role=r))}
    assert sees == {"admin", "supervisor", "safeguarding"}
    assert not can_see_raw_person_rows(None)


def test_pages_say_which_family_each_fdr_runs_over(analyst, engine_run) -> None:
    wards = _all(analyst, area_level="ward", measure="policeuk-public-order")
    tested = [r for r in wards if r["verdict_p"] is not None]
    n = len(tested)
    assert n >= 15 and {r["fdr_family"] for r in tested} == {tested[0]["fdr_family"]}
    assert f"{n:,} wards" in tested[0]["fdr_family"]
    assert tested[0]["verdict_method"].endswith(f"BH FDR over {n:,} wards")
    html = analyst.get("/measures", params={"area": LAD, "measure": "policeuk-public-order"}).text
    assert f"FDR family: {tested[0]['fdr_family']}" in html
