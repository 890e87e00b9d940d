"""Audit chain verification speed: ``peelian audit verify`` over 2 million entries.

    .venv/bin/python benchmarks/bench_audit.py [--entries 2000000] [--db URL] [--keep FILE]
                                              [--no-write]

Builds a store (a temporary SQLite file unless ``--db``) holding ``--entries`` audit entries
chained exactly as :func:`peelian.data.audit.append` chains them (the same canonical form and
SHA-256, written in bulk because appending one by one would take hours), then runs the real
command ``peelian audit verify --json`` in a subprocess and reports its wall time (the command's
own start-up included), the time the command reports for the walk itself, CPU time and the
machine's load average (the machine is shared). It then edits one entry in the middle and checks
that verify names it. Goal (issue 14): under 10 s for 2 million entries. Results go to
``benchmarks/results/audit.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert, update

from peelian.data.audit import GENESIS, entry_hash
from peelian.data.store import open_store
from peelian.data.tables import audit_head, audit_log

RESULTS = Path(__file__).parent / "results" / "audit.md"
PEELIAN = Path(sys.executable).parent / "peelian"
ACTIONS = ("referral.read", "problem.update", "person.read", "export", "login", "problem.read")


def build(url: str, n: int, seed: int = 1) -> float:
    """Write ``n`` chained entries; returns seconds spent."""
    rng = random.Random(seed)
    store = open_store(url)
    t0 = time.perf_counter()
    start = dt.datetime(2026, 1, 1)
    prev = GENESIS
    batch: list[dict[str, object]] = []
    with store.begin() as conn:
        for i in range(n):
            at = start + dt.timedelta(seconds=i * 7, microseconds=rng.randrange(1_000_000))
            user = f"user{rng.randrange(200)}"
            action = ACTIONS[i % len(ACTIONS)]
            kind, rid = action.split(".")[0], str(rng.randrange(100_000))
            purpose = "safeguarding review" if i % 3 == 0 else None
            detail = {"rows": i % 50} if i % 5 == 0 else None
            detail_json = None if detail is None else json.dumps(detail, sort_keys=True)
            h = entry_hash(
                at, user, action, None, "10.0.0.1", kind, rid, purpose, detail_json, prev
            )
            batch.append(
                {
                    "at": at,
                    "username": user,
                    "action": action,
                    "target": None,
                    "ip": "10.0.0.1",
                    "record_kind": kind,
                    "record_id": rid,
                    "purpose": purpose,
                    "detail": detail,
                    "prev_hash": prev,
                    "hash": h,
                }
            )
            prev = h
            if len(batch) == 50_000:
                conn.execute(insert(audit_log), batch)
                batch.clear()
        if batch:
            conn.execute(insert(audit_log), batch)
        last_id = conn.exec_driver_sql("SELECT max(id) FROM audit_log").scalar()
        conn.execute(insert(audit_head).values(id=1, last_id=last_id, last_hash=prev, entries=n))
    store.dispose()
    return time.perf_counter() - t0


def run_verify(url: str) -> tuple[float, float, dict[str, object]]:
    """(wall seconds, child CPU seconds, the command's JSON) of ``peelian audit verify``."""
    before = os.times()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(PEELIAN), "audit", "verify", "--json", "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - t0
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, json.loads(proc.stdout)


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--entries", type=int, default=2_000_000)
    ap.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    ap.add_argument("--no-write", action="store_true", help="do not write the results file")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="SQLite file to build into and keep (reused, untampered, if it exists), so the "
        "verify can be re-timed on a quiet machine without rebuilding",
    )
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "audit.sqlite"
        url = args.db or f"sqlite:///{path}"
        reuse = args.keep is not None and args.keep.exists()
        t_build = 0.0 if reuse else build(url, args.entries)
        load = os.getloadavg()
        wall, cpu, result = run_verify(url)
        assert result["ok"] and result["checked"] == args.entries, result
        # tamper with one entry in the middle: verify must name it (then put it back)
        store = open_store(url)
        victim = int(result["last_id"]) - args.entries // 2  # type: ignore[call-overload]
        with store.begin() as conn:
            before = conn.execute(
                audit_log.select()
                .with_only_columns(audit_log.c.username)
                .where(audit_log.c.id == victim)
            ).scalar_one()
            conn.execute(update(audit_log).where(audit_log.c.id == victim).values(username="x"))
        _, _, broken = run_verify(url)
        assert broken["first_broken_id"] == victim, broken
        with store.begin() as conn:
            conn.execute(update(audit_log).where(audit_log.c.id == victim).values(username=before))
        dialect = store.dialect
        store.dispose()
    lines = [
        f"## peelian audit verify, {args.entries:,} entries ({dialect}), "
        f"{dt.date.today().isoformat()}",
        "",
        "| measure | value |",
        "|---|---|",
        f"| build (bulk, not timed against the goal) | "
        f"{'reused --keep file' if reuse else f'{t_build:.1f} s'} |",
        f"| `peelian audit verify` wall time (start-up included) | {wall:.2f} s |",
        f"| of which the chain walk (reported by the command) | {result['seconds']} s |",
        f"| CPU time of the command | {cpu:.2f} s |",
        f"| entries per second (walk) | {args.entries / float(result['seconds']):,.0f} |",  # type: ignore[arg-type]
        f"| tampered entry {victim} named as first broken | yes |",
        f"| load average before (1/5/15 min) | {load[0]:.2f} / {load[1]:.2f} / {load[2]:.2f} |",
        "",
        "Goal (issue 14): under 10 s for 2 million entries.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        RESULTS.parent.mkdir(exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
