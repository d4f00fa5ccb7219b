"""GLN/EAN check digits (our GS1 arithmetic agrees with python-stdnum) and PNB identifiers."""

from __future__ import annotations

import random

from stdnum import ean

from lending.domain.identifiers import gs1_check_digit, is_alnum, is_gln, is_order_line_id, new_order_line_id


def test_check_digit_agrees_with_stdnum() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        payload = "".join(rng.choice("0123456789") for _ in range(12))
        assert gs1_check_digit(payload) == ean.calc_check_digit(payload)


def test_the_check_of_13_digits_agrees_with_stdnum_and_with_the_check_digit() -> None:
    """is_gln sums the bytes itself (the ONIX reader checks one EAN per record): the same answer as
    gs1_check_digit and stdnum, for valid numbers and for every wrong last digit."""
    rng = random.Random(13)
    for _ in range(2000):
        payload = "".join(rng.choice("0123456789") for _ in range(12))
        for last in "0123456789":
            number = payload + last
            assert is_gln(number) == (gs1_check_digit(payload) == last) == ean.is_valid(number), number


def test_gln_and_ean_shapes() -> None:
    assert is_gln("3012345000017") and is_gln("9791000000015")
    assert not is_gln("3012345000018")  # wrong check digit
    assert not is_gln("301234500001")  # 12 digits
    assert not is_gln("30123450000170")
    assert not is_gln("301234500001a")
    assert not is_gln(3012345000017)  # not text


def test_alnum_and_order_line_ids() -> None:
    assert is_alnum("ABC123", 16) and not is_alnum("ABC-123", 16) and not is_alnum("A" * 17, 16)
    assert not is_alnum("", 16)
    ids = {new_order_line_id(1_700_000_000_000) for _ in range(1000)}
    assert len(ids) == 1000 and all(is_order_line_id(i) for i in ids)
