"""Daily forecasts of force records (``peelian forecast backtest --freq D``): accuracy and speed.

    nice -n 10 .venv/bin/python benchmarks/forecast_daily.py --store sqlite:////tmp/x/peelian.sqlite

Fourteen daily origins 2022-08-18..31, 182 days of history each, 250 m cells over the force area,
burglary and violence and sexual offences, from the store's force records (the demo's are
SYNTHETIC), scored over the cells with a force record of any type in the training days. Results go
to benchmarks/results/forecast_daily.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_forecast as bf

from peelian.analysis.forecast import CRIME_POSSIBLE, make_model
from peelian.data.store import open_store
from peelian.jobs.forecast_force import compute_force_backtest, force_cube

MODELS = "all_history,last_period,moving_average,sepp"
FROM, TO = "2022-08-18", "2022-08-31"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--store", required=True)
    args = ap.parse_args()
    store = open_store(args.store, initialise=False)
    lines = [
        "# Daily forecasts of force records",
        "",
        f"Command: `nice -n 10 .venv/bin/python benchmarks/forecast_daily.py --store {args.store}`"
        f" (the same as `peelian forecast backtest --freq D --test-from {FROM} --test-to {TO} "
        f"--models {MODELS} --history 182`).",
        "",
    ]
    for ct in bf.CRIME_TYPES:
        t0 = time.perf_counter()
        res, meta = compute_force_backtest(store, crime_type=ct, test_from=FROM, test_to=TO,
                                           freq="D", models=MODELS, history=182)  # fmt: skip
        wall = time.perf_counter() - t0
        cube, _, _ = force_cube(store, crime_type=ct, freq="D", history=182,
                                last=pd.Period(FROM, freq="D") - 1)  # fmt: skip
        fit = make_model("sepp").fit(cube)
        s = res.summary
        s = s[(s["area_basis"] == CRIME_POSSIBLE) & s["coverage"].isin([1.0, 5.0])]
        tab = s.set_index(["model", "coverage"])[
            ["pai_mean", "pai_months_better", "ll_per_event_mean", "ll_months_better"]
        ].rename(columns={"pai_mean": "PAI", "pai_months_better": "days PAI better",
                          "ll_per_event_mean": "LL/event", "ll_months_better": "days LL better"})  # fmt: skip
        tab.index = [f"{m} @ {c:g} %" for m, c in tab.index]
        tab.index.name = "model @ coverage"
        label = "SYNTHETIC force records" if meta["synthetic"] else "force records"
        lines += [
            f"## {ct} ({label})",
            "",
            f"{meta['report']['events_counted']:,} records counted over "
            f"{meta['report']['first_period']}..{meta['report']['last_period']}; crime-possible "
            f"cells: {s['domain_cells_mean'].iloc[0]:,.0f} ({s['domain_km2_mean'].iloc[0]:,.1f} "
            f"km², mean over the days). Backtest {wall:.0f} s wall.",
            "",
            bf.markdown(tab),
            "",
            f"Self-exciting fit on the 182 days before {FROM}: theta = {fit.theta_:.4f}, omega = "
            f"{fit.omega_:.3f} per day, triggering {fit.trigger_share_:.2%} of the forecast, "
            f"collapsed: {fit.collapsed_}.",
            "",
        ]
        lines += [f"- warning ({m}): {w}" for m, ws in res.warnings.items() for w in ws] + [""]
        print(ct, f"{wall:.0f} s", flush=True)
    out = bf.RESULTS / "forecast_daily.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
