"""Where synthetic offences happen: calibrated places, exact locations, near-repeat burglary.

* **Months the calibration covers**: the synthetic force has exactly the real month's crimes of
  each category (at ``scale=1``), each at its real police.uk snapped point and LSOA, so monthly
  totals and per-LSOA counts match the real data (before the near-repeat step moves a few
  burglaries).
* **Other months**: the count per category is a Poisson draw around the volume model's
  expectation (:meth:`Calibration.expected`); places are drawn from all the real crimes of that
  category, so the long-run distribution over LSOAs and points is the real one.
* **Exact locations**: police.uk moves each crime to one of a set of snapped map points; the
  synthetic "exact" location is the point plus a uniform offset within 100 m (a disc), in British
  National Grid metres. The LSOA stays the real one.
* **Near-repeat burglary** (Townsley, Homel & Chaseling 2003; Johnson et al. 2007, *J. Quant.
  Criminol.* 23:201-219): a share of residential burglaries (``NEAR_REPEAT_SHARE``) are
  follow-ons of another burglary in the same month: placed uniformly within 200 m of it and
  1-14 days after it (exponential, mean 4 days), so close pairs in space and time are more common
  than a Knox permutation of times expects. Their LSOA is that of the nearest real map point.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from peelian.data.synthetic._calibration import Calibration
from peelian.data.synthetic._temporal import group_indices, month_bounds

__all__ = [
    "JITTER_M",
    "NEAR_REPEAT_DAYS",
    "NEAR_REPEAT_M",
    "NEAR_REPEAT_SHARE",
    "build_skeleton",
    "disc_offsets",
    "locate",
    "near_repeat",
]

JITTER_M = 100.0
NEAR_REPEAT_M = 200.0
NEAR_REPEAT_DAYS = 14
NEAR_REPEAT_SHARE = 0.10


def build_skeleton(
    cal: Calibration, months: list[str], rng: np.random.Generator, scale: float
) -> pd.DataFrame:
    """One row per synthetic occurrence: month, category, point_id, lsoa_code, district, calibrated."""
    rows = cal.rows
    by_month = rows.groupby("month", sort=False, observed=True).indices
    by_cat = rows.groupby("category", sort=False, observed=True).indices
    real = set(cal.months)
    missing = [m for m in months if m not in real]
    exp = cal.expected(missing) * scale if missing else None
    parts: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for m in months:
        if m in real:
            idx = by_month[m]
            k = int(round(len(idx) * scale))
            if k <= len(idx):
                take = rng.permutation(idx)[:k]
            else:
                take = np.concatenate([idx, rng.choice(idx, k - len(idx))])
        else:
            assert exp is not None
            counts = rng.poisson(exp.loc[m].to_numpy())
            take = np.concatenate(
                [rng.choice(by_cat[c], int(k)) for c, k in zip(exp.columns, counts, strict=True)]
            )
        parts.append(take)
        labels.append(np.full(take.size, m, dtype=object))
    take = np.concatenate(parts).astype(np.int64)
    sk = rows.iloc[take].reset_index(drop=True)
    month = np.concatenate(labels).astype("U7")
    sk["month"] = pd.Categorical(month)
    sk["calibrated"] = np.isin(month, list(real))
    return sk


def disc_offsets(n: int, radius: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Offsets uniformly distributed in a disc of ``radius`` metres."""
    r = radius * np.sqrt(rng.random(n))
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


def locate(
    sk: pd.DataFrame, cal: Calibration, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Exact easting/northing: the snapped point plus a uniform offset within ``JITTER_M``."""
    pts = cal.points.set_index("point_id")
    pid = sk["point_id"].to_numpy()
    ok = pid >= 0
    e = np.full(len(sk), np.nan)
    n = np.full(len(sk), np.nan)
    e[ok] = pts["easting"].to_numpy()[pid[ok]]
    n[ok] = pts["northing"].to_numpy()[pid[ok]]
    dx, dy = disc_offsets(len(sk), JITTER_M, rng)
    return np.round(e + dx), np.round(n + dy)


def near_repeat(
    month: np.ndarray,
    codes: np.ndarray,
    easting: np.ndarray,
    northing: np.ndarray,
    committed: np.ndarray,
    cal: Calibration,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Turn a share of residential burglaries into near-repeat follow-ons.

    Returns (easting, northing, committed_from, lsoa_of_moved or None, moved mask); inputs are
    not modified.
    """
    from peelian.data.synthetic._codes import RESIDENTIAL_BURGLARY_CODES

    e, n, c = easting.copy(), northing.copy(), committed.copy()
    moved = np.zeros(len(codes), dtype=bool)
    res = np.flatnonzero(np.isin(codes, RESIDENTIAL_BURGLARY_CODES) & np.isfinite(easting))
    if res.size < 2:
        return e, n, c, np.full(len(codes), "", dtype="U9"), moved
    child = rng.random(res.size) < NEAR_REPEAT_SHARE
    parent_of = np.full(len(codes), -1, dtype=np.int64)
    for _, g in group_indices(month[res]):
        parents = res[g][~child[g]]
        kids = res[g][child[g]]
        if parents.size and kids.size:
            parent_of[kids] = parents[rng.integers(0, parents.size, kids.size)]
    kids = np.flatnonzero(parent_of >= 0)
    par = parent_of[kids]
    dx, dy = disc_offsets(kids.size, NEAR_REPEAT_M, rng)
    e[kids] = np.round(easting[par] + dx)
    n[kids] = np.round(northing[par] + dy)
    lag = np.minimum(1 + np.floor(rng.exponential(3.0, kids.size)), NEAR_REPEAT_DAYS - 1)
    pday = committed[par].astype("datetime64[D]")
    tod = committed[kids] - committed[kids].astype("datetime64[D]").astype("datetime64[m]")
    mstart, mend = month_bounds(month[kids])
    lagd = lag.astype(np.int64).astype("timedelta64[D]")
    day = pday + lagd
    day = np.where(day > mend, pday - lagd, day)
    day = np.maximum(day, mstart)
    c[kids] = day.astype("datetime64[m]") + tod
    moved[kids] = True
    pts = cal.points
    tree = cKDTree(np.column_stack([pts["easting"], pts["northing"]]))
    _, near = tree.query(np.column_stack([e[kids], n[kids]]))
    point_lsoa = (
        cal.rows[cal.rows["point_id"] >= 0]
        .groupby(["point_id", "lsoa_code"], observed=True)
        .size()
        .sort_values(ascending=False)
        .reset_index()
        .drop_duplicates("point_id")
        .set_index("point_id")["lsoa_code"]
    )
    lsoa = np.full(len(codes), "", dtype="U9")
    lsoa[kids] = point_lsoa.reindex(pts["point_id"].to_numpy()[near]).fillna("").to_numpy(dtype=str)
    return e, n, c, lsoa, moved
