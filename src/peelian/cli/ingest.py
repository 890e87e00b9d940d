"""``peelian ingest``: load data into the store. ``policeuk`` lives here;
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
    fail,
    handle_errors,
    print_json,
    progress,
    store_for,
)
from peelian.errors import exit_code_for

__all__ = [
    "LimitOptions",
    "fail_if_nothing_stored",
    "finish_report",
    "ingest_app",
    "nothing_stored",
    "register",
    "render_report",
]

ingest_app = typer.Typer(
    help="Load data into the store (every row stored or quarantined with a reason).",
    no_args_is_help=True,
)


MaxFileMb = Annotated[
    float | None,
    typer.Option(
        "--max-file-mb",
        envvar="PEELIAN_INGEST_MAX_FILE_MB",
        help="Largest file or zip member to read, uncompressed, in MB (default 1024).",
        show_default=False,
    ),
]
MaxTotalMb = Annotated[
    float | None,
    typer.Option(
        "--max-total-mb",
        envvar="PEELIAN_INGEST_MAX_TOTAL_MB",
        help="Most data one ingest may read, uncompressed, in MB (default 16384).",
        show_default=False,
    ),
]
MaxRatio = Annotated[
    float | None,
    typer.Option(
        "--max-ratio",
        envvar="PEELIAN_INGEST_MAX_RATIO",
        help="Highest compression ratio of a zip member over 1 MB (default 100; zip bombs "
        "are refused).",
        show_default=False,
    ),
]


class LimitOptions:
    """The zip-bomb and size limits from the command line (``None``: the default)."""

    @staticmethod
    def build(max_file_mb: float | None, max_total_mb: float | None, ratio: float | None) -> Any:
        from peelian.data.ingest import IngestLimits
        from peelian.errors import ParameterError

        base = IngestLimits()
        for name, value in (
            ("--max-file-mb", max_file_mb),
            ("--max-total-mb", max_total_mb),
            ("--max-ratio", ratio),
        ):
            if value is not None and not value > 0:
                raise ParameterError(f"The {name} option must be a number > 0. Got {value}.")
        return IngestLimits(
            max_file_bytes=int(max_file_mb * (1 << 20)) if max_file_mb else base.max_file_bytes,
            max_total_bytes=int(max_total_mb * (1 << 20)) if max_total_mb else base.max_total_bytes,
            max_ratio=ratio if ratio else base.max_ratio,
        )


def nothing_stored(report: dict[str, Any]) -> Any:
    """An :class:`~peelian.errors.IngestError` listing why each file stored nothing, when the
    ingest stored no row and no file was already loaded (``None`` otherwise)."""
    from peelian.errors import IngestError

    files = report.get("files", [])
    if sum(f["rows_stored"] for f in files) or any(f["action"] == "unchanged" for f in files):
        return None
    reasons = []
    for f in files:
        why = ", ".join(f"{k} {v:,}" for k, v in (f.get("reasons") or {}).items())
        reasons.append(f"{f['path']}: {f['action']} ({why or f.get('note') or 'no rows'})")
    return IngestError(
        f"Nothing was stored from {len(files)} file(s) (batch {report.get('batch')}): "
        + "; ".join(reasons)
        + ".",
        "Fix the files (the reasons name what is wrong) and ingest again; the rows read are "
        "kept in the quarantine (`peelian info`, the Data page).",
    )


def finish_report(report: dict[str, Any], *, as_json: bool) -> bool:
    """Print the JSON report (with an ``error`` when nothing was stored) or, for tables, the
    error line; exit with the ingest error code when nothing was stored. Returns whether the
    caller should print its tables (not in JSON mode)."""
    exc = nothing_stored(report)
    if as_json:
        print_json(report if exc is None else {**report, "error": exc.to_dict()})
        if exc is not None:
            raise typer.Exit(exit_code_for(exc))
        return False
    return True


def fail_if_nothing_stored(report: dict[str, Any]) -> None:
    exc = nothing_stored(report)
    if exc is not None:
        fail(exc)


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
    max_file_mb: MaxFileMb = None,
    max_total_mb: MaxTotalMb = None,
    max_ratio: MaxRatio = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Ingest police.uk street, outcomes and stop-and-search files (recognised by header).

    Every row is stored or quarantined with a reason; the same file again changes nothing; a
    newer download of a month replaces that month. One transaction: a failure stores nothing.
    Zip bombs and oversized files are refused before anything is read (--max-file-mb,
    --max-total-mb, --max-ratio). An ingest that stores nothing exits non-zero with the reasons.
    """
    from peelian.data.ingest import ingest_policeuk

    limits = LimitOptions.build(max_file_mb, max_total_mb, max_ratio)
    store = store_for(db)
    command = "peelian " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    with progress(enabled=not as_json) as prog:
        task = prog.add_task("Reading files", total=None)

        def on_progress(description: str, done: int, total: int) -> None:
            prog.update(task, description=description, completed=done, total=total)

        report = ingest_policeuk(
            store,
            paths,
            force=force,
            replace=replace,
            command=command,
            progress=on_progress,
            limits=limits,
        )
    if not finish_report(report, as_json=as_json):
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
    fail_if_nothing_stored(report)


def register(app: typer.Typer) -> None:
    app.add_typer(ingest_app, name="ingest")
