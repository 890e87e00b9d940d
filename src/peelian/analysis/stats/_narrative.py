"""Plain-English wording shared by the statistics and the measures: numbers, p-values and
intervals as a performance report prints them, and verdicts that never claim a change the test
does not support."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from peelian.schemas import formatting as _fmt

if TYPE_CHECKING:
    from peelian.analysis.stats._poisson import CountComparison

__all__ = [
    "fmt_count",
    "fmt_interval",
    "fmt_p",
    "fmt_pct",
    "narrate_comparison",
    "small_numbers_note",
    "verdict",
]


def fmt_count(x: float) -> str:
    """Whole numbers with thousands separators; non-integers to 1 decimal (the one formatter,
    :func:`peelian.schemas.formatting.fmt_count`)."""
    return _fmt.fmt_count(x)


def fmt_interval(low: float, high: float) -> str:
    """``6.9 to 22.2`` (1 decimal below 100, whole numbers above; an infinite end is ``∞``),
    through the one formatter :func:`peelian.schemas.formatting.fmt_interval`.

    >>> fmt_interval(6.9, 22.2), fmt_interval(120.4, 340.6), fmt_interval(0.5, float("inf"))
    ('6.9 to 22.2', '120 to 341', '0.5 to ∞')
    """
    finite = [abs(v) for v in (low, high) if v is not None and math.isfinite(v)]
    digits = 1 if not finite or max(finite) < 100 else 0
    return _fmt.fmt_interval(low, high, digits)


def fmt_p(p: float) -> str:
    """``p = 0.47``, ``p = 0.012``, ``p < 0.001`` (:func:`peelian.schemas.formatting.fmt_p`)."""
    return _fmt.fmt_p(p)


def fmt_pct(pct: float | None) -> str:
    """``-28%``, ``+5%``, ``no change`` (:func:`peelian.schemas.formatting.fmt_pct`)."""
    return _fmt.fmt_pct(pct)


def verdict(p: float, change: float, alpha: float = 0.05, adjusted_p: float | None = None) -> str:
    """ "within normal variation" unless the (adjusted, when given) p-value is below alpha."""
    decide = adjusted_p if adjusted_p is not None and not math.isnan(adjusted_p) else p
    if decide is None or math.isnan(decide) or decide >= alpha or change == 0:
        return "This is within normal variation"
    return f"This is a statistically significant {'rise' if change > 0 else 'fall'}"


def narrate_comparison(
    c: CountComparison, label_a: str = "the first period", label_b: str = "the second"
) -> str:
    """One sentence for :func:`~peelian.analysis.stats.compare_counts`."""
    equal = c.exposure_a == c.exposure_b
    rates = (
        ""
        if equal
        else (
            f" (rates {c.a / c.exposure_a:.3g} and {c.b / c.exposure_b:.3g} per unit of exposure)"
        )
    )
    head = (
        f"{fmt_count(c.a)} in {label_a} compared with {fmt_count(c.b)} in {label_b}"
        f"{rates} ({fmt_pct(c.change_pct)})."
    )
    ratio = ""
    ci = c.ci_ratio_adjusted if c.widened else c.ci_ratio
    if c.rate_ratio is not None and ci is not None:
        hi = "inf" if ci[1] is None else f"{ci[1]:.2f}"
        ratio = f"; rate ratio {c.rate_ratio:.2f}, {c.level:.0%} CI {ci[0]:.2f}-{hi}"
    change = c.change  # the rate change over A's exposure: same sign as the rate ratio - 1
    said = verdict(c.decision_p, change, 1 - c.level)
    if c.widened:
        said = said[0].lower() + said[1:]
        tail = (
            f" Allowing for the usual month-to-month variation (dispersion {c.dispersion:.1f}), "
            f"{said} ({fmt_p(c.decision_p)} allowing for it; exact Poisson test "
            f"{fmt_p(c.p_value)}{ratio})."
        )
    else:
        tail = (
            f" {said} (exact test {fmt_p(c.p_value)}{ratio}; {c.level:.0%} intervals "
            f"{fmt_interval(*c.ci_a)} and {fmt_interval(*c.ci_b)})."
        )
    note = small_numbers_note(ci, widened=c.widened, total=c.a + c.b)
    return head[0].upper() + head[1:] + tail + (f" {note}." if note else "")


def small_numbers_note(
    ci: tuple[float, float | None] | None, *, widened: bool, total: float | None = None
) -> str:
    """The one rule for saying that only a large change could be seen (no final full stop; ""
    when there is nothing to say).

    ``ci`` is the rate ratio's interval as the verdict used it (``None`` high = unbounded). It
    is wide when its upper bound is more than twice its lower (or the lower is 0); fewer than 20
    events in all (``total``) also count as small. Over-dispersed (``widened``) counts with a
    wide interval are blamed on month-to-month variation rather than on small numbers.

    >>> small_numbers_note((0.5, 1.5), widened=False, total=12)
    'The numbers are small, so only a large change could be told from chance'
    >>> small_numbers_note((0.9, 1.1), widened=False, total=400)
    ''
    """
    wide = ci is not None and (ci[1] is None or ci[0] <= 0 or ci[1] / ci[0] > 2)
    if widened and wide:
        return (
            "The numbers vary a lot from month to month, so only a large change could be told "
            "from ordinary variation"
        )
    if wide or (total is not None and total < 20):
        return "The numbers are small, so only a large change could be told from chance"
    return ""
