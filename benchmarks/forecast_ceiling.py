"""How far can any forecast go? The ceiling of PAI at 5 % of the area on the real data (issue 6).

    .venv/bin/python benchmarks/forecast_ceiling.py

Issue 6's accuracy goal asks the best model's mean PAI at 5 % of the force area to beat both the
naive last-period model and prospective hotspotting by at least 10 %. PAI = hit rate / coverage,
so at 5 % coverage no forecast can exceed PAI 20 (every event caught). This script measures, on
the same 250 m grid and months as ``bench_forecast.py``:

- the PAI needed (1.1 x each baseline's mean) and the hit rate that implies;
- per test month, the share of events in cells that had *no* event of that type in any earlier
  month of the data (``novel``): no model fed by past events can rank those cells above the
  thousands of cells with a history except by luck, so ``1 - novel`` is (up to the spare area)
  the best hit rate a history-based forecast can reach;
- the hit rate of ranking every cell by its whole history (``all history``).

Writes benchmarks/results/forecast_ceiling.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_forecast import CRIME_TYPES, TEST, boundary, load_events  # noqa: E402

from peelian.analysis.forecast import build_cube  # noqa: E402
from peelian.analysis.grid import square_grid  # noqa: E402

OUT = HERE / "results" / "forecast_ceiling.md"
COVERAGE = 0.05
#: mean PAI at 5 % over TEST from benchmarks/results/forecast.md (bench_forecast.py)
BASELINES = {
    "Burglary": {"naive": 5.832, "prospective": 17.533, "prospective_2004": 15.942},
    "Violence and sexual offences": {
        "naive": 14.411,
        "prospective": 18.543,
        "prospective_2004": 18.041,
    },
}
BEST = {"Burglary": ("ensemble", 18.298), "Violence and sexual offences": ("learned", 19.225)}


def _flag(score: np.ndarray, area: np.ndarray, budget: float) -> np.ndarray:
    """Cells taken best-first until the area budget is used (ties broken by cell order)."""
    order = np.argsort(-score, kind="stable")
    taken = np.cumsum(area[order]) <= budget
    out = np.zeros(len(score), dtype=bool)
    out[order[taken]] = True
    return out


def main() -> None:
    events = load_events()
    grid = square_grid(boundary(), 250)
    lines = [
        "# The ceiling of PAI at 5 % on the real Northumbria data",
        "",
        "Command: `.venv/bin/python benchmarks/forecast_ceiling.py` (same grid and months as "
        "`bench_forecast.py`: 250 m, test months 2022-03..2022-08, police.uk 2020-05..2022-08).",
        "",
        "PAI at 5 % cannot exceed 20. *novel* = share of the month's events in cells with no "
        "event of that type in any earlier month; *all history* = hit rate of ranking cells by "
        "all earlier events.",
        "",
    ]
    for ct in CRIME_TYPES:
        cube, _ = build_cube(grid, events[events["category"] == ct])
        counts, area = cube.counts, cube.area
        budget = COVERAGE * area.sum()
        periods = [str(p) for p in cube.periods]
        rows = []
        for month in TEST:
            t = periods.index(month)
            past = counts[:, :t].sum(axis=1)
            now = counts[:, t]
            total = now.sum()
            novel = now[past == 0].sum() / total
            hist_hit = now[_flag(past, area, budget)].sum() / total
            spare = budget - area[past > 0].sum()
            rows.append(
                {
                    "month": month,
                    "events": int(total),
                    "cells with history": int((past > 0).sum()),
                    "spare area km2": round(max(spare, 0) / 1e6, 1),
                    "novel": round(float(novel), 4),
                    "all history hit": round(float(hist_hit), 4),
                }
            )
        frame = pd.DataFrame(rows)
        mean_novel = frame["novel"].mean()
        lines += [f"## {ct}", "", "| " + " | ".join(frame.columns) + " |"]
        lines.append("|" + "---|" * len(frame.columns))
        lines += ["| " + " | ".join(str(v) for v in r) + " |" for r in frame.itertuples(False)]
        best_name, best = BEST[ct]
        lines += ["", f"Best peelian model: {best_name}, mean PAI {best:.2f}.", ""]
        lines += ["| beat by 10 % | its PAI | PAI needed | hit rate needed | possible? |"]
        lines += ["|---|---|---|---|---|"]
        for name, pai in BASELINES[ct].items():
            need = 1.1 * pai
            hit = need * COVERAGE
            if need > 20:
                verdict = "no: above the ceiling of 20"
            elif best >= need:
                verdict = f"met ({best:.2f})"
            elif hit > 1 - mean_novel:
                verdict = (
                    f"only by catching {100 * (hit - (1 - mean_novel)) / mean_novel:.0f}% of the "
                    "events in never-seen cells"
                )
            else:
                verdict = "possible, not reached"
            lines.append(f"| {name} | {pai:.2f} | {need:.2f} | {hit:.3f} | {verdict} |")
        lines.append("")
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
