"""``peelian fetch``: download police.uk open data (the only command that uses the network)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from peelian.cli._common import (
    JsonOption,
    console,
    handle_errors,
    print_json,
    progress,
    settings_for,
)

__all__ = ["register"]

fetch_app = typer.Typer(help="Download open data (police.uk).", no_args_is_help=True)


@fetch_app.command("policeuk")
@handle_errors
def policeuk(
    force: Annotated[str, typer.Option("--force", help="police.uk force id, e.g. northumbria.")],
    month_from: Annotated[str, typer.Option("--from", help="First month, YYYY-MM.")],
    month_to: Annotated[str, typer.Option("--to", help="Last month, YYYY-MM.")],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", help="Folder to write (default: <data dir>/downloads/policeuk/<force>)."
        ),
    ] = None,
    base_url: Annotated[
        str, typer.Option("--base-url", help="police.uk base URL (for mirrors and tests).")
    ] = "https://data.police.uk",
    rate: Annotated[
        float, typer.Option("--rate", help="Requests per second (police.uk allows 15).")
    ] = 15.0,
    as_json: JsonOption = False,
) -> None:
    """Download a force's street, outcomes and stop-and-search files for a range of months, in the
    police.uk layout; resumable (rerun to continue), cached and verified. Then load them with
    `peelian ingest policeuk OUT`."""
    from peelian.data.fetch import fetch_policeuk

    out_dir = out or settings_for(None).data_dir / "downloads" / "policeuk" / force
    with progress(enabled=not as_json and console.is_terminal) as prog:
        task = prog.add_task("police.uk files", total=None)

        def on_progress(what: str, done: int, total: int) -> None:
            prog.update(task, description=what, completed=done, total=total)

        report = fetch_policeuk(
            force,
            month_from,
            month_to,
            out_dir,
            base_url=base_url,
            rate=rate,
            burst=max(1, int(2 * rate)),
            on_progress=on_progress,
        )
    if as_json:
        print_json(report)
        return
    new = sum(f["action"] == "downloaded" for f in report["files"])
    cached = len(report["files"]) - new
    rows = sum(f.get("rows", 0) for f in report["files"])
    console.print(
        f"{len(report['files'])} files ({new} downloaded, {cached} already here), {rows:,} rows, "
        f"in {report['out']}; {report['requests']} requests, {report['retries']} retries."
    )
    if report["absent"]:
        console.print(f"Not published by police.uk: {', '.join(report['absent'])}.")
    if report["not_published"]:
        console.print(f"Months not (yet) available: {', '.join(report['not_published'])}.")
    console.print(f"Load them with: peelian ingest policeuk {report['out']}")


def register(app: typer.Typer) -> None:
    app.add_typer(fetch_app, name="fetch")
