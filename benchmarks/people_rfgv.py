"""RFGV speed over the demo's synthetic force (issue 15: about 500,000 people and 850,000
involvements in under 5 s).

    .venv/bin/python benchmarks/people_rfgv.py --db sqlite:////tmp/copy-of-demo.sqlite [--repeat 3]

Two timings, each from a cold start (the frame cache emptied before every repeat):

- **whole force**: every involvement of the store read back (occurrences, involvements, persons),
  then the RFGV score of every person who was a suspect or offender on any record, over all the
  records up to the newest one (what "RFGV over the force" means);
- **MATAC list**: ``peelian people rfg --cohort matac`` without the printing: the 3 years up to
  the newest record read back, the MATAC rule applied, its members scored, de-selections applied.

It reports the machine's load average beside the figures (the machine may be shared) and writes
``benchmarks/results/people_rfgv.md``. The store must have the people tables (a store built by
this version; copy the demo store if it is shared, since the run records nothing but opens it for
writing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

import pandas as pd

from peelian.analysis.people import load_cohorts, load_matrix, rfg_scores
from peelian.casework import people as people_store
from peelian.data.store import open_store

RESULTS = Path(__file__).parent / "results" / "people_rfgv.md"


def whole_force(store: object) -> dict[str, float | int]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    span = store.read_frame(  # type: ignore[attr-defined]
        "SELECT MIN(reported_at) AS lo, MAX(reported_at) AS hi FROM occurrences", raw=True
    )
    lo = pd.Timestamp(span["lo"][0]).date()
    hi = pd.Timestamp(span["hi"][0]).date()
    frames = people_store.load_people_frames(store, lo, hi, ())  # type: ignore[arg-type]
    t1 = time.perf_counter()
    inv, occ = frames.involvements, frames.occurrences
    offenders = inv[inv["role"].isin(("suspect", "offender"))][["person_ref", "crime_ref"]]
    records = offenders.merge(occ[["crime_ref", "reported_at", "ho_code"]], on="crime_ref")
    victims = inv[inv["role"] == "victim"][["crime_ref", "person_ref"]]
    scores = rfg_scores(records, victims, hi, load_matrix(), method="rfgv", with_records=False)
    t2 = time.perf_counter()
    return {
        "cpu_s": time.process_time() - c0,
        "load_s": t1 - t0,
        "score_s": t2 - t1,
        "total_s": t2 - t0,
        "involvements": len(inv),
        "persons": len(frames.persons),
        "scored": len(scores),
        "as_of": str(hi),
    }


def matac(store: object, as_of: dt.date) -> dict[str, float | int]:
    c0 = time.process_time()
    t0 = time.perf_counter()
    plist, frames = people_store.run_list(store, load_cohorts()["matac"], as_of)  # type: ignore[arg-type]
    return {
        "cpu_s": time.process_time() - c0,
        "total_s": time.perf_counter() - t0,
        "involvements": len(frames.involvements),
        "members": len(plist.active),
    }


def _all(runs: list[dict[str, float | int]], key: str) -> str:
    return ", ".join(f"{float(r[key]):.2f}" for r in runs)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="Database URL of (a copy of) the demo store.")
    ap.add_argument("--repeat", type=int, default=3, help="Cold repeats of each timing.")
    ap.add_argument("--no-write", action="store_true", help="Do not write the results file.")
    args = ap.parse_args()
    store = open_store(args.db)
    runs_w, runs_m = [], []
    for _ in range(args.repeat):
        people_store._CACHE.clear()
        runs_w.append(whole_force(store))
        people_store._CACHE.clear()
        as_of = dt.date.fromisoformat(str(runs_w[-1]["as_of"]))
        runs_m.append(matac(store, as_of))
    load = os.getloadavg()
    best_w = min(runs_w, key=lambda r: r["total_s"])
    best_m = min(runs_m, key=lambda r: r["total_s"])
    lines = [
        "# RFGV over the demo's synthetic force",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC with "
        f"`.venv/bin/python benchmarks/people_rfgv.py --db <copy of the demo store> "
        f"--repeat {args.repeat}`; load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
        f"on {os.cpu_count()} cores (shared machine). Goal (issue 15): under 5 s.",
        "",
        "| timing | best (s) | all repeats (s) | rows |",
        "|---|---|---|---|",
        f"| whole force: read back | {best_w['load_s']:.2f} | "
        f"{_all(runs_w, 'load_s')} | "
        f"{best_w['involvements']:,} involvements, {best_w['persons']:,} persons |",
        f"| whole force: RFGV of every suspect or offender | {best_w['score_s']:.2f} | "
        f"{_all(runs_w, 'score_s')} | {best_w['scored']:,} people |",
        f"| **whole force, total** | **{best_w['total_s']:.2f}** | "
        f"{_all(runs_w, 'total_s')} | as of {best_w['as_of']} |",
        f"| whole force, CPU time of this process | {best_w['cpu_s']:.2f} | "
        f"{_all(runs_w, 'cpu_s')} | |",
        f"| MATAC list, cold (3 years read back, rule, scores, de-selections) | "
        f"{best_m['total_s']:.2f} | {_all(runs_m, 'total_s')} | "
        f"{best_m['involvements']:,} involvements, {best_m['members']:,} members |",
        f"| MATAC list, CPU time of this process | {best_m['cpu_s']:.2f} | "
        f"{_all(runs_m, 'cpu_s')} | |",
        "",
        "Wall time on a loaded machine counts the time other processes held the cores; the CPU",
        "time of this process (SQLite runs in it) is the figure to compare with the goal there.",
        "",
    ]
    text = "\n".join(lines)
    if not args.no_write:
        RESULTS.write_text(text, encoding="utf-8")
    import sys

    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
