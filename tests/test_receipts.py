from __future__ import annotations

import re

import pytest
import qrcode
import qrcode.constants
from hypothesis import given
from hypothesis import strategies as st

from tests.qr import decode_svg
from tracker import receipts
from tracker.errors import ReceiptMistyped

numbers = st.text(alphabet=receipts.ALPHABET, min_size=11, max_size=11).map(
    lambda body: body + receipts.check_character(body)
)


@given(numbers)
def test_every_single_substitution_is_caught(number: str) -> None:
    for position in range(receipts.LENGTH):
        for other in receipts.ALPHABET:
            if other != number[position]:
                typo = number[:position] + other + number[position + 1 :]
                assert not receipts.is_valid(typo)


@given(numbers)
def test_every_adjacent_transposition_is_caught(number: str) -> None:
    for position in range(receipts.LENGTH - 1):
        a, b = number[position], number[position + 1]
        if a != b:
            swapped = number[:position] + b + a + number[position + 2 :]
            assert not receipts.is_valid(swapped)


@given(numbers)
def test_parsing_what_was_printed_gives_the_number_back(number: str) -> None:
    printed = receipts.format_grouped(number)
    assert printed.count("-") == 2 and len(printed) == 14
    assert receipts.parse(printed) == number


@given(numbers)
def test_input_is_forgiving(number: str) -> None:
    sloppy = receipts.format_grouped(number).lower().replace("-", " ")
    sloppy = sloppy.replace("0", "o").replace("1", "l")
    assert receipts.parse(f"  {sloppy} ") == number
    assert receipts.parse(f"https://cek.example.go.id/s/{number}?lang=en") == number


@given(numbers, st.sampled_from(["\u2013", "\u2014", "\u2010", "\u2011", "\u2212", "\u00a0"]))
def test_a_number_copied_from_a_phone_or_a_pdf_reads(number: str, dash: str) -> None:
    """Dashes a keyboard or a document makes of ``-``, invisible characters a chat copies
    with the text, and full-width characters (an Asian keyboard's) are read as typed."""
    printed = receipts.format_grouped(number)
    assert receipts.parse(printed.replace("-", dash)) == number
    assert receipts.parse("\u200b" + printed + "\ufeff\u200e") == number
    wide = "".join(chr(ord(c) + 0xFEE0) for c in number)  # ０-９ and Ａ-Ｚ
    assert receipts.parse(wide) == number
    # the control: a character that is neither a separator nor a letter is still refused
    with pytest.raises(ReceiptMistyped):
        receipts.parse(printed.replace("-", "/"))


def test_a_million_fresh_numbers_have_no_collision() -> None:
    drawn = {receipts.generate() for _ in range(1_000_000)}
    assert len(drawn) == 1_000_000
    assert all(receipts.is_valid(n) for n in list(drawn)[:10_000])


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("7KQ2-M9XA", "length"),
        ("7KQ2-M9XA-4RTCX", "length"),
        ("7KQ2-M9XA-4RT!", "character"),
        ("UUUU-UUUU-UUUU", "character"),
    ],
)
def test_malformed_input_is_told_why(typed: str, reason: str) -> None:
    with pytest.raises(ReceiptMistyped) as caught:
        receipts.parse(typed)
    assert caught.value.details["reason"] == reason


def test_a_wrong_check_character_is_a_typo() -> None:
    number = receipts.generate()
    wrong = number[:-1] + next(c for c in receipts.ALPHABET if c != number[-1])
    with pytest.raises(ReceiptMistyped) as caught:
        receipts.parse(wrong)
    assert caught.value.details["reason"] == "check"


def test_numbers_drawn_from_one_read_of_the_random_source_are_valid_and_distinct() -> None:
    bits = receipts.random_bits(20_000)
    assert len(bits) == 20_000 and max(bits) < 2**56
    drawn = [receipts.generate(b) for b in bits]
    assert len(set(drawn)) == 20_000
    assert all(receipts.is_valid(n) for n in drawn)
    # The same bits give the same number: the number is made from them, not drawn again.
    assert receipts.generate(bits[0]) == drawn[0]


def test_the_inline_qr_draws_exactly_the_dark_modules_and_reads_back() -> None:
    """The status page's QR is drawn as runs of dark modules: every dark module of qrcode's
    matrix is covered and no light one, for addresses of several lengths; and it decodes.
    Control: another number's matrix is not what was drawn."""
    for base in ("https://cek.example.go.id", "http://127.0.0.1:5000", "https://a.id"):
        url = receipts.status_url(base, receipts.generate())
        svg = receipts.qr_inline(url)
        qr = qrcode.QRCode(
            version=receipts._VERSIONS[len(url)],
            error_correction=qrcode.constants.ERROR_CORRECT_M,
            border=4,
            mask_pattern=receipts.QR_INLINE_MASK,
        )
        qr.add_data(url)
        qr.make(fit=False)
        matrix = qr.get_matrix()
        dark = {(x, y) for y, row in enumerate(matrix) for x, cell in enumerate(row) if cell}
        drawn = set()
        for x1, y1, x2, y2 in re.findall(r"M(\d+),(\d+)H(\d+)V(\d+)H\d+z", svg):
            assert int(y2) == int(y1) + 1  # one row a run
            drawn |= {(x, int(y1)) for x in range(int(x1), int(x2))}
        assert drawn == dark, url
        other = qrcode.QRCode(version=qr.version, border=4, mask_pattern=qr.mask_pattern,
                              error_correction=qrcode.constants.ERROR_CORRECT_M)  # fmt: skip
        other.add_data(receipts.status_url(base, receipts.generate()))
        other.make(fit=False)
        assert drawn != {
            (x, y) for y, row in enumerate(other.get_matrix()) for x, cell in enumerate(row) if cell
        }
        assert decode_svg(svg.encode()) == url
