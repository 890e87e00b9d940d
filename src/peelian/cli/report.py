"""``peelian report ncpm``: the National Crime Measures report as PDF or HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for
from peelian.errors import ParameterError
from peelian.schemas.months import check_month

__all__ = ["register"]

report_app = typer.Typer(help="Reports built from the computed results.", no_args_is_help=True)


@report_app.command("ncpm")
@handle_errors
def ncpm(
    out: Annotated[Path, typer.Option("--out", help="Output file: .pdf or .html.")],
    period_end: Annotated[
        str | None, typer.Option("--period-end", help="YYYY-MM (default: the latest computed).")
    ] = None,
    actions: Annotated[
        Path | None,
        typer.Option(
            "--actions",
            help="YAML file with each section's actions text "
            "(default: the shipped Northumbria text).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Build the National Crime Measures report: one section per measure with figures,
    intervals, narrative, SPC charts and actions; method notes and attribution."""
    from peelian.reports import build_ncpm_report

    fmt = out.suffix.lower().lstrip(".")
    if fmt not in ("pdf", "html"):
        raise ParameterError(
            f"The --out file must end in .pdf or .html. Got {out.name!r}.",
            "For example --out ncpm-2021-12.pdf",
        )
    period_end = check_month(period_end, "--period-end")
    report = build_ncpm_report(store_for(db), period_end=period_end, fmt=fmt, actions_path=actions)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(report.content)
    sections = [
        {
            "number": s["number"],
            "title": s["title"],
            "measures": [m["measure"] for m in s["measures"]],
        }
        for s in report.context["sections"]
    ]
    if as_json:
        print_json(
            {
                "out": str(out),
                "format": fmt,
                "period_end": report.period_end,
                "bytes": len(report.content),
                "sections": sections,
            }
        )
    else:
        n = sum(len(s["measures"]) for s in sections)
        console.print(
            f"Wrote {out} ({fmt.upper()}, {len(report.content):,} bytes): National Crime Measures "
            f"to {report.period_end}, {len(sections)} sections, {n} measures."
        )


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
