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

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

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
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest force records exports (occurrences, persons, involvements, ...) via a mapping.

    Every file is reconciled (read = stored + quarantined); rejected rows are kept in quarantine
    with their reason. Re-running with the same files changes nothing.
    """
    from peelian.data.forceimport import ingest_force

    store = store_for(db)
    command = "peelian " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    report = ingest_force(store, list(paths), mapping, command=command)
    if as_json:
        print_json(report)
        return
    _print(report)


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
    """Add ``force`` to ``peelian ingest`` (engineer A's group; a minimal one if it is absent)."""
    try:
        from peelian.cli.ingest import ingest_app
    except ImportError:  # the police.uk ingest CLI is not installed in this build
        ingest_app = typer.Typer(help="Load data into the store.", no_args_is_help=True)
        app.add_typer(ingest_app, name="ingest")
    ingest_app.command("force")(force)
