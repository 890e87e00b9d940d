"""Working days for Victims' Code deadlines: weekdays that are not England and Wales bank holidays.

The bank holidays come from the ``holidays`` package (``country_holidays("GB", subdiv="ENG")``,
which follows gov.uk/bank-holidays, including the one-off days made by proclamation such as the
Platinum Jubilee holiday on 3 June 2022, the moved spring holiday on 2 June 2022 and the state
funeral of Queen Elizabeth II on 19 September 2022). England and Wales share one list (the
package's ``ENG`` and ``WLS`` subdivisions hold the same dates).

The Code does not define "working day" (``reference/victims-code.md``: unverified): Monday to
Friday excluding bank holidays is the assumption, named in the rules file and shown with results.

**Convention.** A duty "within N working days" of a trigger on day T is due on the N-th working
day strictly after T (T itself never counts, whether or not it is a working day). The victim
must be told on or before that day: the due day is the first working day on which N working
days after the trigger have passed. An event on Friday with a 1-working-day deadline is due on
Monday (Tuesday after a bank-holiday Monday); one on Saturday 24 December 2022 on Wednesday 28th.

>>> from datetime import date
>>> due_date(date(2022, 6, 1), 1)   # Thursday 2 and Friday 3 June 2022 were bank holidays
datetime.date(2022, 6, 6)
>>> due_date(date(2022, 9, 16), 1)  # Monday 19 September 2022: the state funeral
datetime.date(2022, 9, 20)
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np
import numpy.typing as npt

from peelian.errors import ParameterError

__all__ = [
    "CALENDAR_SOURCE",
    "add_working_days",
    "bank_holidays",
    "due_date",
    "is_working_day",
    "working_days_between",
]

#: What the calendar is, shown next to every deadline it computes.
CALENDAR_SOURCE = (
    "Working days: Monday to Friday except England and Wales bank holidays (python-holidays "
    f"{holidays.__version__}, GB/ENG, following gov.uk/bank-holidays)."
)
_MIN_YEAR, _MAX_YEAR = 1990, 2100


@lru_cache(maxsize=256)
def _year(year: int) -> tuple[np.datetime64, ...]:
    cal = holidays.country_holidays("GB", subdiv="ENG", years=year)
    return tuple(np.datetime64(d, "D") for d in sorted(cal))


def _holidays(year_from: int, year_to: int) -> np.ndarray:
    days = [d for y in range(year_from, year_to + 1) for d in _year(y)]
    return np.array(days, dtype="datetime64[D]")


def bank_holidays(year_from: int, year_to: int) -> np.ndarray:
    """England and Wales bank holidays in the years ``year_from..year_to`` (inclusive), as a
    sorted ``datetime64[D]`` array (the ``holidays=`` of :func:`numpy.busday_offset`).

    >>> [str(d) for d in bank_holidays(2022, 2022) if str(d) >= "2022-06-01"][:3]
    ['2022-06-02', '2022-06-03', '2022-08-29']
    """
    if not (_MIN_YEAR <= year_from <= year_to <= _MAX_YEAR):
        raise ParameterError(
            f"Bank holidays are known for the years {_MIN_YEAR} to {_MAX_YEAR}; "
            f"asked for {year_from} to {year_to}.",
            "Check the dates of the records (a year outside this range is a data error).",
        )
    return _holidays(int(year_from), int(year_to))


def _years(days: np.ndarray, n_max: int) -> tuple[int, int]:
    valid = days[~np.isnat(days)]
    if valid.size == 0:
        return 2020, 2020
    lo = int(valid.min().astype("datetime64[Y]").astype(int)) + 1970
    hi = int(valid.max().astype("datetime64[Y]").astype(int)) + 1970
    # N working days never span more than N/5 weeks + the holidays in them: a year per 200.
    return lo, min(hi + 1 + n_max // 200, _MAX_YEAR)


def add_working_days(dates: npt.ArrayLike, n: npt.ArrayLike) -> np.ndarray:
    """The ``n``-th working day strictly after each date (``datetime64[D]``; NaT stays NaT).

    ``n`` is a number or an array of the same length (e.g. 5, or 1 under enhanced rights);
    it must be >= 0 (0 gives the date itself when a working day, else the working day before).
    """
    days = np.asarray(dates, dtype="datetime64[D]")
    steps = np.asarray(n, dtype=np.int64)
    if steps.size and int(steps.min()) < 0:
        raise ParameterError(
            "The number of working days must be 0 or more.", "E.g. 5, or 1 under enhanced rights."
        )
    out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = ~np.isnat(days)
    if not ok.any():
        return out
    hol = bank_holidays(*_years(days, int(steps.max()) if steps.size else 0))
    steps_ok = np.broadcast_to(steps, days.shape)[ok]
    out[ok] = np.busday_offset(days[ok], steps_ok, roll="backward", holidays=hol)
    return out


def due_date(trigger: dt.date, working_days: int) -> dt.date:
    """The day a duty triggered on ``trigger`` is due (see the convention above)."""
    if isinstance(trigger, dt.datetime):
        trigger = trigger.date()
    day = add_working_days(np.array([trigger], dtype="datetime64[D]"), working_days)[0]
    result: dt.date = day.astype(dt.date)
    return result


def is_working_day(day: dt.date) -> bool:
    """True on a weekday that is not an England and Wales bank holiday."""
    hol = bank_holidays(day.year, day.year)
    return bool(np.is_busday(np.datetime64(day, "D"), holidays=hol))


def working_days_between(start: npt.ArrayLike, end: npt.ArrayLike) -> np.ndarray:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after
    ``start``): how many working days late a contact on ``end`` was for a duty due ``start``."""
    s = np.asarray(start, dtype="datetime64[D]")
    e = np.asarray(end, dtype="datetime64[D]")
    both = np.concatenate([s.ravel(), e.ravel()])
    hol = bank_holidays(*_years(both, 0))
    ok = ~(np.isnat(s) | np.isnat(e))
    out = np.zeros(np.broadcast(s, e).shape, dtype=np.int64)
    sb, eb = np.broadcast_arrays(s, e)
    out[ok] = np.busday_count(sb[ok] + 1, eb[ok] + 1, holidays=hol)
    return np.maximum(out, 0)
