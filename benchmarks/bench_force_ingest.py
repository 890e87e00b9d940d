"""Force ingest speed: the full synthetic force export (four years) into SQLite.

    .venv/bin/python benchmarks/bench_force_ingest.py [--export DIR] [--db URL] [--no-write]

``--export`` (default ``/tmp/peelian-synth4y``) is the folder ``peelian synth force --seed 1
--from 2019-04 --to 2023-03 --out DIR`` writes (~550,000 occurrences, 525,000 persons, 850,000
involvements, 1.0 million investigation events, 530,000 outcomes, 1.9 million victim contacts);
it is generated once with :func:`peelian.data.synthetic.generate_force` when missing and reused.
The script times ``ingest_force(store, [DIR], "synthetic_rms")`` -- read, map, check references,
insert, one transaction -- into a fresh database (a temporary SQLite file unless ``--db``), and
reports wall time, CPU time, rows per second, peak memory and the machine's load average (the
machine is shared, so wall time depends on it; CPU time much less).
Goal (issue 3): generating and ingesting four years in under 2 minutes; the ingest alone well
under 60 s on a quiet machine. Results go to ``benchmarks/results/bench_force_ingest.md``.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

from peelian.data.ingest.force import ingest_force
from peelian.data.store import open_store

RESULTS = Path(__file__).parent / "results" / "bench_force_ingest.md"
DEFAULT_EXPORT = Path("/tmp/peelian-synth4y")


def ensure_export(folder: Path) -> float:
    """Generate the four-year export into ``folder`` unless it is there; returns seconds spent."""
    if (folder / "occurrences.csv").exists():
        return 0.0
    from peelian.data.synthetic import generate_force, write_export

    t0 = time.perf_counter()
    write_export(generate_force(seed=1, month_from="2019-04", month_to="2023-03"), folder)
    return time.perf_counter() - t0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--export", type=Path, default=DEFAULT_EXPORT)
    ap.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    ap.add_argument("--no-write", action="store_true", help="do not write the results file")
    args = ap.parse_args(argv)
    t_gen = ensure_export(args.export)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(args.db or f"sqlite:///{Path(tmp) / 'bench.sqlite'}")
        t0, c0 = time.perf_counter(), time.process_time()
        report = ingest_force(store, [args.export], "synthetic_rms")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        dialect = store.dialect
        store.dispose()
    load_after = os.getloadavg()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    files = [f for f in report["files"] if f.get("table")]
    rows_read = sum(f["rows_read"] for f in files)
    stored = report["tables"]
    made = f"generated in {t_gen:.0f} s" if t_gen else "cached"
    lines = [
        "# bench_force_ingest",
        "",
        f"command: `.venv/bin/python benchmarks/bench_force_ingest.py --export {args.export}`",
        f"export: `peelian synth force --seed 1 --from 2019-04 --to 2023-03` ({made})",
        f"dialect: {dialect}",
        "",
        "| table | rows read | rows stored | quarantined |",
        "|---|---:|---:|---:|",
        *(
            f"| {f['table']} | {f['rows_read']:,} | {f['rows_stored']:,} | "
            f"{f['rows_quarantined']:,} |"
            for f in files
        ),
        "",
        f"ingest_force wall time: {wall:.1f} s; CPU time (this process): {cpu:.1f} s",
        f"rows read per second (wall): {rows_read / wall:,.0f}; "
        f"occurrences per second: {stored.get('occurrences', 0) / wall:,.0f}",
        f"peak memory (max RSS): {peak_mb:,.0f} MB",
        f"load average (1, 5, 15 min) before: {', '.join(f'{x:.1f}' for x in load_before)}; "
        f"after: {', '.join(f'{x:.1f}' for x in load_after)} (2 cores)",
    ]
    print("\n".join(lines))
    if not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        RESULTS.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
