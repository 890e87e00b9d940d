"""Run every benchmark script in this folder, one after another, and print their output.

    make bench            # or: .venv/bin/python benchmarks/run_all.py [name ...]

Each ``bench_*.py`` is a standalone script that prints its figures and writes them to
``benchmarks/results/<name>.md``. Run on a quiet machine: figures measured while other work runs
are slower than the machine can do.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent


def main(argv: list[str]) -> int:
    scripts = sorted(HERE.glob("bench_*.py"))
    if argv:
        scripts = [s for s in scripts if any(a in s.stem for a in argv)]
    failed = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], check=False)
        print(f"== {script.name}: exit {proc.returncode} in {time.perf_counter() - t0:.1f} s\n")
        failed += proc.returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
