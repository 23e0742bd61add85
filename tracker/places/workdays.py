"""Working days in Indonesia: weekends, national public holidays and the year's collective
leave days (cuti bersama) are not working days.

The functions are pure and read no database. The leave days are decided yearly by decree and
kept in the ``leave_days`` table; they are handed in explicitly with ``set_leave_days``: at
app start, and again as units of work begin once ``LEAVE_DAYS_CHECK_SECONDS`` have passed
(``tracker.places.leave``), so a change made in the console or by ``setup load`` reaches every
worker on every host. A process that never calls it knows only the national holidays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.Indonesia(years=year).keys())


_leave_days: frozenset[dt.date] = frozenset()


def set_leave_days(days: frozenset[dt.date]) -> None:
    """Make ``days`` the collective leave days every later call counts as closed."""
    global _leave_days
    _leave_days = frozenset(days)


def leave_days() -> frozenset[dt.date]:
    return _leave_days


@contextmanager
def counting_also(days: frozenset[dt.date]) -> Iterator[None]:
    """Within the block, count ``days`` as leave days too: days being added in this unit of
    work, before they are on file for everyone (``tracker.places.closures``). The days known
    before come back as the block ends, however it ends."""
    global _leave_days
    before = _leave_days
    _leave_days = before | days
    try:
        yield
    finally:
        _leave_days = before


def is_holiday(day: dt.date) -> bool:
    """A national public holiday or a collective leave day: offices and points are closed."""
    return day in _holidays(day.year) or day in _leave_days


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and not is_holiday(day)


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date ``days`` working days after ``start`` (``start`` itself is not counted)."""
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """How many working days after ``start`` up to and including ``end``."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            count += 1
    return count
