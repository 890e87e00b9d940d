"""Grip hotspot patrol plans: choose hotspots, find their high-risk hours, schedule visits.

Grip is the Home Office's hotspot-policing programme against serious violence: "hotspot policing
in local settings using a refined data-led approach" (Home Office, Grip programme guidance).
Hotspots are small fixed grid cells (Southend used 150 m cells, where 2.6 % of the area held 41 %
of the harm) ranked by harm-weighted public-space, non-domestic serious violence (domestic abuse
is excluded: patrols do not reach it). Each hotspot gets short visible patrols at unpredictable
times within its high-risk hours. The dose follows the Koper curve (Koper 1995, "Just enough
police presence: reducing crime and disorderly behavior by optimizing patrol time in crime hot
spots", Justice Quarterly 12(4): 649-672): stops of about 10-15 minutes maximise residual
deterrence; Grip practice was one 15-20 minute visit per hotspot per day.

Everything here is pure: frames in, a frozen :class:`GripPlan` out (the job reads the store and
writes the files).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from peelian.errors import EmptySelectionError, ParameterError, SchemaError

__all__ = [
    "DEFAULT_HOURLY_PROFILE",
    "DEFAULT_PROFILE_NOTE",
    "GripPlan",
    "MAX_DATA_AGE_MONTHS",
    "data_age_note",
    "grip_plan",
    "high_risk_hours",
    "hourly_profile",
    "schedule_visits",
    "select_hotspots",
]

#: Illustrative hour-of-day weights (0-23) used only when no event has a time of day (police.uk
#: data). An ASSUMPTION, not a measurement: violence in public places concentrates in the evening
#: and night-time economy hours. Replace it with force records, which carry times.
DEFAULT_HOURLY_PROFILE: np.ndarray = np.array(
    [6, 5, 4, 3, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 4, 4, 5, 6, 7, 7], dtype=float
)
DEFAULT_PROFILE_NOTE = (
    "police.uk data has no times: high-risk hours come from peelian's illustrative default "
    "profile (evening and night, 20:00-02:00), an assumption to replace with force-record times"
)


@dataclass(frozen=True)
class GripPlan:
    """A patrol plan.

    ``hotspots``: rank, cell_id, x, y, area_m2, score, harm, expected_harm_share,
    cumulative_harm_share, area_code, high_risk_hours (e.g. "20-21,21-22"), profile_source
    ("hotspot", "surroundings", "force-wide" or "default"), profile_events.
    ``visits``: hotspot_rank, cell_id, date, day, start_time, end_time, minutes.
    ``summary``: harm_share and area_share of the chosen cells, counts, constraints, skipped
    candidates; ``choices``: every automatic choice with its rule.
    """

    hotspots: pd.DataFrame
    visits: pd.DataFrame
    summary: dict[str, Any]
    choices: dict[str, Any] = field(default_factory=dict)


def select_hotspots(
    cells: pd.DataFrame,
    k: int,
    *,
    min_separation: float = 0.0,
    max_per_area: int | None = None,
    seed: int | None = None,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Greedy choice of ``k`` cells by descending ``score`` (ties: higher harm, then at random
    with ``seed``, as forecast scores break ties, or by cell order when ``seed`` is None)
    such that every chosen centre is at least ``min_separation`` metres from the others and no
    ``area_code`` holds more than ``max_per_area`` hotspots. Cells with score <= 0 are never chosen.

    ``cells`` needs cell_id, x, y, score (and area_code when ``max_per_area`` is set). Returns the
    chosen rows (with ``rank``) and how many better-scored candidates each rule skipped.
    """
    need = {"cell_id", "x", "y", "score"} | ({"area_code"} if max_per_area else set())
    if missing := need - set(cells.columns):
        raise SchemaError(f"Hotspot selection needs the columns {sorted(missing)}.")
    if not isinstance(k, int | np.integer) or k < 1:
        raise ParameterError(f"The 'hotspots' parameter must be an integer >= 1. Got {k!r}.")
    if min_separation < 0:
        raise ParameterError(f"The 'min_separation' parameter must be >= 0. Got {min_separation}.")
    if max_per_area is not None and max_per_area < 1:
        raise ParameterError(f"The 'max_per_area' parameter must be >= 1. Got {max_per_area}.")
    harm = cells["harm"] if "harm" in cells.columns else cells["score"]
    last = (
        np.arange(len(cells))
        if seed is None
        else np.random.default_rng(seed).permutation(len(cells))
    )
    order = np.lexsort((last, -harm.to_numpy(float), -cells["score"].to_numpy()))
    xs, ys = cells["x"].to_numpy(float), cells["y"].to_numpy(float)
    scores = cells["score"].to_numpy(float)
    areas = cells["area_code"].astype(str).to_numpy() if max_per_area else None
    chosen: list[int] = []
    per_area: dict[str, int] = {}
    skipped = {"separation": 0, "area_cap": 0}
    for i in order:
        if len(chosen) == k or scores[i] <= 0:
            break
        if chosen and min_separation > 0:
            d = np.hypot(xs[chosen] - xs[i], ys[chosen] - ys[i])
            if (d < min_separation).any():
                skipped["separation"] += 1
                continue
        if areas is not None and per_area.get(areas[i], 0) >= max_per_area:
            skipped["area_cap"] += 1
            continue
        chosen.append(int(i))
        if areas is not None:
            per_area[areas[i]] = per_area.get(areas[i], 0) + 1
    out = cells.iloc[chosen].copy().reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out, skipped


def hourly_profile(times: pd.Series, weights: np.ndarray | None = None) -> np.ndarray:
    """Harm (or count) per hour of day 0-23 of timestamped events."""
    t = pd.to_datetime(times, errors="coerce")
    ok = t.notna().to_numpy()
    w = np.ones(len(t)) if weights is None else np.asarray(weights, dtype=float)
    return np.bincount(t[ok].dt.hour.to_numpy(), weights=w[ok], minlength=24)[:24].astype(float)


def high_risk_hours(profile: np.ndarray, *, share: float = 0.5, min_hours: int = 1) -> list[int]:
    """The fewest hours of day holding at least ``share`` of the profile's harm (at least
    ``min_hours``, never an hour without harm unless the profile has fewer such hours), hottest
    first; ties go to the earlier hour."""
    p = np.asarray(profile, dtype=float)
    if p.shape != (24,) or np.any(p < 0):
        raise SchemaError("An hourly profile needs 24 values >= 0.")
    if not 0 < share <= 1:
        raise ParameterError(f"The 'share' parameter must be in (0, 1]. Got {share}.")
    if p.sum() <= 0:
        p = DEFAULT_HOURLY_PROFILE
    order = np.lexsort((np.arange(24), -p))
    cum = np.cumsum(p[order]) / p.sum()
    n = max(int(np.searchsorted(cum, share - 1e-12) + 1), min(min_hours, int((p > 0).sum())))
    return [int(h) for h in order[: max(n, 1)]]


def schedule_visits(
    hotspots: pd.DataFrame,
    hours: dict[int, list[int]],
    *,
    start: dt.date,
    weeks: int,
    seed: int = 0,
    minutes: int = 15,
    visits_per_day: int = 1,
) -> pd.DataFrame:
    """Visits of ``minutes`` to each hotspot (``rank`` -> its high-risk hours) on every day of
    ``weeks`` weeks from ``start``, at random times inside its high-risk hours (seeded, so a
    plan is reproducible and still unpredictable to offenders). A visit starts in a random
    high-risk hour at a random minute that lets it end within that hour."""
    if not isinstance(weeks, int | np.integer) or weeks < 1:
        raise ParameterError(f"The 'weeks' parameter must be an integer >= 1. Got {weeks!r}.")
    if not 1 <= minutes <= 60:
        raise ParameterError(f"The 'minutes' parameter must be 1-60. Got {minutes}.")
    if visits_per_day < 1:
        raise ParameterError(f"The 'visits_per_day' parameter must be >= 1. Got {visits_per_day}.")
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(7 * int(weeks)):
        day = start + dt.timedelta(days=d)
        for rank, cell in zip(hotspots["rank"], hotspots["cell_id"], strict=True):
            hrs = hours[int(rank)]
            picks = rng.choice(len(hrs), size=visits_per_day, replace=len(hrs) < visits_per_day)
            for j in sorted(picks, key=lambda i: hrs[i]):
                minute = int(rng.integers(0, 60 - minutes + 1))
                begin = dt.datetime.combine(day, dt.time(hrs[j], minute))
                end = begin + dt.timedelta(minutes=minutes)
                rows.append(
                    {
                        "hotspot_rank": int(rank),
                        "cell_id": cell,
                        "date": day.isoformat(),
                        "day": day.strftime("%A"),
                        "start_time": begin.strftime("%H:%M"),
                        "end_time": end.strftime("%H:%M"),
                        "minutes": minutes,
                    }
                )
    visits = pd.DataFrame(rows)
    return visits.sort_values(["date", "start_time", "hotspot_rank"], kind="stable").reset_index(
        drop=True
    )


#: A plan whose data end more than this many months before its first visit says so.
MAX_DATA_AGE_MONTHS = 3


def data_age_note(
    months: tuple[str, str] | list[str],
    start: dt.date | str,
    *,
    max_months: int = MAX_DATA_AGE_MONTHS,
) -> str | None:
    """A warning when the data a plan was made from end long before its visits begin, else None.

    Hotspots and high-risk hours describe the months of the data (``months``: first and last,
    YYYY-MM); where the last month ends more than ``max_months`` months before the first visit
    (``start``), the plan no longer describes the weeks it patrols and must say so. Grip
    guidance reviews hotspots at least quarterly, hence the default of three months.

    >>> data_age_note(["2021-09", "2022-08"], "2026-12-07")
    'The data end in August 2022, 4 years 3 months before the first visit (7 December 2026): the hotspots and high-risk hours describe September 2021 to August 2022, not the weeks patrolled. Load recent records and make the plan again before deploying officers on it.'
    >>> data_age_note(["2022-03", "2022-08"], "2022-10-03") is None
    True
    """
    first, last = str(months[0]), str(months[-1])
    day = dt.date.fromisoformat(start) if isinstance(start, str) else start
    y, m = (int(x) for x in last.split("-")[:2])
    gap = (day.year - y) * 12 + (day.month - m) - 1  # whole months after the data's last month
    if gap <= max_months:
        return None
    years, rem = divmod(gap, 12)
    parts = [f"{years} year{'s' if years != 1 else ''}"] if years else []
    if rem or not parts:
        parts.append(f"{rem} month{'s' if rem != 1 else ''}")

    def long(month: str) -> str:
        return dt.datetime.strptime(month, "%Y-%m").strftime("%B %Y")

    when = f"{day.day} {day.strftime('%B %Y')}"
    return (
        f"The data end in {long(last)}, {' '.join(parts)} before the first visit ({when}): the "
        f"hotspots and high-risk hours describe {long(first)} to {long(last)}, not the weeks "
        "patrolled. Load recent records and make the plan again before deploying officers on it."
    )


def _hours_label(hours: list[int]) -> str:
    return ",".join(f"{h:02d}-{(h + 1) % 24:02d}" for h in sorted(hours))


def grip_plan(
    cells: pd.DataFrame,
    *,
    hotspots: int,
    weeks: int,
    start: dt.date,
    timed_events: pd.DataFrame | None = None,
    min_separation: float = 0.0,
    max_per_area: int | None = None,
    seed: int = 0,
    minutes: int = 15,
    visits_per_day: int = 1,
    hour_share: float = 0.5,
    profile_radius: float = 500.0,
    min_profile_events: int = 20,
) -> GripPlan:
    """Choose hotspots and schedule their patrols.

    ``cells``: one row per grid cell with cell_id, x, y, area (m^2), score (what ranks the cells:
    recent harm or forecast harm), harm (the harm the coverage is reported on) and area_code
    (ward or CSP, for the cap). ``timed_events``: events with x, y, time (timestamp) and harm,
    for the high-risk hours: each hotspot's own events within ``profile_radius`` metres if there
    are at least ``min_profile_events``, else the force-wide profile of all timed events, else
    (no times at all: police.uk) :data:`DEFAULT_HOURLY_PROFILE`, and the plan says so.
    """
    need = {"cell_id", "x", "y", "area", "score", "harm"}
    if missing := need - set(cells.columns):
        raise SchemaError(f"A Grip plan needs cell columns {sorted(missing)}.")
    if not (cells["harm"] > 0).any():
        raise EmptySelectionError(
            "No cell has any harm to patrol against.",
            "Check the crime selection and the months (serious violence in public space).",
        )
    chosen, skipped = select_hotspots(
        cells, hotspots, min_separation=min_separation, max_per_area=max_per_area, seed=seed
    )
    total_harm = float(cells["harm"].sum())
    total_area = float(cells["area"].sum())
    chosen["expected_harm_share"] = chosen["harm"] / total_harm
    chosen["cumulative_harm_share"] = chosen["expected_harm_share"].cumsum()
    choices: dict[str, Any] = {}
    timed = None
    if timed_events is not None and len(timed_events):
        t = pd.to_datetime(timed_events["time"], errors="coerce")
        timed = timed_events[t.notna().to_numpy()].assign(time=t[t.notna()])
    force_profile = None
    if timed is not None and len(timed):
        force_profile = hourly_profile(timed["time"], timed["harm"].to_numpy(float))
    hours: dict[int, list[int]] = {}
    sources, n_prof = [], []
    for _, row in chosen.iterrows():
        src, prof, n = "default", DEFAULT_HOURLY_PROFILE, 0
        if timed is not None and len(timed):
            d = np.hypot(
                timed["x"].to_numpy(float) - row["x"], timed["y"].to_numpy(float) - row["y"]
            )
            near = timed[d <= profile_radius]
            if len(near) >= min_profile_events:
                src, n = "surroundings", len(near)
                prof = hourly_profile(near["time"], near["harm"].to_numpy(float))
            else:
                src, prof, n = "force-wide", force_profile, len(timed)
        hours[int(row["rank"])] = high_risk_hours(prof, share=hour_share)
        sources.append(src)
        n_prof.append(n)
    chosen["high_risk_hours"] = [_hours_label(hours[int(r)]) for r in chosen["rank"]]
    chosen["profile_source"] = sources
    chosen["profile_events"] = n_prof
    if "default" in sources:
        choices["high_risk_hours"] = {"value": "default profile", "rule": DEFAULT_PROFILE_NOTE}
    elif "force-wide" in sources:
        choices["high_risk_hours"] = {
            "value": "force-wide profile for some hotspots",
            "rule": f"fewer than {min_profile_events} timed events within {profile_radius:g} m: "
            "the force-wide hour-of-day profile was used for those hotspots",
        }
    visits = schedule_visits(
        chosen, hours, start=start, weeks=weeks, seed=seed, minutes=minutes,
        visits_per_day=visits_per_day,
    )  # fmt: skip
    if len(chosen) < hotspots:
        choices["hotspots"] = {
            "value": len(chosen),
            "rule": f"only {len(chosen)} cells with harm > 0 satisfy the constraints "
            f"({hotspots} asked)",
        }
    summary = {
        "hotspots": len(chosen),
        "hotspots_requested": hotspots,
        "harm_share": float(chosen["harm"].sum() / total_harm),
        "area_share": float(chosen["area"].sum() / total_area),
        "harm_total": total_harm,
        "area_km2": total_area / 1e6,
        "weeks": int(weeks),
        "start": start.isoformat(),
        "visits": len(visits),
        "visit_minutes": minutes,
        "visits_per_day": visits_per_day,
        "patrol_hours": len(visits) * minutes / 60,
        "min_separation": min_separation,
        "max_per_area": max_per_area,
        "skipped": skipped,
        "seed": seed,
        "hour_share": hour_share,
        "sources": (
            "Koper 1995 (10-15 minute visits); Home Office Grip hotspot policing guidance "
            "(public-space, non-domestic serious violence, harm-weighted, fixed grid)"
        ),
    }
    chosen = chosen.rename(columns={"area": "area_m2"})
    return GripPlan(hotspots=chosen, visits=visits, summary=summary, choices=choices)
