"""``peelian synth force``: write a synthetic force's records-system export (clearly synthetic)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer

from peelian.cli._common import JsonOption, console, err_console, handle_errors, print_json

__all__ = ["register"]

synth_app = typer.Typer(
    help="Synthetic data: a realistic, clearly labelled synthetic police force.",
    no_args_is_help=True,
)


@synth_app.command("force")
@handle_errors
def force(
    out: Annotated[Path, typer.Option("--out", help="Folder to write the CSV export into.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed (same seed, same files).")] = 1,
    month_from: Annotated[
        str, typer.Option("--from", help="First month, YYYY-MM.", show_default=True)
    ] = "2019-04",
    month_to: Annotated[
        str, typer.Option("--to", help="Last month, YYYY-MM.", show_default=True)
    ] = "2023-03",
    calibrate_from: Annotated[
        Path | None,
        typer.Option(
            "--calibrate-from",
            help="police.uk zip to calibrate on (default: the bundled Northumbria download).",
        ),
    ] = None,
    scale: Annotated[
        float, typer.Option("--scale", help="Volume multiplier (1.0 = the calibration force).")
    ] = 1.0,
    as_json: JsonOption = False,
) -> None:
    """Generate a synthetic force (occurrences, people, investigations, victim contacts,
    missing episodes, intelligence links, satisfaction survey) and write it as CSV files with
    SYNTHETIC_DATA_README.txt. Load it with `peelian ingest force DIR --mapping
    src/peelian/data/mappings/synthetic_rms.yaml`."""
    from peelian.data.synthetic import generate_force, write_export

    t0 = time.perf_counter()
    result = generate_force(seed, month_from, month_to, calibrate_from=calibrate_from, scale=scale)
    t1 = time.perf_counter()
    files = write_export(result, out)
    t2 = time.perf_counter()
    report = {
        "synthetic": True,
        "out": str(out),
        "seed": seed,
        "month_from": result.meta["month_from"],
        "month_to": result.meta["month_to"],
        "scale": scale,
        "calibration": result.meta["calibration"]["source"],
        "counts": result.counts(),
        "files": {name: str(path) for name, path in files.items()},
        "seconds": {"generate": round(t1 - t0, 2), "write": round(t2 - t1, 2)},
    }
    if as_json:
        print_json(report)
        return
    console.print(
        f"[bold]SYNTHETIC[/] force data ({report['month_from']}..{report['month_to']}, "
        f"seed {seed}, scale {scale}) written to {out}:"
    )
    for name, n in report["counts"].items():
        console.print(f"  {name:<22} {n:>10,}")
    err_console.print(
        f"Generated in {report['seconds']['generate']} s, written in {report['seconds']['write']} s. "
        "Every file is synthetic: see SYNTHETIC_DATA_README.txt."
    )


def register(app: typer.Typer) -> None:
    app.add_typer(synth_app, name="synth")
