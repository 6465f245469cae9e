from decimal import Decimal

import pytest

from models.money import cents_to_euros, euros_to_cents, format_eur


def test_euros_convert_to_integer_cents_exactly():
    assert euros_to_cents(Decimal("150000")) == 15_000_000
    assert euros_to_cents("1234.56") == 123_456
    assert cents_to_euros(123_456) == Decimal("1234.56")


def test_float_amounts_are_refused():
    with pytest.raises(TypeError):
        euros_to_cents(0.1)


def test_fractions_of_a_cent_are_refused():
    with pytest.raises(ValueError, match="centime"):
        euros_to_cents("10.005")


def test_amounts_are_shown_in_french_format():
    assert format_eur(15_000_000) == "150\u202f000\u00a0€"
    assert format_eur(123_450) == "1\u202f234,50\u00a0€"
    assert format_eur(0) == "0\u00a0€"
