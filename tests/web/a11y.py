"""axe-core accessibility check for the browser tests (decision 0017).

``assert_accessible(page)`` runs axe-core (the copy of ``axe.min.js`` that the dev dependency
``axe-playwright-python`` ships, so nothing is fetched at test time) on the page as it is now,
and fails listing every violation of impact *serious* or *critical*: the rule id, what it asks
for, and the nodes (CSS selectors) that break it. *Moderate* and *minor* findings are not
failures; they are returned so a caller may print or count them.

Usage in a Playwright test, after the page (and its charts) have rendered::

    from a11y import assert_accessible

    pg.goto(server + "/measures")
    assert_accessible(pg, context="measures page")

axe is injected through the DevTools protocol (``page.evaluate`` of the script text), which the
page's Content-Security-Policy does not govern, so the CSP stays as strict as in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import axe_playwright_python

AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")

#: Findings that are not ours to fix, one per (rule id, CSS selector), each with its reason. A
#: node is let through when it lies inside an element matching the selector. Keep this short:
#: every entry is a place where axe is told not to look.
EXCLUDED: dict[tuple[str, str], str] = {}

_RUN = """
async ([options, excluded]) => {
  const results = await window.axe.run(document, options);
  const skip = (rule, target) => {
    if (!Array.isArray(target) || target.length !== 1 || typeof target[0] !== "string") {
      return false;
    }
    const el = document.querySelector(target[0]);
    return !!el && excluded.some(([id, sel]) => id === rule && el.closest(sel));
  };
  return results.violations.map(v => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    helpUrl: v.helpUrl,
    nodes: v.nodes
      .filter(n => !skip(v.id, n.target))
      .map(n => ({target: n.target, summary: n.failureSummary || ""})),
  })).filter(v => v.nodes.length > 0);
}
"""


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Every axe-core violation on ``page`` now (all impacts), less the documented exclusions."""
    page.wait_for_load_state("load")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
    options = {"resultTypes": ["violations"]}
    excluded = [[rule, selector] for rule, selector in EXCLUDED]
    result: list[dict[str, Any]] = page.evaluate(_RUN, [options, excluded])
    return result


def _describe(v: dict[str, Any]) -> str:
    lines = [f"- {v['id']} ({v['impact']}): {v['help']} [{v['helpUrl'].split('?')[0]}]"]
    for node in v["nodes"]:
        target = " >> ".join(str(t) for t in node["target"])
        summary = " ".join(node["summary"].split())
        lines.append(f"    {target}: {summary[:300]}")
    return "\n".join(lines)


def assert_accessible(page: Any, *, context: str = "") -> list[dict[str, Any]]:
    """Fail if axe-core finds any serious or critical violation on ``page``; returns the
    remaining (moderate and minor) violations."""
    found = axe_violations(page)
    failing = [v for v in found if v["impact"] in FAILING_IMPACTS]
    if failing:
        where = f"{context} ({page.url})" if context else page.url
        report = "\n".join(_describe(v) for v in failing)
        raise AssertionError(
            f"{len(failing)} serious or critical accessibility violation(s) on {where}:\n"
            f"{report}\nFix the template, CSS or script (see docs/guide/dashboard.md, "
            "Accessibility); exclusions need a reason in tests/web/a11y.py EXCLUDED."
        )
    return [v for v in found if v["impact"] not in FAILING_IMPACTS]
