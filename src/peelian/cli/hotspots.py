"""``peelian hotspots``: counts, KDE, Gi*, emerging hot spots and concentration on a grid.

    peelian hotspots gistar --crime-type "Violence and sexual offences" --from 2021-09 \\
        --to 2022-08 --cell-size 150 --out violence_gistar.gpkg
    peelian hotspots kde --source force --crime-type public-space-violence --value harm
    peelian hotspots stability --from 2022-01 --to 2022-08 --compare-from 2021-01 \\
        --compare-to 2021-08

Events come from the store (``peelian ingest policeuk``), the boundary from the loaded areas
(``peelian areas load``). ``--out`` writes .gpkg, .geojson or .csv; ``--json`` prints the
parameters, automatic choices, the reconciliation of the events and the headline figures.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for
from peelian.schemas.months import check_month_range

__all__ = ["register"]

hotspots_app = typer.Typer(
    help="Hotspots on a grid: counts, KDE, Getis-Ord Gi*, emerging hot spots, concentration.",
    no_args_is_help=True,
)

CrimeType = Annotated[
    str,
    typer.Option(
        "--crime-type",
        help="police.uk category (or its slug), or 'all'; with --source force also a named "
        "offence set or serious violence type (e.g. public-space-violence, serious-violence).",
    ),
]
Source = Annotated[
    str,
    typer.Option(
        "--source",
        help="policeuk (police.uk data) or force (the force's own records: exact locations, "
        "harm by Home Office code).",
    ),
]
From = Annotated[str | None, typer.Option("--from", help="First month, YYYY-MM.")]
To = Annotated[str | None, typer.Option("--to", help="Last month, YYYY-MM.")]
CellSize = Annotated[
    float | None,
    typer.Option("--cell-size", help="Cell size in metres (default: chosen and reported)."),
]
Out = Annotated[
    Path | None, typer.Option("--out", help="Write the cells to .gpkg, .geojson or .csv.")
]
Grid = Annotated[str, typer.Option("--grid", help="square, hex or h3.")]
Save = Annotated[bool, typer.Option("--save", help="Store the result for the dashboard.")]
Distance = Annotated[
    float | None,
    typer.Option("--distance", help="Neighbourhood distance band in metres (default reported)."),
]
Alpha = Annotated[float, typer.Option("--alpha", help="Significance level.")]
NoFdr = Annotated[
    bool, typer.Option("--no-fdr", help="Do not control the false discovery rate (not advised).")
]
Ring = Annotated[
    int | None,
    typer.Option("--ring", help="Neighbourhood of K rings of cells (instead of --distance)."),
]


def _run(
    analysis: str,
    *,
    crime_type: str,
    month_from: str | None,
    month_to: str | None,
    cell_size: float | None,
    out: Path | None,
    as_json: bool,
    grid: str,
    save: bool,
    db: str | None,
    options: dict[str, Any],
    source: str = "policeuk",
) -> None:
    from peelian.data.exports import export_frame, format_for
    from peelian.jobs.hotspots import (
        crime_slug,
        load_boundary,
        load_population,
        load_selection,
        result_name,
        run_analysis,
        save_analysis,
    )

    if out is not None:
        format_for(out)  # refuse an unknown suffix before any work
    check_month_range(month_from, month_to, ("--from", "--to"))
    store = store_for(db)
    events = load_selection(store, crime_type, month_from, month_to, source=source)
    boundary, choices = load_boundary(store)
    if analysis == "dual_kde":
        options["population"], pop_choice = load_population(store)
        choices.update(pop_choice)
    result = run_analysis(
        analysis, events, boundary, cell_size=cell_size, grid=grid, source=source, **options
    )
    info = result.to_dict()
    info["choices"].update(choices)
    info["crime_type"] = crime_type
    info["source"] = source
    if out is not None:
        frame = result.table if format_for(out) == "csv" else result.cells
        export_frame(frame, out, layer=f"{analysis}_{crime_slug(crime_type)}")
        info["out"] = str(out)
    if save:
        kind = {"count": "cell_counts"}.get(analysis, analysis)
        info["run_id"] = save_analysis(
            store, kind, result_name(crime_type, source), result,
            {"crime_type": crime_type, "source": source, "boundary": choices.get("boundary")},
        )  # fmt: skip
    if as_json:
        print_json(info)
        return
    _print(analysis, info)


def _print(analysis: str, info: dict[str, Any]) -> None:
    rep = info["report"]
    console.print(
        f"[bold]{analysis}[/] of {info['crime_type']}: {rep['n_in_area']:,} events in "
        f"{info['n_cells']:,} cells ({rep['n_outside_area']:,} outside the area, "
        f"{rep['n_unlocated']:,} unlocated, not counted)."
    )
    for name, choice in info["choices"].items():
        console.print(f"  chosen {name}: {choice['value']} - {choice['rule']}")
    for key, value in info["summary"].items():
        if isinstance(value, dict | list):
            continue
        console.print(f"  {key}: {value:.4g}" if isinstance(value, float) else f"  {key}: {value}")
    for warning in info["warnings"]:
        console.print(f"  [yellow]warning:[/] {warning}")
    if "out" in info:
        console.print(f"Wrote {info['out']}.")
    if "run_id" in info:
        console.print(f"Saved as run {info['run_id']}.")


@hotspots_app.command("count")
@handle_errors
def count(
    crime_type: CrimeType = "all",
    month_from: From = None,
    month_to: To = None,
    cell_size: CellSize = None,
    out: Out = None,
    grid: Grid = "square",
    source: Source = "policeuk",
    save: Save = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Events and CCHI harm per cell."""
    _run(
        "count", crime_type=crime_type, month_from=month_from, month_to=month_to,
        cell_size=cell_size, out=out, as_json=as_json, grid=grid, save=save, db=db, options={},
        source=source,
    )  # fmt: skip


@hotspots_app.command("kde")
@handle_errors
def kde(
    crime_type: CrimeType = "all",
    month_from: From = None,
    month_to: To = None,
    cell_size: CellSize = None,
    out: Out = None,
    save: Save = False,
    bandwidth: Annotated[float | None, typer.Option(help="Metres (default reported).")] = None,
    kernel: Annotated[str, typer.Option(help="quartic or gaussian.")] = "quartic",
    value: Annotated[str, typer.Option(help="count or harm (CCHI).")] = "count",
    relative_to: Annotated[
        str | None,
        typer.Option(
            "--relative-to",
            help="'population': dual KDE, crimes per 1,000 residents (LSOA populations).",
        ),
    ] = None,
    grid: Grid = "square",
    source: Source = "policeuk",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Kernel density (events per km2) on a square grid, or relative to population."""
    options: dict[str, Any] = {"bandwidth": bandwidth, "kernel": kernel}
    analysis = "kde"
    if relative_to is not None:
        if relative_to != "population":
            from peelian.errors import ParameterError

            raise ParameterError(
                f"--relative-to must be 'population'; got {relative_to!r}.",
                "Use --relative-to population, or leave it out for plain KDE.",
            )
        if value != "count":
            from peelian.errors import ParameterError

            raise ParameterError(
                "--relative-to population is a rate of events; --value harm cannot be used "
                "with it.",
                "Drop --value harm.",
            )
        analysis = "dual_kde"
    else:
        options["value"] = value
    _run(
        analysis, crime_type=crime_type, month_from=month_from, month_to=month_to,
        cell_size=cell_size, out=out, as_json=as_json, grid=grid, save=save, db=db,
        options=options, source=source,
    )  # fmt: skip


@hotspots_app.command("gistar")
@handle_errors
def gistar(
    crime_type: CrimeType = "all",
    month_from: From = None,
    month_to: To = None,
    cell_size: CellSize = None,
    out: Out = None,
    grid: Grid = "square",
    source: Source = "policeuk",
    save: Save = False,
    distance: Distance = None,
    ring: Ring = None,
    alpha: Alpha = 0.05,
    no_fdr: NoFdr = False,
    permutations: Annotated[int, typer.Option(help="Conditional permutations (0 = none).")] = 0,
    value: Annotated[str, typer.Option(help="count or harm (CCHI).")] = "count",
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Getis-Ord Gi* hot and cold spots with FDR control."""
    options = {
        "distance": distance, "ring": ring, "alpha": alpha, "fdr": not no_fdr,
        "permutations": permutations, "value": value, "seed": 0,
    }  # fmt: skip
    _run(
        "gistar", crime_type=crime_type, month_from=month_from, month_to=month_to,
        cell_size=cell_size, out=out, as_json=as_json, grid=grid, save=save, db=db,
        options=options, source=source,
    )  # fmt: skip


@hotspots_app.command("emerging")
@handle_errors
def emerging(
    crime_type: CrimeType = "all",
    month_from: From = None,
    month_to: To = None,
    cell_size: CellSize = None,
    out: Out = None,
    grid: Grid = "square",
    source: Source = "policeuk",
    save: Save = False,
    distance: Distance = None,
    ring: Ring = None,
    alpha: Alpha = 0.05,
    no_fdr: NoFdr = False,
    time_window: Annotated[int, typer.Option(help="Previous months in each neighbourhood.")] = 1,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Emerging hot spots (space-time Gi* + Mann-Kendall, Esri's classes)."""
    options = {
        "distance": distance, "ring": ring, "alpha": alpha, "fdr": not no_fdr,
        "time_window": time_window,
    }  # fmt: skip
    _run(
        "emerging", crime_type=crime_type, month_from=month_from, month_to=month_to,
        cell_size=cell_size, out=out, as_json=as_json, grid=grid, save=save, db=db,
        options=options, source=source,
    )  # fmt: skip


@hotspots_app.command("concentration")
@handle_errors
def concentration(
    crime_type: CrimeType = "all",
    month_from: From = None,
    month_to: To = None,
    cell_size: CellSize = None,
    out: Out = None,
    grid: Grid = "square",
    source: Source = "policeuk",
    save: Save = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Share of crime and harm in the top cells, Lorenz curve and Gini coefficients."""
    _run(
        "concentration", crime_type=crime_type, month_from=month_from, month_to=month_to,
        cell_size=cell_size, out=out, as_json=as_json, grid=grid, save=save, db=db, options={},
        source=source,
    )  # fmt: skip


@hotspots_app.command("stability")
@handle_errors
def stability(
    month_from: Annotated[str, typer.Option("--from", help="First month of the period, YYYY-MM.")],
    month_to: Annotated[str, typer.Option("--to", help="Last month of the period, YYYY-MM.")],
    compare_from: Annotated[
        str, typer.Option("--compare-from", help="First month of the period to compare with.")
    ],
    compare_to: Annotated[
        str, typer.Option("--compare-to", help="Last month of the period to compare with.")
    ],
    crime_type: CrimeType = "all",
    top: Annotated[float, typer.Option(help="Fraction of cells counted as 'top'.")] = 0.05,
    cell_size: CellSize = None,
    out: Out = None,
    grid: Grid = "square",
    source: Source = "policeuk",
    save: Save = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Do the same cells stay on top? Jaccard overlap of the top cells and rank correlation."""
    check_month_range(month_from, month_to, ("--from", "--to"))
    check_month_range(compare_from, compare_to, ("--compare-from", "--compare-to"))
    first = min(month_from, compare_from)
    last = max(month_to, compare_to)
    options = {"period_a": (compare_from, compare_to), "period_b": (month_from, month_to),
               "top": top}  # fmt: skip
    _run(
        "stability", crime_type=crime_type, month_from=first, month_to=last,
        cell_size=cell_size, out=out, as_json=as_json, grid=grid, save=save, db=db,
        options=options, source=source,
    )  # fmt: skip


def register(app: typer.Typer) -> None:
    app.add_typer(hotspots_app, name="hotspots")
