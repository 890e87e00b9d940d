"""``peelian measures`` end to end on a store holding real demo police.uk rows."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from peelian.cli import app
from peelian.cli.measures import JSON_KEYS
from peelian.data.results import latest_result
from peelian.jobs.measures import compute_measures

sys.path.insert(0, str(Path(__file__).parents[1] / "fixtures" / "measures"))
import demo_frames

runner = CliRunner()


@pytest.fixture
def filled(store, db_url: str):  # type: ignore[no-untyped-def]
    info = demo_frames.fill_store(store, lads=("E08000023",))
    return {"db": db_url, **info}


def test_measures_json_csp(filled: dict) -> None:
    res = runner.invoke(
        app,
        [
            "measures",
            "--db",
            filled["db"],
            "--area-level",
            "csp",
            "--measure",
            "policeuk-burglary",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = json.loads(res.stdout)
    assert len(rows) == 6 and set(JSON_KEYS) <= set(rows[0])
    st = next(r for r in rows if r["area_code"] == "E08000023")
    exp = filled["rows"]
    cur = exp[
        (exp["month"] >= "2021-09") & (exp["category"] == "Burglary") & exp["lsoa_code"].notna()
    ]
    assert st["current"] == len(cur) and st["area_name"] == "South Tyneside"
    assert st["baseline"] is None and st["compared_with"] == "previous 12 months"
    assert "not available because police.uk data start in May 2020" in st["narrative"]
    empty = next(r for r in rows if r["area_code"] == "E08000021")
    assert empty["current"] == 0  # no rows loaded for Newcastle in this fixture


def test_measures_table_force_and_save(filled: dict, store) -> None:  # type: ignore[no-untyped-def]
    res = runner.invoke(
        app,
        [
            "measures",
            "--db",
            filled["db"],
            "--measure",
            "homicide",
            "--measure",
            "policeuk-robbery",
            "--period-end",
            "2022-08",
            "--save",
        ],
    )
    assert res.exit_code == 0, res.output
    assert "no force records have been loaded" in res.stdout
    assert "Saved as run" in res.stdout
    run = latest_result(store, "measures", "all")
    v = run.frames["values"]
    assert set(v["area_level"]) == {"force", "csp", "ward", "lsoa"}
    assert {"values", "monthly"} == set(run.frames)


def test_measures_spc_rules_and_dispersion_keys(filled: dict) -> None:
    base = ["measures", "--db", filled["db"], "--measure", "policeuk-all-crime", "--json"]
    res = runner.invoke(app, [*base, "--spc-rules", "western-electric"])
    assert res.exit_code == 0, res.output
    row = json.loads(res.stdout)[0]
    for key in ("dispersion", "p_value_adjusted", "ci_low_adjusted", "ci_high_adjusted"):
        assert isinstance(row[key], float)
    assert row["p_value_adjusted"] >= row["p_value"]
    assert row["test_used"].startswith("exact Poisson")
    anhoj = json.loads(runner.invoke(app, base).stdout)[0]
    # the same chart, read with other rules: Anhøj reports runs/crossings, WE its zone rules
    assert anhoj["spc_chart"] == row["spc_chart"]
    we_words = ("beyond 2 sigma", "beyond 1 sigma", "in a row", "limit", "none")
    assert any(w in row["spc_signal"] for w in we_words)
    assert "crossings" not in row["spc_signal"] and "unusually long run" not in row["spc_signal"]
    bad = runner.invoke(app, [*base, "--spc-rules", "nelson"])
    assert bad.exit_code == 2 and "anhoj or western-electric" in bad.stdout


def test_measures_errors(filled: dict) -> None:
    res = runner.invoke(app, ["measures", "--db", filled["db"], "--measure", "burglary", "--json"])
    assert res.exit_code == 6 and "Did you mean" in json.loads(res.stdout)["error"]["hint"]
    res = runner.invoke(app, ["measures", "--db", filled["db"], "--area-level", "region"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["measures", "--db", filled["db"], "--period-end", "08/2022"])
    assert res.exit_code == 2


def test_job_contract_columns(filled: dict, store) -> None:  # type: ignore[no-untyped-def]
    run_id = compute_measures(store, measures=["policeuk-all-crime", "victim-satisfaction"])
    run = latest_result(store, "measures", "all")
    assert run.id == run_id
    contract = [
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
    assert set(contract) <= set(run.frames["values"].columns)
    assert list(run.frames["monthly"].columns) == [
        "measure",
        "area_level",
        "area_code",
        "month",
        "count",
        "centre",
        "lcl",
        "ucl",
        "signal",
    ]
    sat = run.frames["values"][run.frames["values"]["measure"] == "victim-satisfaction"].iloc[0]
    assert "no survey responses have been imported" in sat["narrative"]
    assert run.summary["period_end"] == "2022-08"


def test_measures_show_the_interval_and_p_each_verdict_used(filled: dict) -> None:
    """Issue 12 items 2 and 9: the JSON and the table carry the verdict's own interval and p
    (FDR family of the wards, false-coverage-rate level), through the one formatter."""
    base = ["measures", "--db", filled["db"], "--measure", "policeuk-all-crime"]
    rows = json.loads(runner.invoke(app, [*base, "--area-level", "ward", "--json"]).stdout)
    tested = [r for r in rows if r["verdict_p"] is not None]
    assert len(tested) >= 15
    for r in tested:
        hi = float("inf") if r["verdict_ci_high"] is None else r["verdict_ci_high"]
        if r["assessment"] == "no significant change":
            assert r["verdict_ci_low"] <= 1 <= hi and r["verdict_p"] >= 0.05, r
        else:
            assert (r["verdict_ci_low"] > 1 or hi < 1) and r["verdict_p"] < 0.05, r
        assert "BH FDR over" in r["verdict_method"]
    res = runner.invoke(app, [*base, "--area-level", "force"])
    assert res.exit_code == 0, res.output
    force = json.loads(runner.invoke(app, [*base, "--json"]).stdout)[0]
    flat = " ".join(res.stdout.split())
    assert force["verdict_interval"] in flat  # the narrative prints the same interval
    assert force["verdict_method"].startswith(("exact Poisson", "quasi-Poisson, dispersion"))
    assert "↓ -" not in flat and "p = <" not in flat
