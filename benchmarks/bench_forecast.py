"""Forecast backtest benchmark (issue 6): speed and accuracy on the real Northumbria data.

    .venv/bin/python benchmarks/bench_forecast.py            # timing + accuracy, writes results
    .venv/bin/python benchmarks/bench_forecast.py --tune     # re-run the hyperparameter choice

The full backtest: six models (naive, moving average, KDE, prospective, SEPP, learned) plus the
ensemble, six test months (2022-03..2022-08), two crime types (burglary; violence and sexual
offences), a 250 m grid over the force area. Goal: under 60 s. Data: the bundled police.uk zip
and force boundary (demo-data/), read straight from the files so the figure is the forecasting
cost (events -> cube -> backtest), not ingest.

``--tune`` scores each model's candidate hyperparameters on the six months BEFORE the test window
(2021-09..2022-02) by mean PAI at 5 % of the area and prints the winners; the defaults in
``peelian.analysis.forecast.make_model`` were chosen this way (never on the test months).
Figures go to benchmarks/results/forecast.md.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from pyproj import Transformer

from peelian.analysis.forecast import (
    Ensemble,
    GridSEPP,
    MovingAverage,
    PoissonBoost,
    ProspectiveHotspot,
    RetrospectiveKDE,
    backtest,
    build_cube,
    make_model,
    make_models,
)
from peelian.analysis.grid import square_grid

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "demo-data"
OUT = ROOT / "benchmarks" / "results" / "forecast.md"
CRIME_TYPES = ("Burglary", "Violence and sexual offences")
TEST = [str(p) for p in pd.period_range("2022-03", "2022-08", freq="M")]
VALIDATION = [str(p) for p in pd.period_range("2021-09", "2022-02", freq="M")]
BENCH_MODELS = (
    "naive",
    "moving_average",
    "kde",
    "prospective",
    "prospective_2004",
    "sepp",
    "learned",
    "ensemble",
)


def markdown(frame: pd.DataFrame) -> str:
    """A pipe table (no tabulate dependency)."""
    cols = [frame.index.name or ""] + [str(c) for c in frame.columns]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for idx, row in frame.iterrows():
        vals = [f"{v:.3f}" if isinstance(v, float) else str(v) for v in row]
        out.append("| " + " | ".join([str(idx), *vals]) + " |")
    return "\n".join(out)


def load_events() -> pd.DataFrame:
    zpath = DEMO / "policeuk" / "northumbria_2020-05_2022-08.zip"
    with zipfile.ZipFile(zpath) as z:
        frames = [
            pd.read_csv(z.open(n), usecols=["Month", "Longitude", "Latitude", "Crime type"])
            for n in sorted(z.namelist())
            if n.endswith("-street.csv")
        ]
    df = pd.concat(frames, ignore_index=True)
    df = df[df["Crime type"].isin(CRIME_TYPES)]
    e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        df["Longitude"].to_numpy(), df["Latitude"].to_numpy()
    )
    return pd.DataFrame(
        {"month": df["Month"].to_numpy(), "category": df["Crime type"].to_numpy(),
         "easting": e, "northing": n}
    )  # fmt: skip


def boundary():
    gdf = gpd.read_file(DEMO / "boundaries" / "pfa2020_northumbria.geojson").to_crs(27700)
    return gdf.union_all()


def candidates() -> dict[str, list]:
    return {
        "moving_average": [MovingAverage(k=k) for k in (1, 2, 3, 6, 12)],
        "kde": [
            RetrospectiveKDE(bandwidth=b, window=w)
            for b, w in itertools.product((250.0, 400.0, 600.0, 800.0, 1200.0), (None, 12))
        ],
        "prospective": [
            ProspectiveHotspot(bandwidth=b, time_window=t)
            for b, t in itertools.product(
                (250.0, 400.0, 600.0, 800.0), (4.0, 8.0, 13.0, 26.0, 52.0)
            )
        ],
        "sepp": [GridSEPP(window=w) for w in (None, 12)],
        "learned": [
            PoissonBoost(),
            PoissonBoost(train_periods=12),
            PoissonBoost(ring_bandwidth=1500.0),
            PoissonBoost(max_iter=150, learning_rate=0.05),
            PoissonBoost(estimator="glm", train_periods=12),
        ],
        "ensemble": [
            Ensemble([make_model("kde"), make_model("learned")], [0.5, 0.5]),
            Ensemble([make_model("kde"), make_model("sepp"), make_model("learned")], None),
            Ensemble([make_model("sepp"), make_model("learned")], [0.5, 0.5]),
            Ensemble([make_model("kde"), make_model("learned")], [0.25, 0.75]),
        ],
    }


def tune(cubes: dict[str, object]) -> str:
    lines = ["## Hyperparameter choice (validation months 2021-09..2022-02, mean PAI at 5 %)", ""]
    for family, models in candidates().items():
        lines.append(f"### {family}")
        lines.append("")
        lines.append("| params | " + " | ".join(CRIME_TYPES) + " | mean |")
        lines.append("|---|" + "---|" * (len(CRIME_TYPES) + 1))
        for m in models:
            pais = []
            for ct in CRIME_TYPES:
                res = backtest(cubes[ct], {family: m}, VALIDATION, coverages=(0.05,))
                pais.append(float(res.results["pai"].mean()))
            params = {k: v for k, v in m.get_params().items() if k not in ("members",)}
            if family == "ensemble":
                params = {"members": [x.name for x in m.members], "weights": m.weights}
            cells = " | ".join(f"{p:.3f}" for p in pais)
            lines.append(f"| {params} | {cells} | {np.mean(pais):.3f} |")
            print(family, params, [round(p, 3) for p in pais], flush=True)
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tune", action="store_true")
    ap.add_argument("--cell-size", type=float, default=250.0)
    args = ap.parse_args()

    t0 = time.perf_counter()
    events = load_events()
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    grid = square_grid(boundary(), args.cell_size)
    cubes = {}
    for ct in CRIME_TYPES:
        cubes[ct], _ = build_cube(grid, events[events["category"] == ct])
    t_cube = time.perf_counter() - t1
    if args.tune:
        text = tune(cubes)
        path = OUT.with_name("forecast_tuning.md")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("# Forecast hyperparameter choice\n\nCommand: "
                        "`.venv/bin/python benchmarks/bench_forecast.py --tune`\n\n" + text + "\n")  # fmt: skip
        print(f"written {path}")
        return

    t2 = time.perf_counter()
    c2 = time.process_time()
    results, timings = {}, {}
    for ct in CRIME_TYPES:
        res = backtest(cubes[ct], make_models(list(BENCH_MODELS)), TEST)
        results[ct], timings[ct] = res, res.timings
    t_bt = time.perf_counter() - t2
    cpu_bt = time.process_time() - c2
    total = t_cube + t_bt

    lines = [
        "# Forecast benchmark",
        "",
        "Command: `.venv/bin/python benchmarks/bench_forecast.py`",
        f"Machine: {platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}; shared 2-core machine (figures vary with other load).",
        "",
        f"- Grid: {args.cell_size:.0f} m, {grid.n_cells} in-area cells, "
        f"{grid.total_area / 1e6:.0f} km^2 (Northumbria force area).",
        f"- Read the police.uk zip (not part of the goal): {t_load:.1f} s",
        f"- Build the two count cubes: {t_cube:.2f} s",
        f"- Backtest, {len(BENCH_MODELS)} models x {len(TEST)} months x 2 crime types: "
        f"{t_bt:.1f} s wall, {cpu_bt:.1f} s CPU of this process",
        f"- **Total (cubes + backtests): {total:.1f} s** (goal < 60 s: "
        f"{'met' if total < 60 else 'NOT met'})",
        "",
        "Seconds per model (both crime types, six months):",
        "",
        "| model | " + " | ".join(CRIME_TYPES) + " |",
        "|---|---|---|",
    ]
    for m in BENCH_MODELS:
        lines.append(f"| {m} | " + " | ".join(f"{timings[ct][m]:.2f}" for ct in CRIME_TYPES) + " |")
    lines += ["", "## Accuracy on the test months 2022-03..2022-08", ""]
    for ct in CRIME_TYPES:
        r = results[ct].results
        r5 = r[np.isclose(r["coverage"], 5.0)]
        piv = r5.pivot(index="model", columns="month", values="pai").loc[list(BENCH_MODELS)]
        piv["mean"] = piv.mean(axis=1)
        lines += [
            f"### {ct}: PAI at 5 % of the area, per month",
            "",
            markdown(piv),
            "",
        ]
        s = results[ct].summary
        tab = s.pivot(index="model", columns="coverage", values="pai_mean").loc[list(BENCH_MODELS)]
        tab.columns = [f"PAI@{c:g}%" for c in tab.columns]
        s5 = s[np.isclose(s["coverage"], 5.0)].set_index("model").loc[list(BENCH_MODELS)]
        for col in ("hit_rate", "pei", "rri", "log_lik", "brier", "churn_jaccard"):
            tab[f"{col}@5%"] = s5[f"{col}_mean"]
        tab["PAI@5% std"] = s5["pai_std"]
        lines += [f"### {ct}: means over the six months", "", markdown(tab), ""]
        best = results[ct].best_model(5.0)
        best_pai = float(s5.loc[best, "pai_mean"])
        for base in ("naive", "prospective", "prospective_2004"):
            b = float(s5.loc[base, "pai_mean"])
            gain = best_pai / b - 1
            lines.append(
                f"- best ({best}) {best_pai:.2f} vs {base} {b:.2f}: {gain:+.1%} "
                f"(goal >= +10%: {'met' if gain >= 0.10 else 'NOT met'})"
            )
        lines.append(f"- ceiling: a perfect forecast's PAI at 5 % is at most {1 / 0.05:.0f}")
        lines.append("")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
