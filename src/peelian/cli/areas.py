"""``peelian areas``: load the geography (boundaries, lookups, population, IMD) and list areas."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import (
    DbOption,
    JsonOption,
    console,
    handle_errors,
    print_json,
    progress,
    store_for,
)

__all__ = ["register"]

areas_app = typer.Typer(
    help="Geography: LSOA 2011/2021 -> ward -> CSP (local authority) -> force.",
    no_args_is_help=True,
)


@areas_app.command("load")
@handle_errors
def load(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Boundary/lookup/population/IMD files or folders (default: the bundled demo data).",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load boundaries, lookups, population, Census 2021 ethnicity and IMD into the area
    hierarchy. Replaces the areas already loaded (running it twice changes nothing)."""
    from peelian.data.geography import load_areas

    store = store_for(db)
    command = "peelian " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with progress(enabled=not as_json and console.is_terminal) as prog:
        task = prog.add_task("Loading areas", total=None)

        def on_progress(what: str, done: int, total: int) -> None:
            prog.update(task, description=what, completed=done, total=total)

        report = load_areas(store, paths or None, command=command, on_progress=on_progress)
        prog.update(task, description="areas loaded", completed=1, total=1)
    if as_json:
        print_json(report)
        return
    _print_report(report)


def _print_report(report: dict[str, Any]) -> None:
    levels = ", ".join(f"{n} {lv}" for lv, n in report["levels"].items())
    console.print(f"Batch {report['batch']}: {levels}.")
    table = Table("file", "kind", "read", "stored", "quarantined", "reasons", "action")
    for f in report["files"]:
        reasons = ", ".join(f"{k}: {v}" for k, v in f["reasons"].items()) or f.get("note") or ""
        table.add_row(
            Path(f["path"]).name,
            f["kind"],
            str(f["rows_read"]),
            str(f["rows_stored"]),
            str(f["rows_quarantined"]),
            reasons,
            f["action"],
        )
    console.print(table)
    if report.get("geometries_repaired"):
        console.print(
            f"Invalid geometries repaired with make_valid: {report['geometries_repaired']}."
        )
    for key, value in report.get("choices", {}).items():
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        console.print(f"[dim]{key}: {value}[/]", highlight=False)


@areas_app.command("list")
@handle_errors
def list_areas(
    level: Annotated[str, typer.Argument(help="lsoa11, lsoa21, ward, csp or force.")] = "csp",
    force: Annotated[
        str | None, typer.Option("--force", help="Only the areas of this force (e.g. E23000007).")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List the areas of a level with their population, IMD and size."""
    from peelian.data.geography import areas_frame

    frame = areas_frame(store_for(db), level, with_geometry=False, force_code=force)
    cols = ["code", "name", "parent_code", "population", "imd_decile", "imd_score", "area_km2"]
    if as_json:
        print_json({"level": level, "areas": frame[cols].to_dict("records")})
        return
    shown = ["code", "name", "population", "imd_decile", "imd_score", "area_km2"]
    table = Table()
    for col in shown:
        table.add_column(col.replace("_", " "), no_wrap=col != "name")
    for rec in frame[shown].itertuples(index=False):
        table.add_row(*(_cell(v) for v in rec))
    console.print(table)
    console.print(f"{len(frame)} {level} areas.")


def _cell(value: Any) -> str:
    import pandas as pd

    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{value:.2f}" if isinstance(value, float) else str(value)


def register(app: typer.Typer) -> None:
    app.add_typer(areas_app, name="areas")
