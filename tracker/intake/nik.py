"""The form of a NIK (Nomor Induk Kependudukan): 16 digits that carry a region and a birth date.

``PP KK CC DDMMYY SSSS``: province, regency/city and district codes, the date of birth (a
woman's day is written plus 40) and a serial. Only the form is checked here; whether the NIK
belongs to the applicant is the counter's job, against the KTP or KK in hand.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Province codes of Kemendagri (Papua's new provinces included).
PROVINCES = frozenset(
    [11, 12, 13, 14, 15, 16, 17, 18, 19, 21, 31, 32, 33, 34, 35, 36, 51, 52, 53]
    + [61, 62, 63, 64, 65, 71, 72, 73, 74, 75, 76, 81, 82, 91, 92, 93, 94, 95, 96, 97]
)
WOMAN_OFFSET = 40
_SEPARATORS = re.compile(r"[\s.\-]")


@dataclass(frozen=True)
class NikCheck:
    """``reason`` is empty for a well-formed NIK, else one of: length, region, birth_date,
    serial."""

    nik: str
    reason: str = ""
    born: dt.date | None = None
    woman: bool = False

    @property
    def ok(self) -> bool:
        return not self.reason


def normalise(text: str) -> str:
    return _SEPARATORS.sub("", text or "")


def check(text: str, today: dt.date) -> NikCheck:
    """Check a NIK's form on ``today``; spaces, dots and dashes between the digits are
    allowed."""
    nik = normalise(text)
    if len(nik) != 16 or not nik.isascii() or not nik.isdigit():
        return NikCheck(nik, "length")
    province, regency, district = int(nik[0:2]), int(nik[2:4]), int(nik[4:6])
    if province not in PROVINCES or regency == 0 or district == 0:
        return NikCheck(nik, "region")
    born, woman = birth_date(nik, today)
    if born is None:
        return NikCheck(nik, "birth_date")
    if nik[12:] == "0000":
        return NikCheck(nik, "serial")
    return NikCheck(nik, born=born, woman=woman)


def birth_date(nik: str, today: dt.date) -> tuple[dt.date | None, bool]:
    """The birth date a NIK carries (the century is the latest that is not in the future)."""
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    woman = day > WOMAN_OFFSET
    if woman:
        day -= WOMAN_OFFSET
    for century in (2000, 1900):
        try:
            born = dt.date(century + year, month, day)
        except ValueError:
            continue
        if born <= today:
            return born, woman
    return None, woman
