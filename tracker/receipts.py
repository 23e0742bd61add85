"""Receipt numbers: make, check, parse and print them; and the QR code that opens their page.

A receipt number is 11 random Crockford base32 characters and a check character
(12 in all), printed in groups of four: ``7KQ2-M9XA-4RTN``. The check character comes
from a Damm-style scheme over GF(32): ``r <- x·r + d`` for each character ``d`` in turn,
where x is the field's generator, and the check character brings ``r`` to zero. The
operation is a totally anti-symmetric quasigroup, so every single-character substitution
and every adjacent transposition (the check character included) is caught.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
from functools import lru_cache

import qrcode
import qrcode.exceptions
from PIL import Image

from tracker.errors import ReceiptMistyped

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
VALUES = {ch: i for i, ch in enumerate(ALPHABET)}
LENGTH = 12
RANDOM_LENGTH = LENGTH - 1
# Crockford's forgiving reading: O is zero, I and L are one.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = re.compile(r"[\s\-_.·]+")
# What phones and copied messages put in a number beside the dash and the space, read as a
# dash by ``parse``: other dashes (Unicode's dash punctuation: an en dash from a keyboard's
# smart punctuation, U+2010 and U+2011 from a PDF), the minus sign (a math symbol to
# Unicode), and invisible format characters (a zero-width space copied from a chat).
_MINUS = "\u2212"
_GF32_POLY = 0b100101  # x^5 + x^2 + 1, irreducible over GF(2)
# The number the pages show as an example: a valid one, so that it is caught by no check.
EXAMPLE = "7KQ2-M9XA-4RTN"


def _times_x(value: int) -> int:
    value <<= 1
    return value ^ _GF32_POLY if value & 0b100000 else value


def _remainder(body: str) -> int:
    r = 0
    for ch in body:
        r = _times_x(r) ^ VALUES[ch]
    return r


def check_character(body: str) -> str:
    """The character that makes ``body`` + it a valid receipt number."""
    return ALPHABET[_times_x(_remainder(body))]


def is_valid(number: str) -> bool:
    """True for a canonical 12-character number whose check character fits."""
    return len(number) == LENGTH and all(ch in VALUES for ch in number) and _remainder(number) == 0


def generate(bits: int | None = None) -> str:
    """A fresh random receipt number (canonical form, no dashes), from ``bits`` when given
    (a random number of at least ``5 * RANDOM_LENGTH`` bits, see ``random_bits``)."""
    if bits is None:
        bits = secrets.randbits(5 * RANDOM_LENGTH)
    body = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(0, 5 * RANDOM_LENGTH, 5))
    return body + check_character(body)


def random_bits(count: int) -> list[int]:
    """``count`` numbers for ``generate``, from one read of the system's random source rather
    than one each (``demo --requests`` makes a million)."""
    size = (5 * RANDOM_LENGTH + 7) // 8
    pool = secrets.token_bytes(size * count)
    return [int.from_bytes(pool[i : i + size]) for i in range(0, len(pool), size)]


def format_grouped(number: str) -> str:
    """``7KQ2M9XA4RTN`` -> ``7KQ2-M9XA-4RTN``."""
    return "-".join(number[i : i + 4] for i in range(0, len(number), 4))


def parse(text: str) -> str:
    """The canonical receipt number in what a person typed or a scanner sent.

    Accepts any case, spaces and dashes of any kind, invisible format characters, wide
    (full-width) letters and digits, O for 0, I and L for 1, and the status URL that the QR
    code carries. Raises ReceiptMistyped with a ``reason`` detail (``empty``, ``length``,
    ``character`` or ``check``) when it is not a valid number.
    """
    text = text or ""
    if not text.isascii():
        text = "".join(
            "-" if c == _MINUS or unicodedata.category(c) in ("Pd", "Cf") else c
            for c in unicodedata.normalize("NFKC", text)
        )
    text = text.strip()
    if "/s/" in text:
        text = text.split("/s/", 1)[1].split("/", 1)[0].split("?", 1)[0]
    cleaned = _SEPARATORS.sub("", text).upper().translate(_READ_AS)
    if not cleaned:
        raise ReceiptMistyped(reason="empty")
    if len(cleaned) != LENGTH:
        raise ReceiptMistyped(reason="length", length=len(cleaned))
    if any(ch not in VALUES for ch in cleaned):
        raise ReceiptMistyped(reason="character")
    if _remainder(cleaned) != 0:
        raise ReceiptMistyped(reason="check")
    return cleaned


def status_url(base_url: str, number: str) -> str:
    return f"{base_url.rstrip('/')}/s/{number}"


# The mask of every QR code drawn here: any of the eight reads; choosing the best costs 7 ms.
QR_INLINE_MASK = 0
_VERSIONS: dict[int, int] = {}  # the QR version that an address of each length fits in
_DARK_RUN = re.compile(rb"\x01+")  # dark modules side by side in a row of the matrix
# Pixels a module in the PNG: 328 pixels for a status address of 41 modules, about 41 mm on a
# thermal printer's 203 dots an inch and sharp when a messaging app shows it.
QR_PNG_SCALE = 8


@lru_cache(maxsize=4096)
def qr_svg(url: str) -> bytes:
    """The QR code for a URL as an SVG document, a module a millimetre: the printed receipt's
    and the file anyone may ask for at ``/s/RECEIPT/qr.svg``. The same drawing as the status
    page's (``qr_inline``), about a millisecond: letting ``qrcode`` choose the best of its
    eight masks took about 7.5 ms a code, which a stranger asking for many numbers would make
    the workers spend (the file reads nothing, so no look-up budget counts it)."""
    size, path = _qr_drawing(url)
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        f'<svg width="{size}mm" height="{size}mm" version="1.1" viewBox="0 0 {size} {size}" '
        f'xmlns="http://www.w3.org/2000/svg"><path d="{path}" fill="#000"/></svg>'
    ).encode()


@lru_cache(maxsize=4096)
def qr_inline(url: str) -> str:
    """The QR code for a URL as an ``<svg>`` element to put inside a page, sized by the page's
    CSS and hidden from screen readers (the element around it names it)."""
    size, path = _qr_drawing(url)
    return (
        f'<svg class="qr" aria-hidden="true" focusable="false" viewBox="0 0 {size} {size}" '
        f'xmlns="http://www.w3.org/2000/svg"><path d="{path}" fill="#000"/></svg>'
    )


@lru_cache(maxsize=4096)
def qr_png(url: str) -> bytes:
    """The QR code for a URL as a black-and-white PNG, ``QR_PNG_SCALE`` pixels a module: for
    what cannot take an SVG (a message with an image, a printer's own software). The same
    matrix as the SVG's, drawn by Pillow in under a millisecond."""
    matrix = _qr_matrix(url)
    side = len(matrix)
    grey = bytes(0 if dark else 255 for row in matrix for dark in row)
    pixels = side * QR_PNG_SCALE
    image = Image.frombytes("L", (side, side), grey).resize((pixels, pixels), Image.NEAREST)
    written = io.BytesIO()
    image.convert("1").save(written, "PNG")
    return written.getvalue()


def _qr_drawing(url: str) -> tuple[int, str]:
    """The side of the QR code for a URL, in modules with its quiet zone, and its path: drawn
    from the matrix as horizontal runs of dark modules."""
    matrix = _qr_matrix(url)
    runs = "".join(
        f"M{run.start()},{y}H{run.end()}V{y + 1}H{run.start()}z"
        for y, row in enumerate(matrix)
        for run in _DARK_RUN.finditer(bytes(row))  # a row of booleans as bytes 0 and 1
    )
    return len(matrix), runs


def _qr_matrix(url: str) -> list[list[bool]]:
    """``qrcode``'s matrix of the QR code for a URL, with its quiet zone: a fixed mask and the
    version found once per length of address, under a millisecond, where letting ``qrcode``
    choose the mask takes about 7.5."""
    qr = qrcode.QRCode(
        version=_VERSIONS.get(len(url)),
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=4,
        mask_pattern=QR_INLINE_MASK,
    )
    qr.add_data(url)
    try:
        qr.make(fit=qr.version is None)
    except qrcode.exceptions.DataOverflowError:  # pragma: no cover - a longer encoding
        qr = qrcode.QRCode(
            error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=QR_INLINE_MASK
        )
        qr.add_data(url)
        qr.make(fit=True)
    _VERSIONS.setdefault(len(url), qr.version)
    return qr.get_matrix()
