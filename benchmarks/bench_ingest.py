"""Benchmark: full police.uk ingest vs a plain pandas read_csv + to_sql loop (the floor).

    .venv/bin/python benchmarks/bench_ingest.py [--zip PATH] [--dialects sqlite,postgresql]

Each measurement runs in its own subprocess (so peak memory, ``resource.getrusage`` maxrss, is
that run's alone) against a fresh database: a new SQLite file, or a new PostgreSQL schema on
``PEELIAN_TEST_PG_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``). The baseline
reads every CSV of the zip with ``pandas.read_csv`` and appends it with ``DataFrame.to_sql`` --
no validation, projection, reconciliation or indexes. peelian's ingest does all of those.
Figures are printed and written to ``benchmarks/results/ingest.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PG_URL = os.environ.get("PEELIAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
CANDIDATES = [
    ROOT / "demo-data/policeuk/northumbria_2020-05_2022-08.zip",
    ROOT.parent / "shared/data/policeuk/northumbria_2020-05_2022-08.zip",
]


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _kind(name: str) -> str:
    for kind in ("street", "outcomes", "stop-and-search"):
        if name.endswith(f"-{kind}.csv"):
            return kind.replace("-", "_")
    return "other"


def run_baseline(zip_path: str, url: str) -> dict[str, float]:
    import pandas as pd
    from sqlalchemy import create_engine

    t0, cpu0 = time.perf_counter(), _cpu_s()
    engine = create_engine(url)
    rows = 0
    with zipfile.ZipFile(zip_path) as zf:
        for name in sorted(n for n in zf.namelist() if n.endswith(".csv")):
            frame = pd.read_csv(zf.open(name))
            frame.to_sql(f"bl_{_kind(name)}", engine, if_exists="append", index=False)
            rows += len(frame)
    engine.dispose()
    return {
        "seconds": time.perf_counter() - t0,
        "cpu_s": _cpu_s() - cpu0,
        "rows": rows,
        "maxrss_mb": _maxrss_mb(),
    }


def run_peelian(zip_path: str, url: str) -> dict[str, float]:
    t0 = time.perf_counter()
    from peelian.data.ingest import ingest_policeuk
    from peelian.data.store import open_store

    store = open_store(url)
    t1, cpu1 = time.perf_counter(), _cpu_s()
    report = ingest_policeuk(store, [zip_path])
    seconds = time.perf_counter() - t1
    rows = sum(f["rows_read"] for f in report["files"])
    stored = sum(f["rows_stored"] for f in report["files"])
    assert rows == stored + sum(f["rows_quarantined"] for f in report["files"])
    store.dispose()
    return {
        "seconds": seconds,
        "cpu_s": _cpu_s() - cpu1,
        "seconds_with_open": time.perf_counter() - t0,
        "rows": rows,
        "rows_stored": stored,
        "maxrss_mb": _maxrss_mb(),
    }


def _fresh_url(dialect: str, tmp: Path) -> tuple[str, str | None]:
    if dialect == "sqlite":
        return f"sqlite:///{tmp / f'{uuid.uuid4().hex}.sqlite'}", None
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    return url.replace("postgresql://", "postgresql+psycopg://", 1), schema


def _drop_schema(schema: str | None) -> None:
    if schema:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def measure(what: str, zip_path: str, dialect: str, tmp: Path) -> dict[str, float]:
    url, schema = _fresh_url(dialect, tmp)
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--child", what, "--zip", zip_path, "--url", url],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        return json.loads(out.strip().splitlines()[-1])
    finally:
        _drop_schema(schema)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zip", default=None, help="police.uk zip (default: the bundled demo zip)")
    ap.add_argument("--dialects", default="sqlite,postgresql")
    ap.add_argument("--repeat", type=int, default=1, help="runs per measurement (best is kept)")
    ap.add_argument("--child", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--url", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        fn = run_baseline if args.child == "baseline" else run_peelian
        print(json.dumps(fn(args.zip, args.url)))
        return 0
    zip_path = args.zip or next((str(p) for p in CANDIDATES if p.exists()), None)
    if zip_path is None:
        print("No police.uk zip found; pass --zip PATH.", file=sys.stderr)
        return 2
    lines = [
        "# Ingest benchmark",
        "",
        f"Command: `.venv/bin/python benchmarks/bench_ingest.py --zip {Path(zip_path).name}`  ",
        f"Zip: `{Path(zip_path).name}` ({Path(zip_path).stat().st_size / 1e6:.1f} MB); "
        f"machine: {platform.machine()}, {os.cpu_count()} cores (shared), Python "
        f"{platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M')}; load average "
        f"before the run {os.getloadavg()[0]:.1f} (other work on the machine slows wall time; "
        "CPU seconds of the process are the steadier figure).",
        "",
        "| database | run | wall s | CPU s | rows | rows/s | peak MB | wall vs baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for dialect in args.dialects.split(","):
            best: dict[str, dict[str, float]] = {}
            for _ in range(args.repeat):
                for what in ("baseline", "peelian"):
                    res = measure(what, zip_path, dialect, tmp)
                    if what not in best or res["seconds"] < best[what]["seconds"]:
                        best[what] = res
            base = best["baseline"]["seconds"]
            for what in ("baseline", "peelian"):
                r = best[what]
                label = "pandas read_csv + to_sql" if what == "baseline" else "peelian ingest"
                line = (
                    f"| {dialect} | {label} | {r['seconds']:.2f} | {r['cpu_s']:.2f} | "
                    f"{int(r['rows']):,} | "
                    f"{r['rows'] / r['seconds']:,.0f} | {r['maxrss_mb']:.0f} | "
                    f"{r['seconds'] / base:.2f}x |"
                )
                lines.append(line)
                print(line, flush=True)
    lines += [
        "",
        "Goal (issue 2): peelian within 2x the baseline, under 10 s into SQLite, peak < 1.5 GB.",
        "The baseline validates, projects, reconciles and indexes nothing; peelian does all of it",
        "(pyarrow CSV parsing, vectorised validation, pyproj to EPSG:27700, quarantine,",
        "replace-on-newer bookkeeping, indexes rebuilt once after a first load).",
        "On PostgreSQL the CPU column counts the client process only (the server parses COPY).",
    ]
    out = HERE / "results" / "ingest.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print(f"written {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
