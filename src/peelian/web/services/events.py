"""Event counts by month, category and area: aggregates only, never a person or a single event.

The base table is the data layer's one read path, :func:`peelian.data.counts.area_counts`
(events per force, month, category and LSOA, each placed in its LSOA 2021 by the rule of
decision 0015, kept per data version), joined to the area hierarchy once per data version and
filtered in memory; this module never groups raw events itself, so the area profile, the events
API, the map and the measures count the same events. Harm uses the Cambridge Crime Harm Index category weights of :func:`peelian.offences.harm_weights`
(Sherman, Neyroud & Neyroud 2016, "The Cambridge Crime Harm Index", Policing 10(3)).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from peelian.data.counts import area_counts
from peelian.errors import ParameterError
from peelian.offences import harm_weights
from peelian.schemas.months import check_month_range
from peelian.web.context import WebContext
from peelian.web.services.areas import areas_frame, lsoa_parents
from peelian.web.services.common import page, records

__all__ = ["BY", "METRICS", "area_values", "category_weights", "counts", "event_base"]

BY: tuple[str, ...] = ("month", "category", "area")
METRICS: tuple[str, ...] = ("count", "rate", "harm")
_LEVEL_COLUMN = {
    "lsoa21": "lsoa21_code",
    "ward": "ward_code",
    "csp": "csp_code",
    "force": "force_code",
}


def category_weights() -> dict[str, float]:
    """CCHI harm weight (days) per police.uk category: the vocabulary's one lookup,
    :func:`peelian.offences.harm_weights` ``("policeuk")`` (kept for callers of this name)."""
    return harm_weights("policeuk")


def event_base(ctx: WebContext) -> pd.DataFrame:
    """force, month, category, lsoa_code (as published), n, harm, lsoa21_code (by the rule of
    decision 0015), lsoa21_rule, ward_code, csp_code, force_code."""

    def build() -> pd.DataFrame:
        frame = area_counts(ctx.store)
        weights = category_weights()
        frame["harm"] = frame["n"] * frame["category"].map(weights).astype(float)
        parents = lsoa_parents(ctx)
        frame = frame.merge(parents, on="lsoa21_code", how="left", indicator=True)
        # an LSOA 2021 outside the loaded areas (a cross-border record) has no area here
        frame.loc[frame.pop("_merge") != "both", "lsoa21_code"] = None
        for col in ("force", "category", "month", "lsoa21_code", "ward_code", "csp_code"):
            frame[col] = frame[col].astype("category")
        return frame

    return ctx.derived("event_base", build)


def _filter(
    frame: pd.DataFrame,
    month_from: str | None,
    month_to: str | None,
    category: str | None,
    area: str | None,
    force: str | None,
) -> pd.DataFrame:
    month_from, month_to = check_month_range(month_from, month_to)
    mask = pd.Series(True, index=frame.index)
    months = frame["month"].astype(str)
    if month_from:
        mask &= months >= month_from
    if month_to:
        mask &= months <= month_to
    if category:
        mask &= frame["category"].astype(str) == category
    if force:
        mask &= frame["force"].astype(str) == force
    if area:
        in_area = pd.Series(False, index=frame.index)
        for col in ("lsoa21_code", "ward_code", "csp_code", "force_code", "lsoa_code"):
            in_area |= frame[col].astype(str) == area
        mask &= in_area
    return frame[mask]


def _grouped(
    ctx: WebContext,
    by: str,
    level: str,
    month_from: str | None,
    month_to: str | None,
    category: str | None,
    area: str | None,
    force: str | None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if by not in BY:
        raise ParameterError(
            f"The 'by' parameter must be one of {', '.join(BY)}. Got {by!r}.",
            "Group by month (a trend), category, or area (with 'level').",
        )
    if by == "area" and level not in _LEVEL_COLUMN:
        raise ParameterError(
            f"The 'level' parameter must be one of {', '.join(_LEVEL_COLUMN)}. Got {level!r}."
        )
    frame = _filter(event_base(ctx), month_from, month_to, category, area, force)
    key = {"month": "month", "category": "category", "area": _LEVEL_COLUMN.get(level, "")}[by]
    grouped = frame.groupby(key, observed=True).agg(events=("n", "sum"), harm=("harm", "sum"))
    grouped = grouped.reset_index().rename(columns={key: "area_code" if by == "area" else by})
    grouped["events"] = grouped["events"].astype("int64")
    if not frame["harm"].notna().any():
        grouped["harm"] = float("nan")
    if by == "area":
        names = areas_frame(ctx)
        names = names[names["level"] == level][["code", "name", "population"]]
        grouped["area_code"] = grouped["area_code"].astype(str)
        grouped = grouped.merge(names, left_on="area_code", right_on="code", how="left")
        grouped = grouped.drop(columns="code").rename(columns={"name": "area_name"})
        grouped["rate_per_1000"] = grouped["events"] / grouped["population"] * 1000.0
        grouped = grouped.sort_values(["events", "area_code"], ascending=[False, True])
    elif by == "category":
        grouped["category"] = grouped["category"].astype(str)
        grouped = grouped.sort_values(["events", "category"], ascending=[False, True])
    else:
        grouped["month"] = grouped["month"].astype(str)
        grouped = grouped.sort_values("month")
    return frame, grouped


def counts(
    ctx: WebContext,
    *,
    by: str = "month",
    level: str = "csp",
    month_from: str | None = None,
    month_to: str | None = None,
    category: str | None = None,
    area: str | None = None,
    force: str | None = None,
    limit: int = 1000,
    offset: int = 0,
) -> dict[str, Any]:
    """Events (and CCHI harm) grouped by month, category or area at ``level``."""
    frame, grouped = _grouped(ctx, by, level, month_from, month_to, category, area, force)
    unmapped = int(frame.loc[frame["lsoa21_code"].isna(), "n"].sum()) if by == "area" else 0
    return page(
        grouped,
        limit,
        offset,
        by=by,
        level=level if by == "area" else None,
        total_events=int(frame["n"].sum()),
        events_without_area=unmapped,
        harm_available=bool(frame["harm"].notna().any()),
    )


def area_values(
    ctx: WebContext,
    *,
    level: str,
    metric: str,
    month_from: str | None = None,
    month_to: str | None = None,
    category: str | None = None,
) -> list[dict[str, Any]]:
    """One value per area of ``level`` for the map: events, rate per 1,000 residents, or harm."""
    if metric not in METRICS:
        raise ParameterError(
            f"The 'metric' parameter must be one of {', '.join(METRICS)}. Got {metric!r}."
        )
    _, frame = _grouped(ctx, "area", level, month_from, month_to, category, None, None)
    if frame.empty:
        return []
    column = {"count": "events", "rate": "rate_per_1000", "harm": "harm"}[metric]
    frame["value"] = frame[column]
    return records(frame, ["area_code", "area_name", "events", "rate_per_1000", "harm", "value"])
