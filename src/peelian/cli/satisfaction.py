"""``peelian satisfaction``: import victim satisfaction surveys and report on them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["register"]

sat_app = typer.Typer(help="Victim satisfaction surveys.", no_args_is_help=True)


@sat_app.command("import")
@handle_errors
def import_(
    path: Annotated[Path, typer.Argument(help="Survey CSV (synthetic export or generic layout).")],
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import a survey CSV into survey_responses (bad rows quarantined with reasons)."""
    from peelian.data.ingest.surveys import import_survey

    report = import_survey(store_for(db), path, command=f"peelian satisfaction import {path}")
    if as_json:
        print_json(report)
        return
    for f in report["files"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in f["reasons"].items()) or "none"
        console.print(
            f"{f['path']}: {f['action']} - read {f['rows_read']}, stored {f['rows_stored']}, "
            f"quarantined {f['rows_quarantined']} ({reasons}); replaced "
            f"{f.get('responses_replaced', 0)} earlier responses.",
            highlight=False,
        )


def build_report(store: Any, threshold: int = 4) -> dict[str, Any]:
    """Everything ``peelian satisfaction report`` prints, as a dict."""
    from peelian.analysis.measures import (
        ITEMS,
        satisfaction_drivers,
        satisfaction_rates,
    )
    from peelian.data.ingest.surveys import load_survey_responses
    from peelian.errors import EmptySelectionError

    responses = load_survey_responses(store)
    if responses.empty:
        raise EmptySelectionError(
            "No survey responses are loaded.", "Run `peelian satisfaction import PATH` first."
        )
    items = [satisfaction_rates(responses, item=i, threshold=threshold) for i in ITEMS]
    out: dict[str, Any] = {
        "responses": len(responses),
        "synthetic": bool(responses["synthetic"].any()),
        "months": [responses["month"].min(), responses["month"].max()],
        "items": [r.iloc[0].to_dict() for r in items],
        "by_domestic_abuse": satisfaction_rates(
            responses, by=["domestic_abuse"], threshold=threshold
        ).to_dict("records"),
        "by_crime_type": satisfaction_rates(responses, by=["crime_type"], threshold=threshold)
        .sort_values("answered", ascending=False)
        .to_dict("records"),
        "by_quarter": satisfaction_rates(responses, period="quarter", threshold=threshold).to_dict(
            "records"
        ),
    }
    try:
        drivers = satisfaction_drivers(responses, threshold=threshold)
        out["drivers"] = {
            "n_used": drivers.n_used,
            "n_excluded": drivers.n_excluded,
            "outcome": drivers.outcome,
            "items": drivers.frame.to_dict("records"),
            "narrative": drivers.narrative,
        }
    except EmptySelectionError as exc:
        out["drivers"] = {"error": str(exc)}
    return out


@sat_app.command("report")
@handle_errors
def report(
    threshold: Annotated[
        int, typer.Option(help="Score counted as satisfied (1-5).", min=1, max=5)
    ] = 4,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Satisfaction rates with Wilson intervals by item, group and quarter, and what drives
    overall dissatisfaction."""
    rep = build_report(store_for(db), threshold)
    if as_json:
        print_json(rep)
        return
    note = " (SYNTHETIC data)" if rep["synthetic"] else ""
    console.print(
        f"{rep['responses']:,} responses, {rep['months'][0]} to {rep['months'][1]}{note}.",
        highlight=False,
    )
    t = Table(title=f"Satisfied (score >= {threshold})")
    for c in ("item / group", "answered", "satisfied %", "95% CI"):
        t.add_column(c)
    for r in rep["items"]:
        t.add_row(
            r["item"],
            f"{r['answered']:,}",
            f"{r['rate']:.1f}",
            f"{r['ci_low']:.1f}-{r['ci_high']:.1f}",
        )
    for r in rep["by_domestic_abuse"]:
        label = {True: "domestic abuse", False: "not domestic abuse"}.get(
            r["domestic_abuse"], "unknown"
        )
        t.add_row(
            f"overall: {label}",
            f"{r['answered']:,}",
            f"{r['rate']:.1f}",
            f"{r['ci_low']:.1f}-{r['ci_high']:.1f}",
        )
    console.print(t)
    console.print(rep["drivers"].get("narrative") or rep["drivers"].get("error"), highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(sat_app, name="satisfaction")
