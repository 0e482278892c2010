"""Money: rounding to the currency's minor unit, formatting, refusing what is not money."""

from __future__ import annotations

from decimal import Decimal

import pytest

from stockpilot.domain.money import (
    UnknownCurrency,
    currency_code,
    format_money,
    minor_units,
    money_float,
    round_money,
)


def test_a_float_sum_rounds_to_pence_not_its_binary_expansion():
    amount = 18864.899999999998  # what the API used to answer for an order value
    assert repr(0.1 + 0.2) == "0.30000000000000004"  # the same binary noise, for the record
    assert round_money(amount, "GBP") == Decimal("18864.90")
    assert money_float(amount, "GBP") == 18864.9
    assert money_float(0.1 + 0.2, "GBP") == 0.3


@pytest.mark.parametrize(("amount", "code", "want"), [
    (2.675, "GBP", "2.68"),        # half-up on the decimal text (binary 2.67499… would go down)
    (-3.455, "EUR", "-3.46"),
    (1234.5, "JPY", "1235"),       # no minor unit
    (0.0005, "BHD", "0.001"),      # three decimals
])
def test_half_up_to_the_minor_unit(amount, code, want):
    assert round_money(amount, code) == Decimal(want)


def test_minor_units_come_from_cldr():
    assert (minor_units("GBP"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)


def test_formats_with_symbol_grouping_and_whole_units():
    assert format_money(18864.899999999998, "GBP") == "£18,864.90"
    assert format_money(1234567.5, "GBP", whole=True) == "£1,234,568"
    assert format_money(-3.456, "EUR") == "-€3.46"
    assert format_money(None, "GBP") == "–"


def test_codes_are_checked_and_named():
    assert currency_code("gbp") == "GBP"
    assert currency_code("") == "USD"
    with pytest.raises(UnknownCurrency, match=r"supplier_currencies.ACME: 'POUNDS'"):
        currency_code("POUNDS", "supplier_currencies.ACME")
    with pytest.raises(ValueError, match="not a finite amount"):
        round_money(float("nan"), "GBP")
