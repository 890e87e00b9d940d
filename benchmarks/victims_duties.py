"""Victims' Code benchmark: every duty of the demo's synthetic force, and the worklist page's p95.

    .venv/bin/python benchmarks/victims_duties.py --db sqlite:////tmp/copy/peelian.sqlite
                                                 [--requests 100]

Use a COPY of the demo store (``peelian demo --data-dir /tmp/peelian-demo``; about 1.9 million
victim contacts): the run writes a duties result, a benchmark user and audit entries.
Goals (issue 16): all duties computed in under 10 s (the pure computation, frames in memory; the
store reads are timed separately), and a worklist page p95 under 150 ms (in-process TestClient,
one client, a supervisor with a purpose; each request is audited).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import statistics
import time


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True, help="URL of a copy of the demo store.")
    ap.add_argument("--requests", type=int, default=100, help="Worklist page requests.")
    args = ap.parse_args()

    from fastapi.testclient import TestClient

    from peelian.analysis.victims.duties import compute_duties
    from peelian.casework.victims import default_as_at, load_rules, refresh_duties
    from peelian.config import Settings
    from peelian.data import force_frames as ff
    from peelian.data.accounts.users import add_user
    from peelian.data.store import open_store
    from peelian.web import create_app

    store = open_store(args.db)
    t0 = time.perf_counter()
    occ = ff.load_occurrences(store)
    vic = ff.load_involvements(store, roles=["victim"])[["crime_ref", "person_ref"]]
    ev = ff.load_investigation_events(store)
    oc = ff.load_force_outcomes(store)
    ct = ff.load_victim_contacts(store)
    t_read = time.perf_counter() - t0
    as_at = default_as_at(store)
    t1 = time.perf_counter()
    res = compute_duties(
        victims=vic,
        occurrences=occ,
        events=ev,
        outcomes=oc,
        contacts=ct,
        rules=load_rules("2020"),
        as_at=as_at,
    )
    t_compute = time.perf_counter() - t1
    t2 = time.perf_counter()
    refresh_duties(store, as_at=as_at)
    t_refresh = time.perf_counter() - t2

    with contextlib.suppress(Exception):
        add_user(store, "benchsup", "benchmark passphrase", "supervisor")
    import tempfile
    from pathlib import Path

    settings = Settings(
        data_dir=Path(tempfile.mkdtemp()), env="test", secret_key="bench-" + "x" * 40
    )
    app = create_app(settings, store=store)
    times = []
    with TestClient(app) as c:
        c.get("/login")
        c.post(
            "/login",
            data={
                "username": "benchsup",
                "password": "benchmark passphrase",
                "csrf_token": c.cookies.get("peelian_csrf"),
                "next": "/",
            },
            follow_redirects=False,
        )
        officers = ["C1003", "C1006", "C2503", "C5959", "C3124"]
        for i in range(args.requests + 5):
            url = f"/victims/worklist?purpose=benchmark&officer={officers[i % len(officers)]}"
            t = time.perf_counter()
            r = c.get(url)
            dt_ms = (time.perf_counter() - t) * 1000
            assert r.status_code == 200, r.text[:300]
            if i >= 5:  # the first requests load the run into memory
                times.append(dt_ms)
    p95 = statistics.quantiles(times, n=20)[-1]
    print(f"contacts: {len(ct):,}; duties: {len(res.duties):,} as at {as_at}")
    print(
        f"store reads: {t_read:.1f} s; compute_duties: {t_compute:.1f} s (goal < 10 s); "
        f"refresh (reads + compute + compliance + save): {t_refresh:.1f} s"
    )
    print(
        f"worklist page: p50 {statistics.median(times):.0f} ms, p95 {p95:.0f} ms "
        f"(goal < 150 ms) over {len(times)} requests; {dt.datetime.now():%Y-%m-%d %H:%M}"
    )


if __name__ == "__main__":
    main()
