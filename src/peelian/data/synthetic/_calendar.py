"""England and Wales bank holidays and working days (for Victims' Code deadlines).

The Code of Practice for Victims of Crime in England and Wales (Ministry of Justice, 2020, in
force 1 April 2021) sets deadlines in *working days*: weekdays that are not bank holidays. The
bank holidays are computed from the rules published on gov.uk/bank-holidays (substitute days when
a holiday falls at a weekend) plus the one-off changes made by proclamation, so any year works:

* New Year's Day (1 January, or the following Monday/Tuesday);
* Good Friday and Easter Monday (Easter by the anonymous Gregorian algorithm, Meeus 1991);
* early May bank holiday (first Monday in May; 8 May in 1995 and Friday 8 May 2020 for VE Day);
* spring bank holiday (last Monday in May; moved to 4 June 2002, 4 June 2012 and 2 June 2022);
* summer bank holiday (last Monday in August);
* Christmas Day and Boxing Day, with substitute days;
* one-off days: 3 June 2002, 5 June 2012 and 3 June 2022 (jubilees), 31 December 1999,
  29 April 2011 (royal wedding), 19 September 2022 (state funeral of Queen Elizabeth II),
  8 May 2023 (coronation of King Charles III).
"""

from __future__ import annotations

import datetime as dt

import numpy as np

__all__ = ["add_working_days", "bank_holidays", "easter_sunday", "working_days_between"]

_EARLY_MAY_MOVED = {1995: dt.date(1995, 5, 8), 2020: dt.date(2020, 5, 8)}
_SPRING_MOVED = {
    2002: dt.date(2002, 6, 4),
    2012: dt.date(2012, 6, 4),
    2022: dt.date(2022, 6, 2),
}
_ONE_OFF = (
    dt.date(1999, 12, 31),
    dt.date(2002, 6, 3),
    dt.date(2011, 4, 29),
    dt.date(2012, 6, 5),
    dt.date(2022, 6, 3),
    dt.date(2022, 9, 19),
    dt.date(2023, 5, 8),
)


def easter_sunday(year: int) -> dt.date:
    """Easter Sunday of a Gregorian year (anonymous algorithm; Meeus, *Astronomical Algorithms*)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def _first_monday(year: int, month: int) -> dt.date:
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(7 - first.weekday()) % 7)


def _last_monday(year: int, month: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=last.weekday())


def _year_holidays(year: int) -> list[dt.date]:
    out: list[dt.date] = []
    new_year = dt.date(year, 1, 1)
    shift = {5: 2, 6: 1}.get(new_year.weekday(), 0)
    out.append(new_year + dt.timedelta(days=shift))
    easter = easter_sunday(year)
    out += [easter - dt.timedelta(days=2), easter + dt.timedelta(days=1)]
    out.append(_EARLY_MAY_MOVED.get(year, _first_monday(year, 5)))
    out.append(_SPRING_MOVED.get(year, _last_monday(year, 5)))
    out.append(_last_monday(year, 8))
    christmas = dt.date(year, 12, 25)
    wd = christmas.weekday()
    if wd == 5:  # Saturday: substitutes Monday 27 and Tuesday 28
        out += [dt.date(year, 12, 27), dt.date(year, 12, 28)]
    elif wd == 6:  # Sunday: Boxing Day Monday 26, Christmas substitute Tuesday 27
        out += [dt.date(year, 12, 26), dt.date(year, 12, 27)]
    elif wd == 4:  # Friday: Boxing Day (Saturday) substitute Monday 28
        out += [christmas, dt.date(year, 12, 28)]
    else:
        out += [christmas, dt.date(year, 12, 26)]
    out += [d for d in _ONE_OFF if d.year == year]
    return out


def bank_holidays(year_from: int, year_to: int) -> np.ndarray:
    """Bank holidays in England and Wales for the years ``year_from..year_to`` (inclusive).

    Returns a sorted ``datetime64[D]`` array, usable as ``holidays=`` of :func:`numpy.busday_offset`.
    """
    days = sorted({d for y in range(year_from, year_to + 1) for d in _year_holidays(y)})
    return np.array(days, dtype="datetime64[D]")


def add_working_days(dates: np.ndarray, n: int | np.ndarray, holidays: np.ndarray) -> np.ndarray:
    """The ``n``-th working day strictly after each date (the Victims' Code deadline day).

    An event on Friday evening with a 1-working-day deadline must be notified by Monday (or by
    Tuesday after a bank-holiday Monday); an event on Saturday 24 December 2022 by Wednesday 28th.
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    return np.busday_offset(days, n, roll="backward", holidays=holidays)


def working_days_between(start: np.ndarray, end: np.ndarray, holidays: np.ndarray) -> np.ndarray:
    """Working days from ``start`` (exclusive of its own day) up to and including ``end``."""
    s = np.asarray(start, dtype="datetime64[D]")
    e = np.asarray(end, dtype="datetime64[D]")
    return np.busday_count(s + 1, e + 1, holidays=holidays)
