"""``peelian info``: what is loaded -- forces, months, rows per kind and category, areas, the last
ingest batches with their reconciliation, and analysis runs."""

from __future__ import annotations

from typing import Any

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["info", "register"]


def _table(title: str, columns: list[str], rows: list[list[Any]]) -> Table:
    table = Table(title=title, title_justify="left")
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*(f"{v:,}" if isinstance(v, int) else str(v) for v in row))
    return table


@handle_errors
def info(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show what is loaded: forces, months, rows per kind and category, areas, last batches.

    Read-only: it never creates a database. With none configured it reads the demo database
    of this checkout (``make demo``) if there is one, and says so; otherwise it says how to
    load data and exits with the not-found code.
    """
    from peelian.data.frames import data_status

    status = data_status(store_for(db, must_exist=True))
    if as_json:
        print_json(status)
        return
    months = status["months"]
    span = f"{months[0]} .. {months[-1]} ({len(months)} months)" if months else "none"
    console.print(
        f"[bold]{status['database']}[/]: {status['events']:,} events "
        f"({status['unlocated_events']:,} unlocated), {status['outcomes']:,} outcomes, "
        f"{status['stops']:,} stop-and-search; forces: {', '.join(status['forces']) or 'none'}; "
        f"months: {span}; quarantined rows: {status['quarantined']:,}.",
        highlight=False,
    )
    if status["by_force_month"]:
        console.print(
            _table(
                "Rows per force and month",
                ["force", "month", "events", "outcomes", "stops"],
                [
                    [r["force"], r["month"], r["events"], r["outcomes"], r["stops"]]
                    for r in status["by_force_month"]
                ],  # fmt: skip
            )
        )
    if status["events_by_category"]:
        console.print(
            _table(
                "Events per category",
                ["category", "rows"],
                [[r["category"], r["rows"]] for r in status["events_by_category"]],
            )
        )
    areas = status["areas"]
    console.print(
        "Areas: "
        + (", ".join(f"{k} {v:,}" for k, v in sorted(areas.items())) or "none loaded")
        + f"; LSOA 2011->2021 lookup rows: {status['lsoa_lookup']:,}.",
        highlight=False,
    )
    if status["batches"]:
        console.print(
            _table(
                "Last ingest batches",
                [
                    "batch",
                    "source",
                    "status",
                    "finished (UTC)",
                    "files",
                    "read",
                    "stored",
                    "quarantined",
                    "reconciles",
                ],
                [
                    [
                        b["id"],
                        b["source"],
                        b["status"],
                        b["finished_at"] or "",
                        b["files"],
                        b["rows_read"],
                        b["rows_stored"],
                        b["rows_quarantined"],
                        "yes" if b["reconciles"] else "NO",
                    ]
                    for b in status["batches"]
                ],
            )  # fmt: skip
        )
    runs = status["analysis_runs"]
    if runs:
        console.print(
            _table(
                "Analysis runs (newest first)",
                ["id", "kind", "name", "created (UTC)"],
                [[r["id"], r["kind"], r["name"], r["created_at"]] for r in runs[:20]],
            )
        )
    else:
        console.print("Analysis runs: none yet.")


def register(app: typer.Typer) -> None:
    app.command("info")(info)
