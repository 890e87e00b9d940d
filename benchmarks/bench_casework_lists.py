"""Casework list and search pages under load (issue 14): 100,000 problems, interventions and
referrals and 2 million audit entries; p95 of the list and search pages and JSON lists with 20
clients logged in as different roles.

    .venv/bin/python benchmarks/bench_casework_lists.py [--scale 0.1] [--db sqlite|postgresql|both]
        [--rounds 6] [--think 0.5] [--keep DIR] [--pg-url URL] [--no-write]

``--scale 1`` is the issue's size (100,000 of each record and 2,000,000 audit entries); the
default ``--scale 0.1`` (10,000 and 200,000) keeps ``make bench`` short. The store is built in
bulk (Core inserts through the table definitions of :mod:`peelian.data.tables.casework`, the
audit chain hashed exactly as :func:`peelian.data.audit.append` hashes it), with the
organisations, agreements and users made through the casework API. On PostgreSQL the store is a
database of its own (``peelian_bench_casework``), created and dropped by this script.

The real app (``create_app`` under uvicorn, one worker, as ``peelian serve`` runs it) is served
from a subprocess on 127.0.0.1; 20 clients on keep-alive sockets log in as admin, analyst,
supervisor, safeguarding, partner (under a live agreement) and auditor users and each run
``--rounds`` passes over the list pages and JSON lists their role may use, with search terms,
filters and paging drawn at random (a referral search is a POST with a purpose and is audited,
as the app requires). Two loads: *paced* (each client waits a random think time, mean
``--think`` seconds, between requests: 20 busy users) and *closed loop* (no think time: the
server's saturation). Reported per endpoint and overall: p50/p95/p99, requests/s, answers other
than 200. Goal (issue 14): p95 under 150 ms. Results go to ``benchmarks/results/casework_lists.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, insert, text

sys.path.insert(0, str(Path(__file__).parent))
from bench_web import _cpu_seconds, _port, _start_server

from peelian.data.audit import GENESIS, entry_hash
from peelian.data.store import Store, open_store
from peelian.data.tables import audit_head, audit_log, interventions, problems, referrals

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "casework_lists.md"
PASSWORD = "benchmark passphrase"
PG_DB = "peelian_bench_casework"
TODAY = dt.date.today()

ORGS = (
    ("Northumbria Police", "force"),
    ("Northern Area Command", "command"),
    ("Central Area Command", "command"),
    ("Southern Area Command", "command"),
    ("Newcastle Community Safety Partnership", "csp"),
    ("Sunderland Community Safety Partnership", "csp"),
    ("Gateshead Community Safety Partnership", "csp"),
    ("Northumbria Violence Reduction Unit", "vru"),
    ("Newcastle Children's Services", "childrens_services"),
    ("Sunderland Adult Social Care", "adult_services"),
    ("Newcastle Hospitals NHS Trust", "health"),
    ("Gateshead Schools Partnership", "education"),
    ("Probation Service North East", "probation"),
    ("Newcastle Youth Justice Service", "youth_justice"),
    ("Your Homes Newcastle", "housing"),
    ("Tyneside Street Pastors", "voluntary"),
)
#: (username, role, organisation, clients)
USERS = (
    ("bench.admin", "admin", "Northumbria Police", 3),
    ("bench.analyst", "analyst", "Northumbria Police", 4),
    ("bench.supervisor", "supervisor", "Northern Area Command", 3),
    ("bench.safeguarding", "safeguarding", "Newcastle Children's Services", 4),
    ("bench.partner", "partner", "Newcastle Youth Justice Service", 3),
    ("bench.auditor", "auditor", "Northumbria Police", 3),
)
PLACES = (
    "Byker", "Walker", "Elswick", "Benwell", "Shieldfield", "Heaton", "Jesmond", "Fenham",
    "Blakelaw", "Kenton", "Hendon", "Millfield", "Pallion", "Southwick", "Felling", "Bensham",
    "Blyth", "Ashington", "Cramlington", "Wallsend", "North Shields", "South Shields", "Jarrow",
    "Hebburn", "Washington", "Houghton-le-Spring", "Hexham", "Morpeth", "Bedlington", "Whitley Bay",
)  # fmt: skip
THEMES = (
    "Burglary dwelling cluster", "Vehicle crime hotspot", "Antisocial behaviour on the estate",
    "Night-time economy violence", "Shoplifting repeat locations", "Knife carrying among under-18s",
    "Cycle theft at the Metro station", "Drug supply and county lines", "Criminal damage to bus shelters",
    "Domestic abuse repeat victims", "Robbery of personal property", "Fly-tipping and arson",
)  # fmt: skip
FUNDING = (
    "Home Office Serious Violence Duty grant", "VRU core funding", "PCC Safer Streets Fund round 5",
    "Local authority community safety budget", "Youth Endowment Fund", "Force revenue budget",
)  # fmt: skip
REASONS = (
    "Repeat missing episodes; concerns about exploitation", "Arrested for possession of a bladed article",
    "Victim of repeat domestic abuse; MARAC referral", "Excluded from school; associating with older peers",
    "Street drinking and ASB; housing support needed", "First-time entrant; eligible for diversion",
)  # fmt: skip
SEARCH = ("burglary", "Byker", "knife", "night-time", "E0100", "shoplifting", "Hexham", "county")
PURPOSES = ("safeguarding review", "referral triage", "MARAC preparation", "diversion panel")


def _lsoa(rng: random.Random) -> str:
    return f"E0100{rng.randrange(8000, 9999):04d}"


# -- building the store ----------------------------------------------------------------------


def _audit(store: Store, n: int, rng: random.Random, n_records: int) -> None:
    """``n`` audit entries, chained exactly as ``append`` chains them."""
    actions = (
        ("login", None), ("problem.read", "problem"), ("referral.read", "referral"),
        ("referral.list", "referral"), ("intervention.read", "intervention"),
        ("problem.update", "problem"), ("referral.update", "referral"), ("problem.create", "problem"),
    )  # fmt: skip
    users = [f"officer{i:03d}" for i in range(300)] + [u[0] for u in USERS]
    start = dt.datetime.combine(TODAY, dt.time()) - dt.timedelta(seconds=40 * n)
    prev, batch = GENESIS, []
    with store.begin() as conn:
        for i in range(n):
            at = start + dt.timedelta(seconds=40 * i, microseconds=rng.randrange(1_000_000))
            action, kind = actions[rng.randrange(len(actions))]
            rid = None if kind is None else str(rng.randrange(1, n_records + 1))
            purpose = rng.choice(PURPOSES) if kind == "referral" else None
            detail = {"fields": ["status"]} if action.endswith("update") else None
            dj = None if detail is None else json.dumps(detail, sort_keys=True)
            user, ip = rng.choice(users), f"10.{rng.randrange(256)}.0.{rng.randrange(256)}"
            h = entry_hash(at, user, action, None, ip, kind, rid, purpose, dj, prev)
            batch.append(
                {"at": at, "username": user, "action": action, "target": None, "ip": ip,
                 "record_kind": kind, "record_id": rid, "purpose": purpose, "detail": detail,
                 "prev_hash": prev, "hash": h}
            )  # fmt: skip
            prev = h
            if len(batch) == 20_000:
                conn.execute(insert(audit_log), batch)
                batch.clear()
        if batch:
            conn.execute(insert(audit_log), batch)
        last = conn.exec_driver_sql("SELECT max(id) FROM audit_log").scalar()
        conn.execute(audit_head.delete())
        conn.execute(insert(audit_head).values(id=1, last_id=last, last_hash=prev, entries=n))


def _setup_orgs(store: Store) -> dict[str, int]:
    """Organisations, agreements and users through the casework API (audited as usual)."""
    from peelian.casework.organisations import SYSTEM, add_agreement, add_organisation, assign_user
    from peelian.data.accounts.users import add_user

    ids = {name: add_organisation(store, SYSTEM, name, kind)["id"] for name, kind in ORGS}
    year = dt.timedelta(days=365)
    agreements = (
        ("Serious violence duty partnership", ["problem", "action", "intervention"],
         ["Northumbria Police", "Newcastle Community Safety Partnership",
          "Northumbria Violence Reduction Unit", "Newcastle Youth Justice Service"], None),
        ("Youth diversion and referrals", ["referral", "person", "intervention", "problem_person"],
         ["Northumbria Police", "Newcastle Youth Justice Service",
          "Newcastle Children's Services"], None),
        ("Child exploitation referrals", ["referral", "person", "problem_person"],
         ["Northumbria Police", "Newcastle Children's Services"], None),
        ("Night-time economy pilot (ended)", ["problem"],
         ["Northumbria Police", "Tyneside Street Pastors"], TODAY - year),
    )  # fmt: skip
    for title, kinds, parties, end in agreements:
        add_agreement(
            store,
            SYSTEM,
            title=f"{title} (benchmark, synthetic)",
            purpose="Synthetic benchmark agreement.",
            lawful_basis="DPA 2018 s.35; Crime and Disorder Act 1998 s.115",
            record_kinds=kinds,
            party_ids=[ids[p] for p in parties],
            start_date=TODAY - 3 * year,
            end_date=end,
        )
    for username, role, org, _ in USERS:
        add_user(store, username, PASSWORD, role, actor="benchmark")
        assign_user(store, SYSTEM, username, ids[org])
    return ids


def _problem(i: int, rng: random.Random, org_ids: list[int]) -> dict[str, Any]:
    focus = rng.choices(("place", "theme", "group"), (70, 20, 10))[0]
    place, theme, lsoa = rng.choice(PLACES), rng.choice(THEMES), _lsoa(rng)
    opened = dt.datetime.combine(TODAY, dt.time(9)) - dt.timedelta(days=rng.randrange(1100))
    status = rng.choices(("open", "on_hold", "closed"), (55, 10, 35))[0]
    closed = opened + dt.timedelta(days=rng.randrange(30, 400)) if status == "closed" else None
    return {
        "title": f"{theme}, {place} ({lsoa})" if focus == "place" else f"{theme}, {place}",
        "focus": focus,
        "description": f"{theme} reported by neighbourhood team; synthetic benchmark record {i}.",
        "names_people": focus == "group" or rng.random() < 0.03,
        "area_code": lsoa if focus == "place" else None,
        "stage": rng.choice(("scanning", "analysis", "response", "assessment")),
        "status": status,
        "organisation_id": rng.choice(org_ids),
        "owner": f"officer{rng.randrange(300):03d}",
        "evidence": {"emerging_class": "persistent"} if focus == "place" else None,
        "triangle": {"location": f"{place} shopping parade"} if rng.random() < 0.3 else None,
        "review_date": TODAY + dt.timedelta(days=rng.randrange(-60, 180)),
        "result": "Counts fell; response kept (synthetic)" if closed else None,
        "opened_at": opened,
        "closed_at": closed,
        "updated_at": opened,
        "updated_by": "benchmark",
        "version": 1,
    }


def _intervention(i: int, rng: random.Random, org_ids: list[int], n: int) -> dict[str, Any]:
    from peelian.casework._vocab import INTERVENTION_TYPES, label

    kind = rng.choices(("person", "family", "place", "group"), (40, 10, 35, 15))[0]
    itype = rng.choice(list(INTERVENTION_TYPES))
    ref = {
        "person": f"P{rng.randrange(500_000):07d}",
        "family": f"F{rng.randrange(80_000):06d}",
        "place": _lsoa(rng),
        "group": f"Cohort {rng.choice(PLACES)} {rng.randrange(1, 40)}",
    }[kind]
    start = TODAY - dt.timedelta(days=rng.randrange(1100))
    end = start + dt.timedelta(days=rng.randrange(30, 365)) if rng.random() < 0.6 else None
    stamp = dt.datetime.combine(start, dt.time(10))
    return {
        "title": f"{label(itype)}, {rng.choice(PLACES)}",
        "tier": rng.choice(("primary", "secondary", "tertiary")),
        "intervention_type": itype,
        "target_kind": kind,
        "target_ref": ref,
        "problem_id": rng.randrange(1, n + 1) if rng.random() < 0.3 else None,
        "start_date": start,
        "end_date": end,
        "owner": f"officer{rng.randrange(300):03d}",
        "organisation_id": rng.choice(org_ids),
        "funding_source": rng.choice(FUNDING),
        "description": f"Synthetic benchmark intervention {i}.",
        "created_at": stamp,
        "updated_at": stamp,
        "updated_by": "benchmark",
        "version": 1,
    }


def _referral(i: int, rng: random.Random, orgs: dict[str, int], n: int) -> dict[str, Any]:
    to = rng.choice(
        [orgs[o] for o in ("Newcastle Children's Services", "Newcastle Youth Justice Service",
                           "Sunderland Adult Social Care", "Your Homes Newcastle",
                           "Probation Service North East", "Newcastle Hospitals NHS Trust")]
    )  # fmt: skip
    on = TODAY - dt.timedelta(days=rng.randrange(1100))
    status = rng.choices(
        ("made", "accepted", "declined", "in_progress", "closed"), (10, 15, 10, 20, 45)
    )[0]
    consent = rng.choices(("given", "refused", "not_sought"), (75, 10, 15))[0]
    stamp = dt.datetime.combine(on, dt.time(11))
    return {
        "person_ref": f"P{rng.randrange(500_000):07d}",
        "organisation_id": to,
        "from_organisation_id": orgs["Northumbria Police"],
        "referred_by": f"officer{rng.randrange(300):03d}",
        "referred_on": on,
        "reason": rng.choice(REASONS),
        "consent": consent,
        "consent_note": None if consent == "given" else "Risk of serious harm; DPA 2018 s.35",
        "status": status,
        "outcome": "Engaged for 12 weeks (synthetic)" if status in ("closed", "declined") else None,
        "intervention_id": rng.randrange(1, n + 1) if rng.random() < 0.2 else None,
        "created_at": stamp,
        "closed_at": stamp + dt.timedelta(days=60) if status == "closed" else None,
        "updated_at": stamp,
        "updated_by": "benchmark",
        "version": 1,
    }


def build(url: str, scale: float, seed: int = 14) -> dict[str, float]:
    """Fill an empty store; returns seconds per part."""
    rng = random.Random(seed)
    n, n_audit = int(100_000 * scale), int(2_000_000 * scale)
    store = open_store(url)
    times: dict[str, float] = {}
    t0 = time.perf_counter()
    _audit(store, n_audit, rng, n)
    times["audit"] = time.perf_counter() - t0
    orgs = _setup_orgs(store)
    owners = [orgs[o] for o, k in ORGS if k in ("force", "command", "csp", "vru", "youth_justice")]
    makers: list[tuple[Any, Callable[[int], dict[str, Any]]]] = [
        (problems, lambda i: _problem(i, rng, owners)),
        (interventions, lambda i: _intervention(i, rng, owners, n)),
        (referrals, lambda i: _referral(i, rng, orgs, n)),
    ]
    for table, make in makers:
        t0 = time.perf_counter()
        with store.begin() as conn:
            for lo in range(0, n, 10_000):
                conn.execute(insert(table), [make(i) for i in range(lo, min(n, lo + 10_000))])
        times[table.name] = time.perf_counter() - t0
    if store.dialect == "postgresql":
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with store.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    store.dispose()
    return times


# -- the load --------------------------------------------------------------------------------


class Client:
    """One keep-alive HTTP/1.1 connection with a user's cookies (light, like wrk)."""

    def __init__(self, host: str, port: int, cookies: dict[str, str]) -> None:
        self.host, self.port = host, port
        self.cookie = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.csrf = cookies.get("peelian_csrf", "")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, body: dict[str, Any] | None) -> int:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        assert self.reader is not None
        page = path.startswith("/casework/") and ".json" not in path
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nCookie: {self.cookie}\r\n"
            f"Accept: {'text/html' if page else 'application/json'}\r\n"
        )
        data = b""
        if body is not None and path.startswith("/casework/"):  # a page's form
            data = urlencode({**body, "csrf_token": self.csrf}).encode()
            head += (
                "Content-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(data)}\r\n"
            )
        elif body is not None:
            data = json.dumps(body).encode()
            head += (
                f"Content-Type: application/json\r\nX-CSRF-Token: {self.csrf}\r\n"
                f"Content-Length: {len(data)}\r\n"
            )
        self.writer.write(head.encode() + b"\r\n" + data)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (h.partition(":") for h in lines[1:] if h)}
        if "content-length" in headers:
            await self.reader.readexactly(int(headers["content-length"]))
            return status
        while True:  # chunked
            size = int((await self.reader.readuntil(b"\r\n")).strip(), 16)
            await self.reader.readexactly(size + 2)
            if size == 0:
                return status


Req = tuple[str, str, str, dict[str, Any] | None]  # label, method, path, body


def _q(path: str, params: dict[str, Any]) -> str:
    kept = {k: v for k, v in params.items() if v is not None}
    return path + ("?" + urlencode(kept) if kept else "")


def _pick(rng: random.Random, values: tuple[str, ...] | list[str], p: float) -> str | None:
    return rng.choice(values) if rng.random() < p else None


def requests_for(role: str, rng: random.Random, orgs: dict[str, int], n: int) -> list[Req]:
    """One pass over the lists a role may use, with random filters, terms and pages."""
    page = {"limit": 50, "offset": 50 * rng.choice((0, 0, 0, 1, 2, 10))}
    text_ = _pick(rng, SEARCH, 0.4)
    problem = {
        "status": _pick(rng, ("open", "on_hold", "closed"), 0.5),
        "stage": _pick(rng, ("scanning", "analysis", "response", "assessment"), 0.3),
        "focus": _pick(rng, ("place", "theme"), 0.2),
        "text": text_,
    }
    interv = {
        "tier": _pick(rng, ("primary", "secondary", "tertiary"), 0.4),
        "intervention_type": _pick(rng, ("diversion_pathway", "patrol", "signposting"), 0.3),
        "active_on": TODAY.isoformat() if rng.random() < 0.2 else None,
        "text": _pick(rng, ("Byker", "Serious Violence", "Safer Streets", "Hexham"), 0.3),
    }
    referral = {
        "purpose": rng.choice(PURPOSES),
        "status": _pick(rng, ("made", "accepted", "in_progress"), 0.5),
        "organisation_id": rng.choice(list(orgs.values())[8:]) if rng.random() < 0.3 else None,
        "person_ref": f"P{rng.randrange(500_000):07d}" if rng.random() < 0.15 else None,
        **page,
    }
    interv_page = {
        "tier": interv["tier"],
        "status": _pick(rng, ("active", "ended", "planned"), 0.4),
        "text": interv["text"],
        "page": rng.choice((1, 1, 1, 2, 3, 20)),
    }
    referral_page = {
        "purpose": referral["purpose"],
        "status": referral["status"],
        "referred_from": (TODAY - dt.timedelta(days=90)).isoformat()
        if rng.random() < 0.3
        else None,
        "text": _pick(rng, ("exploitation", "knife", "diversion"), 0.3),
        "page": rng.choice((1, 1, 1, 2, 5)),
    }
    audit = rng.choice(
        (
            {"username": rng.choice([u[0] for u in USERS] + ["officer017", "officer123"])},
            {"record_kind": "referral", "record_id": str(rng.randrange(1, n + 1))},
            {"text": rng.choice(PURPOSES)},
            {"action": "referral", "since": (TODAY - dt.timedelta(days=30)).isoformat()},
            {},
        )
    )
    lists: dict[str, list[Req]] = {
        "problems": [
            ("GET /api/casework/problems", "GET", _q("/api/casework/problems", {**problem, **page}), None),
            ("GET /casework/problems (page)", "GET", _q("/casework/problems", problem), None),
            ("GET /casework/problems.json", "GET", _q("/casework/problems.json", problem), None),
        ],
        "interventions": [
            ("GET /api/casework/interventions", "GET", _q("/api/casework/interventions", {**interv, **page}), None),
            ("GET /casework/interventions (page)", "GET", _q("/casework/interventions", interv_page), None),
        ],
        "referrals": [
            ("POST /api/casework/referrals/search", "POST", "/api/casework/referrals/search",
             {k: v for k, v in referral.items() if v is not None}),
            ("POST /casework/referrals/search (page)", "POST", "/casework/referrals/search",
             {k: v for k, v in referral_page.items() if v is not None}),
        ],
        "organisations": [
            ("GET /api/casework/organisations", "GET", "/api/casework/organisations", None),
            ("GET /casework/organisations (page)", "GET", "/casework/organisations", None),
        ],
        "audit": [
            ("GET /api/casework/audit", "GET", _q("/api/casework/audit", {**audit, "limit": 50}), None),
            ("GET /casework/audit (page)", "GET", _q("/casework/audit", audit), None),
        ],
    }  # fmt: skip
    uses = {
        "admin": ("problems", "interventions", "referrals", "organisations", "audit"),
        "analyst": ("problems", "interventions", "organisations"),
        "supervisor": ("problems", "interventions", "referrals", "organisations"),
        "safeguarding": ("problems", "interventions", "referrals"),
        "partner": ("problems", "interventions", "referrals"),
        "auditor": ("audit", "organisations"),
    }[role]
    out = [r for u in uses for r in lists[u]]
    rng.shuffle(out)
    return out


async def _login(base: str, username: str) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        await client.get("/login")
        r = await client.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORD,
                "csrf_token": client.cookies.get("peelian_csrf"),
                "next": "/",
            },
        )
        if r.status_code not in (200, 303) or "peelian_session" not in client.cookies:
            raise SystemExit(f"login of {username} failed: {r.status_code}")
        return dict(client.cookies.items())


Sample = tuple[str, str, float, int]  # role, label, ms, status


async def _load(
    base: str, orgs: dict[str, int], n: int, rounds: int, think: float, pid: int
) -> tuple[list[Sample], float, float]:
    host, port = base.split("//")[1].split(":")
    cookies = {u[0]: await _login(base, u[0]) for u in USERS}
    clients = [
        (role, Client(host, int(port), cookies[name]))
        for name, role, _, k in USERS
        for _ in range(k)
    ]
    samples: list[Sample] = []

    async def run(idx: int, role: str, client: Client) -> None:
        rng = random.Random(idx * 7919 + int(think * 1000))
        for _ in range(rounds):
            for label, method, path, body in requests_for(role, rng, orgs, n):
                if think:
                    await asyncio.sleep(rng.expovariate(1 / think))
                t0 = time.perf_counter()
                status = await client.request(method, path, body)
                samples.append((role, label, (time.perf_counter() - t0) * 1000, status))

    warm = [c for r, c in clients if r == "admin"][0]  # one pass to warm the server
    for _label, method, path, body in requests_for("admin", random.Random(0), orgs, n):
        await warm.request(method, path, body)
    cpu0, t0 = _cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(run(i, r, c) for i, (r, c) in enumerate(clients)))
    wall = time.perf_counter() - t0
    for _, c in clients:
        if c.writer is not None:
            c.writer.close()
    return samples, wall, _cpu_seconds(pid) - cpu0


async def _one_at_a_time(base: str, orgs: dict[str, int], n: int, k: int, pid: int) -> list[str]:
    """Each endpoint alone, ``k`` requests one after another per role that uses it: latency
    with nothing else in flight, and the server's CPU per request (independent of load)."""
    host, port = base.split("//")[1].split(":")
    cost: dict[str, list[float]] = defaultdict(list)
    lat: dict[str, list[float]] = defaultdict(list)
    for name, role, _, _ in USERS:
        client = Client(host, int(port), await _login(base, name))
        rng = random.Random(k)
        reqs: dict[str, list[Req]] = defaultdict(list)
        for _ in range(k + 1):
            for r in requests_for(role, rng, orgs, n):
                reqs[r[0]].append(r)
        for label, todo in reqs.items():
            await client.request(*todo[0][1:])  # warm
            cpu0 = _cpu_seconds(pid)
            for _, method, path, body in todo[1 : k + 1]:
                t0 = time.perf_counter()
                await client.request(method, path, body)
                lat[label].append((time.perf_counter() - t0) * 1000)
            cost[label].append((_cpu_seconds(pid) - cpu0) * 1000 / k)
        if client.writer is not None:
            client.writer.close()
    lines = [
        "| endpoint, one request at a time | n | median ms | max ms | server CPU ms/request |",
        "|---|---|---|---|---|",
    ]
    for label in sorted(lat):
        v = lat[label]
        lines.append(
            f"| `{label}` | {len(v)} | {statistics.median(v):.1f} | {max(v):.1f} "
            f"| {statistics.mean(cost[label]):.1f} |"
        )
    return lines


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[round(q * (len(ordered) - 1))] if ordered else float("nan")


def _table(samples: list[Sample], wall: float, cpu: float) -> tuple[list[str], float]:
    by: dict[str, list[float]] = defaultdict(list)
    bad: dict[str, int] = defaultdict(int)
    for _, label, ms, status in samples:
        by[label].append(ms)
        bad[label] += status != 200
    lines = [
        "| endpoint | n | p50 ms | p95 ms | p99 ms | max ms | not 200 |",
        "|---|---|---|---|---|---|---|",
    ]
    for label in sorted(by):
        v = by[label]
        lines.append(
            f"| `{label}` | {len(v)} | {statistics.median(v):.1f} | {_pct(v, 0.95):.1f} "
            f"| {_pct(v, 0.99):.1f} | {max(v):.1f} | {bad[label]} |"
        )
    every = [s[2] for s in samples]
    p95 = _pct(every, 0.95)
    lines += [
        f"| **all** | {len(every)} | {statistics.median(every):.1f} | **{p95:.1f}** "
        f"| {_pct(every, 0.99):.1f} | {max(every):.1f} | {sum(bad.values())} |",
        "",
        f"{len(every) / wall:.1f} requests/s over {wall:.1f} s; server CPU {cpu:.1f} s "
        f"({cpu * 1000 / len(every):.1f} ms per request).",
    ]
    return lines, p95


# -- running ---------------------------------------------------------------------------------


def _pg_admin(url: str, sql: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(sql))
    engine.dispose()


def _serve_and_load(url: str, args: argparse.Namespace, n: int) -> list[str]:
    store = open_store(url)
    with store.begin() as conn:
        conn.exec_driver_sql("DELETE FROM sessions")
        conn.exec_driver_sql("DELETE FROM login_attempts")
        orgs = {r[1]: int(r[0]) for r in conn.exec_driver_sql("SELECT id, name FROM organisations")}
        counts = {
            t: conn.exec_driver_sql(f"SELECT count(*) FROM {t}").scalar()
            for t in ("problems", "interventions", "referrals", "audit_log")
        }
    dialect = store.dialect
    store.dispose()
    tmp = tempfile.mkdtemp(prefix="peelian-bench-cw-")
    port = _port()
    proc = _start_server(url, port, tmp)
    base = f"http://127.0.0.1:{port}"
    out = [
        f"### {dialect}: {counts['problems']:,} problems, {counts['interventions']:,} "
        f"interventions, {counts['referrals']:,} referrals, {counts['audit_log']:,} audit entries",
        "",
    ]
    try:
        for _ in range(600):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        if args.one_at_a_time:
            lines = asyncio.run(_one_at_a_time(base, orgs, n, args.one_at_a_time, proc.pid))
            out += [
                f"**One request at a time** (load average {os.getloadavg()[0]:.1f}):",
                "",
                *lines,
                "",
            ]
            if args.rounds == 0:
                return out
        loads = [("paced", args.think), ("closed loop", 0.0)]
        loads = loads[: 1 if args.no_closed else 2] if args.think else loads[1:]
        for name, think in loads:
            samples, wall, cpu = asyncio.run(_load(base, orgs, n, args.rounds, think, proc.pid))
            lines, p95 = _table(samples, wall, cpu)
            what = f"think time exponential, mean {think:g} s" if think else "no think time"
            out += [
                f"**{name.capitalize()}** (20 clients, {what}; load average "
                f"{os.getloadavg()[0]:.1f}): p95 **{p95:.1f} ms**, goal < 150 ms "
                f"**{'met' if p95 < 150 else 'not met'}**.",
                "",
                *lines,
                "",
            ]
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.1, help="1 = 100,000 records, 2M audit.")
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    ap.add_argument("--pg-url", default="postgresql://postgres@127.0.0.1:5432/test")
    ap.add_argument("--rounds", type=int, default=6, help="Passes over its lists per client.")
    ap.add_argument("--think", type=float, default=0.5, help="Mean think time, s (0: only closed).")
    ap.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="Folder for the SQLite store, reused if built (and the PostgreSQL database kept).",
    )
    ap.add_argument("--no-closed", action="store_true", help="Only the paced load.")
    ap.add_argument(
        "--one-at-a-time",
        type=int,
        default=3,
        metavar="K",
        help="First time each endpoint alone, K requests per role (0: skip); --rounds 0 "
        "stops there.",
    )
    ap.add_argument("--label", default="", help="What this run is (e.g. 'before'), for the file.")
    ap.add_argument("--no-write", action="store_true", help="Do not write the results file.")
    args = ap.parse_args(argv)
    n = int(100_000 * args.scale)
    tmp = Path(tempfile.mkdtemp(prefix="peelian-bench-cw-store-"))
    folder = args.keep or tmp
    out: list[str] = []
    try:
        for dialect in ("sqlite", "postgresql") if args.db == "both" else (args.db,):
            if dialect == "sqlite":
                path = folder / f"casework-{args.scale:g}.sqlite"
                url = f"sqlite:///{path}"
                fresh = not path.exists()
            else:
                base, _, _ = args.pg_url.rpartition("/")
                url = f"{base}/{PG_DB}"
                probe = create_engine(args.pg_url)
                with probe.connect() as conn:
                    fresh = not conn.execute(
                        text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": PG_DB}
                    ).first()
                probe.dispose()
                if fresh:
                    _pg_admin(args.pg_url, f"CREATE DATABASE {PG_DB}")
            if fresh:
                times = build(url, args.scale)
                sys.stderr.write(f"{dialect} built: {times}\n")
                built = ", ".join(f"{k} {v:.0f} s" for k, v in times.items())
            else:
                built = "reused the --keep store"
            try:
                out += [*_serve_and_load(url, args, n), f"Build ({dialect}): {built}.", ""]
            finally:
                if dialect == "postgresql" and args.keep is None:
                    _pg_admin(args.pg_url, f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    head = [
        f"## Casework lists, scale {args.scale:g}, {time.strftime('%Y-%m-%d %H:%M')} UTC"
        + (f" ({args.label})" if args.label else ""),
        "",
        f"Command: `.venv/bin/python benchmarks/bench_casework_lists.py --scale {args.scale:g} "
        f"--db {args.db} --rounds {args.rounds} --think {args.think:g}"
        + (" --no-closed" if args.no_closed else "")
        + f" --one-at-a-time {args.one_at_a_time}"
        + f"` ({os.cpu_count()} cores, "
        "shared machine; uvicorn, 1 worker, on loopback). Clients: "
        + ", ".join(f"{k} {role}" for _, role, _, k in USERS)
        + ".",
        "",
    ]
    text_ = "\n".join(head + out)
    print(text_)
    if not args.no_write:
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        with RESULTS.open("a", encoding="utf-8") as fh:
            fh.write(text_ + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
