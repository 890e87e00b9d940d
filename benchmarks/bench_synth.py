"""Synthetic force speed: generate four years (2019-04..2023-03, ~550,000 occurrences with their
persons, involvements, investigations, victim contacts ...), write the CSV export, and ingest it
into SQLite with the shipped mapping.

    .venv/bin/python benchmarks/bench_synth.py [--from 2019-04] [--to 2023-03] [--scale 1.0]
                                              [--no-ingest] [--db URL]

Goal (issue 3): generating and ingesting four years in under 2 minutes into SQLite on this
machine. Figures go to benchmarks/results/synth.md (with the load average, since the machine is
shared: a loaded machine inflates every figure).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "synth.md"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--from", dest="month_from", default="2019-04")
    ap.add_argument("--to", dest="month_to", default="2023-03")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-ingest", action="store_true")
    ap.add_argument("--db", default=None)
    args = ap.parse_args(argv)

    from peelian.data.synthetic import generate_force, load_calibration, write_export

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    cal = load_calibration()  # reading the police.uk zip and fitting the volume model
    t_cal = time.perf_counter() - t0
    t0 = time.perf_counter()
    force = generate_force(
        args.seed, args.month_from, args.month_to, calibrate_from=cal, scale=args.scale
    )
    t_gen = time.perf_counter() - t0
    counts = force.counts()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "export"
        t0 = time.perf_counter()
        write_export(force, folder)
        t_write = time.perf_counter() - t0
        size_mb = sum(p.stat().st_size for p in folder.iterdir()) / 1e6
        t_ingest = None
        stored: dict[str, int] = {}
        if not args.no_ingest:
            from peelian.data.ingest.force import ingest_force
            from peelian.data.store import open_store

            store = open_store(args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
            t0 = time.perf_counter()
            report = ingest_force(store, [folder], "synthetic_rms")
            t_ingest = time.perf_counter() - t0
            stored = report["tables"]
    load_after = os.getloadavg()
    total = t_cal + t_gen + t_write + (t_ingest or 0.0)
    cmd = "python benchmarks/bench_synth.py " + " ".join(argv)
    lines = [
        "# bench_synth",
        "",
        f"command: `.venv/bin/{cmd.strip()}`",
        f"window: {args.month_from}..{args.month_to}, scale {args.scale}, seed {args.seed}",
        "rows generated: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
        f"export size: {size_mb:,.0f} MB",
        f"read police.uk zip + fit volume model: {t_cal:.1f} s",
        f"generate (generate_force): {t_gen:.1f} s",
        f"write CSV export (write_export): {t_write:.1f} s",
        "ingest into SQLite (ingest_force, synthetic_rms): "
        + ("not run (--no-ingest)" if t_ingest is None else f"{t_ingest:.1f} s"),
        "rows stored: " + (", ".join(f"{k} {v:,}" for k, v in stored.items()) or "-"),
        f"total: {total:.1f} s (goal: < 120 s for generate + ingest)",
        f"load average before/after: {load_before[0]:.1f} / {load_after[0]:.1f} "
        f"on {os.cpu_count()} cores (shared machine: figures inflate with load)",
    ]
    print("\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
