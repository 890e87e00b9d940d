"""The National Crime Measures report: context from persisted results, HTML by Jinja2, PDF by
WeasyPrint, in the shape of the force's published monthly update (one section per measure).

    report = build_ncpm_report(store, period_end="2021-12", fmt="pdf")
    Path("ncpm.pdf").write_bytes(report.content)

Figures, intervals, p-values, assessments and narratives come from the newest ``measures`` run
(the measures engine); the actions text per section comes from an editable YAML file
(:data:`DEFAULT_ACTIONS`, or ``actions_path``).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from peelian import __version__
from peelian.analysis.disclosure import DEFAULT_THRESHOLD, suppress_small_counts
from peelian.analysis.measures import verdict_evidence
from peelian.data.frames import is_synthetic_source, synthetic_sources
from peelian.data.results import ResultRun, latest_result
from peelian.data.store import Store
from peelian.errors import ParameterError, SchemaError
from peelian.reports._charts import spc_chart_svg
from peelian.schemas.formatting import jinja_filters

__all__ = [
    "DEFAULT_ACTIONS",
    "METHOD_NOTES",
    "NcpmReport",
    "build_ncpm_context",
    "build_ncpm_report",
    "load_actions",
    "render_html",
    "render_pdf",
]

DEFAULT_ACTIONS = Path(str(resources.files("peelian.reports") / "data" / "ncpm_actions.yaml"))
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(data.police.uk street-level crime; ONS boundaries, lookups and population; "
    "Ministry of Housing, Communities and Local Government Indices of Deprivation). "
    "Contains OS data © Crown copyright and database right."
)
METHOD_NOTES: list[tuple[str, str]] = [
    (
        "Comparison with the baseline",
        "Each measure compares the 12 months to the period end with its baseline window (by "
        "default the 12 months to June 2019, as in the National Crime and Policing Measures). "
        "The change is tested with the exact conditional test of two Poisson counts "
        "(Przyborowski & Wilenski 1940) and reported as a rate ratio with its exact interval "
        "(Breslow & Day 1987, s. 2); counts carry exact Poisson (Garwood 1936) 95% intervals.",
    ),
    (
        "Over-dispersion",
        "Crime counts often vary more from month to month than a Poisson count would. For each "
        "measure and area peelian fits a quasi-Poisson model to up to 60 months (trend, "
        "month-of-year effects and the current 12 months) and estimates the dispersion as "
        "Pearson's X2 over its degrees of freedom (McCullagh & Nelder 1989, s. 9.2; "
        "Spiegelhalter 2005). Where the dispersion is significantly above 1 (p < 0.05) the test "
        "and the rate-ratio interval are widened by its square root, and the decision uses the "
        "widened p-value; the exact p-value is still shown. A change that is significant only "
        "under the Poisson assumption is therefore not called significant.",
    ),
    (
        "Many areas at once",
        "Below force level, p-values are adjusted for the number of areas compared with the "
        "Benjamini & Hochberg (1995) false discovery rate; the family is one measure across all "
        "the areas of one level (the six community safety partnerships in this report's tables); "
        "only adjusted results below 0.05 are called significant. The rate-ratio interval shown "
        "beside such a result is at the false-coverage-rate level of Benjamini & Yekutieli (2005), "
        "1 - Rq/m for R significant results among m areas, so it excludes 1 exactly when the "
        "result is called significant. Small-area rates are shrunk towards the force rate by "
        "empirical Bayes (Marshall 1991).",
    ),
    (
        "The figures beside each assessment",
        "Every table and sentence shows the interval and p-value its assessment used: the exact "
        "Poisson test where no over-dispersion was found, the quasi-Poisson (dispersion-widened) "
        "test where it was, with the dispersion, and the FDR-adjusted p-value below force level.",
    ),
    (
        "Small numbers",
        "Counts from 1 to 4 derived from force records (person-level data) are not shown below "
        "force level, nor anything they could be worked out from, as official statistics do "
        "(GSS 2014, Statistical disclosure control for tables produced from administrative "
        "data); they read '<5'. police.uk counts are public already and are shown in full.",
    ),
    (
        "Statistical process control",
        "Monthly counts are plotted on c-charts (or XmR charts for rates and percentages) with "
        "the centre line and 3-sigma limits of the baseline; signals follow Anhøj & Olesen "
        "(2014) run rules (unusually long runs, too few crossings) and points outside limits.",
    ),
    (
        "Satisfaction",
        "Survey percentages carry Wilson (1927) score intervals; differences between periods "
        "are tested on the proportions.",
    ),
    (
        "Assessment",
        "'Improving' and 'worsening' are used only for significant changes in the good or bad "
        "direction of each measure; everything else is 'no significant change', however large "
        "the percentage looks.",
    ),
]


@dataclass(frozen=True)
class NcpmReport:
    """A built report: its period, its bytes (PDF or HTML) and the context it was built from."""

    period_end: str
    fmt: str
    content: bytes
    context: dict[str, Any] = field(repr=False)


def load_actions(path: str | Path | None = None) -> dict[str, Any]:
    """The actions file (default :data:`DEFAULT_ACTIONS`), checked."""
    path = Path(path) if path else DEFAULT_ACTIONS
    if not path.is_file():
        raise ParameterError(
            f"The actions file {path} does not exist.",
            f"Pass an existing YAML file to --actions, or copy the shipped one ({DEFAULT_ACTIONS}).",
        )
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise SchemaError(
            f"The actions file {path} is not valid YAML: {exc}".splitlines()[0],
            "Fix the YAML (indentation, quotes) or start again from the shipped file.",
        ) from exc
    sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(sections, list) or not sections:
        raise SchemaError(
            f"The actions file {path} has no 'sections' list.",
            "Each section needs number, title, ncpm and actions; see the shipped file.",
        )
    for i, sec in enumerate(sections, 1):
        missing = [k for k in ("number", "title") if not isinstance(sec, dict) or k not in sec]
        if missing or ("ncpm" not in sec and "measures" not in sec):
            raise SchemaError(
                f"Section {i} of {path} lacks {', '.join(missing) or 'ncpm or measures'}.",
                "Each section needs number, title, and ncpm (or a measures list).",
            )
    return data


def _paragraphs(text: str | None) -> list[str]:
    if not text:
        return []
    return [" ".join(p.split()) for p in str(text).split("\n\n") if p.strip()]


def _catalogue_ncpm() -> dict[str, int]:
    """Measure name -> NCPM number, from the shipped measures catalogue."""
    from peelian.schemas.measure_definitions import load_measure_definitions

    return {d.name: int(d.ncpm) for d in load_measure_definitions() if d.ncpm is not None}


def _month_label(month: str) -> str:
    return dt.datetime.strptime(month, "%Y-%m").strftime("%B %Y")


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        out.append(
            {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}
        )
    return out


def build_ncpm_context(
    store: Store,
    *,
    period_end: str | None = None,
    actions_path: str | Path | None = None,
    run: ResultRun | None = None,
    small_count_threshold: int | None = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Everything the report template needs, from the newest measures run and the actions.

    Each row carries the interval and p-value its verdict used (``verdict_*``, see
    :func:`peelian.analysis.measures.verdict_evidence`). The report is for publication, so
    person-derived counts from 1 to ``small_count_threshold - 1`` below force level are
    suppressed (:func:`peelian.analysis.disclosure.suppress_small_counts`); None shows them."""
    actions = load_actions(actions_path)
    run = run or latest_result(store, "measures", "all")
    values = run.frames.get("values", pd.DataFrame())
    monthly = run.frames.get("monthly", pd.DataFrame())
    if values.empty:
        raise ParameterError(
            f"The measures run {run.id} has no values.",
            "Recompute with `peelian measures --save`.",
        )
    periods = sorted(values["period_end"].astype(str).unique())
    if period_end is None:
        period_end = periods[-1]
    if period_end not in periods:
        raise ParameterError(
            f"The measures were computed for period end {', '.join(periods)}, not {period_end}.",
            f"Compute them for {period_end} with `peelian measures --period-end "
            f"{period_end} --save`, or pass --period-end {periods[-1]}.",
        )
    values = values[values["period_end"].astype(str) == period_end]
    fdr = run.summary.get("fdr", 0.05) if isinstance(run.summary, dict) else 0.05
    values = verdict_evidence(values, fdr=float(fdr))
    if small_count_threshold is not None:
        groups = values["measure"].astype(str) + "|" + values["area_level"].astype(str)
        values = suppress_small_counts(values, small_count_threshold, groups=groups)
    ncpm_of = _catalogue_ncpm()
    force_rows = values[values["area_level"] == "force"]
    sections = []
    any_synthetic = False
    synthetic_sources_here = synthetic_sources(store)
    for sec in actions["sections"]:
        names = sec.get("measures") or [m for m, n in ncpm_of.items() if n == sec.get("ncpm")]
        rows = force_rows[force_rows["measure"].isin(names)]
        rows = rows.assign(_order=rows["measure"].map({m: i for i, m in enumerate(names)}))
        rows = rows.sort_values("_order").drop(columns="_order")
        measures = []
        for row in _records(rows):
            series = monthly[
                (monthly["measure"] == row["measure"]) & (monthly["area_level"] == "force")
            ]
            chart = None
            if len(series) >= 2:
                svg = spc_chart_svg(
                    series, title=f"{row['label']}: monthly", unit=row.get("unit") or "count"
                )
                chart = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
            csp = values[(values["measure"] == row["measure"]) & (values["area_level"] == "csp")]
            synthetic = is_synthetic_source(row.get("source"), synthetic_sources_here)
            any_synthetic |= synthetic
            measures.append(
                {
                    **row,
                    "chart": chart,
                    "synthetic": synthetic,
                    "csp": _records(csp.sort_values("area_name")),
                }
            )
        sections.append(
            {
                "number": sec["number"],
                "title": sec["title"],
                "ncpm": sec.get("ncpm"),
                "measures": measures,
                "actions": _paragraphs(sec.get("actions")),
                "missing": [n for n in names if n not in set(rows["measure"])],
                "victims_code": _victims_code(store) if sec.get("ncpm") == 6 else None,
            }
        )
    citations = run.summary.get("citations") if isinstance(run.summary, dict) else None
    return {
        "title": actions.get("title", "National Crime Measures"),
        "organisation": actions.get("organisation", ""),
        "actions_source": actions.get("source", ""),
        "period_end": period_end,
        "period_label": _month_label(period_end),
        "sections": sections,
        "method_notes": METHOD_NOTES,
        "citations": citations if isinstance(citations, list) else [],
        "attribution": ATTRIBUTION,
        "synthetic": any_synthetic,
        "small_count_threshold": small_count_threshold,
        "run": {
            "id": run.id,
            "created_at": run.created_at.isoformat(timespec="minutes"),
            "peelian_version": run.peelian_version,
            "params": run.params,
        },
        "generated_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "version": __version__,
    }


def _victims_code(store: Store) -> dict[str, Any] | None:
    """Victims' Code compliance (force level) for the victim satisfaction section, or None
    when the duties have not been computed (``peelian victims duties --refresh``)."""
    from peelian.casework.victims import compliance
    from peelian.errors import NotFoundError

    try:
        comp = compliance(store)
    except NotFoundError:
        return None
    return {"summary": comp["summary"], "by_duty": comp["tables"]["by_duty"]}


def render_html(context: dict[str, Any]) -> str:
    """The report as one self-contained HTML document (charts inline)."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(
        loader=FileSystemLoader(str(resources.files("peelian.reports") / "templates")),
        autoescape=select_autoescape(["html"]),
    )
    env.filters.update(jinja_filters())
    return env.get_template("ncpm.html").render(**context)


def render_pdf(html: str) -> bytes:
    """HTML to PDF with WeasyPrint (offline: every resource is inline)."""
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    return HTML(string=html, base_url=None).write_pdf()  # type: ignore[no-any-return]


def build_ncpm_report(
    store: Store,
    *,
    period_end: str | None = None,
    fmt: str = "pdf",
    actions_path: str | Path | None = None,
) -> NcpmReport:
    """Build the report as PDF or HTML bytes."""
    if fmt not in ("pdf", "html"):
        raise ParameterError(f"The report format must be pdf or html. Got {fmt!r}.")
    context = build_ncpm_context(store, period_end=period_end, actions_path=actions_path)
    html = render_html(context)
    content = render_pdf(html) if fmt == "pdf" else html.encode("utf-8")
    return NcpmReport(period_end=context["period_end"], fmt=fmt, content=content, context=context)
