"""``peelian ingest``: load data into the store. ``policeuk`` lives here; engineer C's
``peelian ingest force`` is added to the same group by :mod:`peelian.cli.force`."""

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

__all__ = ["ingest_app", "register", "render_report"]

ingest_app = typer.Typer(
    help="Load data into the store (every row stored or quarantined with a reason).",
    no_args_is_help=True,
)


def render_report(report: dict[str, Any], title: str) -> tuple[Table, list[str]]:
    """The reconciliation report as a Rich table (one row per file, plus totals) and the lines
    that explain quarantine reasons and non-loaded files."""
    table = Table(title=title, title_justify="left")
    for col in ("month", "force", "kind", "action", "read", "stored", "quarantined"):
        table.add_column(
            col, justify="right" if col in {"read", "stored", "quarantined"} else "left"
        )
    totals = [0, 0, 0]
    notes: list[str] = []
    for f in report["files"]:
        table.add_row(
            f["month"] or "",
            f["force"] or "",
            f["kind"],
            f["action"],
            f"{f['rows_read']:,}",
            f"{f['rows_stored']:,}",
            f"{f['rows_quarantined']:,}",
        )
        totals = [totals[0] + f["rows_read"], totals[1] + f["rows_stored"],
                  totals[2] + f["rows_quarantined"]]  # fmt: skip
        why = [f"{k} {v:,}" for k, v in f["reasons"].items()]
        if f.get("note") and f["action"] != "unchanged":
            why.append(str(f["note"]))
        if why:
            notes.append(f"{f['path']}: " + "; ".join(why))
    table.add_section()
    table.add_row("total", "", f"{len(report['files'])} files", "", *(f"{t:,}" for t in totals))
    return table, notes


@ingest_app.command("policeuk")
@handle_errors
def policeuk(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="police.uk zips, folders in the police.uk layout (YYYY-MM/...csv) or CSV files.",
            show_default=False,
        ),
    ],
    force: Annotated[
        str | None,
        typer.Option(
            "--force",
            help="Force slug (e.g. northumbria) for files whose name and contents do not say it.",
        ),
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Apply a file even if it has fewer rows than the stored one for its month "
            "(by default that is taken as an older download and not applied).",
        ),
    ] = False,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest police.uk street, outcomes and stop-and-search files (recognised by header).

    Every row is stored or quarantined with a reason; the same file again changes nothing; a
    newer download of a month replaces that month. One transaction: a failure stores nothing.
    """
    from peelian.data.ingest import ingest_policeuk

    store = store_for(db)
    command = "peelian " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with progress(enabled=not as_json) as prog:
        task = prog.add_task("Reading files", total=None)

        def on_progress(description: str, done: int, total: int) -> None:
            prog.update(task, description=description, completed=done, total=total)

        report = ingest_policeuk(
            store, paths, force=force, replace=replace, command=command, progress=on_progress
        )
    if as_json:
        print_json(report)
        return
    table, notes = render_report(report, f"police.uk ingest, batch {report['batch']}")
    console.print(table)
    for line in notes:
        console.print(f"  {line}", highlight=False, soft_wrap=True)
    stored = sum(f["rows_stored"] for f in report["files"])
    quarantined = sum(f["rows_quarantined"] for f in report["files"])
    console.print(
        f"Stored {stored:,} rows, quarantined {quarantined:,} (read = stored + quarantined) in "
        f"batch {report['batch']} ({store.url}). See `peelian info`."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
