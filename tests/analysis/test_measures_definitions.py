"""The shipped measure catalogue and its loader."""

from __future__ import annotations

from pathlib import Path

import pytest

from peelian.analysis.measures import load_definitions
from peelian.errors import NotFoundError, SchemaError
from peelian.offences import categories, offence_set, serious_violence_types
from peelian.schemas.measure_definitions import (
    MeasureDefinitionError,
    UnknownMeasureError,
    load_measure_definitions,
)


def test_shipped_catalogue_covers_the_brief() -> None:
    cat = load_measure_definitions()
    assert cat.version == "2025.1"
    ncpm = {d.ncpm for d in cat if d.ncpm}
    assert ncpm == {1, 2, 3, 4, 5, 6}
    sv = [d for d in cat if d.group == "serious_violence_type"]
    assert len(sv) == 12
    assert {d.filter["offence_set"] for d in sv} == set(serious_violence_types())
    pu = {c for d in cat if d.group == "policeuk_category" for c in d.filter["categories"]}
    assert pu == set(categories()["name"])
    for d in cat:
        assert d.baseline_end == "2019-06" and d.baseline_months == 12
        if d.source == "force" and d.filter.get("offence_set"):
            assert offence_set(d.filter["offence_set"]).name == d.filter["offence_set"]
    assert cat.get("victim-satisfaction").direction_good == "up"
    assert cat.get("neighbourhood-crime-policeuk").source == "policeuk"


def test_global_and_per_measure_baseline(tmp_path: Path) -> None:
    cat = load_measure_definitions(baseline_end="2020-03", baseline_months=6)
    assert (
        cat.get("homicide").baseline_end == "2020-03" and cat.get("homicide").baseline_months == 6
    )
    f = tmp_path / "m.yaml"
    f.write_text(
        "version: t1\ndefaults: {baseline: {end: '2019-06', months: 12}}\nmeasures:\n"
        "  - {name: a, label: A, group: x, source: policeuk, filter: {categories: [Burglary]},"
        " baseline: {end: '2021-03', months: 12}}\n",
        encoding="utf-8",
    )
    assert load_measure_definitions(f, baseline_end="2020-01").get("a").baseline_end == "2021-03"


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("measures: 3", "'measures' list"),
        (
            "measures:\n  - {name: A, label: A, group: x, source: policeuk, filter: {categories: [B]}}",
            "slug",
        ),
        (
            "measures:\n  - {name: a, label: A, group: x, source: rms, filter: {categories: [B]}}",
            "'source'",
        ),
        (
            "measures:\n  - {name: a, label: A, group: x, source: policeuk, filter: {flags: [knife]}}",
            "do not apply",
        ),
        (
            "measures:\n  - {name: a, label: A, group: x, source: force, filter: {flags: []}}",
            "offence_set",
        ),
        (
            "measures:\n  - {name: a, label: A, group: x, source: policeuk, filter: {categories: [B]}, baseline: {end: '2019-13'}}",
            "YYYY-MM",
        ),
        (
            "measures:\n  - {name: a, label: A, group: x, source: policeuk, filter: {categories: [B]}, direction_good: sideways}",
            "direction_good",
        ),
        (
            "measures:\n  - {name: a, label: A, group: x, source: policeuk, filter: {categories: [B]}}\n  - {name: a, label: A, group: x, source: policeuk, filter: {categories: [B]}}",
            "duplicate",
        ),
        ("measures: [", "not valid YAML"),
    ],
)
def test_bad_definitions_are_refused(tmp_path: Path, body: str, match: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(MeasureDefinitionError, match=match):
        load_measure_definitions(f)
    with pytest.raises(SchemaError, match=match):
        load_definitions(f)


def test_unknown_measure_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownMeasureError, match="Did you mean"):
        load_measure_definitions().get("burglary")
    with pytest.raises(NotFoundError, match="Did you mean"):
        load_definitions(names=["burglary"])
    with pytest.raises(NotFoundError):
        load_definitions(tmp_path / "none.yaml")
