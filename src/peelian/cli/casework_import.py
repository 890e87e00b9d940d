"""``peelian casework import KIND FILE``: import organisations, data-sharing agreements,
problems, interventions or referrals from a CSV file (the column contract per kind is in the
casework guide). Every row goes through the same rules as the forms and the API; rejected rows
are counted, reported with their reasons and written to a rejects file to correct and import
again. The import is audited with its purpose and counts."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["import_records"]


class ImportKind(StrEnum):
    organisation = "organisation"
    agreement = "agreement"
    problem = "problem"
    intervention = "intervention"
    referral = "referral"


@handle_errors
def import_records(
    kind: Annotated[ImportKind, typer.Argument(help="What the file holds.")],
    file: Annotated[
        Path, typer.Argument(help="The CSV file (UTF-8, header row first).", exists=True)
    ],
    purpose: Annotated[
        str, typer.Option("--purpose", help="Why you import it (audited with the counts).")
    ],
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Check every row with the same rules; write nothing."),
    ] = False,
    rejects: Annotated[
        Path | None,
        typer.Option(
            "--rejects",
            help="Where to write the rejected rows with their reasons "
            "(default: FILE.rejects.csv beside the file, when any are rejected).",
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(
            "--user",
            help="Import as this user: their role, organisation and agreements decide what "
            "they may import (default: the command line's admin).",
        ),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Import casework records of KIND from a CSV file (rows validated as in the forms)."""
    from peelian.casework.importing import import_csv, write_rejects
    from peelian.casework.organisations import SYSTEM
    from peelian.casework.policy import principal_for

    store = store_for(db)
    actor = principal_for(store, user) if user else SYSTEM
    report = import_csv(
        store, actor, kind.value, file.read_bytes(), purpose=purpose, dry_run=dry_run
    )
    out = report.as_dict()
    out["rejects_file"] = None
    if report.rejected:
        path = rejects or file.with_name(f"{file.stem}.rejects.csv")
        write_rejects(report, path)
        out["rejects_file"] = str(path)
    if as_json:
        print_json(out)
        return
    verb = "would be created" if dry_run else "created"
    console.print(
        f"{'Dry run: ' if dry_run else ''}{report.rows_read} rows read: {report.created} "
        f"{verb}, {len(report.rejected)} rejected"
        + (f" ({report.blank_lines} blank lines skipped)" if report.blank_lines else "")
        + ("." if report.reconciles else " - THE TOTALS DO NOT RECONCILE: please report it.")
    )
    for r in report.rejected[:20]:
        console.print(f"  row {r.row}, {r.field}: {r.why} {r.fix}", highlight=False)
    if len(report.rejected) > 20:
        console.print(f"  ... and {len(report.rejected) - 20} more.")
    if out["rejects_file"]:
        console.print(f"Rejected rows, with their reasons, written to {out['rejects_file']}.")
    for col, why in report.ignored_columns.items():
        console.print(f"Column {col} was not imported: {why}.", highlight=False)
