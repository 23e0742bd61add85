from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
