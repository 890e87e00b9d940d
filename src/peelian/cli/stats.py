"""``peelian stats``: is this change real? Exact statistics for two counts."""

from __future__ import annotations

from typing import Annotated

import typer

from peelian.cli._common import JsonOption, console, handle_errors, print_json

__all__ = ["register"]

stats_app = typer.Typer(help="Exact statistics: is a change real?", no_args_is_help=True)


@stats_app.command("compare")
@handle_errors
def compare(
    a: Annotated[int, typer.Argument(help="The current count (e.g. 13 homicides).", min=0)],
    b: Annotated[
        int, typer.Argument(help="The comparison count (e.g. 18 in the baseline).", min=0)
    ],
    exposure_a: Annotated[
        float, typer.Option("--exposure-a", help="Exposure of A: months, population...")
    ] = 1.0,
    exposure_b: Annotated[float, typer.Option("--exposure-b", help="Exposure of B.")] = 1.0,
    level: Annotated[float, typer.Option("--level", help="Confidence level.")] = 0.95,
    dispersion: Annotated[
        float,
        typer.Option(
            "--dispersion",
            help="How many times more variable than Poisson the counts are (quasi-Poisson phi "
            "of the monthly series; `peelian measures --json` reports it). Widens the test.",
        ),
    ] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """Compare two Poisson counts: exact conditional test, Garwood intervals, rate ratio."""
    from peelian.analysis.stats import compare_counts

    r = compare_counts(a, b, exposure_a, exposure_b, level, dispersion)
    if as_json:
        print_json(r.to_dict())
        return
    console.print(r.narrative, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    app.add_typer(stats_app, name="stats")
