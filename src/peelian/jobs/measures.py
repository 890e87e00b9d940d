"""Job: read the store, compute every measure for every area, persist kind "measures".

    run_id = compute_measures(store, period_end="2022-08")
    latest_result(store, "measures", "all").frames["values"]

The persisted frames follow the contract in docs (part "values": measure, label, source, unit,
area_level, area_code, area_name, period_end, current, baseline, change, change_pct, rate_ratio,
ci_low, ci_high, current/baseline intervals, p_value, significant, direction_good, assessment,
rate_per_1000, eb_rate_per_1000, harm, spc_signal, narrative, ...; part "monthly": measure,
area_level, area_code, month, count, centre, lcl, ucl, signal).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd

from peelian.analysis.measures import (
    MeasuresResult,
    compute,
    load_definitions,
    measure_counts,
    month_index,
    month_label,
    satisfaction_measure_rows,
)
from peelian.data.counts import (
    external_series,
    measure_areas,
    policeuk_counts,
    population_by_year,
    source_months,
)
from peelian.data.ingest.surveys import load_survey_responses, survey_response_lsoas
from peelian.data.offence_sql import force_measure_counts
from peelian.data.results import save_result
from peelian.data.store import Store
from peelian.errors import EmptySelectionError
from peelian.offences import harm_weights
from peelian.schemas.months import parse_month

__all__ = ["compute_measures", "force_measure_specs", "run_measures"]


def force_measure_specs(catalogue: Iterable[Any]) -> list[tuple[str, str | None, list[str]]]:
    """(measure, offence set, flags) of each force-record measure of a catalogue: what
    :func:`peelian.data.offence_sql.force_measure_counts` counts."""
    return [
        (d.name, d.filter.get("offence_set"), list(d.filter.get("flags") or []))
        for d in catalogue
        if d.source == "force"
    ]


def run_measures(
    store: Store,
    *,
    period_end: str | None = None,
    measures: Sequence[str] | None = None,
    area_levels: Sequence[str] = ("force", "csp", "ward", "lsoa"),
    definitions: str | Path | None = None,
    baseline_end: str | None = None,
    baseline_months: int | None = None,
    spc_rules: str = "anhoj",
    cache: bool = True,
) -> MeasuresResult:
    """Compute the measures from the store without saving them (what ``peelian measures``
    prints); see :func:`compute_measures` for the persisted run. ``cache=False`` counts every
    record again instead of using counts kept since the last ingest (decision 0008)."""
    cat = load_definitions(
        definitions, names=measures, baseline_end=baseline_end, baseline_months=baseline_months
    )
    sources = {d.source for d in cat}
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="peelian-force-counts") as pool:
        # every force measure counted in one GROUP BY in the database (decision 0007), or read
        # from the count cache (decision 0008), while this thread reads everything else
        pending = (
            pool.submit(force_measure_counts, store, force_measure_specs(cat), cache=cache)
            if "force" in sources
            else None
        )
        areas, lookup = measure_areas(store)
        months = source_months(store)
        pu = (
            policeuk_counts(store, cache=cache)
            if "policeuk" in sources and "policeuk" in months
            else None
        )
        ext = external_series(store) if "external" in sources else None
        # offence-vocabulary errors are peelian.errors classes: they propagate as they are
        force_counts = pending.result() if pending is not None else None
    weights = harm_weights("policeuk")
    counts = measure_counts(
        cat, policeuk=pu, force_counts=force_counts, external=ext, harm_weights=weights
    )
    coverage: dict[str, list[str]] = {k: v for k, v in months.items() if k in ("policeuk", "force")}
    if ext is not None:
        for name, g in ext.groupby("series"):
            coverage[f"external:{name}"] = sorted(g["month"].astype(str).unique())
    if period_end is None:
        crime = [m for k, v in coverage.items() for m in v] or months.get("survey", [])
        if not crime:
            raise EmptySelectionError(
                "There is no data to compute measures from.",
                "Load police.uk data (`peelian ingest policeuk`), force records or a survey first.",
            )
        period_end = month_label(max(month_index(m) for m in crime))
    else:
        period_end = parse_month(period_end, "--period-end")
    notes = {
        "force": "no force records have been loaded (`peelian ingest force`); police.uk data "
        "cannot separate homicide, knife crime or flags",
        "policeuk": "no police.uk data have been loaded (`peelian ingest policeuk`)",
    }
    forces = areas[areas["level"] == "force"]
    force_code = str(forces["code"].iloc[0]) if len(forces) == 1 else None
    survey = None
    if "survey" in sources and ({"force", "csp"} & set(area_levels)):
        responses = load_survey_responses(store)
        csps = None
        if "csp" in area_levels and len(responses):
            responses, csps = _place_responses(store, responses, areas)
        survey = satisfaction_measure_rows(
            responses if len(responses) else None,
            cat,
            period_end,
            months_covered=months.get("survey"),
            force_code=force_code or "force",
            force_name=str(forces["name"].iloc[0]) if len(forces) == 1 else "Force area",
            csps=csps,
        )
        survey = survey[survey["area_level"].isin(list(area_levels))].reset_index(drop=True)
    if counts.empty and not coverage and survey is None:
        raise EmptySelectionError(
            "No loaded data feed any of the selected measures.",
            "Load police.uk data or force records, or choose other measures with --measure.",
        )
    return compute(
        counts,
        cat,
        areas,
        period_end=period_end,
        area_levels=area_levels,
        coverage=coverage,
        lookup=lookup,
        force_code=force_code,
        rules=spc_rules,
        survey_rows=survey,
        source_notes=notes,
        population_by_year=population_by_year(store) if any(d.spc == "u" for d in cat) else None,
    )


def _place_responses(
    store: Store, responses: pd.DataFrame, areas: pd.DataFrame
) -> tuple[pd.DataFrame, dict[str, str] | None]:
    """Add ``csp_code`` to survey responses through the crime they are about (crime reference ->
    force record -> LSOA -> CSP). Returns the CSPs (code -> name), or None when no response can
    be placed (no force records, or no crime references): then only force rows are made."""
    where = survey_response_lsoas(store)
    if where.empty:
        return responses, None
    lsoas = areas[areas["level"].isin(["lsoa11", "lsoa21"])].drop_duplicates("code")
    csp_of = lsoas.set_index("code")["csp_code"]
    placed = where.set_index("response_ref")["lsoa_code"].map(csp_of)
    out = responses.copy()
    out["csp_code"] = out["response_ref"].map(placed)
    csp = areas[areas["level"] == "csp"].sort_values("code")
    return out, dict(zip(csp["code"].astype(str), csp["name"].astype(str), strict=True))


def compute_measures(
    store: Store,
    *,
    period_end: str | None = None,
    measures: Sequence[str] | None = None,
    area_levels: Sequence[str] = ("force", "csp", "ward", "lsoa"),
    cache: bool = True,
    **kwargs: Any,
) -> int:
    """Compute and persist kind "measures", name "all"; returns the run id. ``cache`` as for
    :func:`run_measures` (how the counts are read, not part of the run's parameters)."""
    result = run_measures(
        store,
        period_end=period_end,
        measures=measures,
        area_levels=area_levels,
        cache=cache,
        **kwargs,
    )
    params = {
        "period_end": result.summary.get("period_end"),
        "measures": list(measures) if measures else "all",
        "area_levels": list(area_levels),
        **{k: v for k, v in kwargs.items() if v is not None},
    }
    return save_result(
        store,
        "measures",
        "all",
        {"values": result.values, "monthly": result.monthly},  # typed by parquet_safe
        params=params,
        summary=result.summary,
    )
