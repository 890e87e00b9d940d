"""``peelian grip plan``: Grip hotspot patrol plans.

    peelian grip plan --weeks 4 --hotspots 20 --cell-size 150 --min-separation 300 \\
        --max-per-area 3 --start 2022-09-05 --out grip-plan

Hotspots are ranked by harm-weighted public-space, non-domestic serious violence from force
records (police.uk violence as the reported fallback). Writes visits.csv, hotspots.geojson,
plan.md and plan.html to ``--out`` and stores the plan for the dashboard.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from peelian.cli._common import DbOption, JsonOption, console, handle_errors, print_json, store_for

__all__ = ["register"]

grip_app = typer.Typer(help="Grip hotspot policing: patrol plans.", no_args_is_help=True)


@grip_app.command("plan")
@handle_errors
def plan_cmd(
    weeks: Annotated[int, typer.Option("--weeks", help="Weeks the plan covers.")],
    hotspots: Annotated[int, typer.Option("--hotspots", help="Number of hotspots (K).")],
    cell_size: Annotated[float, typer.Option("--cell-size", help="Cell size, metres.")] = 150.0,
    min_separation: Annotated[
        float | None,
        typer.Option("--min-separation", help="Metres between hotspot centres (default 2 cells)."),
    ] = None,
    max_per_area: Annotated[
        int | None, typer.Option("--max-per-area", help="At most this many hotspots per area.")
    ] = None,
    area_level: Annotated[
        str, typer.Option("--area-level", help="Area for the cap: ward or csp.")
    ] = "ward",
    start: Annotated[
        str | None, typer.Option("--start", help="First day, YYYY-MM-DD (default next Monday).")
    ] = None,
    basis: Annotated[
        str, typer.Option("--basis", help="Rank by recent 'harm' or by 'forecast' harm.")
    ] = "harm",
    seed: Annotated[int, typer.Option("--seed", help="Seed of the random visit times.")] = 0,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for visits.csv, hotspots.geojson, plan.md/html.")
    ] = Path("grip-plan"),
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Choose K hotspots and schedule 15-minute visible patrols at unpredictable times."""
    from peelian.data.results import load_result
    from peelian.errors import ParameterError
    from peelian.jobs.forecast import run_grip_plan
    from peelian.reports.grip_plan import write_plan_files

    if area_level not in ("ward", "csp"):
        raise ParameterError(f"--area-level must be 'ward' or 'csp'. Got {area_level!r}.")
    store = store_for(db)
    run_id = run_grip_plan(
        store, weeks=weeks, hotspots=hotspots, write_files=partial(write_plan_files, out),
        cell_size=cell_size,
        min_separation=min_separation, max_per_area=max_per_area, area_level=area_level,
        start=start, seed=seed, basis=basis,
    )  # fmt: skip
    run = load_result(store, run_id)
    meta, hs = run.summary, run.frames["hotspots"]
    s = meta["summary"]
    if as_json:
        print_json({
            "run_id": run_id, "summary": s, "source": meta["source"], "months": meta["months"],
            "data_age": meta.get("data_age"),
            "choices": meta["choices"], "files": meta.get("files"),
            "hotspots": hs.drop(columns="geometry").to_dict(orient="records"),
            "visits": len(run.frames["visits"]),
        })  # fmt: skip
        return
    console.print(
        f"{s['hotspots']} hotspots ({meta['source']['source']}, {meta['months'][0]} to "
        f"{meta['months'][1]}) hold {s['harm_share']:.1%} of the harm in {s['area_share']:.3%} "
        f"of the area; {s['visits']} visits of {s['visit_minutes']} minutes over {s['weeks']} weeks."
    )
    table = Table()
    for col in ("rank", "cell", "area", "harm share", "high-risk hours"):
        table.add_column(col)
    for r in hs.itertuples():
        table.add_row(str(r.rank), str(r.cell_id), str(r.area_code),
                      f"{r.expected_harm_share:.1%}", str(r.high_risk_hours))  # fmt: skip
    console.print(table)
    if meta.get("profile_note"):
        console.print(f"Note: {meta['profile_note']}.")
    if meta.get("data_age"):
        console.print(f"[bold]Old data:[/bold] {meta['data_age']}")
    if meta["source"].get("synthetic"):
        console.print("[bold]Synthetic data:[/bold] made from synthetic force records.")
    console.print(f"Plan written to {out} (visits.csv, hotspots.geojson, plan.md, plan.html).")


def register(app: typer.Typer) -> None:
    app.add_typer(grip_app, name="grip")
