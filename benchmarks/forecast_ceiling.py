"""How far can any forecast go on the crime-possible cells? (issue 12 item 6)

    .venv/bin/python benchmarks/forecast_ceiling.py

For each of the 12 origins (2021-09..2022-08, 250 m cells, as ``bench_forecast.py``) and each
crime type: the crime-possible cells (any police.uk event before the month), the share of the
month's events outside them (no forecast scored over them can catch those), and at 1 % and 5 % of
that area the PAI of a perfect forecast (the cells with the most events that month, the bound PEI
divides by) beside the all-history counts' tie-averaged PAI. On the whole force the ceiling of PAI
at 5 % was 20 and the models sat near it; over the crime-possible cells the perfect forecast is far
above every model, so the scores measure ranking, not the moorland.

Writes benchmarks/results/forecast_ceiling.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_forecast import CRIME_TYPES, TEST, boundary, load_events  # noqa: E402

from peelian.analysis.forecast import build_cube, crime_possible, evaluate_forecast  # noqa: E402
from peelian.analysis.grid import square_grid  # noqa: E402

OUT = HERE / "results" / "forecast_ceiling.md"


def main() -> None:
    events = load_events()
    grid = square_grid(boundary(), 250)
    lines = [
        "# The ceiling of PAI over the crime-possible cells (Northumbria, 250 m)",
        "",
        "Command: `.venv/bin/python benchmarks/forecast_ceiling.py`. *outside* = share of the "
        "month's events in cells with no police.uk event of any type before it; *perfect* = PAI "
        "of flagging the cells with the most events that month; *all history* = tie-averaged PAI "
        "of the all-history counts.",
        "",
    ]
    for ct in CRIME_TYPES:
        cube, _ = build_cube(grid, events[events["category"] == ct], context_events=events)
        rows = []
        for month in TEST:
            k = cube.index_of(month)
            train = cube.window(k)
            domain, _ = crime_possible(train)
            obs = cube.counts[:, k]
            ev = evaluate_forecast(train.counts.mean(axis=1), obs, cube.area, (0.01, 0.05),
                                   domain=domain).set_index("coverage")  # fmt: skip
            rows.append(
                {
                    "month": month,
                    "cells": int(domain.sum()),
                    "km2": round(float(cube.area[domain].sum() / 1e6), 1),
                    "events": int(obs.sum()),
                    "outside": round(float(obs[~domain].sum() / obs.sum()), 4),
                    "perfect PAI@1%": round(
                        float(ev.loc[0.01, "perfect_hits"] / obs.sum() / 0.01), 2
                    ),
                    "all history PAI@1%": round(float(ev.loc[0.01, "pai"]), 2),
                    "perfect PAI@5%": round(
                        float(ev.loc[0.05, "perfect_hits"] / obs.sum() / 0.05), 2
                    ),
                    "all history PAI@5%": round(float(ev.loc[0.05, "pai"]), 2),
                }
            )
        frame = pd.DataFrame(rows)
        lines += [f"## {ct}", "", "| " + " | ".join(frame.columns) + " |"]
        lines.append("|" + "---|" * len(frame.columns))
        lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in frame.itertuples(False)]
        means = frame.drop(columns="month").mean(numeric_only=True)
        lines += ["", "Means: " + ", ".join(f"{k} {v:.3g}" for k, v in means.items()), ""]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
