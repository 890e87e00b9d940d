"""peelian.reports: the National Crime Measures report (HTML and PDF) from persisted results.

    from peelian.reports import build_ncpm_report
    report = build_ncpm_report(store, period_end="2021-12", fmt="pdf")

See ``docs/guide/reports.md``.
"""

from __future__ import annotations

from peelian.reports._ncpm import (
    DEFAULT_ACTIONS,
    METHOD_NOTES,
    NcpmReport,
    build_ncpm_context,
    build_ncpm_report,
    load_actions,
    render_html,
    render_pdf,
)

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
