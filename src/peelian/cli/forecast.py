"""``peelian forecast``: rolling-origin backtests and next-period forecasts.

    peelian forecast backtest --crime-type Burglary --test-from 2022-03 --test-to 2022-08 \\
        --cell-size 250 --models all --json --save
    peelian forecast predict --crime-type Burglary --model best --save

Events come from the store (``peelian ingest policeuk``), the force boundary and the per-cell
population and deprivation from the loaded areas (``peelian areas load``). Coverage is a share of
the crime-possible area (cells with a police.uk event of any type in the training months), stated
in cells and km^2 with every figure; the backtest also keeps the whole-force figures, labelled.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["register"]

#: % of the crime-possible area flagged by default (peelian.analysis.forecast.DEFAULT_COVERAGE,
#: repeated here so the CLI starts without importing the analysis stack).
DEFAULT_COVERAGE_PCT = 1.0

forecast_app = typer.Typer(
    help="Hotspot forecasts: backtest the forecasters, forecast the next month.",
    no_args_is_help=True,
)

CrimeType = Annotated[str, typer.Option("--crime-type", help="police.uk category or its slug.")]
CellSize = Annotated[float, typer.Option("--cell-size", help="Grid cell size in metres.")]
Save = Annotated[bool, typer.Option("--save", help="Store the result for the dashboard.")]


@forecast_app.command("backtest")
@handle_errors
def backtest_cmd(
    crime_type: CrimeType,
    test_from: Annotated[str, typer.Option("--test-from", help="First test month, YYYY-MM.")],
    test_to: Annotated[str, typer.Option("--test-to", help="Last test month, YYYY-MM.")],
    cell_size: CellSize = 250.0,
    models: Annotated[
        str, typer.Option("--models", help="'all' or comma-separated model names.")
    ] = "all",
    save: Save = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train on the months before each test month, forecast it, score it (hit rate, PAI, PEI,
    RRI, churn at 0.1, 0.5, 1, 2 and 5 % of the crime-possible area; log-likelihood and deviance
    per event; skill against the all-history counts)."""
    from peelian.analysis.forecast import CRIME_POSSIBLE
    from peelian.jobs.forecast import compute_backtest, save_backtest
    from peelian.schemas.months import check_month_range

    check_month_range(test_from, test_to, ("--test-from", "--test-to"))
    store = store_for(db)
    result, meta = compute_backtest(store, crime_type=crime_type, test_from=test_from,
                                    test_to=test_to, cell_size=cell_size, models=models)  # fmt: skip
    run_id = save_backtest(store, result, meta) if save else None
    if as_json:
        print_json({
            "crime_type": crime_type, "run_id": run_id, "best_model": meta["best_model"],
            "cell_size": cell_size, "test_months": meta["test_months"],
            "results": result.results.to_dict(orient="records"),
            "summary": result.summary.to_dict(orient="records"),
            "timings": result.timings, "report": meta["report"], "choices": meta["choices"],
            "covariates": meta["covariates"], "warnings": result.warnings,
            "crime_possible_rule": meta["crime_possible_rule"],
        })  # fmt: skip
        return
    s = result.summary
    s = s[(s["area_basis"] == CRIME_POSSIBLE) & s["coverage"].isin([1.0, 5.0])]
    n = int(s["n_periods"].max())
    table = Table(
        title=f"{crime_type}: backtest {test_from}..{test_to}, {cell_size:g} m cells; coverage "
        f"is a % of the crime-possible area ({s['domain_cells_mean'].iloc[0]:,.0f} cells, "
        f"{s['domain_km2_mean'].iloc[0]:,.1f} km², mean over the months)"
    )
    for col in ("model", "coverage %", "km²", "hit rate", "PAI (sd)", "PAI vs all-history",
                f"months better (of {n})", "PEI", "log-lik / event", "churn J"):  # fmt: skip
        table.add_column(col, justify="left" if col == "model" else "right")
    for row in s.itertuples():
        km2 = row.domain_km2_mean * row.coverage / 100
        table.add_row(row.model, f"{row.coverage:g}", f"{km2:.1f}", f"{row.hit_rate_mean:.3f}",
                      f"{row.pai_mean:.2f} ({row.pai_std:.2f})", f"{row.pai_skill_mean:+.1%}",
                      f"{row.pai_months_better:.0f}", f"{row.pei_mean:.3f}",
                      f"{row.ll_per_event_mean:.3f}", f"{row.churn_jaccard_mean:.2f}")  # fmt: skip
    console.print(table)
    console.print(f"Best by {meta['best_model_rule']}: {meta['best_model']}."
                  + (f" Saved as run {run_id}." if run_id else ""))  # fmt: skip
    for name, notes in result.warnings.items():
        for note in notes:
            console.print(f"[yellow]Warning ({name}):[/yellow] {note}")


@forecast_app.command("predict")
@handle_errors
def predict_cmd(
    crime_type: CrimeType,
    model: Annotated[
        str, typer.Option("--model", help="A model name, or 'best' (of the latest backtest).")
    ] = "best",
    cell_size: CellSize = 250.0,
    coverage: Annotated[
        float,
        typer.Option(
            "--coverage", help="Flag the top cells covering this % of the crime-possible area."
        ),
    ] = DEFAULT_COVERAGE_PCT,
    top: Annotated[int, typer.Option("--top", help="Cells to list.")] = 10,
    save: Save = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Forecast the month after the loaded data, cell by cell."""
    from peelian.jobs.forecast import compute_forecast, save_forecast

    store = store_for(db)
    fc, grid, meta = compute_forecast(store, crime_type=crime_type, cell_size=cell_size,
                                      model=model)  # fmt: skip
    run_id = save_forecast(store, fc, grid, meta, coverage) if save else None
    frame = fc.to_frame(coverage / 100).sort_values(["rank", "cell_id"])
    stated = fc.coverage_statement(coverage / 100)
    expected_in = float((frame["flag_share"] * frame["predicted"]).sum())
    if as_json:
        print_json({
            "crime_type": crime_type, "model": meta["model"], "month": meta["month"],
            "run_id": run_id, "coverage": coverage, "coverage_statement": stated,
            "expected_total": float(fc.expected.sum()),
            "flagged_cells": stated["flagged_cells"], "tied_cells": stated["tied_cells"],
            "expected_in_flagged": expected_in, "warnings": list(fc.warnings),
            "top": frame.head(top).to_dict(orient="records"), "choices": meta["choices"],
            "report": meta["report"],
        })  # fmt: skip
        return
    tied = (
        f" and {stated['tied_cells']} cells tied at the boundary (each flagged with chance "
        f"{stated['tied_share']:.2f})"
        if stated["tied_cells"]
        else ""
    )
    console.print(
        f"{crime_type}, {meta['month']}: model {meta['model']} expects {fc.expected.sum():.0f} "
        f"events. {coverage:g}% of the crime-possible area ({stated['domain_cells']:,} cells, "
        f"{stated['domain_km2']:,.1f} km²) is {stated['expected_flagged_km2']:.2f} km²: "
        f"{stated['flagged_cells']} flagged cells{tied}, expecting {expected_in:.0f} events."
        + (f" Saved as run {run_id}." if run_id else "")
    )
    for note in fc.warnings:
        console.print(f"[yellow]Warning:[/yellow] {note}")
    table = Table()
    for col in ("rank", "cell_id", "x", "y", "expected"):
        table.add_column(col)
    for r in frame.head(top).itertuples():
        table.add_row(str(r.rank), str(r.cell_id), f"{r.x:.0f}", f"{r.y:.0f}", f"{r.predicted:.2f}")
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(forecast_app, name="forecast")
