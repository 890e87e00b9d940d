"""Working-day deadlines with known answers (England and Wales bank holidays, python-holidays)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from peelian.analysis.victims.calendar import (
    add_working_days,
    bank_holidays,
    due_date,
    is_working_day,
    working_days_between,
)
from peelian.errors import ParameterError

D = dt.date


def test_the_library_has_2022s_extra_and_moved_holidays() -> None:
    h = {str(d) for d in bank_holidays(2022, 2022)}
    assert h == {
        "2022-01-03",  # New Year's Day (Saturday 1st) substitute
        "2022-04-15",
        "2022-04-18",
        "2022-05-02",
        "2022-06-02",  # spring bank holiday moved from Monday 30 May
        "2022-06-03",  # Platinum Jubilee (extra)
        "2022-08-29",
        "2022-09-19",  # state funeral of Queen Elizabeth II (extra)
        "2022-12-26",
        "2022-12-27",  # Christmas Day (Sunday) substitute
    } | {"2022-01-01", "2022-12-25"}  # the weekend days themselves are listed too
    assert "2022-05-30" not in h
    assert "2023-05-08" in {str(d) for d in bank_holidays(2023, 2023)}  # coronation
    assert "2020-05-08" in {str(d) for d in bank_holidays(2020, 2020)}  # VE Day moved May Day
    assert not is_working_day(D(2022, 9, 19)) and is_working_day(D(2022, 9, 20))


@pytest.mark.parametrize(
    ("trigger", "n", "due"),
    [
        (D(2022, 3, 7), 5, D(2022, 3, 14)),  # Monday + 5 = next Monday
        (D(2022, 3, 11), 1, D(2022, 3, 14)),  # Friday + 1 = Monday
        (D(2022, 3, 12), 1, D(2022, 3, 14)),  # Saturday + 1 = Monday
        (D(2022, 3, 13), 5, D(2022, 3, 18)),  # Sunday + 5 = Friday
        (D(2022, 3, 9), 2, D(2022, 3, 11)),  # referral: Wednesday + 2 = Friday
        (D(2022, 6, 1), 1, D(2022, 6, 6)),  # Thu 2 and Fri 3 June 2022 were bank holidays
        (D(2022, 5, 30), 5, D(2022, 6, 8)),  # 31, 1, 6, 7, 8 June
        (D(2022, 9, 16), 1, D(2022, 9, 20)),  # over the state funeral
        (D(2022, 9, 19), 5, D(2022, 9, 26)),  # triggered on the state funeral itself
        (D(2022, 12, 23), 1, D(2022, 12, 28)),  # Christmas 2022: 26 and 27 substitutes
        (D(2022, 12, 24), 1, D(2022, 12, 28)),
        (D(2022, 12, 23), 5, D(2023, 1, 4)),  # 28, 29, 30 Dec; 2 Jan substitute; 3, 4 Jan
        (D(2020, 12, 24), 1, D(2020, 12, 29)),  # Boxing Day 2020 (Saturday) -> Monday 28
        (D(2021, 12, 31), 1, D(2022, 1, 4)),  # New Year 2022 (Saturday) -> Monday 3 off
        (D(2021, 12, 24), 5, D(2022, 1, 5)),  # 27, 28 Dec off (2021 substitutes); 3 Jan off
        (D(2022, 4, 14), 1, D(2022, 4, 19)),  # Easter 2022
        (D(2022, 3, 7), 0, D(2022, 3, 7)),
    ],
)
def test_due_dates(trigger: dt.date, n: int, due: dt.date) -> None:
    assert due_date(trigger, n) == due


def test_enhanced_rights_shorter_deadline_vectorised() -> None:
    days = np.array(["2022-06-01", "2022-06-01", "NaT"], dtype="datetime64[D]")
    out = add_working_days(days, np.array([5, 1, 5]))
    assert [str(x) for x in out] == ["2022-06-10", "2022-06-06", "NaT"]


def test_working_days_late() -> None:
    due = np.array(["2022-12-23", "2022-06-01", "2022-06-06"], dtype="datetime64[D]")
    end = np.array(["2022-12-30", "2022-06-06", "2022-06-01"], dtype="datetime64[D]")
    assert list(working_days_between(due, end)) == [3, 1, 0]


def test_bad_input_is_refused_with_a_reason() -> None:
    with pytest.raises(ParameterError, match="0 or more"):
        add_working_days(np.array(["2022-01-04"], dtype="datetime64[D]"), -1)
    with pytest.raises(ParameterError, match="1990"):
        bank_holidays(1800, 1801)
