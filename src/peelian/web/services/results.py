"""Persisted analysis results for the dashboard: measures, hotspots, forecasts, Grip plans.

Everything here reads runs saved by the jobs (kinds and columns in the results contract) through
the context's per-run cache; nothing is computed in a request beyond filtering and formatting.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.disclosure import is_person_source, suppress_monthly, suppress_small_counts
from peelian.analysis.grip import data_age_note
from peelian.analysis.measures import verdict_evidence
from peelian.analysis.stats import bh_adjust
from peelian.data.results import ResultRun
from peelian.errors import NotFoundError, ParameterError
from peelian.schemas.formatting import fmt_number
from peelian.web.context import WebContext, command_for
from peelian.web.services.common import page, records, scalar

__all__ = [
    "HOTSPOT_KINDS",
    "backtest",
    "cells_geojson",
    "concentration",
    "forecast",
    "grip_plan",
    "hotspot_cells",
    "measure_monthly",
    "measures_catalogue",
    "measures_values",
    "result_runs",
    "run_meta",
    "run_is_synthetic",
    "significant_changes",
    "small_counts_note",
    "synthetic_figures",
]

HOTSPOT_KINDS: tuple[str, ...] = ("gistar", "emerging", "kde")
_CELL_PART = {"gistar": "cells", "emerging": "cells", "kde": "cells", "forecast": "cells"}


def run_meta(run: ResultRun) -> dict[str, Any]:
    """Which run a response comes from (id, kind, name, when, with which settings)."""
    return {
        "id": run.id,
        "kind": run.kind,
        "name": run.name,
        "created_at": run.created_at.isoformat(),
        "params": run.params,
        "summary": run.summary,
        "peelian_version": run.peelian_version,
    }


def run_is_synthetic(ctx: WebContext, run: dict[str, Any] | None) -> bool:
    """Whether a run (its :func:`run_meta`) was computed from synthetic records: its summary's
    ``source`` says so (Grip plans), or its source (summary, params, or a ``force-`` name) is
    one holding synthetic rows in this store (``provenance`` of the cached data status)."""
    if not run:
        return False
    from peelian.data.frames import is_synthetic_source
    from peelian.web.services.status import synthetic_sources

    raw_summary, raw_params = run.get("summary"), run.get("params")
    summary: dict[str, Any] = raw_summary if isinstance(raw_summary, dict) else {}
    params: dict[str, Any] = raw_params if isinstance(raw_params, dict) else {}
    source = summary.get("source")
    if isinstance(source, dict):
        return bool(source.get("synthetic"))
    name = str(run.get("name") or "")
    source = source or params.get("source") or ("force" if name.startswith("force-") else None)
    return source is not None and is_synthetic_source(source, synthetic_sources(ctx))


def synthetic_figures(
    ctx: WebContext, figures: list[tuple[str, dict[str, Any] | None]]
) -> list[str]:
    """The labels of the ``(label, run)`` figures computed from synthetic records."""
    return [label for label, run in figures if run_is_synthetic(ctx, run)]


def result_runs(ctx: WebContext) -> dict[str, Any]:
    """For each result kind: the names computed, or the command that computes it."""
    out = {}
    for kind in ("measures", *HOTSPOT_KINDS, "concentration", "backtest", "forecast", "grip_plan"):
        names = ctx.run_names(kind)
        out[kind] = {"names": names, "computed": bool(names), "command": command_for(kind)}
    return out


def _part(run: ResultRun, part: str) -> pd.DataFrame:
    if part not in run.frames:
        raise NotFoundError(
            f"The {run.kind} run {run.id} has no part {part!r} (it has {sorted(run.frames)}).",
            f"Recompute it with `{command_for(run.kind)}`.",
        )
    return run.frames[part]


# -- measures ---------------------------------------------------------------------------------
def _values(ctx: WebContext, hidden_below: int | None = None) -> tuple[ResultRun, pd.DataFrame]:
    """The latest measures values with the evidence each verdict used (``verdict_*``,
    :func:`peelian.analysis.measures.verdict_evidence`) and, when ``hidden_below`` is given,
    small person-derived counts below force level suppressed for the whole frame at once (so
    a cell hidden in one table is hidden in every view of it). Cached per run and threshold."""
    run = ctx.latest("measures", "all")

    def evidence() -> pd.DataFrame:
        fdr = run.summary.get("fdr", 0.05) if isinstance(run.summary, dict) else 0.05
        return verdict_evidence(_part(run, "values"), fdr=float(fdr))

    values = ctx.derived(("measures_evidence", run.id), evidence)
    if hidden_below is None:
        return run, values

    def suppressed() -> pd.DataFrame:
        return suppress_small_counts(values, hidden_below, groups=_parent_groups(ctx, values))

    return run, ctx.derived(("measures_suppressed", run.id, hidden_below), suppressed)


def _parent_groups(ctx: WebContext, values: pd.DataFrame) -> pd.Series:
    """measure | level | parent area of each row: the cells that add up to a shown total."""
    from peelian.web.services.areas import areas_frame

    frame = areas_frame(ctx)
    # an LSOA's parent is its ward (the 2021 entry; a 2011 entry's parent is the CSP)
    frame = frame.assign(_old=frame["level"].astype(str).eq("lsoa11"))
    frame = frame.sort_values("_old", kind="stable").drop_duplicates("code")
    parent = values["area_code"].map(frame.set_index("code")["parent_code"])
    return (
        values["measure"].astype(str)
        + "|"
        + values["area_level"].astype(str)
        + "|"
        + parent.fillna("").astype(str)
    )


def _person_measures(ctx: WebContext) -> frozenset[str]:
    run = ctx.latest("measures", "all")
    values = _part(run, "values")
    return frozenset(values.loc[values["source"].map(is_person_source), "measure"].astype(str))


def measures_catalogue(ctx: WebContext) -> dict[str, Any]:
    """Each measure once: id, label, unit, source, the good direction; and the period."""
    run, values = _values(ctx)
    cols = [c for c in ("measure", "label", "unit", "source", "direction_good") if c in values]
    cat = values[cols].drop_duplicates("measure")
    period = sorted(values["period_end"].astype(str).unique()) if "period_end" in values else []
    return {
        "run": run_meta(run),
        "period_end": period[-1] if period else None,
        "measures": records(cat),
    }


def measures_values(
    ctx: WebContext,
    *,
    measure: str | None = None,
    area_level: str | None = None,
    area_code: str | None = None,
    parent: str | None = None,
    assessment: str | None = None,
    significant: bool | None = None,
    limit: int = 100,
    offset: int = 0,
    hidden_below: int | None = None,
) -> dict[str, Any]:
    """Measure values filtered by measure, area (or the children of ``parent``) and result.

    Each row carries the interval and p-value its verdict used (``verdict_ci_low``,
    ``verdict_ci_high``, ``verdict_p``, ``verdict_level``, ``verdict_method``, ``fdr_family``).
    ``hidden_below``: suppress person-derived counts from 1 to this - 1 below force level
    (see :mod:`peelian.web.services.disclosure`); ``small_counts`` in the answer says which."""
    run, values = _values(ctx, hidden_below)
    mask = pd.Series(True, index=values.index)
    if measure:
        if measure not in set(values["measure"]):
            raise NotFoundError(
                f"There is no measure {measure!r} in the latest measures run.",
                "List measures at /api/measures/catalogue.",
            )
        mask &= values["measure"] == measure
    if area_level:
        mask &= values["area_level"] == area_level
    if area_code:
        mask &= values["area_code"] == area_code
    if parent:
        from peelian.web.services.areas import areas_frame

        frame = areas_frame(ctx)
        kids = set(frame.loc[frame["parent_code"] == parent, "code"])
        mask &= values["area_code"].isin(kids)
    if assessment:
        mask &= values["assessment"] == assessment
    if significant is not None:
        mask &= values["significant"].fillna(False).astype(bool) == significant
    if not (area_level or area_code or parent):
        mask &= values["area_level"] == "force"
    # Stable: within an area the measures keep the engine's (catalogue) order.
    chosen = values[mask].sort_values(["area_level", "area_name"], kind="stable")
    return page(
        chosen, limit, offset, run=run_meta(run), small_counts=small_counts_note(hidden_below)
    )


def small_counts_note(hidden_below: int | None) -> dict[str, Any]:
    """What this answer does with small counts (for the page's note and the API)."""
    if hidden_below is None:
        return {"suppressed": False, "threshold": None, "note": None}
    return {
        "suppressed": True,
        "threshold": hidden_below,
        "note": (
            f"Counts from 1 to {hidden_below - 1} derived from force records (person-level "
            f"data) are shown as <{hidden_below} below force level, with anything they could "
            "be worked out from (changes, rates, intervals, p-values, and where needed a second "
            "area of the same parent), as official statistics do. police.uk counts are public "
            "already and are shown in full. Roles with person-level access see every count."
        ),
    }


def measure_monthly(
    ctx: WebContext, measure: str, area_code: str | None = None, hidden_below: int | None = None
) -> dict[str, Any]:
    """The monthly series with SPC centre line, limits and signals for one measure and area
    (small person-derived monthly counts below force level hidden when ``hidden_below``)."""
    run = ctx.latest("measures", "all")
    monthly = _part(run, "monthly")
    rows = monthly[monthly["measure"] == measure]
    if rows.empty:
        raise NotFoundError(
            f"There is no monthly series for measure {measure!r}.",
            "List measures at /api/measures/catalogue.",
        )
    if area_code:
        rows = rows[rows["area_code"] == area_code]
    else:
        rows = rows[rows["area_level"] == "force"]
    if hidden_below is not None:
        rows = suppress_monthly(rows, _person_measures(ctx), hidden_below)
    return {
        "measure": measure,
        "area_code": area_code or (scalar(rows["area_code"].iloc[0]) if len(rows) else None),
        "run": run_meta(run),
        "months": records(rows.sort_values("month")),
        "small_counts": small_counts_note(hidden_below),
    }


def sparklines(ctx: WebContext, area_level: str = "force") -> dict[str, list[dict[str, Any]]]:
    """Monthly series per measure at one level (for the overview's sparklines)."""
    run = ctx.latest("measures", "all")
    monthly = _part(run, "monthly")
    rows = monthly[monthly["area_level"] == area_level].sort_values("month")
    cols = ["month", "count", "centre", "lcl", "ucl", "signal"]
    return {str(m): records(g, cols) for m, g in rows.groupby("measure", sort=False)}


def harm_by_month(ctx: WebContext, months: int = 24) -> list[dict[str, Any]]:
    """Force-wide police.uk crime harm (CCHI days) per month, the last ``months`` months to
    the measures' period end: the series the harm measure's card plots (its monthly SPC rows
    hold counts). ``count`` holds days so the sparkline draws it; ``unit`` says so."""
    from peelian.web.services.events import event_base

    run = ctx.latest("measures", "all")
    values = _part(run, "values")
    end = str(values["period_end"].astype(str).max()) if len(values) else None
    base = event_base(ctx)
    if base.empty or end is None:
        return []
    by = base.groupby("month", observed=True)["harm"].sum(min_count=1)
    by.index = by.index.astype(str)
    by = by[by.index <= end].sort_index().tail(months)
    return [
        {"month": m, "count": None if pd.isna(v) else float(v), "unit": "days"}
        for m, v in by.items()
    ]


#: The FDR family of the "what changed significantly, and where" list.
CHANGES_FAMILY = (
    "every measure at every area level below the force (community safety partnerships, "
    "wards and LSOAs) with a test this period"
)


def significant_changes(
    ctx: WebContext, limit: int = 12, hidden_below: int | None = None
) -> dict[str, Any]:
    """Below force level, the changes that stay significant when the false discovery rate is
    controlled across the list as a whole: Benjamini-Hochberg over the dispersion-widened
    p-values of every measure and area below force level (one family, :data:`CHANGES_FAMILY`),
    kept only where the row is also significant in its own family (one measure at one level),
    strongest evidence first. Each row shows the list-wide adjusted p (``list_p``) and the rate
    ratio's interval at the list's false-coverage-rate level (Benjamini & Yekutieli 2005:
    ``1 - R q / m``), which excludes 1 for every row listed."""
    run, _ = _values(ctx)
    return ctx.derived(
        ("significant_changes", run.id, limit, hidden_below),
        lambda: _significant_changes(ctx, limit, hidden_below),
    )


def _significant_changes(ctx: WebContext, limit: int, hidden_below: int | None) -> dict[str, Any]:
    run, values = _values(ctx, hidden_below)
    fdr = float(run.summary.get("fdr", 0.05)) if isinstance(run.summary, dict) else 0.05
    below = values[values["area_level"] != "force"]
    if "fdr_family" in below:
        below = below.drop(columns=["fdr_family", "fdr_family_size"])
    if "p_value_adjusted" in below:
        _, full = _values(ctx)
        raw = full.loc[below.index]
        whole = raw.assign(fdr_family="changes-list", p_adjusted=bh_adjust(raw["p_value_adjusted"]))
        whole["significant"] = whole["p_adjusted"] < fdr
        keep = whole["significant"].fillna(False).astype(bool) & raw["significant"].astype(bool)
        listed = verdict_evidence(whole, fdr=fdr, only=keep.to_numpy())
        tested = int(listed["p_adjusted"].notna().sum())
    else:
        listed, keep, tested = below, below["significant"].fillna(False).astype(bool), 0
    rows = below[keep.to_numpy()].copy()
    for src, dst in (
        ("p_adjusted", "list_p"),
        ("verdict_ci_low", "list_ci_low"),
        ("verdict_ci_high", "list_ci_high"),
        ("verdict_level", "list_level"),
    ):
        rows[dst] = listed.loc[rows.index, src].to_numpy() if src in listed else np.nan
    if rows.get("suppressed") is not None:
        hidden = rows["suppressed"].fillna(False).astype(bool)
        rows.loc[hidden, ["list_p", "list_ci_low", "list_ci_high"]] = np.nan
    rows = rows.sort_values(["list_p", "verdict_p", "area_code"], kind="stable")
    return {
        "items": records(rows.head(limit)),
        "total": int(len(rows)),
        "family": CHANGES_FAMILY,
        "family_size": tested,
        "fdr": fdr,
    }


# -- hotspots and forecasts -------------------------------------------------------------------
def _kind(kind: str) -> None:
    if kind not in (*HOTSPOT_KINDS, "forecast"):
        raise ParameterError(
            f"The hotspot kind must be one of {', '.join(HOTSPOT_KINDS)}. Got {kind!r}."
        )


def _default_name(ctx: WebContext, kind: str, name: str | None) -> str:
    if name:
        return name
    names = ctx.run_names(kind)
    if not names:
        ctx.latest(kind)  # raises NotFoundError with the command to run
    preferred = "violence-and-sexual-offences"
    return preferred if preferred in names else names[0]


def hotspot_cells(
    ctx: WebContext,
    kind: str,
    name: str | None = None,
    *,
    classification: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> dict[str, Any]:
    """Cells of a hotspot run (gistar/emerging/kde) or forecast, strongest first.

    ``classification`` filters Gi* by ``hotspot`` (hot/cold/none), emerging by ``pattern``, and
    forecasts by ``flagged`` ("true").
    """
    _kind(kind)
    name = _default_name(ctx, kind, name)
    run = ctx.latest(kind, name)
    cells = _part(run, _CELL_PART[kind])
    cells = _classify(kind, cells, classification)
    return page(cells, limit, offset, run=run_meta(run), names=ctx.run_names(kind))


def _classify(kind: str, cells: pd.DataFrame, classification: str | None) -> pd.DataFrame:
    if kind == "gistar":
        if classification:
            cells = cells[cells["hotspot"] == classification]
        return cells.sort_values(["p_adjusted", "gistar"], ascending=[True, False])
    if kind == "emerging":
        if classification:
            cells = cells[cells["pattern"] == classification]
        return cells.sort_values(["trend_p", "n_total"], ascending=[True, False])
    if kind == "kde":
        return cells.sort_values("density", ascending=False)
    if classification:
        cells = cells[cells["flagged"].astype(str).str.lower() == classification.lower()]
    return cells.sort_values("rank")


def cells_geojson(
    ctx: WebContext,
    kind: str,
    name: str | None = None,
    *,
    classification: str | None = None,
    max_cells: int = 5000,
) -> dict[str, Any]:
    """Cells as a GeoJSON FeatureCollection in WGS84 (properties = the cell's columns)."""
    _kind(kind)
    name = _default_name(ctx, kind, name)
    run = ctx.latest(kind, name)

    def build() -> dict[str, Any]:
        cells = _classify(kind, _part(run, _CELL_PART[kind]), classification)
        if kind == "gistar" and not classification:
            cells = cells[cells["hotspot"] != "none"]
        if kind == "emerging" and not classification:
            cells = cells[~cells["pattern"].isin(["No Pattern Detected", "none"])]
        if kind == "kde":
            cells = cells[cells["density"] > 0]
        truncated = len(cells) > max_cells
        cells = cells.head(max_cells)
        return {**_to_geojson(cells), "truncated": truncated, "run": run_meta(run)}

    return ctx.derived(("cells_geojson", run.id, classification, max_cells), build)


def _to_geojson(cells: pd.DataFrame) -> dict[str, Any]:
    import geopandas as gpd

    if not isinstance(cells, gpd.GeoDataFrame) or cells.geometry.isna().all():
        cells = gpd.GeoDataFrame(
            cells, geometry=gpd.points_from_xy(cells["x"], cells["y"]), crs="EPSG:27700"
        )
    if cells.crs is None:
        cells = cells.set_crs("EPSG:27700")
    cells = cells.to_crs("EPSG:4326")
    return json.loads(cells.to_json(na="null", drop_id=True))


def backtest(ctx: WebContext, name: str | None = None) -> dict[str, Any]:
    """Backtest scores per model and month, and the per-model summary."""
    name = _default_name(ctx, "backtest", name)
    run = ctx.latest("backtest", name)
    summary = _part(run, "summary")
    note = None
    if "area_basis" in summary:  # coverage of the crime-possible cells (decision 0014)
        summary = summary[summary["area_basis"] == "crime-possible"]
        dom = summary[["domain_cells_mean", "domain_km2_mean"]].iloc[0] if len(summary) else None
        if dom is not None:
            note = (
                f"Coverage is a % of the crime-possible area: {fmt_number(dom.iloc[0])} cells, "
                f"{fmt_number(dom.iloc[1], 1)} km² (cells with a police.uk event of any type before each "
                "test month); skill is against the all-history counts. Whole-force figures are in "
                "the JSON and CSV, labelled."
            )
        keep = ["model", "coverage", "n_periods", "hit_rate_mean", "pai_mean", "pai_std",
                "pei_mean", "pai_skill_mean", "pai_months_better", "ll_per_event_mean",
                "ll_months_better", "churn_jaccard_mean"]  # fmt: skip
        summary = summary[[c for c in keep if c in summary]]
    return {
        "run": run_meta(run),
        "names": ctx.run_names("backtest"),
        "summary": records(summary),
        "coverage_note": note,
        "results": records(_part(run, "results").sort_values(["model", "month"])),
    }


def forecast(ctx: WebContext, name: str | None = None, *, limit: int = 100) -> dict[str, Any]:
    """The current forecast: flagged cells first (by rank)."""
    return hotspot_cells(ctx, "forecast", name, limit=limit)


def grip_plan(ctx: WebContext) -> dict[str, Any]:
    """The Grip patrol plan: hotspots (rank, harm share, high-risk hours) and visits."""
    run = ctx.latest("grip_plan", "grip")
    hotspots = _part(run, "hotspots").sort_values("rank")
    visits = run.frames.get("visits", pd.DataFrame())
    if len(visits):
        visits = visits.sort_values(
            [c for c in ("date", "start_time", "hotspot_rank") if c in visits]
        )
    summary = run.summary if isinstance(run.summary, dict) else {}
    raw_source = summary.get("source")
    source: dict[str, Any] = raw_source if isinstance(raw_source, dict) else {}
    months, start = summary.get("months"), (summary.get("summary") or {}).get("start")
    data_age = summary.get("data_age")
    if data_age is None and months and start:  # plans saved before the check was recorded
        data_age = data_age_note(months, str(start))
    return {
        "run": run_meta(run),
        "hotspots": records(hotspots),
        "visits": records(visits),
        "hotspots_geojson": _to_geojson(hotspots) if len(hotspots) else None,
        "synthetic": bool(source.get("synthetic")),
        "data_age": data_age,
        "months": months,
    }


# -- concentration ----------------------------------------------------------------------------
#: Points of the Lorenz curve sent to the browser (the job stores 1,001).
LORENZ_POINTS = 101


def concentration(ctx: WebContext, name: str | None = None) -> dict[str, Any]:
    """The latest crime-concentration run of a crime set (kind ``concentration``).

    ``statistics`` (statistic, value, label): shares of crime and harm in the top 1, 5 and 10% of
    cells; the Gini coefficient, Bernasco & Steenbeek's (2017) generalised Gini, the Gini
    expected from chance alone and the Poisson-adjusted Gini (Levin, Rosenfeld & Deckard 2017;
    Mohler et al. 2019); with two comparable 12-month periods, the Jaccard overlap and Spearman
    correlation of the top 5% of cells. ``shares``: crime and harm in the top 1-50% of cells.
    ``lorenz``: the Lorenz curve at :data:`LORENZ_POINTS` shares of cells. Point estimates: the
    run holds no intervals. Computed and cited in :mod:`peelian.analysis.hotspots` and saved by
    :func:`peelian.jobs.hotspots.run_concentration` (or by ``peelian hotspots concentration
    --save``, the same parts without the stability comparison).
    """
    name = _default_name(ctx, "concentration", name)
    run = ctx.latest("concentration", name)
    s = run.summary
    statistics = records(_part(run, "summary"))
    lorenz = _part(run, "lorenz")
    if len(lorenz) > LORENZ_POINTS:
        lorenz = lorenz.iloc[np.linspace(0, len(lorenz) - 1, LORENZ_POINTS).round().astype(int)]
    stability = s.get("stability")
    return {
        "run": run_meta(run),
        "names": ctx.run_names("concentration"),
        "period": s.get("period"),
        "n_events": s.get("n_events"),
        "n_cells": s.get("n_cells"),
        "cell_size": s.get("cell_size"),
        "statistics": statistics,
        "shares": list(s.get("shares") or []),
        "stability": {**stability, "periods": s.get("stability_periods")} if stability else None,
        "stability_note": s.get("stability_note"),
        "lorenz": records(lorenz),
    }
