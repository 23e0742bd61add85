"""Checks of phone numbers: a citizen's mobile number, as the counter types it at intake, and
an office's telephone, as a supervisor or the setup file gives it."""

from __future__ import annotations

import re

PHONE_SEPARATORS = re.compile(r"[\s().\-]")


def normalise_phone(text: str) -> str | None:
    """An Indonesian mobile number as ``08…`` (from ``+62 8…``, ``62 8…`` or ``08…``), or
    None when it is not one (10 to 13 digits, starting 08)."""
    digits = PHONE_SEPARATORS.sub("", text or "")
    if digits.startswith("+62"):
        digits = "0" + digits[3:]
    elif digits.startswith("62"):
        digits = "0" + digits[2:]
    if re.fullmatch(r"08[0-9]{8,11}", digits):
        return digits
    return None


# An office's telephone as people write it: digits with spaces, dots, dashes and brackets,
# from a "+" or "(" or a digit.
OFFICE_PHONE_TEXT = re.compile(r"(?:\+|\(?)[0-9][0-9 ().\-]*")
# Its digits, the country code 62 read as the trunk prefix 0: a number with its area code
# ((0254) 200-123, 021 5701 2345), a mobile or toll-free one (0812…, 0800…), or a national
# service number: 1xx (emergency), 14xxx or 1500xxx (call centres; Dukcapil's is 1500 537).
# A date typed by mistake (29-11-2026, 2026-11-29) starts with neither 0 nor a service prefix.
OFFICE_NUMBER = re.compile(r"0[1-9][0-9]{6,11}|1[0-9]{2}|14[0-9]{3}|1500[0-9]{3,4}")


def is_office_phone(text: str) -> bool:
    """Whether ``text`` is a telephone number in Indonesia, as an office would give it."""
    typed = (text or "").strip()
    if not OFFICE_PHONE_TEXT.fullmatch(typed):
        return False
    digits = "".join(c for c in typed if c.isdigit())
    if typed.startswith("+") or digits.startswith("62"):
        if not digits.startswith("62"):
            return False  # another country's number
        rest = digits[2:]
        digits = rest if rest.startswith("0") else "0" + rest  # +62 (0)21 … as well
    return OFFICE_NUMBER.fullmatch(digits) is not None
