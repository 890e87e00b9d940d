"""The Grip patrol plan's files: what an inspector prints and a crew carries.

    from peelian.reports.grip_plan import write_plan_files
    files = write_plan_files(Path("grip-plan"), plan, hotspots, meta)

``visits.csv`` (one row per visit with the hotspot's location), ``hotspots.geojson`` (WGS84 cell
polygons), ``plan.md`` and ``plan.html`` (printable, from ``templates/grip_plan.html``). The plan
itself is chosen by :func:`peelian.analysis.grip.grip_plan` and orchestrated by
:func:`peelian.jobs.forecast.run_grip_plan`, which calls this through its ``write_files`` hook
(jobs sit below reports in the layer contract, so they take the writer as an argument).
"""

from __future__ import annotations

import html
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from peelian.analysis.grid import to_wgs84
from peelian.analysis.grip import GripPlan

__all__ = ["plan_headline", "render_plan_html", "render_plan_markdown", "write_plan_files"]

_HOTSPOT_COLUMNS = ["rank", "cell_id", "area_code", "expected_harm_share", "high_risk_hours"]
_VISIT_COLUMNS = ["date", "day", "start_time", "end_time", "hotspot_rank", "area_code"]


def plan_headline(plan: GripPlan, meta: dict[str, Any]) -> list[str]:
    """The plan's title then its statements: source, coverage, visits and every warning
    (synthetic records, old data, the default risk profile) in the order they are printed."""
    s = plan.summary
    head = [
        f"Grip patrol plan: {s['hotspots']} hotspots, {s['weeks']} weeks from {s['start']}",
        f"Source: {meta['source']['source']} ({meta['source']['selection']}), months "
        f"{meta['months'][0]} to {meta['months'][1]}, {meta['cell_size']:g} m cells.",
        f"Expected harm coverage: the hotspots held {s['harm_share']:.1%} of the harm in "
        f"{s['area_share']:.3%} of the area.",
        f"Visits: {s['visits']} visible patrols of {s['visit_minutes']} minutes "
        f"({s['patrol_hours']:.0f} officer-hours), {s['visits_per_day']} per hotspot per day at "
        "unpredictable times within each hotspot's high-risk hours (Koper 1995; Grip guidance).",
    ]
    if meta["source"].get("synthetic"):
        head.insert(
            1,
            "SYNTHETIC DATA: this plan was made from peelian's synthetic force records, not real "
            "police records. Do not deploy officers on it.",
        )
    if meta.get("data_age"):
        head.insert(2 if meta["source"].get("synthetic") else 1, f"OLD DATA: {meta['data_age']}")
    if meta.get("profile_note"):
        head.append(f"Note: {meta['profile_note']}.")
    return head


def render_plan_markdown(head: list[str], table: pd.DataFrame, visits: pd.DataFrame) -> str:
    """``plan.md``: the headline as a list, then the hotspot and visit tables."""
    md = ["# " + head[0], "", *[f"- {h}" for h in head[1:]], "", "## Hotspots", ""]
    md += _md_table(table) + ["", "## Visits", ""] + _md_table(visits)
    return "\n".join(md) + "\n"


def render_plan_html(head: list[str], table: pd.DataFrame, visits: pd.DataFrame) -> str:
    """``plan.html``: one printable, self-contained page (no scripts, no external resources)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(
        loader=FileSystemLoader(str(resources.files("peelian.reports") / "templates")),
        autoescape=select_autoescape(["html"]),
    )
    env.filters["quote_html"] = lambda text: Markup(html.escape(text))
    return env.get_template("grip_plan.html").render(
        title=head[0],
        lines=head[1:],
        hotspots_table=Markup(table.to_html(index=False)),
        visits_table=Markup(visits.to_html(index=False)),
    )


def write_plan_files(
    out: Path, plan: GripPlan, hotspots: Any, meta: dict[str, Any]
) -> dict[str, str]:
    """Write ``visits.csv``, ``hotspots.geojson``, ``plan.md`` and ``plan.html`` to ``out``
    (created if missing); returns each file's path by kind (``csv``, ``geojson``, ``markdown``,
    ``html``). ``hotspots`` is the plan's GeoDataFrame of cell polygons in EPSG:27700."""
    out.mkdir(parents=True, exist_ok=True)
    hs = plan.hotspots
    lon, lat = to_wgs84(hs["x"].to_numpy(float), hs["y"].to_numpy(float))
    where = hs[["rank", "x", "y", "high_risk_hours", "area_code"]].assign(
        longitude=np.round(lon, 6), latitude=np.round(lat, 6)
    )
    visits = plan.visits.merge(where, left_on="hotspot_rank", right_on="rank").drop(columns="rank")
    visits = visits.rename(columns={"x": "easting", "y": "northing"})
    paths = {"csv": out / "visits.csv", "geojson": out / "hotspots.geojson",
             "markdown": out / "plan.md", "html": out / "plan.html"}  # fmt: skip
    visits.to_csv(paths["csv"], index=False)
    hotspots.to_crs(4326).to_file(paths["geojson"], driver="GeoJSON")
    head = plan_headline(plan, meta)
    table = hs[_HOTSPOT_COLUMNS].assign(
        expected_harm_share=hs["expected_harm_share"].map("{:.1%}".format),
        longitude=np.round(lon, 5), latitude=np.round(lat, 5),
    )  # fmt: skip
    paths["markdown"].write_text(
        render_plan_markdown(head, table, visits[_VISIT_COLUMNS]), encoding="utf-8"
    )
    paths["html"].write_text(
        render_plan_html(head, table, visits[_VISIT_COLUMNS]), encoding="utf-8"
    )
    return {k: str(v) for k, v in paths.items()}


def _md_table(frame: pd.DataFrame) -> list[str]:
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * frame.shape[1]]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in frame.itertuples(index=False)]
    return lines
