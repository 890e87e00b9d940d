"""When synthetic offences happen and are reported.

Each occurrence gets a *time profile*: a weight for every hour of the week (Monday 00:00 ..
Sunday 23:00). Its ``committed_from`` is drawn from the hours of its month in proportion to the
profile, with a uniform minute. The profiles encode the patterns a force analyst knows (see the
time-of-day and day-of-week findings summarised in Felson & Poulsen 2003, *Simple indicators of
crime by time of day*, Int. J. Forecasting 19; and the night-time economy pattern of assaults
peaking on Friday and Saturday nights, Home Office 2019 *Alcohol-related violence*):

* ``nte``: public-space violence in night-time economy centres, Friday and Saturday 21:00-04:00;
* ``violence``: afternoon-evening peak, weekend uplift; ``domestic``: evenings, weekends;
* ``sexual``: evenings and nights; ``street``: after school and evening (15:00-22:00);
* ``burglary_res``: day and early evening (homes empty); ``burglary_com`` and ``vehicle``:
  overnight; ``retail``: shop opening hours, Saturdays; ``night``: criminal damage 18:00-02:00;
* ``daytime``: office hours; ``proactive``: police-generated (drugs, weapons) on patrol hours.

The committed window (``committed_to - committed_from``) and the reporting delay depend on the
profile (burglaries and vehicle crime are often discovered hours later; a share of sexual
offences are reported years after). The reported date-time stays in the occurrence's month (the
month police.uk would publish it in): an occurrence whose report would spill into the next month
is moved back by whole days.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "PROFILES",
    "draw_durations",
    "finalise_times",
    "group_indices",
    "month_bounds",
    "profile_matrix",
    "sample_times",
]

PROFILES = (
    "nte", "violence", "domestic", "sexual", "street", "burglary_res", "burglary_com",
    "vehicle", "retail", "night", "daytime", "proactive",
)  # fmt: skip

_H = np.arange(24)


def month_bounds(month: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(first day, last day) as datetime64[D] for each element of a ``YYYY-MM`` array."""
    m = np.asarray(month).astype("datetime64[M]")
    return m.astype("datetime64[D]"), (m + 1).astype("datetime64[D]") - 1


def group_indices(*keys: np.ndarray) -> list[tuple[tuple[object, ...], np.ndarray]]:
    """Row indices per distinct combination of ``keys`` (sorted), without pandas overhead."""
    inv = []
    uniq = []
    for k in keys:
        if k.dtype.kind in "OUS":  # strings: hash-based factorize is ~10x faster than a sort
            i, u = pd.factorize(k, sort=True)
            u = np.asarray(u)
        else:
            u, i = np.unique(k, return_inverse=True)
        uniq.append(u)
        inv.append(np.asarray(i, dtype=np.int64))
    code = np.zeros(len(keys[0]), dtype=np.int64)
    for u, i in zip(uniq, inv, strict=True):
        code = code * len(u) + i
    order = np.argsort(code, kind="stable")
    sc = code[order]
    cuts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    out = []
    for a, b in zip(cuts, np.r_[cuts[1:], sc.size], strict=True):
        c = int(sc[a])
        parts = []
        for u in reversed(uniq):
            c, r = divmod(c, len(u))
            parts.append(u[r])
        out.append((tuple(reversed(parts)), order[a:b]))
    return out


def _hours(spec: dict[tuple[int, int], float], base: float) -> np.ndarray:
    w = np.full(24, base)
    for (a, b), v in spec.items():
        w[a:b] = v
    return w


def profile_matrix(name: str) -> np.ndarray:
    """The 7 x 24 weights of a profile (rows Monday..Sunday, columns hour 0..23)."""
    dow = np.ones(7)
    if name == "nte":
        w = np.full((7, 24), 0.15)
        w[:, 10:18] = 0.3
        w[:, 18:24] = 0.6
        for d in (4, 5):  # Friday, Saturday evenings
            w[d, 21:24] = 6.0
        for d in (5, 6):  # the small hours of Saturday and Sunday
            w[d, 0:4] = 7.0
            w[d, 4] = 2.0
        w[3, 22:24] = 1.5  # Thursday student nights
        w[4, 0:3] = 1.5
        return w
    if name == "violence":
        h = _hours({(0, 3): 0.9, (3, 7): 0.25, (7, 12): 0.5, (12, 17): 0.9, (17, 24): 1.3}, 0.5)
        dow = np.array([0.9, 0.88, 0.9, 0.93, 1.1, 1.3, 1.2])
    elif name == "domestic":
        h = _hours({(0, 3): 0.8, (3, 8): 0.2, (8, 15): 0.5, (15, 18): 0.9, (18, 24): 1.4}, 0.5)
        dow = np.array([1.0, 0.93, 0.93, 0.95, 1.0, 1.12, 1.15])
    elif name == "sexual":
        h = _hours({(0, 4): 1.0, (4, 9): 0.3, (9, 15): 0.6, (15, 20): 0.9, (20, 24): 1.2}, 0.6)
        dow = np.array([0.9, 0.9, 0.9, 0.95, 1.1, 1.25, 1.15])
    elif name == "street":
        h = _hours({(0, 3): 0.6, (3, 7): 0.15, (7, 15): 0.6, (15, 22): 1.4, (22, 24): 0.9}, 0.5)
        dow = np.array([0.95, 0.95, 0.95, 1.0, 1.1, 1.1, 0.95])
    elif name == "burglary_res":
        h = _hours({(0, 6): 0.45, (6, 8): 0.5, (8, 17): 1.0, (17, 22): 1.2, (22, 24): 0.7}, 0.5)
        dow = np.array([1.03, 1.0, 1.0, 1.0, 1.02, 0.97, 0.95])
    elif name in ("burglary_com", "vehicle"):
        h = _hours({(0, 6): 1.5, (6, 9): 0.6, (9, 17): 0.4, (17, 20): 0.7, (20, 24): 1.3}, 0.5)
        dow = np.array([1.0, 0.95, 0.95, 0.95, 1.0, 1.1, 1.1])
    elif name == "retail":
        h = _hours({(0, 8): 0.02, (8, 10): 0.6, (10, 18): 1.3, (18, 21): 0.7, (21, 24): 0.15}, 0.05)
        dow = np.array([0.95, 0.95, 0.95, 1.0, 1.05, 1.25, 0.8])
    elif name == "night":
        h = _hours({(0, 3): 1.2, (3, 7): 0.3, (7, 16): 0.6, (16, 18): 0.9, (18, 24): 1.4}, 0.5)
        dow = np.array([0.95, 0.9, 0.9, 0.95, 1.05, 1.2, 1.1])
    elif name == "daytime":
        h = _hours({(0, 7): 0.1, (7, 9): 0.6, (9, 18): 1.2, (18, 22): 0.7, (22, 24): 0.3}, 0.3)
        dow = np.array([1.1, 1.1, 1.05, 1.05, 1.0, 0.75, 0.65])
    elif name == "proactive":
        h = _hours({(0, 3): 0.8, (3, 8): 0.15, (8, 13): 0.6, (13, 24): 1.2}, 0.5)
        dow = np.array([0.95, 1.0, 1.0, 1.0, 1.1, 1.05, 0.9])
    else:
        raise ValueError(f"unknown time profile {name!r}")
    return np.outer(dow, h)


def sample_times(month: np.ndarray, profile: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``committed_from`` (datetime64[m]) for occurrences of the given months and profiles."""
    out = np.empty(len(month), dtype="datetime64[m]")
    cache: dict[str, np.ndarray] = {}
    for (m, prof), idx in group_indices(month, profile):
        start = np.datetime64(str(m), "M").astype("datetime64[D]")
        end = (np.datetime64(str(m), "M") + 1).astype("datetime64[D]")
        days = np.arange(start, end)
        prof = str(prof)
        dows = (days.astype(np.int64) + 3) % 7
        if prof not in cache:
            cache[prof] = profile_matrix(prof)
        w = cache[prof][dows].ravel()
        cdf = np.cumsum(w)
        slot = np.searchsorted(cdf, rng.random(len(idx)) * cdf[-1], side="right")
        minutes = slot * 60 + rng.integers(0, 60, len(idx))
        out[idx] = start.astype("datetime64[m]") + minutes.astype("timedelta64[m]")
    return out


def draw_durations(
    profile: np.ndarray, codes: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(window minutes, reporting delay minutes, historic flag) per occurrence.

    Lognormal delays: violence about 20 minutes (median), burglary about 2 hours after discovery,
    harassment and stalking about a day; 20% of sexual offences are historic (reported 1-20 years
    after).
    """
    n = len(profile)
    window = np.zeros(n)
    median = np.full(n, 30.0)
    sigma = np.full(n, 1.0)
    spec = {
        "nte": (0, 0, 15, 1.0),
        "violence": (0, 10, 20, 1.2),
        "domestic": (0, 20, 30, 1.3),
        "sexual": (0, 30, 360, 1.5),
        "street": (0, 5, 30, 1.0),
        "burglary_res": (0.6, 600, 90, 1.2),
        "burglary_com": (0.8, 720, 60, 1.0),
        "vehicle": (0.7, 600, 120, 1.0),
        "retail": (0, 5, 120, 1.5),
        "night": (0.5, 480, 180, 1.2),
        "daytime": (0.3, 4320, 1440, 1.3),
        "proactive": (0, 0, 10, 0.8),
    }  # profile: (share with a window, max window minutes, median delay, sigma)
    for prof, (share, wmax, med, sig) in spec.items():
        sel = profile == prof
        k = int(sel.sum())
        if not k:
            continue
        has = rng.random(k) < share
        window[sel] = np.where(
            has, rng.uniform(0, wmax, k), rng.uniform(0, min(wmax, 10) + 1e-9, k)
        )
        median[sel] = med
        sigma[sel] = sig
    delay = median * np.exp(sigma * rng.standard_normal(n))
    historic = (profile == "sexual") & (rng.random(n) < 0.20)
    years = rng.uniform(1, 20, n)
    delay = np.where(historic, years * 525_960.0, delay)
    return np.round(window), np.round(delay), historic


def finalise_times(
    month: np.ndarray,
    committed_from: np.ndarray,
    window: np.ndarray,
    delay: np.ndarray,
    historic: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(committed_from, committed_to, reported_at), with the report in the occurrence's month.

    For historic reports the sampled time is the *report*; the offence is ``delay`` earlier.
    """
    cf = committed_from.astype("datetime64[m]")
    win = window.astype(np.int64).astype("timedelta64[m]")
    dl = delay.astype(np.int64).astype("timedelta64[m]")
    reported = np.where(historic, cf, cf + win + dl)
    cf = np.where(historic, cf - dl - win, cf)
    month_end = (month_bounds(month)[1] + 1).astype("datetime64[m]") - np.timedelta64(1, "m")
    over = (reported - month_end).astype(np.int64)
    shift_days = np.where(over > 0, -(-over // 1440), 0).astype("timedelta64[D]")
    cf = cf - shift_days
    reported = reported - shift_days
    return cf, cf + win, reported
