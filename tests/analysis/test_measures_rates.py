"""``change`` is a rate change when the exposures differ (issue 12 item 7c): a 36-month
baseline against 12 current months."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from peelian.analysis.measures import compute, measure_counts
from peelian.analysis.stats import compare_counts
from peelian.schemas.measure_definitions import MeasureCatalogue, load_measure_definitions

FORCE = "E23000007"


def test_compare_counts_change_is_the_rate_change() -> None:
    r = compare_counts(100, 240, exposure_a=12, exposure_b=36)
    assert r.change == 20 and r.change_pct == pytest.approx(25.0)  # 100 a year against 80
    assert r.to_dict()["change"] == 20
    assert compare_counts(13, 18).change == -5  # equal exposures: the count difference
    assert compare_counts(10, 7, exposure_a=2.0, exposure_b=3.0).change == pytest.approx(
        10 - 7 * 2 / 3
    )


def test_engine_change_and_assessment_follow_the_rate() -> None:
    """1,800 burglaries in the 12 months to 2022-12 (150 a month) against 3,600 in the
    36-month baseline to 2021-12 (100 a month): the count fell by 1,800 but the rate rose by
    600 a year, so the row is a rise and worsening (before: change -1,800, "improving")."""
    months = [f"{y}-{m:02d}" for y in range(2019, 2023) for m in range(1, 13)]
    per_month = np.where(np.array(months) >= "2022-01", 150, 100)
    pu = pd.DataFrame(
        {"month": months, "lsoa_code": "E01000001", "category": "Burglary", "n": per_month}
    )
    base = load_measure_definitions().select(["policeuk-burglary"])
    cat = dataclasses.replace(
        base,
        definitions=tuple(
            dataclasses.replace(d, baseline_end="2021-12", baseline_months=36) for d in base
        ),
    )
    assert isinstance(cat, MeasureCatalogue)
    areas = pd.DataFrame(
        {
            "code": ["E01000001", FORCE],
            "level": ["lsoa21", "force"],
            "name": ["An LSOA", "Force"],
            "parent_code": [None, None],
            "ward_code": [None, None],
            "csp_code": [None, None],
            "force_code": [FORCE, None],
            "population": [1500.0, 1500.0],
        }
    )
    row = compute(
        measure_counts(cat, policeuk=pu),
        cat,
        areas,
        period_end="2022-12",
        area_levels=["force"],
        coverage={"policeuk": months},
    ).values.iloc[0]
    assert (row["current"], row["baseline"], row["compared_with"]) == (1800, 3600, "baseline")
    assert row["change"] == pytest.approx(600.0)
    assert row["change_pct"] == pytest.approx(50.0)
    assert row["rate_ratio"] == pytest.approx(1.5)
    assert row["significant"] and row["assessment"] == "worsening"
