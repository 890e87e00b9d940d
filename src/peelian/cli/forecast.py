"""``peelian forecast``: rolling-origin backtests and next-period forecasts.

    peelian forecast backtest --crime-type Burglary --test-from 2022-03 --test-to 2022-08 \\
        --cell-size 250 --models all --json --save
    peelian forecast predict --crime-type Burglary --model best --save
    peelian forecast backtest --crime-type Burglary --freq D --test-from 2022-08-01 \\
        --test-to 2022-08-14 --models all_history,sepp       # force records, per day
    peelian forecast predict --crime-type Burglary --freq D --model sepp

Events come from the store (``peelian ingest policeuk``), the force boundary and the per-cell
population and deprivation from the loaded areas (``peelian areas load``). Coverage is a share of
the crime-possible area (cells with a police.uk event of any type in the training months), stated
in cells and km^2 with every figure; the backtest also keeps the whole-force figures, labelled.

``--freq D`` (or ``W``) forecasts days (weeks) from force records, whose times are to the minute,
so the self-exciting model can see near repeats; police.uk data, dated to the month, is refused
with what to do instead (:mod:`peelian.jobs.forecast_force`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

if TYPE_CHECKING:
    from peelian.analysis.forecast import BacktestResult

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
Freq = Annotated[
    str,
    typer.Option(
        "--freq",
        help="Period length: M (months, police.uk), W or D (weeks or days, force records with "
        "times to the day or minute; refused on month-precision data).",
        case_sensitive=False,
    ),
]
History = Annotated[
    int | None,
    typer.Option(
        "--history",
        help="With --freq D or W: periods of history before the first forecast "
        "(default 182 days or 104 weeks).",
    ),
]


def _freq(value: str) -> str:
    from peelian.errors import ParameterError

    freq = {"MONTH": "M", "WEEK": "W", "DAY": "D"}.get(value.strip().upper(), value.strip().upper())
    if freq not in ("M", "W", "D"):
        raise ParameterError(
            f"--freq must be M (month), W (week) or D (day). Got {value!r}.",
            "Use M for police.uk data; W or D for force records with times to the day or minute.",
        )
    return freq


def _refuse_save(freq: str, save: bool) -> None:
    from peelian.errors import ParameterError

    if save and freq != "M":
        raise ParameterError(
            "--save stores monthly results for the dashboard; daily and weekly forecasts are not "
            "saved.",
            "Drop --save (use --json to keep the result), or forecast by month with --freq M.",
        )


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
    freq: Freq = "M",
    history: History = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Train on the periods before each test period, forecast it, score it (hit rate, PAI, PEI,
    RRI, churn at 0.1, 0.5, 1, 2 and 5 % of the crime-possible area; log-likelihood and deviance
    per event; skill against the all-history counts). Months by default (YYYY-MM); with --freq D
    or W, days or weeks of force records (test dates YYYY-MM-DD)."""
    from peelian.schemas.months import check_month_range

    freq = _freq(freq)
    _refuse_save(freq, save)
    run_id = None
    if freq == "M":
        from peelian.jobs.forecast import compute_backtest, save_backtest

        check_month_range(test_from, test_to, ("--test-from", "--test-to"))
        store = store_for(db)
        result, meta = compute_backtest(store, crime_type=crime_type, test_from=test_from,
                                        test_to=test_to, cell_size=cell_size,
                                        models=models)  # fmt: skip
        run_id = save_backtest(store, result, meta) if save else None
    else:
        from peelian.jobs.forecast_force import compute_force_backtest

        if models == "all":
            models = "all_history,last_period,moving_average,sepp"
        result, meta = compute_force_backtest(
            store_for(db), crime_type=crime_type, test_from=test_from, test_to=test_to,
            freq=freq, cell_size=cell_size, models=models, history=history,
        )  # fmt: skip
    if as_json:
        extra = {k: meta[k] for k in ("freq", "source", "synthetic", "time_basis", "history",
                                      "test_periods") if k in meta}  # fmt: skip
        print_json({
            **extra,
            "crime_type": crime_type, "run_id": run_id, "best_model": meta["best_model"],
            "cell_size": cell_size, "test_months": meta.get("test_months", []),
            "results": result.results.to_dict(orient="records"),
            "summary": result.summary.to_dict(orient="records"),
            "timings": result.timings, "report": meta["report"], "choices": meta["choices"],
            "covariates": meta.get("covariates"), "warnings": result.warnings,
            "crime_possible_rule": meta["crime_possible_rule"],
        })  # fmt: skip
        return
    _print_backtest(result, meta, crime_type, test_from, test_to, cell_size, run_id)


def _source_note(meta: dict[str, Any]) -> str:
    """Where a daily or weekly forecast's events came from (SYNTHETIC said where it applies)."""
    if meta.get("source") != "force records":
        return ""
    return "; SYNTHETIC force records" if meta.get("synthetic") else "; force records"


def _print_backtest(
    result: BacktestResult,
    meta: dict[str, Any],
    crime_type: str,
    test_from: str,
    test_to: str,
    cell_size: float,
    run_id: int | None,
) -> None:
    from peelian.analysis.forecast import CRIME_POSSIBLE, FREQS

    unit = FREQS[meta.get("freq", "M")]
    s = result.summary
    s = s[(s["area_basis"] == CRIME_POSSIBLE) & s["coverage"].isin([1.0, 5.0])]
    n = int(s["n_periods"].max())
    table = Table(
        title=f"{crime_type}: backtest {test_from}..{test_to} ({n} {unit}s), {cell_size:g} m "
        f"cells{_source_note(meta)}; coverage "
        f"is a % of the crime-possible area ({s['domain_cells_mean'].iloc[0]:,.0f} cells, "
        f"{s['domain_km2_mean'].iloc[0]:,.1f} km², mean over the {unit}s)"
    )
    for col in ("model", "coverage %", "km²", "hit rate", "PAI (sd)", "PAI vs all-history",
                f"{unit}s better (of {n})", "PEI", "log-lik / event", "churn J"):  # fmt: skip
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
    freq: Freq = "M",
    history: History = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Forecast the period after the loaded data, cell by cell: the next month, or with --freq D
    or W the next day or week of force records ('best' is then the self-exciting model)."""
    freq = _freq(freq)
    _refuse_save(freq, save)
    run_id = None
    if freq == "M":
        from peelian.jobs.forecast import compute_forecast, save_forecast

        store = store_for(db)
        fc, grid, meta = compute_forecast(store, crime_type=crime_type, cell_size=cell_size,
                                          model=model)  # fmt: skip
        run_id = save_forecast(store, fc, grid, meta, coverage) if save else None
    else:
        from peelian.jobs.forecast_force import compute_force_forecast

        fc, grid, meta = compute_force_forecast(store_for(db), crime_type=crime_type, freq=freq,
                                                cell_size=cell_size, model=model,
                                                history=history)  # fmt: skip
        meta["month"] = meta["period"]
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
            **{k: meta[k] for k in ("freq", "period", "source", "synthetic", "time_basis", "fit")
               if k in meta},
        })  # fmt: skip
        return
    tied = (
        f" and {stated['tied_cells']} cells tied at the boundary (each flagged with chance "
        f"{stated['tied_share']:.2f})"
        if stated["tied_cells"]
        else ""
    )
    if meta.get("source") == "force records":
        console.print(f"From {_source_note(meta)[2:]}, times when reported.")
    if fit := meta.get("fit"):
        console.print(
            f"Self-exciting fit: theta = {fit['theta']:.3f} (offspring per event), omega = "
            f"{fit['omega_per_period']:.3f} per {meta['freq'] == 'D' and 'day' or 'week'}; "
            f"triggering gives {fit['trigger_share']:.1%} of the forecast."
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
