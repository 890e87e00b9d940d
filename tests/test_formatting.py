"""The one formatter (STYLE practice 23): its doctests, and the renderings issue 12 item 9 asked
for."""

from __future__ import annotations

import doctest

import peelian.schemas.formatting as F


def test_doctests() -> None:
    result = doctest.testmod(F, verbose=False)
    assert result.attempted >= 20 and result.failed == 0


def test_the_renderings_issue_12_asked_for() -> None:
    assert F.fmt_change(-25.0) == "↓ 25.0%"
    assert F.fmt_interval(0.0256, float("inf")) == "0.03 to ∞"
    assert F.fmt_interval(float("nan"), 1.2) == "not estimable"
    assert F.fmt_p(0.0004) == "p < 0.001" and F.fmt_p(0.0421) == "p = 0.042"
    assert F.fmt_distance(882.3753250782007) == "882 m"
    assert F.fdr_label(True) == "Benjamini–Hochberg FDR at 5%"
    assert F.fdr_label(0.05) == "Benjamini–Hochberg FDR at 5%"
    assert f"IMD decile {F.fmt_decile(8.0)}" == "IMD decile 8"
    assert F.fmt_small(2, 5) == "<5" and F.fmt_small(0, 5) == "0"


def test_every_filter_is_a_formatter() -> None:
    filters = F.jinja_filters()
    assert {"fmt_interval", "fmt_p", "fmt_p_value", "fmt_change", "fdr_label"} <= set(filters)
    assert all(callable(f) for f in filters.values())
