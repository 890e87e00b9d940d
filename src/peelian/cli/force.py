"""``peelian ingest force``: force RMS exports through a declarative mapping.

Adds the ``force`` command to the ``ingest`` group of :mod:`peelian.cli.ingest`.
"""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, store_for
from peelian.cli.ingest import fail_if_nothing_stored, finish_report, ingest_app

__all__ = ["force", "register"]


@handle_errors
def force(
    paths: Annotated[
        list[Path], typer.Argument(help="Export files (CSV, .xlsx) or folders holding them.")
    ],
    mapping: Annotated[
        str,
        typer.Option(
            "--mapping",
            "-m",
            help="Mapping YAML (a path, or a shipped one: synthetic_rms, template_rms).",
        ),
    ],
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink",
            help="Allow a whole-file replacement to remove more than --max-shrink of a table's "
            "rows (by default it is refused, saying what it would remove).",
        ),
    ] = False,
    max_shrink: Annotated[
        float,
        typer.Option(
            "--max-shrink",
            min=0.0,
            max=1.0,
            help="Fraction of a table's rows a whole-file replacement may remove without "
            "--allow-shrink.",
        ),
    ] = 0.5,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest force records exports (occurrences, persons, involvements, ...) via a mapping.

    Every file is reconciled (read = stored + quarantined); a bad row is quarantined on its own
    with its reason. Re-running with the same files changes nothing. A replacement that would
    remove most of a table is refused unless --allow-shrink; an ingest that stores nothing exits
    non-zero with the reasons.
    """
    from peelian.data.ingest.force import ingest_force

    store = store_for(db)
    command = "peelian " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = ingest_force(
        store,
        list(paths),
        mapping,
        command=command,
        allow_shrink=allow_shrink,
        max_shrink=max_shrink,
    )
    if not finish_report(report, as_json=as_json):
        return
    _print(report)
    fail_if_nothing_stored(report)


def _print(report: dict[str, Any]) -> None:
    label = " [bold yellow](SYNTHETIC DATA)[/]" if report.get("synthetic") else ""
    table = Table(
        "file",
        "table",
        "action",
        "read",
        "stored",
        "quarantined",
        "reasons",
        title=f"Force ingest, batch {report['batch']}, mapping {report['mapping']}{label}",
    )
    for f in report["files"]:
        reasons = "\n".join(f"{k} {v}" for k, v in f["reasons"].items())
        table.add_row(
            Path(f["path"]).name,
            f.get("table") or "-",
            f["action"],
            str(f["rows_read"]),
            str(f["rows_stored"]),
            str(f["rows_quarantined"]),
            reasons,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add ``force`` to the ``peelian ingest`` group of :mod:`peelian.cli.ingest`."""
    ingest_app.command("force")(force)
