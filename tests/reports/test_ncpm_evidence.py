"""The NCPM report's tables and narratives print the same interval and p-value, the ones each
assessment used (issue 12 item 2), through the one formatter (item 9), with small force-record
counts suppressed (issue 11 item 9); on a real measures run (the engine over South Tyneside's
police.uk counts, 2020-05..2022-08)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from peelian.analysis.measures import compute, measure_counts
from peelian.data.results import save_result
from peelian.reports import build_ncpm_context, render_html
from peelian.schemas.formatting import fmt_interval, fmt_p_value
from peelian.schemas.measure_definitions import load_measure_definitions
from peelian.web.services.events import category_weights

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "measures"))
import demo_frames

LAD = "E08000023"
MEASURES = [
    "policeuk-all-crime",
    "policeuk-public-order",
    "policeuk-criminal-damage-arson",
    "policeuk-shoplifting",
    "policeuk-possession-of-weapons",
]


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
        area_levels=["force", "csp", "ward"],
        lookup=demo_frames.demo_lookup(),
        coverage={"policeuk": sorted(pu["month"].unique())},
    )
    values = res.values.copy()
    # a small measure counted as if from force records (its counts are real)
    values.loc[values["measure"] == "policeuk-possession-of-weapons", "source"] = "force"
    return {"values": values, "monthly": res.monthly, "summary": res.summary}


def _actions(tmp_path: Path) -> Path:
    path = tmp_path / "actions.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "title": "Measures",
                "sections": [
                    {"number": i + 1, "title": m, "measures": [m], "actions": "Act."}
                    for i, m in enumerate(MEASURES)
                ],
            }
        )
    )
    return path


def _context(store, engine_run, tmp_path, **kw: Any) -> dict[str, Any]:
    frames = {"values": engine_run["values"], "monthly": engine_run["monthly"]}
    summary = {k: v for k, v in engine_run["summary"].items() if k != "areas"}
    save_result(store, "measures", "all", frames, summary=summary)
    return build_ncpm_context(store, actions_path=_actions(tmp_path), **kw)


def test_table_and_narrative_print_the_verdicts_interval(store, engine_run, tmp_path) -> None:
    ctx = _context(store, engine_run, tmp_path)
    html = render_html(ctx)
    text = re.sub(r"<[^>]+>", " ", html)
    rows = [m for sec in ctx["sections"] for m in sec["measures"]]
    wide = [m for m in rows if m["test_used"] and "quasi" in m["test_used"]]
    assert wide  # over-dispersed measures: the widened interval differs from the exact one
    for m in rows:
        shown = fmt_interval(m["verdict_ci_low"], m["verdict_ci_high"])
        assert shown in text, (m["measure"], shown)
        assert fmt_p_value(m["verdict_p"]) in text
        if "rate ratio" in m["narrative"]:
            assert f"CI {shown}" in m["narrative"], (shown, m["narrative"])
        assert m["verdict_method"] in text
    for m in wide:
        exact = fmt_interval(m["ci_low"], m["ci_high"])
        assert exact != fmt_interval(m["verdict_ci_low"], m["verdict_ci_high"])
        assert f"({exact})" not in text  # the table no longer prints the exact interval
    # CSP rows: one family of the CSPs in the run; a non-significant CSP's interval includes 1
    for m in rows:
        for r in m["csp"]:
            if r["assessment"] == "no significant change" and r["verdict_p"] is not None:
                if r["verdict_ci_low"] is None:  # 0 against 0: not estimable
                    assert r["current"] == 0 and r["comparison"] == 0
                    continue
                assert r["verdict_ci_low"] <= 1 <= r["verdict_ci_high"]
                assert r["verdict_p"] >= ctx["run"]["params"].get("fdr", 0.05)
    assert "↓ -" not in text and "p = <" not in text and "–––" not in text


def test_report_suppresses_small_force_record_counts(store, engine_run, tmp_path) -> None:
    v = engine_run["values"]
    csp = v[(v["measure"] == "policeuk-possession-of-weapons") & (v["area_level"] == "csp")]
    assert int((csp["current"] > 0).sum()) == 1  # South Tyneside's; the other CSPs hold zero
    ctx = _context(store, engine_run, tmp_path)
    sec = next(s for s in ctx["sections"] if s["title"] == "policeuk-possession-of-weapons")
    force_row = sec["measures"][0]
    assert force_row["current"] == pytest.approx(
        float(
            v[(v["measure"] == force_row["measure"]) & (v["area_level"] == "force")][
                "current"
            ].iloc[0]
        )
    )  # force totals are published, never suppressed
    assert ctx["small_count_threshold"] == 5
    assert "Small numbers" in render_html(ctx)
