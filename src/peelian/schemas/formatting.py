"""The one formatter of numbers, changes, intervals and p-values (STYLE practice 23).

Every surface (the Jinja pages, where each function is registered as a filter of the same name;
the NCPM report; the CLI; the measures narrative) formats through these functions, so a figure
reads the same wherever it is shown. The conventions follow the ONS's *Communicating
uncertainty and change* and the GSS *Presenting data* guidance:

- counts with thousands separators (``141,258``); a missing value is an en dash (``–``);
- a change carries one sign: an arrow for its direction and the unsigned size
  (``↓ 25.0%``, never ``↓ -25.0%``), or a plus/minus sign without the arrow (``-25.0%``);
- an interval is written with "to" (``0.51 to 0.83``), so a negative bound never reads as a
  range dash; an unbounded end is ``∞`` (``0.03 to ∞``); a bound that cannot be computed
  makes the whole interval ``not estimable``;
- p-values as ``p < 0.001`` or ``p = 0.042`` (two significant figures above 0.01, three
  decimals below; ``p > 0.99`` at the top);
- distances in whole metres (``882 m``), kilometres from 10 km (``12.3 km``);
- levels as percentages (``Benjamini–Hochberg FDR at 5%``), deciles as whole numbers
  (``IMD decile 8``).

The vocabulary layer: no I/O, no imports above the standard library.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "MISSING",
    "NOT_ESTIMABLE",
    "fdr_label",
    "fmt_change",
    "fmt_count",
    "fmt_days",
    "fmt_decile",
    "fmt_distance",
    "fmt_interval",
    "fmt_level",
    "fmt_number",
    "fmt_p",
    "fmt_p_value",
    "fmt_pct",
    "fmt_share",
    "fmt_small",
    "fmt_yes_no",
    "humanise",
    "is_missing",
    "jinja_filters",
]

#: What a missing value prints as.
MISSING = "–"
#: What an interval prints as when a bound cannot be computed.
NOT_ESTIMABLE = "not estimable"
_MINUS = "-"  # ASCII hyphen-minus: CSV, terminals and screen readers read it


def is_missing(x: Any) -> bool:
    """None, NaN, or something that is not a number (a bool is not a number here).

    >>> is_missing(None), is_missing(float("nan")), is_missing(0), is_missing("x")
    (True, True, False, True)
    """
    if x is None or isinstance(x, bool):
        return True
    try:
        return math.isnan(float(x))
    except Exception:  # TypeError, ValueError, or a template engine's "undefined" value
        return True


def fmt_number(x: Any, digits: int = 0, *, missing: str = MISSING) -> str:
    """A number with thousands separators and ``digits`` decimals; ``∞`` for infinity.

    >>> fmt_number(141258), fmt_number(3.14159, 2), fmt_number(-0.004, 2), fmt_number(None)
    ('141,258', '3.14', '0.00', '–')
    >>> fmt_number(float("inf"))
    '∞'
    """
    if is_missing(x):
        return missing
    v = float(x)
    if math.isinf(v):
        return "∞" if v > 0 else f"{_MINUS}∞"
    text = f"{abs(v):,.{digits}f}"
    if v < 0 and any(ch not in "0.," for ch in text):
        return _MINUS + text
    return text


def fmt_count(x: Any, *, missing: str = MISSING) -> str:
    """A count: whole numbers with separators; a non-integer (a mean, a rate) to 1 decimal.

    >>> fmt_count(141258), fmt_count(12.0), fmt_count(2.5), fmt_count(float("nan"))
    ('141,258', '12', '2.5', '–')
    """
    if is_missing(x):
        return missing
    v = float(x)
    return fmt_number(v, 0 if v.is_integer() else 1)


def fmt_days(x: Any, *, missing: str = MISSING) -> str:
    """Harm in days of imprisonment (Cambridge Crime Harm Index).

    >>> fmt_days(14174692.69), fmt_days(1), fmt_days(None)
    ('14,174,693 days', '1 day', '–')
    """
    if is_missing(x):
        return missing
    n = fmt_number(x, 0)
    return f"{n} day" if n == "1" else f"{n} days"


def fmt_change(pct: Any, digits: int = 1, *, arrow: bool = True, missing: str = MISSING) -> str:
    """A percentage change. With ``arrow``: the direction as an arrow and the unsigned size;
    without: a signed percentage. Rounded half away from zero at ``digits`` decimals; a change
    that rounds to zero is ``→ 0.0%`` (``0.0%``).

    >>> fmt_change(-25.0), fmt_change(3.24), fmt_change(0.01), fmt_change(None)
    ('↓ 25.0%', '↑ 3.2%', '→ 0.0%', '–')
    >>> fmt_change(-25.0, arrow=False), fmt_change(5, 0, arrow=False)
    ('-25.0%', '+5%')
    >>> fmt_change(float("inf"))
    '↑ from zero'
    """
    if is_missing(pct):
        return missing
    v = float(pct)
    if math.isinf(v):
        return "↑ from zero" if arrow else "up from zero"
    scale = 10**digits
    r = math.copysign(math.floor(abs(v) * scale + 0.5) / scale, v)
    size = f"{abs(r):,.{digits}f}%"
    if r == 0:
        return f"→ {size}" if arrow else size
    if arrow:
        return f"{'↑' if r > 0 else '↓'} {size}"
    return f"{'+' if r > 0 else _MINUS}{size}"


def fmt_pct(pct: Any, *, missing: str = "n/a") -> str:
    """A percentage change in running text, whole percent: ``-28%``, ``+5%``, ``no change``.

    >>> fmt_pct(-28.4), fmt_pct(4.6), fmt_pct(0.2), fmt_pct(None)
    ('-28%', '+5%', 'no change', 'n/a')
    """
    if is_missing(pct) or math.isinf(float(pct)):
        return missing
    text = fmt_change(pct, 0, arrow=False)
    return "no change" if text == "0%" else text


def fmt_share(fraction: Any, digits: int = 1, *, missing: str = MISSING) -> str:
    """A fraction (0.123) as a percentage (``12.3%``).

    >>> fmt_share(0.123), fmt_share(0.05, 0), fmt_share(None)
    ('12.3%', '5%', '–')
    """
    if is_missing(fraction):
        return missing
    return f"{fmt_number(float(fraction) * 100, digits)}%"


def fmt_level(level: Any, *, missing: str = MISSING) -> str:
    """A level, threshold or rate given as a fraction, in the fewest decimals that show it.

    >>> fmt_level(0.05), fmt_level(0.95), fmt_level(0.001), fmt_level(0.999), fmt_level(True)
    ('5%', '95%', '0.1%', '99.9%', '–')
    """
    if is_missing(level):
        return missing
    pct = float(level) * 100
    for digits in range(0, 4):
        if abs(round(pct, digits) - pct) < 1e-9:
            return f"{pct:.{digits}f}%"
    return f"{pct:.3g}%"


def fdr_label(q: Any, *, missing: str = "Benjamini–Hochberg FDR at 5%") -> str:
    """The false-discovery-rate control applied, from its level ``q`` (a run's ``fdr`` or
    ``alpha`` setting). A flag instead of a level (``True``) is not a level: the shipped
    default of 5% is said.

    >>> fdr_label(0.05), fdr_label(0.1), fdr_label(True)
    ('Benjamini–Hochberg FDR at 5%', 'Benjamini–Hochberg FDR at 10%', 'Benjamini–Hochberg FDR at 5%')
    """
    if is_missing(q) or not 0 < float(q) < 1:
        return missing
    return f"Benjamini–Hochberg FDR at {fmt_level(q)}"


def fmt_interval(low: Any, high: Any, digits: int = 2, *, missing: str = NOT_ESTIMABLE) -> str:
    """An interval as ``low to high``; an infinite upper end is ``∞``; a missing (NaN) bound
    makes it ``not estimable``.

    >>> fmt_interval(0.51, 0.83), fmt_interval(0.0256, float("inf")), fmt_interval(None, 2)
    ('0.51 to 0.83', '0.03 to ∞', 'not estimable')
    >>> fmt_interval(-3.2, 1.5, 1), fmt_interval(6.9, 22.2, 1)
    ('-3.2 to 1.5', '6.9 to 22.2')
    """
    if is_missing(low) or is_missing(high):
        return missing
    return f"{fmt_number(float(low), digits)} to {fmt_number(float(high), digits)}"


def fmt_p_value(p: Any, *, missing: str = MISSING) -> str:
    """A p-value for a table cell (the column says it is p): ``< 0.001``, ``0.042``, ``0.47``.

    >>> fmt_p_value(0.0004), fmt_p_value(0.0421), fmt_p_value(0.4731), fmt_p_value(0.999)
    ('< 0.001', '0.042', '0.47', '> 0.99')
    >>> fmt_p_value(None), fmt_p_value(0.0096)
    ('–', '0.010')
    """
    if is_missing(p):
        return missing
    v = float(p)
    if v < 0.001:
        return "< 0.001"
    if v > 0.99:
        return "> 0.99"
    if v < 0.01 or round(v, 2) < 0.1:
        return f"{v:.3f}"
    return f"{v:.2f}"


def fmt_p(p: Any, *, missing: str = "p not computed") -> str:
    """A p-value in running text: ``p < 0.001``, ``p = 0.042``, ``p > 0.99``.

    >>> fmt_p(0.0004), fmt_p(0.0421), fmt_p(0.4731), fmt_p(float("nan"))
    ('p < 0.001', 'p = 0.042', 'p = 0.47', 'p not computed')
    """
    if is_missing(p):
        return missing
    text = fmt_p_value(p)
    return f"p {text}" if text[0] in "<>" else f"p = {text}"


def fmt_distance(metres: Any, *, missing: str = MISSING) -> str:
    """A distance: whole metres below 10 km, kilometres to 1 decimal from 10 km.

    >>> fmt_distance(882.3753250782007), fmt_distance(1250), fmt_distance(12345), fmt_distance(None)
    ('882 m', '1,250 m', '12.3 km', '–')
    """
    if is_missing(metres):
        return missing
    m = float(metres)
    if abs(m) >= 10_000:
        return f"{fmt_number(m / 1000, 1)} km"
    return f"{fmt_number(m, 0)} m"


def fmt_decile(x: Any, *, missing: str = MISSING) -> str:
    """A decile (or any rank) as a whole number.

    >>> fmt_decile(8.0), fmt_decile("3"), fmt_decile(None)
    ('8', '3', '–')
    """
    return missing if is_missing(x) else str(round(float(x)))


def fmt_yes_no(x: Any, *, missing: str = MISSING) -> str:
    """A flag as ``yes`` / ``no``.

    >>> fmt_yes_no(True), fmt_yes_no("false"), fmt_yes_no(None)
    ('yes', 'no', '–')
    """
    if x is None:
        return missing
    if isinstance(x, str):
        return "yes" if x.strip().lower() in ("true", "1", "yes", "y") else "no"
    return "yes" if bool(x) else "no"


def fmt_small(x: Any, threshold: int, *, missing: str = MISSING) -> str:
    """A count shown as ``<threshold`` when it is above zero and below the threshold
    (statistical disclosure control: small counts are suppressed, zeros are not disclosive).

    >>> fmt_small(2, 5), fmt_small(0, 5), fmt_small(12, 5), fmt_small(None, 5)
    ('<5', '0', '12', '–')
    """
    if is_missing(x):
        return missing
    v = float(x)
    if 0 < v < threshold:
        return f"<{threshold}"
    return fmt_count(v)


def humanise(name: Any) -> str:
    """A column or setting name as a human label (no snake_case shown).

    >>> humanise("share_n_top_5pct"), humanise("p_adjusted"), humanise("cell_id")
    ('Share n top 5pct', 'P adjusted', 'Cell ID')
    """
    text = str(name).replace("_", " ").replace("-", " ").strip()
    words = ["ID" if w.lower() == "id" else w for w in text.split()]
    out = " ".join(words)
    return out[:1].upper() + out[1:]


def jinja_filters() -> dict[str, Any]:
    """The functions to register as Jinja filters (``{{ x | fmt_interval(y) }}``)."""
    return {
        name: globals()[name]
        for name in __all__
        if name.startswith("fmt_") or name in ("fdr_label", "humanise")
    }
