"""``peelian measures``: every measure for every area, with honest change statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for
from peelian.errors import ParameterError
from peelian.schemas.formatting import (
    fmt_change,
    fmt_count,
    fmt_days,
    fmt_level,
    fmt_p_value,
    is_missing,
)

__all__ = ["JSON_KEYS", "register"]

#: Keys of each object printed by ``peelian measures --json`` (more may be added, never renamed).
JSON_KEYS = (
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
    "compared_with",
    "comparison",
    "change",
    "change_pct",
    "rate_ratio",
    "ci_low",
    "ci_high",
    "current_ci_low",
    "current_ci_high",
    "p_value",
    "p_adjusted",
    "dispersion",
    "p_value_adjusted",
    "ci_low_adjusted",
    "ci_high_adjusted",
    "verdict_p",
    "verdict_ci_low",
    "verdict_ci_high",
    "verdict_level",
    "verdict_interval",
    "verdict_method",
    "fdr_family",
    "test_used",
    "significant",
    "assessment",
    "rate_per_1000",
    "eb_rate_per_1000",
    "harm",
    "spc_chart",
    "spc_signal",
    "trend_pct",
    "trend_p_value",
    "note",
    "narrative",
)

measures_app = typer.Typer(
    help="National Crime and Policing Measures, serious violence types and police.uk "
    "categories: rolling 12 months against the baseline, with exact statistics.",
    invoke_without_command=True,
)


@measures_app.callback(invoke_without_command=True)
@handle_errors
def measures(
    ctx: typer.Context,
    period_end: Annotated[
        str | None, typer.Option("--period-end", help="Last month, YYYY-MM (default: latest).")
    ] = None,
    area_level: Annotated[
        str, typer.Option("--area-level", help="force | csp | ward | lsoa")
    ] = "force",
    measure: Annotated[
        list[str] | None, typer.Option("--measure", help="Measure name (repeatable).")
    ] = None,
    baseline_end: Annotated[
        str | None, typer.Option("--baseline-end", help="Baseline's last month (default 2019-06).")
    ] = None,
    definitions: Annotated[
        Path | None, typer.Option("--definitions", help="Your own measure-definitions YAML.")
    ] = None,
    spc_rules: Annotated[
        str,
        typer.Option(
            "--spc-rules",
            help="Control-chart run rules: anhoj (default; Anhøj & Olesen 2014) or "
            "western-electric (the four zone rules, 1956).",
        ),
    ] = "anhoj",
    save: Annotated[
        bool, typer.Option("--save", help="Persist the run for the dashboard.")
    ] = False,
    recount: Annotated[
        bool,
        typer.Option(
            "--recount",
            help="Count every record again instead of using the counts kept since the last "
            "ingest (they are kept per data version; see docs/guide/measures.md).",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Compute the measures for one area level and print them (a table, or JSON)."""
    if ctx.invoked_subcommand is not None:
        return
    from peelian.analysis.measures import verdict_evidence
    from peelian.jobs.measures import compute_measures, run_measures

    rules = {"anhoj": "anhoj", "western-electric": "western_electric"}.get(spc_rules.lower())
    if rules is None:
        raise ParameterError(
            f"The '--spc-rules' option must be anhoj or western-electric. Got {spc_rules!r}."
        )
    store = store_for(db)
    kwargs: dict[str, Any] = {
        "definitions": definitions,
        "baseline_end": baseline_end,
        "spc_rules": rules,
        "cache": not recount,
    }
    result = run_measures(
        store, period_end=period_end, measures=measure, area_levels=(area_level,), **kwargs
    )
    run_id = None
    if save:
        run_id = compute_measures(store, period_end=period_end, measures=measure, **kwargs)
    # the interval and p-value each verdict used, with the method (issue 12 item 2)
    fdr = float(result.summary.get("fdr", 0.05))
    values = verdict_evidence(result.values, fdr=fdr)[list(JSON_KEYS)]
    if as_json:
        print_json(values.astype(object).where(values.notna(), None).to_dict("records"))
        return
    t = Table(title=f"Measures, {area_level}, 12 months to {result.summary['period_end']}")
    for c in ("measure", "area", "current", "compared", "change", "rate ratio interval", "p",
              "test", "assessment", "SPC"):  # fmt: skip
        t.add_column(c, overflow="fold")
    for r in values.itertuples():
        harm = r.unit == "cchi_harm"
        cur = fmt_days(r.harm) if harm else fmt_count(r.current)
        comp = "-" if is_missing(r.comparison) else f"{fmt_count(r.comparison)} ({r.compared_with})"
        level = "" if is_missing(r.verdict_level) else f" ({fmt_level(r.verdict_level)})"
        interval = "-" if is_missing(r.verdict_p) else f"{r.verdict_interval}{level}"
        spc = r.spc_signal if r.spc_signal not in (None, "", "none") else "no signal"
        t.add_row(
            r.measure, str(r.area_name), cur, comp, fmt_change(r.change_pct, 0, arrow=False),
            interval, fmt_p_value(r.verdict_p), str(r.verdict_method or "-"), str(r.assessment),
            str(spc),
        )  # fmt: skip
    console.print(t)
    if area_level == "force":
        for r in values.itertuples():
            console.print(f"- {r.narrative}", highlight=False, soft_wrap=True)
    if run_id is not None:
        console.print(f"Saved as run {run_id} (kind 'measures').")


@measures_app.command("list")
@handle_errors
def list_(as_json: JsonOption = False) -> None:
    """List the measure definitions (name, source, filter, baseline, direction)."""
    from peelian.analysis.measures import load_definitions

    cat = load_definitions()
    if as_json:
        print_json({"version": cat.version, "measures": [d.to_dict() for d in cat]})
        return
    t = Table(title=f"Measure definitions {cat.version}")
    for c in ("name", "label", "source", "filter", "baseline", "good"):
        t.add_column(c, overflow="fold")
    for d in cat:
        t.add_row(
            d.name,
            d.label,
            d.source,
            str(dict(d.filter)),
            f"{d.baseline_months} months to {d.baseline_end}",
            d.direction_good,
        )
    console.print(t)


@measures_app.command("import-series")
@handle_errors
def import_series(
    path: Annotated[Path, typer.Argument(help="CSV with month, value (and series, area_code).")],
    series: Annotated[str | None, typer.Option("--series", help="Series name.")] = None,
    area_code: Annotated[
        str | None, typer.Option("--area-code", help="Area (default: force).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import an external monthly series (e.g. hospital admissions for assault with a sharp
    object, under 25) for the measures that use it."""
    from peelian.data.ingest.external import import_external_series

    report = import_external_series(
        store_for(db),
        path,
        series=series,
        area_code=area_code,
        command=f"peelian measures import-series {path}",
    )
    if as_json:
        print_json(report)
        return
    for f in report["files"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in f["reasons"].items()) or "none"
        console.print(
            f"{f['path']}: read {f['rows_read']}, stored {f['rows_stored']}, quarantined "
            f"{f['rows_quarantined']} ({reasons}); series {', '.join(f['series'])}.",
            highlight=False,
        )


def register(app: typer.Typer) -> None:
    app.add_typer(measures_app, name="measures")
