"""Benchmark: hotspot statistics on all 28 months of real Northumbria police.uk data.

    .venv/bin/python benchmarks/bench_hotspots.py [--repeat 3]

1. Gi* of violence and sexual offences (all 28 months) on a 150 m grid over the force area:
   peelian's ``gistar_values`` (raster fast path) next to libpysal ``DistanceBand`` weights +
   ``esda.G_Local(star=True, transform="B", permutations=0)`` on the SAME cells and values, in the
   same run, function to function; the maximum |z difference| is reported.
2. KDE of all 449,089 street records (every crime type and ASB) on a 100 m grid (quartic kernel,
   automatic bandwidth), end to end from the events frame and the boundary (the grid is built
   inside the call), then the same with the result's ``.cells`` GeoDataFrame materialised; the
   grid build alone is timed too. Wall and CPU (process) times.
3. Emerging hot spots of violence over 28 months on a 250 m grid (grid build + analysis).

Events are read from the bundled zip (pyarrow, projected with pyproj); the boundary is
demo-data/boundaries/pfa2020_northumbria.geojson. Best of ``--repeat`` runs. Figures go to
``benchmarks/results/hotspots.md``.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import time
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ZIP = ROOT / "demo-data/policeuk/northumbria_2020-05_2022-08.zip"
BOUNDARY = ROOT / "demo-data/boundaries/pfa2020_northumbria.geojson"
VIOLENCE = "Violence and sexual offences"


def load_events() -> pd.DataFrame:
    import pyarrow.csv as pacsv
    from pyproj import Transformer

    frames = []
    with zipfile.ZipFile(ZIP) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith("-street.csv")):
            table = pacsv.read_csv(io.BytesIO(zf.read(name)))
            cols = ["Month", "Longitude", "Latitude", "Crime type"]
            frames.append(table.select(cols).to_pandas())
    df = pd.concat(frames, ignore_index=True)
    df.columns = ["month", "longitude", "latitude", "category"]
    e, n = Transformer.from_crs(4326, 27700, always_xy=True).transform(
        df["longitude"].to_numpy(), df["latitude"].to_numpy()
    )
    df["easting"], df["northing"] = e, n
    return df


def boundary():
    import geopandas as gpd

    return gpd.read_file(BOUNDARY).to_crs(27700).geometry.union_all()


def best(fn, repeat: int):
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def best_cpu(fn, repeat: int):
    """Best wall time and best CPU time (process) of ``repeat`` runs, and the last result.

    CPU time is reported because the machine is shared: wall time grows with the load."""
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return min(walls), min(cpus), out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import esda
    import geopandas as gpd
    import libpysal

    from peelian.analysis.grid import count_events, square_grid
    from peelian.analysis.hotspots import (
        choose_neighbourhood,
        emerging_hotspots,
        gistar,
        gistar_values,
        kde,
    )

    load = os.getloadavg()
    events = load_events()
    area = boundary()
    violence = events[events["category"] == VIOLENCE]
    rows = []

    # 1. Gi* vs esda on the same cells
    grid150 = square_grid(area, 150)
    y = count_events(grid150, violence, by_period=False).total_n.astype(float)
    nb, _ = choose_neighbourhood(grid150, None, None)
    t_ours, (z_ours, _, _) = best(lambda: gistar_values(grid150, y, nb), args.repeat)

    def run_esda():
        pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(grid150.x, grid150.y))
        w = libpysal.weights.DistanceBand.from_dataframe(
            pts, threshold=nb.distance, binary=True, silence_warnings=True
        )
        return esda.G_Local(y, w, transform="B", star=True, permutations=0).Zs

    t_esda, z_esda = best(run_esda, 1)
    diff = float(np.max(np.abs(z_ours - z_esda)))
    rows.append(
        (
            "Gi* 150 m, violence 28 months: peelian gistar_values",
            t_ours,
            f"{grid150.n_cells:,} cells, distance {nb.distance:g} m",
        )
    )
    rows.append(
        (
            "Gi* 150 m: libpysal DistanceBand + esda.G_Local",
            t_esda,
            f"speed-up x{t_esda / t_ours:,.0f}; max |z diff| {diff:.1e}",
        )
    )

    # 2. KDE of all street records on a 100 m grid, end to end: events frame + boundary -> result
    t_kde, cpu_kde, res = best_cpu(lambda: kde(events, area, cell_size=100), args.repeat)

    def kde_with_cells():
        r = kde(events, area, cell_size=100)
        _ = r.cells  # the GeoDataFrame: clipped polygons and string ids too
        return r

    t_kdec, cpu_kdec, _ = best_cpu(kde_with_cells, args.repeat)
    t_grid100, cpu_grid100, grid100 = best_cpu(lambda: square_grid(area, 100), args.repeat)
    rows.append(
        (
            "KDE, all 449,089 street records, 100 m grid: kde(events, boundary) end to end",
            t_kde,
            f"CPU {cpu_kde:.3f} s; grid built inside; bandwidth {res.params['bandwidth']:.0f} m "
            f"(auto), {res.summary['n_points']:,} points in area, {grid100.n_cells:,} cells",
        )
    )
    rows.append(
        (
            "the same, then .cells (GeoDataFrame with clipped polygons and ids)",
            t_kdec,
            f"CPU {cpu_kdec:.3f} s",
        )
    )
    rows.append(
        (
            "square grid 100 m over the force (lattice, mask; polygons lazy)",
            t_grid100,
            f"CPU {cpu_grid100:.3f} s; {grid100.n_cells:,} cells",
        )
    )

    # 2b. H3 grid (resolution from a 250 m cell size) and Gi* on it (ring 2)
    from peelian.analysis.grid import make_grid

    t_h3, cpu_h3, gh3 = best_cpu(lambda: make_grid(area, "h3", 250), args.repeat)
    t_h3g, cpu_h3g, rh3 = best_cpu(lambda: gistar(violence, gh3), args.repeat)
    rows.append(
        (
            "H3 grid over the force, cell size 250 m (build, vectorised)",
            t_h3,
            f"CPU {cpu_h3:.3f} s; resolution {gh3.resolution}, {gh3.n_cells:,} cells",
        )
    )
    rows.append(
        (
            "Gi* on that H3 grid, violence 28 months (ring 2 weights + z + FDR)",
            t_h3g,
            f"CPU {cpu_h3g:.3f} s; {rh3.summary['n_hot']:,} hot cells",
        )
    )

    # 3. Emerging hot spots, 250 m, 28 months
    def run_emerging():
        return emerging_hotspots(violence, square_grid(area, 250))

    t_em, em = best(run_emerging, args.repeat)
    top = sorted(em.summary["patterns"].items(), key=lambda kv: -kv[1])[:4]
    rows.append(
        (
            "Emerging hot spots, violence, 28 months, 250 m (grid + analysis)",
            t_em,
            f"{em.summary['n_cells']:,} cells; " + ", ".join(f"{k}: {v}" for k, v in top),
        )
    )

    lines = [
        "# Hotspot benchmarks",
        "",
        "Command: `.venv/bin/python benchmarks/bench_hotspots.py --repeat "
        f"{args.repeat}` (best of {args.repeat}; esda once).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores shared with other work, "
        f"Python {platform.python_version()}; load average (1, 5, 15 min) at the start "
        f"{load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f} and at the end "
        + ", ".join(f"{v:.1f}" for v in os.getloadavg())
        + " (wall times grow with the load; CPU times much less).",
        "",
        "| what | seconds | notes |",
        "|---|---:|---|",
        *[f"| {w} | {t:.3f} | {note} |" for w, t, note in rows],
        "",
    ]
    text = "\n".join(lines)
    print(text)
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results/hotspots.md").write_text(text)


if __name__ == "__main__":
    main()
