"""Security load benchmark (issue 11, "How to show it"): logged-in API traffic while cache-busting
queries and bogus logins run, against a served instance on loopback.

    .venv/bin/python benchmarks/bench_security_load.py [--db /tmp/demo/peelian.sqlite]
        [--api-requests 2400] [--busting-requests 600] [--max-logins 20000] [--duration 30]

A copy of the demo database (its rows in a store with the current schema) is served by uvicorn
(one worker, as ``peelian serve`` runs it) on 127.0.0.1 at a random port; nothing leaves the
machine. 20 clients run at once:

- 14 logged-in API clients (keep-alive sockets), requests to the main JSON endpoints spread
  evenly over ``--duration`` seconds (so the API load overlaps the whole login flood);
- 3 logged-in cache-busting clients: the same endpoints with a unique junk query parameter
  (``?_=<random>``) on every request, as a script defeating a cache would send;
- 3 bogus-login clients: form logins with a wrong password for a random username, as fast as the
  server answers, for as long as the API clients run (at most ``--max-logins``).

Reported: p50/p95/max of the logged-in API requests (all, plain, cache-busting), the error count
(any non-200 answer to a logged-in API request is an error; the goal is zero), the statuses of the
bogus logins (401 or 429 expected; anything else is counted as unexpected), the server's CPU time
and resident memory before and after. Goal: API p95 under 150 ms with zero errors while the bogus
logins run. Figures go to ``benchmarks/results/security_load.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import _cpu_seconds, _login, _port, _RawConnection

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "security_load.md"
PASSWORD = "benchmark passphrase"
API = [
    "/api/status",
    "/api/batches?limit=20",
    "/api/events/counts?by=month",
    "/api/events/counts?by=category&month_from=2021-09&month_to=2022-08",
    "/api/events/counts?by=area&level=ward",
    "/api/events/map?level=lsoa21&metric=rate",
    "/api/areas?level=ward&limit=200",
    "/api/areas/E23000007",
    "/api/measures",
    "/api/measures?area_level=csp",
    "/api/hotspots/gistar?classification=hot",
    "/api/hotspots/gistar/cells.geojson?max_cells=500",
    "/api/forecasts",
    "/api/grip",
]
API_CLIENTS, BUSTING_CLIENTS, LOGIN_CLIENTS = 14, 3, 3


def _start_server(db_url: str, port: int, data_dir: str) -> subprocess.Popen[bytes]:
    code = (
        "import uvicorn\n"
        "from peelian.config import Settings\n"
        "from peelian.web import create_app\n"
        f"s = Settings(database_url={db_url!r}, data_dir={data_dir!r}, secret_key='b' * 40)\n"
        f"uvicorn.run(create_app(s), host='127.0.0.1', port={port}, log_level='error')\n"
    )
    return subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)


def _fresh_copy(src: Path, dst: Path) -> None:
    """A store with the current schema holding the rows of ``src`` (a demo store perhaps built
    by an older peelian): the columns both schemas share, table by table; users are not copied."""
    import sqlite3

    from peelian.data.store import open_store

    url = f"sqlite:///{dst}"
    open_store(url).dispose()
    con = sqlite3.connect(dst)
    con.execute("ATTACH DATABASE ? AS old", (f"file:{src}?mode=ro",))
    skip = {"alembic_version", "users", "sessions", "login_attempts", "audit_log"}
    new = [r[0] for r in con.execute("SELECT name FROM main.sqlite_master WHERE type='table'")]
    old = {r[0] for r in con.execute("SELECT name FROM old.sqlite_master WHERE type='table'")}
    con.execute("PRAGMA foreign_keys=OFF")
    for table in new:
        if table in skip or table not in old or table.startswith("sqlite_"):
            continue
        cols_new = [r[1] for r in con.execute(f'PRAGMA main.table_info("{table}")')]
        cols_old = {r[1] for r in con.execute(f'PRAGMA old.table_info("{table}")')}
        cols = ", ".join(f'"{c}"' for c in cols_new if c in cols_old)
        con.execute(f'DELETE FROM main."{table}"')
        try:
            con.execute(f'INSERT INTO main."{table}" ({cols}) SELECT {cols} FROM old."{table}"')
        except sqlite3.IntegrityError as exc:  # a new required column: leave the table empty
            sys.stderr.write(f"not copied: {table} ({exc})\n")
    con.commit()
    con.execute("DETACH DATABASE old")
    con.close()


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[int(q * (len(ordered) - 1))] if ordered else float("nan")


class _Load:
    """Shared state of one run: latencies, statuses and the stop flag for the login clients."""

    def __init__(self) -> None:
        self.plain: list[float] = []
        self.busting: list[float] = []
        self.api_status: Counter[int] = Counter()
        self.login_status: Counter[int] = Counter()
        self.login_ms: list[float] = []
        self.api_done = 0
        self.stop = False


async def _api_client(
    conn: _RawConnection, n: int, interval: float, busting: bool, load: _Load
) -> None:
    """``n`` requests, one every ``interval`` seconds (a steady load spread over the run)."""
    rng = random.Random()
    start = time.perf_counter() + rng.random() * interval
    for i in range(n):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        path = API[rng.randrange(len(API))]
        if busting:
            path += ("&" if "?" in path else "?") + f"_={secrets.token_hex(8)}"
        t0 = time.perf_counter()
        try:
            status, _ = await conn.get(path)
        except (OSError, asyncio.IncompleteReadError):
            status = 0  # the connection failed: an error
            conn.writer = None
        (load.busting if busting else load.plain).append((time.perf_counter() - t0) * 1000)
        load.api_status[status] += 1


async def _bogus_logins(base: str, cap: int, load: _Load, counter: list[int]) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await client.get("/login")
        while not load.stop and counter[0] < cap:
            counter[0] += 1
            user = "user" + secrets.token_hex(4)
            t0 = time.perf_counter()
            try:
                r = await client.post(
                    "/login",
                    data={
                        "username": user,
                        "password": secrets.token_urlsafe(12),
                        "csrf_token": client.cookies.get("peelian_csrf"),
                        "next": "/",
                    },
                )
                status = r.status_code
            except httpx.HTTPError:
                status = 0
            load.login_ms.append((time.perf_counter() - t0) * 1000)
            load.login_status[status] += 1


async def _run(base: str, args: argparse.Namespace, pid: int) -> tuple[_Load, float, float]:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        await _login(client)
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    host, port = base.split("//")[1].split(":")
    conns = [_RawConnection(host, int(port), cookie) for _ in range(API_CLIENTS + BUSTING_CLIENTS)]
    for path in API:  # warm the caches, as a server that has been up a while would be
        await conns[0].get(path)
    load = _Load()
    per_api = args.api_requests // API_CLIENTS
    per_bust = args.busting_requests // BUSTING_CLIENTS
    # Each client spreads its requests evenly over --duration seconds.
    every_api, every_bust = args.duration / per_api, args.duration / per_bust
    counter = [0]
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()

    async def api_side() -> None:
        await asyncio.gather(
            *(_api_client(c, per_api, every_api, False, load) for c in conns[:API_CLIENTS]),
            *(_api_client(c, per_bust, every_bust, True, load) for c in conns[API_CLIENTS:]),
        )
        load.stop = True

    await asyncio.gather(
        api_side(),
        *(_bogus_logins(base, args.max_logins, load, counter) for _ in range(LOGIN_CLIENTS)),
    )
    wall = time.perf_counter() - t0
    for c in conns:
        if c.writer is not None:
            c.writer.close()
    return load, wall, _cpu_seconds(pid) - cpu0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/tmp/demo/peelian.sqlite", help="Demo SQLite file (copied).")
    ap.add_argument("--api-requests", type=int, default=2400)
    ap.add_argument("--busting-requests", type=int, default=600)
    ap.add_argument("--max-logins", type=int, default=20000)
    ap.add_argument(
        "--duration", type=float, default=30.0, help="Seconds over which the API load is spread."
    )
    ap.add_argument(
        "--work-dir",
        default="/tmp/peelian-bench-sec",
        help="Where the store copy is kept between runs (copied again with --recopy).",
    )
    ap.add_argument("--recopy", action="store_true")
    args = ap.parse_args()
    if not Path(args.db).exists():
        raise SystemExit(f"{args.db} does not exist: build it with `peelian demo --no-serve`.")
    work = Path(args.work_dir)
    copy = work / "peelian.sqlite"
    if args.recopy or not copy.exists():
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        t0 = time.perf_counter()
        _fresh_copy(Path(args.db), copy)
        sys.stderr.write(f"store copied in {time.perf_counter() - t0:.0f} s\n")
    db_url = f"sqlite:///{copy}"
    tmp = tempfile.mkdtemp(prefix="peelian-bench-sec-")
    from peelian.data.accounts.users import add_user, list_users, remove_user
    from peelian.data.store import open_store

    store = open_store(db_url)
    with store.begin() as conn:  # no throttling state left over from an earlier run
        for table in ("login_attempts", "sessions"):
            conn.exec_driver_sql(f"DELETE FROM {table}")
    if any(u.username == "bench" for u in list_users(store)):
        remove_user(store, "bench")
    add_user(store, "bench", PASSWORD, "viewer")
    store.dispose()
    port = _port()
    proc = _start_server(db_url, port, tmp)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        rss0 = _rss_mib(proc.pid)
        load, wall, cpu = asyncio.run(_run(base, args, proc.pid))
        rss1 = _rss_mib(proc.pid)
        loadavg = os.getloadavg()[0]
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    _report(args, load, wall, cpu, rss0, rss1, loadavg)
    errors = sum(n for s, n in load.api_status.items() if s != 200)
    return 0 if errors == 0 else 1


def _report(
    args: argparse.Namespace,
    load: _Load,
    wall: float,
    cpu: float,
    rss0: float,
    rss1: float,
    loadavg: float,
) -> None:
    api = load.plain + load.busting
    errors = sum(n for s, n in load.api_status.items() if s != 200)
    unexpected = sum(n for s, n in load.login_status.items() if s not in (401, 429))
    rows = [("all logged-in API", api), ("plain", load.plain), ("cache-busting", load.busting)]
    lines = [
        "# Security load benchmark",
        "",
        "Command: `.venv/bin/python benchmarks/bench_security_load.py "
        f"--api-requests {args.api_requests} --busting-requests {args.busting_requests} "
        f"--max-logins {args.max_logins} --duration {args.duration:g}` "
        f"({time.strftime('%Y-%m-%d %H:%M')} UTC, "
        f"{os.cpu_count()} cores, shared machine; load average {loadavg:.1f} at the end).",
        "",
        f"A copy of the demo store served by uvicorn (1 worker) on 127.0.0.1; {API_CLIENTS} "
        f"logged-in API clients, {BUSTING_CLIENTS} logged-in cache-busting clients (a unique "
        f"junk query parameter per request) and {LOGIN_CLIENTS} bogus-login clients (wrong "
        "passwords for random usernames, as fast as the server answers) at once, 20 in all, "
        f"for {wall:.1f} s; the API requests are spread evenly over {args.duration:g} s. Caches "
        "warmed with one request per endpoint first.",
        "",
        "| requests | n | p50 ms | p95 ms | max ms |",
        "|---|---|---|---|---|",
    ]
    for label, lat in rows:
        lines.append(
            f"| {label} | {len(lat)} | {statistics.median(lat):.1f} | {_pct(lat, 0.95):.1f} "
            f"| {max(lat):.1f} |"
        )
    lines.append(
        f"| bogus logins | {len(load.login_ms)} | {statistics.median(load.login_ms):.1f} "
        f"| {_pct(load.login_ms, 0.95):.1f} | {max(load.login_ms):.1f} |"
        if load.login_ms
        else "| bogus logins | 0 | | | |"
    )
    p95 = _pct(api, 0.95)
    lines += [
        "",
        f"- Logged-in API answers: {dict(sorted(load.api_status.items()))}; **errors: {errors}** "
        "(any answer other than 200).",
        f"- Bogus logins answered: {dict(sorted(load.login_status.items()))}; unexpected "
        f"(not 401/429): {unexpected}.",
        f"- Server CPU: {cpu:.1f} s over {wall:.1f} s wall; resident memory {rss0:.0f} MiB "
        f"before, {rss1:.0f} MiB after (the response cache is bounded by entries and bytes, "
        "keyed on validated parameters, so the cache-busting requests add no entries).",
        f"- Goal: API p95 < 150 ms with zero errors while the bogus logins run: "
        f"**{'met' if p95 < 150 and errors == 0 else 'not met'}** (p95 {p95:.1f} ms).",
        "",
    ]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines))
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
