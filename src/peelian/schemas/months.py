"""Months: the one parser of ``YYYY-MM`` for the CLI, the API, the jobs and the data layer.

Every month a user types (``--from``, ``--to``, ``--period-end``, ``month_from`` ...) goes
through :func:`parse_month`, and every pair through :func:`check_month_range`, so ``2022-13``,
``Aug-2021`` and a reversed range get the same clear message everywhere instead of an empty
selection ("no burglary between Aug-2021 and 2022-08"):

>>> parse_month("2021-08", "--from")
'2021-08'
>>> check_month_range("2021-08", "2022-08")
('2021-08', '2022-08')
>>> try:
...     parse_month("Aug-2021", "--from")
... except ValueError as exc:
...     print(exc)
The '--from' option must be YYYY-MM, a year and month. Got 'Aug-2021'. Did you mean 2021-08?

:data:`MONTH_PATTERN` is the same rule as a regular expression, for declared API parameters
(``Query(pattern=MONTH_PATTERN)``) so the OpenAPI schema states it.
"""

from __future__ import annotations

import re

from peelian.errors import ParameterError

__all__ = [
    "MONTH_PATTERN",
    "check_month",
    "month_index",
    "month_label",
    "check_month_range",
    "months_between",
    "parse_month",
]

#: A calendar month ``YYYY-MM`` (month 01 to 12), anchored; for ``Query(pattern=...)``.
MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"
_MONTH = re.compile(MONTH_PATTERN)
_NAMES = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}


def _what(name: str) -> str:
    return f"The '{name}' option" if name.startswith("--") else f"The '{name}' parameter"


def _guess(value: str) -> str | None:
    """The ``YYYY-MM`` a user probably meant (``Aug-2021``, ``2021/8``, ``08-2021``), or None."""
    s = value.strip().lower()
    m = re.fullmatch(r"([a-z]{3})[a-z]*[\s\-/.]*(\d{4})", s) or re.fullmatch(
        r"(\d{4})[\s\-/.]*([a-z]{3})[a-z]*", s
    )
    if m:
        word, year = (m.group(1), m.group(2)) if m.group(1).isalpha() else m.group(2, 1)
        if word in _NAMES:
            return f"{year}-{_NAMES[word]:02d}"
        return None
    m = re.fullmatch(r"(\d{4})[\-/.](\d{1,2})(?:[\-/.]\d{1,2})?", s)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    m = re.fullmatch(r"(\d{1,2})[\-/.](\d{4})", s)
    if m and 1 <= int(m.group(1)) <= 12:
        return f"{m.group(2)}-{int(m.group(1)):02d}"
    return None


def parse_month(value: object, name: str = "month") -> str:
    """``value`` as a ``YYYY-MM`` month, or a :class:`~peelian.errors.ParameterError` saying
    which option or parameter (``name``; names starting ``--`` are CLI options) is wrong, what
    was given and, when it can tell, the month probably meant.

    >>> parse_month("2022-12")
    '2022-12'
    """
    text = value.strip() if isinstance(value, str) else value
    if isinstance(text, str) and _MONTH.match(text):
        return text
    guess = _guess(text) if isinstance(text, str) else None
    if isinstance(text, str) and re.fullmatch(r"\d{4}-\d{2}", text):
        why = f"Got {value!r}: there is no month {text[5:]}."
        hint = "Months run from 01 to 12, for example 2022-12."
    else:
        why = f"Got {value!r}."
        hint = f"Did you mean {guess}?" if guess else "For example 2022-08."
    raise ParameterError(f"{_what(name)} must be YYYY-MM, a year and month. {why}", hint)


def check_month(value: str | None, name: str = "month") -> str | None:
    """:func:`parse_month` for an optional value: ``None`` and ``""`` give ``None``."""
    if value is None or value == "":
        return None
    return parse_month(value, name)


def check_month_range(
    month_from: str | None,
    month_to: str | None,
    names: tuple[str, str] = ("month_from", "month_to"),
) -> tuple[str | None, str | None]:
    """Both ends checked with :func:`check_month`, and the range not reversed (either end may be
    open). ``names`` are how the caller calls them (``("--from", "--to")`` in the CLI).

    >>> check_month_range(None, "2022-08")
    (None, '2022-08')
    """
    a = check_month(month_from, names[0])
    b = check_month(month_to, names[1])
    if a is not None and b is not None and a > b:
        raise ParameterError(
            f"The month range is reversed: {names[0]} {a} is after {names[1]} {b}, so it holds "
            "no month.",
            f"Swap them: {names[0]} {b} {names[1]} {a}.",
        )
    return a, b


def month_index(month: str) -> int:
    """Months since year 0 (``year * 12 + month - 1``), for arithmetic on months.

    >>> month_index("2022-01") - month_index("2021-12")
    1
    """
    m = parse_month(month)
    return int(m[:4]) * 12 + int(m[5:]) - 1


def month_label(index: int) -> str:
    """The inverse of :func:`month_index`.

    >>> month_label(month_index("2021-12") + 1)
    '2022-01'
    """
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(month_from: str, month_to: str) -> list[str]:
    """Every month from ``month_from`` to ``month_to`` inclusive (checked by
    :func:`check_month_range`).

    >>> months_between("2021-11", "2022-02")
    ['2021-11', '2021-12', '2022-01', '2022-02']
    """
    a, b = parse_month(month_from, "month_from"), parse_month(month_to, "month_to")
    check_month_range(a, b)
    return [month_label(i) for i in range(month_index(a), month_index(b) + 1)]
