"""Hotspot jobs: events and the force boundary from the store -> analysis -> persisted results.

    run_hotspots(store, crime_type="Violence and sexual offences")
    # {"gistar": run_id, "emerging": run_id, "kde": run_id, "concentration": run_id}

Results are saved with :func:`peelian.data.results.save_result` as kinds ``gistar``, ``emerging``,
``kde`` (part ``cells``) and ``concentration`` (parts ``lorenz`` and ``summary``) under the crime type's slug (``violence-and-sexual-offences``), with the parameters and every automatic choice in the run's params and summary.

``source="force"`` analyses the force's own records (``peelian ingest force``) with their exact
locations: the crime type may then also be a named offence set or serious violence type of
:mod:`peelian.offences` (``public-space-violence``, ``serious-violence``, ...), and harm is
weighted by Home Office code. Force results are saved under ``force-<slug>`` so they never
replace the police.uk ones.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import pandas as pd

from peelian.analysis import hotspots as hs
from peelian.analysis.grid import Grid
from peelian.data.results import save_result
from peelian.data.store import Store
from peelian.errors import EmptySelectionError, NotFoundError
from peelian.offences import crime_slug, harm_weights, resolve_categories  # the vocabulary's
from peelian.schemas.months import check_month_range

__all__ = [
    "ANALYSES",
    "HARM_COL",
    "SOURCES",
    "crime_slug",
    "harm_weights",
    "load_boundary",
    "load_force_selection",
    "load_population",
    "load_selection",
    "previous_window",
    "resolve_categories",
    "result_name",
    "run_analysis",
    "run_concentration",
    "run_hotspots",
    "save_analysis",
]

log = logging.getLogger("peelian.jobs.hotspots")

#: The events' column the harm weights are keyed by, per source.
HARM_COL: dict[str, str] = {"policeuk": "category", "force": "ho_code"}
SOURCES: tuple[str, ...] = ("policeuk", "force")

#: What ``run_hotspots`` computes and persists by default.
ANALYSES: tuple[str, ...] = ("gistar", "emerging", "kde", "concentration")


def result_name(crime_type: str, source: str = "policeuk") -> str:
    """The name results are saved under: the crime type's slug, ``force-`` first for force
    records."""
    slug = crime_slug(crime_type)
    return slug if source == "policeuk" else f"force-{slug}"


def _check_source(source: str) -> None:
    if source not in SOURCES:
        from peelian.errors import ParameterError

        raise ParameterError(
            f"The 'source' parameter must be one of {', '.join(SOURCES)}. Got {source!r}.",
            "Use 'policeuk' for police.uk data or 'force' for the force's own records.",
        )


def load_boundary(store: Store) -> tuple[Any, dict[str, Any]]:
    """The force boundary; if none is loaded, the union of the loaded LSOAs (reported)."""
    from peelian.data.geography import areas_frame, force_boundary

    try:
        return force_boundary(store), {}
    except NotFoundError:
        for level in ("lsoa21", "lsoa11"):
            try:
                frame = areas_frame(store, level, with_geometry=True)
            except NotFoundError:
                continue
            if len(frame):
                geom = frame.geometry.union_all()
                rule = f"no force boundary loaded: union of the {len(frame)} {level} areas"
                log.warning("hotspots: %s", rule)
                return geom, {"boundary": {"value": f"{level} union", "rule": rule}}
        raise


def load_selection(
    store: Store,
    crime_type: str | None,
    month_from: str | None,
    month_to: str | None,
    *,
    source: str = "policeuk",
) -> pd.DataFrame:
    """Events of the crime type and months: police.uk events, or force occurrences
    (:func:`load_force_selection`)."""
    check_month_range(month_from, month_to)
    _check_source(source)
    if source == "force":
        return load_force_selection(store, crime_type, month_from, month_to)
    from peelian.data.frames import load_events

    cats = resolve_categories(crime_type)
    events = load_events(store, month_from=month_from, month_to=month_to, categories=cats)
    if events.empty:
        raise EmptySelectionError(
            f"No {crime_type or 'events'} between {month_from or 'the first month'} and "
            f"{month_to or 'the last month'} are in the store.",
            "Check `peelian info` for what is loaded, or widen --from/--to.",
        )
    return events


def load_force_selection(
    store: Store, crime_type: str | None, month_from: str | None, month_to: str | None
) -> pd.DataFrame:
    """Force occurrences (``load_occurrences``) of a crime type: ``all``, a police.uk category
    (on ``policeuk_category``), or a named offence set or serious violence type of
    :mod:`peelian.offences` (evaluated with ``OffenceSet.mask``, with the people involved when
    the definition needs them). Adds ``category`` (= ``policeuk_category``) for the analyses."""
    from peelian.data.force_frames import load_involvements, load_occurrences
    from peelian.offences import OffenceError, offence_set

    occ = load_occurrences(store, date_from=month_from, date_to=month_to)
    what = crime_type or "all"
    if crime_slug(what) != "all" and not occ.empty:
        try:
            oset = offence_set(crime_slug(what))
        except OffenceError:
            oset = None
        if oset is not None:
            inv = None
            if oset.needs_involvements:
                inv = load_involvements(store, date_from=month_from, date_to=month_to)
            occ = occ[oset.mask(occ, inv).to_numpy(dtype=bool)]
        else:
            try:
                cats = resolve_categories(what)
            except NotFoundError:
                raise NotFoundError(
                    f"Unknown crime type {what!r} for force records.",
                    "Use a police.uk category, a named offence set or serious violence type "
                    "(`peelian offences sets`), or 'all'.",
                ) from None
            occ = occ[occ["policeuk_category"].isin(cats or [])]
    if occ.empty:
        raise EmptySelectionError(
            f"No force records of {what} reported between {month_from or 'the first month'} "
            f"and {month_to or 'the last month'} are in the store.",
            "Check `peelian info` for what is loaded (`peelian ingest force`), or widen "
            "--from/--to.",
        )
    occ = occ.reset_index(drop=True)
    occ["category"] = occ["policeuk_category"]
    return occ


def load_population(store: Store) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Residents per small area as points (easting, northing = the area's centroid; population)
    for dual KDE: LSOA 2021 if loaded, else LSOA 2011; the level used is reported."""
    from peelian.data.geography import areas_frame

    for level in ("lsoa21", "lsoa11"):
        try:
            frame = areas_frame(store, level, with_geometry=False)
        except NotFoundError:
            continue
        frame = frame.dropna(subset=["population"])
        if len(frame):
            pop = pd.DataFrame(
                {
                    "easting": frame["centroid_easting"].astype(float).to_numpy(),
                    "northing": frame["centroid_northing"].astype(float).to_numpy(),
                    "population": frame["population"].astype(float).to_numpy(),
                }
            )
            rule = (
                f"residents of the {len(frame):,} {level} areas (latest mid-year estimate "
                "loaded), each placed at its centroid"
            )
            return pop, {"population": {"value": level, "rule": rule}}
    raise NotFoundError(
        "No small-area population is loaded, so crime cannot be put relative to population.",
        "Load the areas and populations with `peelian areas load`.",
    )


def run_analysis(
    analysis: str,
    events: pd.DataFrame,
    boundary: Any,
    *,
    cell_size: float | None = None,
    grid: str = "square",
    source: str = "policeuk",
    **options: Any,
) -> hs.HotspotResult:
    """Run one named analysis (count, kde, gistar, emerging, concentration, stability, dual_kde:
    the latter needs ``population=`` from :func:`load_population`) on frames.

    Harm is weighted as :func:`harm_weights` of ``source`` says, keyed by :data:`HARM_COL`.
    """
    _check_source(source)
    harm: dict[str, Any] = {"harm_weights": harm_weights(source), "harm_col": HARM_COL[source]}
    common: dict[str, Any] = {"cell_size": cell_size}
    if analysis == "count":
        return hs.cell_counts(events, boundary, grid=grid, **harm, **common)
    if analysis == "kde":
        if grid != "square" and not isinstance(boundary, Grid):
            from peelian.errors import ParameterError

            raise ParameterError(
                f"KDE is computed on a square grid; got grid={grid!r}.", "Use --grid square."
            )
        return hs.kde(events, boundary, **harm, **common, **options)
    if analysis == "gistar":
        return hs.gistar(events, boundary, grid=grid, **harm, **common, **options)
    if analysis == "emerging":
        return hs.emerging_hotspots(events, boundary, grid=grid, **harm, **common, **options)
    if analysis == "concentration":
        return hs.concentration(events, boundary, grid=grid, **harm, **common, **options)
    if analysis == "stability":
        return hs.stability(events, boundary, grid=grid, cell_size=cell_size, **options)
    if analysis == "dual_kde":
        return hs.dual_kde(events, options.pop("population"), boundary, **common, **options)
    from peelian.errors import ParameterError

    raise ParameterError(f"Unknown hotspot analysis {analysis!r}.")


def save_analysis(
    store: Store, kind: str, name: str, result: hs.HotspotResult, extra: dict[str, Any]
) -> int:
    """Persist one result (part ``cells``) with its params, summary, choices and report."""
    summary = dict(result.summary, **extra, choices=result.choices, report=result.report,
                   warnings=list(result.warnings))  # fmt: skip
    parts: dict[str, Any] = {"cells": result.cells}
    if kind == "concentration":  # the parts the dashboard reads, as run_concentration saves
        parts.update(concentration_parts(result))
    return save_result(store, kind, name, parts, params=result.params, summary=summary)


def concentration_parts(
    conc: hs.HotspotResult, stability: hs.HotspotResult | None = None
) -> dict[str, pd.DataFrame]:
    """Parts ``lorenz`` (cell_share, share_n, share_harm) and ``summary`` (statistic, value,
    label) of a saved concentration run."""
    return {"lorenz": hs.lorenz_table(conc), "summary": hs.concentration_summary(conc, stability)}


def previous_window(months: Sequence[str], length: int = 12) -> tuple[tuple[str, str], ...]:
    """The last ``length`` months of ``months`` (sorted YYYY-MM) and the ``length`` months just
    before them: ((first, last) before, (first, last) latest)."""
    last = pd.Period(months[-1], "M")
    latest = (str(last - (length - 1)), str(last))
    before = (str(last - (2 * length - 1)), str(last - length))
    return before, latest


def run_concentration(
    store: Store,
    events: pd.DataFrame,
    grid: Grid,
    *,
    crime_type: str,
    source: str = "policeuk",
    extra: dict[str, Any] | None = None,
) -> int:
    """Persist kind ``concentration``: parts ``lorenz`` (cell_share, share_n, share_harm) and
    ``summary`` (statistic, value, label: shares of crime and harm in the top 1/5/10% of cells,
    Gini, generalised and Poisson-adjusted Gini, and the stability of the top 5% of cells in the
    latest 12 months against the 12 months before)."""
    months = sorted(events["month"].dropna().astype(str).unique())
    try:  # chance spreads crime over the cells where crime of any type happened (issue 12)
        reference = load_selection(store, None, months[0], months[-1], source=source)
    except (EmptySelectionError, IndexError):
        reference = None
    conc = run_analysis("concentration", events, grid, source=source, reference=reference)
    before, latest = previous_window(months)
    stab: hs.HotspotResult | None = None
    note = None
    try:
        window = load_selection(store, crime_type, before[0], latest[1], source=source)
        stab = run_analysis(
            "stability", window, grid, source=source, period_a=before, period_b=latest
        )
    except EmptySelectionError:
        note = f"no {crime_type} events between {before[0]} and {latest[1]}"
    if stab is not None and (stab.summary["n_a"] == 0 or stab.summary["n_b"] == 0):
        note = f"no events in {before[0]}..{before[1]} to compare with"
        stab = None
    elif stab is not None and stab.summary["months_with_events_a"] < 12:
        note = (
            f"only {stab.summary['months_with_events_a']} of the 12 months {before[0]}.."
            f"{before[1]} have events: the comparison may reflect missing data"
        )
    summary = dict(
        conc.summary, **(extra or {}), choices=conc.choices, report=conc.report,
        warnings=list(conc.warnings), stability=stab.summary if stab else None,
        stability_periods={"before": list(before), "latest": list(latest)},
        stability_note=note,
    )  # fmt: skip
    return save_result(
        store, "concentration", result_name(crime_type, source),
        concentration_parts(conc, stab), params=conc.params, summary=summary,
    )  # fmt: skip


def run_hotspots(
    store: Store,
    *,
    crime_type: str,
    month_from: str | None = None,
    month_to: str | None = None,
    cell_size: float | None = None,
    analyses: Sequence[str] = ANALYSES,
    grid: str = "square",
    resolution: int | None = None,
    source: str = "policeuk",
) -> dict[str, int]:
    """Compute and persist Gi*, emerging hot spots, KDE and concentration (kind
    ``concentration``, see :func:`run_concentration`) for a crime type; run ids by kind.

    ``grid`` is ``square``, ``hex`` or ``h3`` (``resolution`` for H3; else from ``cell_size``);
    one grid is shared by every analysis, except KDE, which needs a square lattice and gets a
    square grid of the same cell size. ``source`` is ``policeuk`` or ``force`` (see the module
    docstring); results are saved under :func:`result_name`.
    """
    from peelian.analysis.grid import make_grid, square_grid
    from peelian.errors import ParameterError

    _check_source(source)
    for analysis in analyses:
        if analysis not in (*ANALYSES, "concentration"):
            raise ParameterError(
                f"run_hotspots computes {', '.join(ANALYSES)} and concentration; got {analysis!r}."
            )
    events = load_selection(store, crime_type, month_from, month_to, source=source)
    boundary, choices = load_boundary(store)
    shared = make_grid(boundary, grid, cell_size, resolution=resolution)
    name = result_name(crime_type, source)
    months = sorted(events["month"].dropna().astype(str).unique())
    period = f"{months[0]}..{months[-1]}" if months else None
    extra: dict[str, Any] = {"period": period, "crime_type": crime_type, "source": source,
                             "grid": shared.kind, "boundary": choices.get("boundary")}  # fmt: skip
    out: dict[str, int] = {}
    for analysis in analyses:
        if analysis == "concentration":
            out[analysis] = run_concentration(
                store, events, shared, crime_type=crime_type, source=source, extra=extra
            )
            continue
        g = shared
        if analysis == "kde" and shared.kind != "square":
            g = square_grid(boundary, round(shared.cell_size, -1))
        result = run_analysis(analysis, events, g, source=source)
        out[analysis] = save_analysis(store, analysis, name, result, dict(extra, grid=g.kind))
        log.info("hotspots: saved %s %s as run %d", analysis, name, out[analysis])
    return out
