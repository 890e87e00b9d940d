"""A small, realistic store for the web and report tests: Northumbria's hierarchy in miniature
(force -> 2 CSPs -> 4 wards -> 8 LSOAs, 1 km squares in British National Grid near Newcastle),
police.uk-style events for 2021-01..2021-12 with a known total per month and category, one
ingest batch with a quarantined row, and results of every kind in the results contract
(concentration included)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import box
from sqlalchemy import insert

from peelian.data.results import save_result
from peelian.data.tables import areas, events, ingest_batches, ingest_files, lsoa_lookup, quarantine

FORCE = "E23000007"
CSPS = {"E08000021": "Newcastle upon Tyne", "E08000037": "Gateshead"}
WARDS = {
    "E05001101": ("Byker", "E08000021"),
    "E05001102": ("Walker", "E08000021"),
    "E05001201": ("Felling", "E08000037"),
    "E05001202": ("Deckham", "E08000037"),
}
X0, Y0 = 424000.0, 562000.0
MONTHS = [f"2021-{m:02d}" for m in range(1, 13)]
CATEGORIES = {"Violence and sexual offences": 3, "Burglary": 1, "Anti-social behaviour": 2}
MEASURES = [
    ("homicide", "Homicide", "count", "down"),
    ("knife-flagged-offences", "Knife or sharp instrument offences", "count", "down"),
    ("drug-trafficking", "Drug trafficking offences", "count", "up"),
    ("neighbourhood-crime", "Neighbourhood crime", "count", "down"),
    ("victim-satisfaction", "Victim satisfaction", "percent", "up"),
    ("cyber-enabled-crime", "Cyber-enabled crime", "count", "down"),
]


def lsoas() -> list[dict[str, Any]]:
    """8 LSOAs: index i in 0..7, ward i // 2, a 1 km square in a 4 x 2 grid."""
    out = []
    ward_codes = list(WARDS)
    for i in range(8):
        col, row = i % 4, i // 4
        ward = ward_codes[(i // 2) % 4]
        out.append(
            {
                "code": f"E0103{i:04d}",
                "name": f"{WARDS[ward][0]} {i % 2 + 1:03d}A",
                "ward": ward,
                "csp": WARDS[ward][1],
                "geometry": box(
                    X0 + col * 1000, Y0 + row * 1000, X0 + (col + 1) * 1000, Y0 + (row + 1) * 1000
                ),
                "population": 1500 + 100 * i,
            }
        )
    return out


def events_per_cell(i: int, month_index: int, weight: int) -> int:
    """Events of one category in LSOA ``i`` and month: LSOA 0 is the busiest; a rising trend."""
    return weight * (8 - i) + (month_index // 3)


def expected_events() -> pd.DataFrame:
    rows = []
    for i in range(8):
        for mi, month in enumerate(MONTHS):
            for cat, w in CATEGORIES.items():
                rows.append(
                    {"lsoa": i, "month": month, "category": cat, "n": events_per_cell(i, mi, w)}
                )
    return pd.DataFrame(rows)


def _wkb(geom: Any) -> str:
    return geom.wkb_hex


def seed_areas(store: Any) -> None:
    rows: list[dict[str, Any]] = []
    all_l = lsoas()
    union = gpd.GeoSeries([ls["geometry"] for ls in all_l]).union_all()
    rows.append(
        {
            "code": FORCE,
            "level": "force",
            "name": "Northumbria",
            "parent_code": None,
            "force_code": FORCE,
            "population": sum(ls["population"] for ls in all_l),
            "geometry_wkb": _wkb(union),
        }
    )
    for csp, name in CSPS.items():
        geoms = [ls["geometry"] for ls in all_l if ls["csp"] == csp]
        rows.append(
            {
                "code": csp,
                "level": "csp",
                "name": name,
                "parent_code": FORCE,
                "csp_code": csp,
                "force_code": FORCE,
                "population": sum(ls["population"] for ls in all_l if ls["csp"] == csp),
                "geometry_wkb": _wkb(gpd.GeoSeries(geoms).union_all()),
            }
        )
    for ward, (name, csp) in WARDS.items():
        geoms = [ls["geometry"] for ls in all_l if ls["ward"] == ward]
        rows.append(
            {
                "code": ward,
                "level": "ward",
                "name": name,
                "parent_code": csp,
                "ward_code": ward,
                "csp_code": csp,
                "force_code": FORCE,
                "population": sum(ls["population"] for ls in all_l if ls["ward"] == ward),
                "geometry_wkb": _wkb(gpd.GeoSeries(geoms).union_all()),
            }
        )
    for i, ls in enumerate(all_l):
        rows.append(
            {
                "code": ls["code"],
                "level": "lsoa21",
                "name": ls["name"],
                "parent_code": ls["ward"],
                "ward_code": ls["ward"],
                "csp_code": ls["csp"],
                "force_code": FORCE,
                "population": ls["population"],
                "imd_decile": i + 1,
                "area_km2": 1.0,
                "geometry_wkb": _wkb(ls["geometry"]),
            }
        )
    # LSOA 7 had a different 2011 code (the events use it): mapped through the ONS lookup.
    rows.append(
        {
            "code": "E01008888",
            "level": "lsoa11",
            "name": "Deckham 002A (2011)",
            "parent_code": "E08000037",
            "csp_code": "E08000037",
            "force_code": FORCE,
        }
    )
    cols = {k for r in rows for k in r}
    rows = [{k: r.get(k) for k in cols} for r in rows]
    with store.begin() as conn:
        conn.execute(insert(areas), rows)
        conn.execute(
            insert(lsoa_lookup),
            [{"lsoa11_code": "E01008888", "lsoa21_code": all_l[7]["code"], "change_code": "U"}],
        )


def seed_events(store: Any) -> dict[str, int]:
    """One batch, one street file per month, with 1 quarantined row per file."""
    now = dt.datetime(2022, 2, 1, 9, 0)
    exp = expected_events()
    codes = [ls["code"] for ls in lsoas()]
    codes[7] = "E01008888"  # published with the 2011 code
    with store.begin() as conn:
        batch = conn.execute(
            insert(ingest_batches).returning(ingest_batches.c.id),
            {
                "source": "policeuk",
                "started_at": now,
                "finished_at": now,
                "status": "complete",
                "command": "peelian ingest policeuk fixture.zip",
                "peelian_version": "test",
            },
        ).scalar_one()
        for month in MONTHS:
            rows = exp[exp["month"] == month]
            n = int(rows["n"].sum())
            fid = conn.execute(
                insert(ingest_files).returning(ingest_files.c.id),
                {
                    "batch_id": batch,
                    "path": f"fixture.zip!{month}/{month}-northumbria-street.csv",
                    "kind": "street",
                    "force": "northumbria",
                    "month": month,
                    "sha256": f"{month:0>64}"[-64:],
                    "size_bytes": 1000,
                    "rows_read": n + 1,
                    "rows_stored": n,
                    "rows_quarantined": 1,
                    "reasons": {"coordinates_outside_uk": 1},
                    "action": "loaded",
                },
            ).scalar_one()
            ev = []
            r = 0
            for rec in rows.itertuples():
                for _ in range(rec.n):
                    r += 1
                    ev.append(
                        {
                            "source": "policeuk",
                            "force": "northumbria",
                            "month": month,
                            "crime_id": None
                            if rec.category == "Anti-social behaviour"
                            else f"c{month}{r:05d}",
                            "category": rec.category,
                            "lsoa_code": codes[rec.lsoa],
                            "lsoa_vintage": 2011,
                            "easting": X0 + 500,
                            "northing": Y0 + 500,
                            "time_precision": "month",
                            "location_precision": "snapped",
                            "file_id": fid,
                            "row_number": r,
                        }
                    )
            conn.execute(insert(events), ev)
            conn.execute(
                insert(quarantine),
                {
                    "file_id": fid,
                    "row_number": r + 1,
                    "reason": "coordinates_outside_uk",
                    "detail": "Longitude 12.5 is outside the UK",
                    "raw": "abc,2021,Northumbria,12.5,55.0",
                },
            )
    return {"batch": int(batch)}


def measure_frames() -> dict[str, pd.DataFrame]:
    """Measures at force, CSP, ward and LSOA level with realistic intervals."""
    all_l = lsoas()
    area_rows = [("force", FORCE, "Northumbria")]
    area_rows += [("csp", c, n) for c, n in CSPS.items()]
    area_rows += [("ward", w, n) for w, (n, _) in WARDS.items()]
    area_rows += [("lsoa", ls["code"], ls["name"]) for ls in all_l]
    values, monthly = [], []
    for mi, (mid, label, unit, good) in enumerate(MEASURES):
        for ai, (level, code, name) in enumerate(area_rows):
            scale = {"force": 8, "csp": 4, "ward": 2, "lsoa": 1}[level]
            baseline = float(10 * scale * (mi + 1))
            change = -0.3 if (ai % 3 == 0) else (0.25 if ai % 3 == 1 else 0.02)
            current = round(baseline * (1 + change))
            rr = current / baseline
            sig = abs(change) > 0.1 and level != "lsoa"
            worse = (change > 0) == (good == "down")
            values.append(
                {
                    "measure": mid,
                    "label": label,
                    "source": "policeuk" if mi < 4 else "force-synthetic",
                    "unit": unit,
                    "area_level": level,
                    "area_code": code,
                    "area_name": name,
                    "period_end": "2021-12",
                    "current": float(current),
                    "baseline": baseline,
                    "change": float(current - baseline),
                    "change_pct": 100 * (rr - 1),
                    "rate_ratio": rr,
                    "ci_low": rr * 0.85,
                    "ci_high": rr * 1.15,
                    "current_ci_low": current * 0.9,
                    "current_ci_high": current * 1.1,
                    "baseline_ci_low": baseline * 0.9,
                    "baseline_ci_high": baseline * 1.1,
                    "p_value": 0.001 if sig else 0.4,
                    # widened for over-dispersion and FDR-adjusted: an order unlike p_value's
                    "p_value_adjusted": (0.002 + 0.0001 * ((ai * 7 + mi) % 13)) if sig else 0.5,
                    "p_adjusted": (0.004 + 0.0002 * ((ai * 7 + mi) % 13)) if sig else 0.6,
                    "significant": sig,
                    "direction_good": good,
                    "assessment": ("worsening" if worse else "improving")
                    if sig
                    else "no significant change",
                    "rate_per_1000": current / 10.0,
                    "eb_rate_per_1000": current / 10.5,
                    "harm": current * 3.0,
                    "spc_signal": "shift" if sig and level == "force" else None,
                    "narrative": f"{label} in {name}: {current} in the 12 months to December 2021 "
                    f"compared with {baseline:.0f} in the baseline.",
                }
            )
            for k, month in enumerate(MONTHS):
                count = baseline / 12 * (1 + change * k / 11)
                monthly.append(
                    {
                        "measure": mid,
                        "area_level": level,
                        "area_code": code,
                        "month": month,
                        "count": float(round(count, 1)),
                        "centre": baseline / 12,
                        "lcl": max(0.0, baseline / 12 - 3 * np.sqrt(baseline / 12)),
                        "ucl": baseline / 12 + 3 * np.sqrt(baseline / 12),
                        "signal": "run of 8" if sig and level == "force" and k >= 9 else None,
                    }
                )
    return {"values": pd.DataFrame(values), "monthly": pd.DataFrame(monthly)}


def cells() -> gpd.GeoDataFrame:
    """32 cells of 500 m over the 8 LSOAs; cells 0-3 are hot, 28-31 cold."""
    rows = []
    for k in range(32):
        cx, cy = k % 8, k // 8
        x, y = X0 + cx * 500 + 250, Y0 + cy * 500 + 250
        rows.append(
            {
                "cell_id": k,
                "x": x,
                "y": y,
                "n": 40 - k,
                "harm": float(3 * (40 - k)),
                "geometry": box(x - 250, y - 250, x + 250, y + 250),
            }
        )
    return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs="EPSG:27700")


def concentration_run() -> tuple[dict[str, pd.DataFrame], dict[str, Any], dict[str, Any]]:
    """(frames, params, summary) of a concentration run as
    :func:`peelian.jobs.hotspots.run_concentration` saves it, computed by the analysis on events
    at the centres of :func:`cells` (40 - k in cell k: 784 events; CCHI weight 3): the top cell
    (1% of 32) holds 40/784 of the crime, the top 2 (5%) 79/784, the top 4 (10%) 154/784.
    There are no 2020 events to compare the top cells with, and the run says so."""
    from peelian.jobs.hotspots import concentration_parts, previous_window

    conc = concentration_result()
    before, latest = previous_window(MONTHS)
    summary = dict(
        conc.summary, period="2021-01..2021-12", crime_type="Violence and sexual offences",
        source="policeuk", grid="square", choices=conc.choices, report=conc.report,
        warnings=list(conc.warnings), stability=None,
        stability_periods={"before": list(before), "latest": list(latest)},
        stability_note=f"no events in {before[0]}..{before[1]} to compare with",
    )  # fmt: skip
    return concentration_parts(conc), conc.params, summary


def concentration_result() -> Any:
    """The concentration analysis (a ``HotspotResult``) behind :func:`concentration_run`."""
    from peelian.analysis import hotspots as hs

    c = cells()
    ev = c.loc[c.index.repeat(c["n"]), ["x", "y"]]
    ev = ev.rename(columns={"x": "easting", "y": "northing"}).reset_index(drop=True)
    ev["month"], ev["category"] = "2021-06", "Violence and sexual offences"
    ev["location_precision"] = "snapped"
    boundary = gpd.GeoSeries([ls["geometry"] for ls in lsoas()]).union_all()
    return hs.concentration(
        ev, boundary, cell_size=500, harm_weights={"Violence and sexual offences": 3.0},
        harm_col="category",
    )  # fmt: skip


def seed_results(store: Any) -> dict[str, int]:
    ids = {
        "measures": save_result(
            store,
            "measures",
            "all",
            measure_frames(),
            params={"period_end": "2021-12"},
            summary={"period_end": "2021-12"},
        )
    }
    c = cells()
    g = c.copy()
    g["gistar"] = np.linspace(4.0, -3.0, 32)
    g["p_value"] = [0.0001] * 4 + [0.3] * 24 + [0.001] * 4
    g["p_adjusted"] = [0.001] * 4 + [0.6] * 24 + [0.01] * 4
    g["hotspot"] = ["hot"] * 4 + ["none"] * 24 + ["cold"] * 4
    ids["gistar"] = save_result(
        store,
        "gistar",
        "violence-and-sexual-offences",
        {"cells": g},
        summary={
            "cell_size": 500,
            "distance": 750,
            "alpha": 0.05,
            "fdr": 0.05,
            "period": "2021-01..2021-12",
        },
    )
    e = c[["cell_id", "x", "y", "geometry"]].copy()
    e["pattern"] = (
        ["Intensifying Hot Spot"] * 3 + ["New Hot Spot"] * 2 + ["No Pattern Detected"] * 27
    )
    e["trend_tau"] = np.linspace(0.6, -0.2, 32)
    e["trend_p"] = np.linspace(0.001, 0.9, 32)
    e["n_total"] = c["n"]
    ids["emerging"] = save_result(store, "emerging", "violence-and-sexual-offences", {"cells": e})
    k = c[["cell_id", "x", "y", "geometry"]].copy()
    k["density"] = np.linspace(2e-5, 1e-7, 32)
    ids["kde"] = save_result(
        store,
        "kde",
        "violence-and-sexual-offences",
        {"cells": k},
        summary={"bandwidth": 400, "kernel": "quartic"},
    )
    bt = pd.DataFrame(
        [
            {
                "model": m,
                "month": mo,
                "coverage": 0.05,
                "hit_rate": h + 0.01 * j,
                "pai": 3.0 + h,
                "pei": 0.6,
                "rri": 1.2,
                "log_lik": -100.0,
                "brier": 0.1,
            }
            for m, h in (("naive", 0.2), ("kde", 0.3), ("sepp", 0.35))
            for j, mo in enumerate(["2021-10", "2021-11", "2021-12"])
        ]
    )
    summ = bt.groupby("model", as_index=False).agg(
        coverage=("coverage", "mean"),
        hit_rate_mean=("hit_rate", "mean"),
        hit_rate_std=("hit_rate", "std"),
        pai_mean=("pai", "mean"),
    )
    ids["backtest"] = save_result(
        store, "backtest", "violence-and-sexual-offences", {"results": bt, "summary": summ}
    )
    f = c[["cell_id", "x", "y", "geometry"]].copy()
    f["predicted"] = np.linspace(5.0, 0.1, 32)
    f["rank"] = np.arange(1, 33)
    f["flagged"] = f["rank"] <= 5
    ids["forecast"] = save_result(
        store,
        "forecast",
        "violence-and-sexual-offences",
        {"cells": f},
        summary={"model": "kde", "month": "2022-01"},
    )
    h = c.head(3)[["cell_id", "x", "y", "harm", "geometry"]].copy()
    h["rank"] = [1, 2, 3]
    h["expected_harm_share"] = [0.12, 0.09, 0.07]
    h["high_risk_hours"] = ["Fri-Sat 20:00-02:00", "Sat 18:00-01:00", "Fri 21:00-01:00"]
    h["csp_code"] = "E08000021"
    visits = pd.DataFrame(
        [
            {
                "hotspot_rank": r,
                "date": f"2022-01-{d:02d}",
                "start_time": "21:00",
                "end_time": "21:15",
            }
            for r in (1, 2, 3)
            for d in (7, 8, 14)
        ]
    )
    ids["grip_plan"] = save_result(store, "grip_plan", "grip", {"hotspots": h, "visits": visits})
    frames, params, summary = concentration_run()
    ids["concentration"] = save_result(
        store, "concentration", "violence-and-sexual-offences", frames, params=params,
        summary=summary,
    )  # fmt: skip
    return ids


def seed_all(store: Any) -> dict[str, Any]:
    seed_areas(store)
    out: dict[str, Any] = seed_events(store)
    out["runs"] = seed_results(store)
    return out


PASSWORD = "a long test passphrase"


def login(client: Any, username: str, password: str = PASSWORD) -> Any:
    """Log a TestClient in through the form (with its CSRF token); returns the response."""
    client.get("/login")
    token = client.cookies.get("peelian_csrf")
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )


def serve_seeded_app(tmp: Any, secret: str, password: str) -> Iterator[str]:
    """A seeded store with an ``admin1`` user, served by uvicorn on a free loopback port in a
    thread; yields the base URL and stops the server afterwards (the browser tests' server)."""
    import socket
    import threading
    import time

    import uvicorn

    from peelian.config import Settings
    from peelian.data.accounts.users import add_user
    from peelian.data.store import open_store
    from peelian.web import create_app

    store = open_store(f"sqlite:///{tmp / 'store.sqlite'}")
    seed_all(store)
    add_user(store, "admin1", password, "admin")
    app = create_app(Settings(data_dir=tmp, env="test", secret_key=secret), store=store)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        store.dispose()
