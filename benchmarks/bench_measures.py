"""Benchmark: every shipped measure for every LSOA (916) and every ward, CSP and the force over
48 months, with the dispersion-aware comparisons, SPC, trend (force and CSP) and narrative, on
the demo data.

    .venv/bin/python benchmarks/bench_measures.py [--repeat 3] [--profile]
    .venv/bin/python benchmarks/bench_measures.py --store sqlite:///.peelian-demo/peelian.sqlite

``--store``: the whole job as ``peelian demo`` runs it (``peelian.jobs.measures.run_measures``)
on a built demo store -- police.uk and the synthetic force records (about 568,000 occurrences,
counted in SQL) and the survey: the first run after new data (every record counted, the counts
kept) and the later runs (kept counts read, decision 0008); writes
benchmarks/results/measures_store.md.

Data: the real Northumbria police.uk street rows of the bundled demo zip (28 months, 2020-05 to
2022-08, aggregated to month x LSOA x category), extended to 48 months by repeating the first 20
real months 20 months earlier (2018-09 to 2020-04) so the run has the 48-month shape the goal
names; the extension is a benchmark device, never shown as data. Areas: the demo lookups and
population. Force-records measures have no data here and produce one honest row each.
Writes benchmarks/results/measures.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "fixtures" / "measures"))

import demo_frames  # noqa: E402

from peelian.analysis.measures import compute, measure_counts, month_index, month_label  # noqa: E402
from peelian.offences import cchi_weights  # noqa: E402
from peelian.schemas.measure_definitions import load_measure_definitions  # noqa: E402

HISTORY = """## What was cut (cProfile, `--profile`)

- Before (engineer E, plus the first dispersion-aware version): 7.1 s wall / 2.2 s CPU at load
  10; the first dispersion step (a 14-parameter batched IRLS for 18,700 series, BLAS matrix
  products) took 450 s wall / 60 s CPU at load 25: multi-threaded BLAS on an oversubscribed
  machine.
- The dispersion now profiles out the month-of-year effects in closed form and runs Newton steps
  on the two remaining coefficients (trend, current-period indicator) with `np.add.reduceat`,
  no BLAS (same fit as statsmodels' GLM to 1e-12): about 0.25 s CPU. The trend's IRLS uses
  `einsum` instead of BLAS products for the same reason.
- Count matrices from integer codes (factorised once) and `np.bincount` instead of per-level
  string indexers and `np.add.at` (0.9 s of pandas `get_indexer` and Arrow `take` gone).
"""


def _extended() -> pd.DataFrame:
    pu = demo_frames.policeuk_counts()
    first20 = sorted(pu["month"].unique())[:20]
    early = pu[pu["month"].isin(first20)].copy()
    early["month"] = [month_label(m - 20) for m in month_index(early["month"])]
    return pd.concat([early, pu], ignore_index=True)


def _keep_best(best: dict[str, float], **times: float) -> None:
    for k, v in times.items():
        best[k] = min(best.get(k, float("inf")), v)


def _from_store(url: str, repeat: int) -> int:
    from peelian.analysis.measures import load_definitions
    from peelian.data.count_cache import clear_count_cache
    from peelian.data.counts import policeuk_counts
    from peelian.data.offence_sql import force_measure_counts
    from peelian.data.store import open_store
    from peelian.jobs.measures import force_measure_specs, run_measures

    store = open_store(url)
    cat = load_definitions(None)
    wanted = force_measure_specs(cat)
    run_measures(store)  # imports, definitions, page cache: not part of any figure
    best: dict[str, float] = {}
    result = None
    for _ in range(repeat):
        # cold: the first run after new data lands counts every record (and keeps the counts)
        clear_count_cache(store)
        t0 = time.perf_counter()
        result = run_measures(store)
        t1, c1 = time.perf_counter(), time.process_time()
        # warm: every later run until the next ingest reads the kept counts
        run_measures(store)
        t2, c2 = time.perf_counter(), time.process_time()
        pu = policeuk_counts(store, cache=False)
        t3 = time.perf_counter()
        fc = force_measure_counts(store, wanted, cache=False)
        t4 = time.perf_counter()
        _keep_best(best, cold=t1 - t0, warm=t2 - t1, cpu=c2 - c1, policeuk=t3 - t2, force=t4 - t3)
    assert result is not None
    v = result.values
    load = os.getloadavg()
    lines = [
        "# Measures benchmark: the whole job on the demo store",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_measures.py --store {url} --repeat "
        f"{repeat}` (best of {repeat}). Machine: {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Load average: "
        f"{', '.join(f'{x:.1f}' for x in load)}.",
        "",
        f"Store: {int(pu['n'].sum()):,} police.uk street rows ({len(pu):,} month x LSOA x "
        f"category cells) and the synthetic force records; {len(cat)} shipped measures, "
        f"{len(wanted)} of them on force records ({len(fc):,} measure x LSOA x month cells).",
        "",
        "| what | seconds |",
        "|---|---:|",
        f"| **run_measures, counts kept since the last ingest (every run but the first)** | "
        f"**{best['warm']:.2f}** |",
        f"| run_measures, CPU of this process (same run) | {best['cpu']:.2f} |",
        f"| run_measures, first run after new data (counts every record, keeps the counts) | "
        f"{best['cold']:.2f} |",
        f"| of which: police.uk counts (SQL GROUP BY on a covering index) | "
        f"{best['policeuk']:.2f} |",
        f"| of which: force-record measures (SQL, decision 0007; split by month over the cores) "
        f"| {best['force']:.2f} |",
        "",
        f"{len(v):,} results, {len(result.monthly):,} monthly rows; levels "
        f"{', '.join(f'{k} {n:,}' for k, n in sorted(v.groupby('area_level').size().items()))}.",
        "",
        "Counts are kept per data version (decision 0008): a new ingest batch of the source "
        "makes them be counted again on the next run. Before decision 0007 (session 1) the "
        "measures step took 237 s inside `peelian demo`; session 2's SQL counting took 8.8 s "
        "per run.",
    ]
    out = HERE / "results" / "measures_store.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    ap.add_argument("--store", help="a built demo store's URL: time the whole job on it")
    args = ap.parse_args()
    if args.store:
        return _from_store(args.store, args.repeat)
    pu = _extended()
    areas, lookup = demo_frames.demo_areas(), demo_frames.demo_lookup()
    cat = load_measure_definitions()
    w = cchi_weights("category")
    weights = dict(zip(w["category"], w["cchi_days"], strict=True))
    coverage = {"policeuk": sorted(pu["month"].unique())}
    best: dict[str, float] = {}
    result = None
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        counts = measure_counts(cat, policeuk=pu, harm_weights=weights)
        t1 = time.perf_counter()
        result = compute(
            counts,
            cat,
            areas,
            lookup=lookup,
            coverage=coverage,
            source_notes={"force": "no force records have been loaded"},
        )
        t2, c2 = time.perf_counter(), time.process_time()
        _keep_best(best, counts=t1 - t0, compute=t2 - t1, total=t2 - t0, cpu=c2 - c0)
    assert result is not None
    load = os.getloadavg()
    if args.profile:
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        compute(
            measure_counts(cat, policeuk=pu, harm_weights=weights),
            cat,
            areas,
            lookup=lookup,
            coverage=coverage,
        )
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats("peelian", 15)
    v = result.values
    by_level = v.groupby("area_level").size().to_dict()
    computed = v["current"].notna().sum()
    lines = [
        "# Measures benchmark",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_measures.py --repeat {args.repeat}` (best of "
        f"{args.repeat}). Machine: {platform.machine()}, 2 cores shared with other work, Python "
        f"{platform.python_version()}.",
        "",
        f"Input: {int(pu['n'].sum()):,} street rows as {len(pu):,} month x LSOA x category counts, "
        f"{pu['month'].nunique()} months ({pu['month'].min()} to {pu['month'].max()}; the first 20 "
        "real months repeated 20 months earlier to make 48), "
        f"{len(cat)} shipped measures.",
        "",
        "| what | seconds | notes |",
        "|---|---:|---|",
        f"| measure_counts (records -> measure x LSOA x month) | {best['counts']:.3f} | {len(counts):,} rows |",
        f"| compute (all levels, exact tests, FDR, EB, harm, SPC, trend, narrative) | {best['compute']:.3f} | "
        f"{len(v):,} results ({computed:,} with figures), {len(result.monthly):,} monthly rows |",
        f"| **total** (wall clock) | **{best['total']:.3f}** | goal < 5 s |",
        f"| total CPU time of the process | {best['cpu']:.3f} | what the run costs when the machine is shared |",
        "",
        f"Load average when measured: {', '.join(f'{x:.1f}' for x in load)} (1, 5, 15 min; on 2 "
        "cores shared with 7 other engineers' work: under load the wall time exceeds the CPU time).",
        "",
        f"Over-dispersion detected (comparisons widened): "
        f"{int((v['dispersion'] > 1).sum()):,} of {int(v['dispersion'].notna().sum()):,} rows "
        "with a dispersion estimate.",
        "",
        f"Results per level: {', '.join(f'{k} {n:,}' for k, n in sorted(by_level.items()))}.",
        "",
        HISTORY,
    ]
    out = HERE / "results" / "measures.md"
    out.write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
