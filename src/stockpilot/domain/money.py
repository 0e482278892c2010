"""Money: amounts rounded to their currency's minor unit and formatted with its symbol (pure).

Amounts are computed in floats by the planner (unit cost × quantity); they are shown and
returned as :class:`~decimal.Decimal` rounded half-up to the currency's minor unit (2 for GBP,
0 for JPY), so an API never answers ``18864.899999999998``. Minor units, symbols and number
formats come from Babel (the CLDR data) rather than a hand-kept table.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import (
    UnknownCurrencyError,
    format_currency,
    get_currency_precision,
    get_currency_symbol,
    is_currency,
)

from stockpilot.errors import ConfigError

DEFAULT_CURRENCY = "USD"
LOCALE = "en_GB"  # grouping "," and decimal "." as the dashboard's other numbers


class UnknownCurrency(ConfigError, ValueError):
    """A currency code that is not an ISO 4217 code (``setting`` says where it came from)."""

    status = 500  # the workspace's settings are wrong, not the request

    def __init__(self, code: str, setting: str = "currency") -> None:
        super().__init__(f"{setting}: {code!r} is not an ISO 4217 currency code "
                         "(e.g. GBP, EUR, USD)")
        self.code, self.setting = code, setting


def currency_code(code: str | None, setting: str = "currency") -> str:
    """``code`` upper-cased and checked (:data:`DEFAULT_CURRENCY` when empty)."""
    if not code:
        return DEFAULT_CURRENCY
    up = code.strip().upper()
    if not is_currency(up):
        raise UnknownCurrency(code, setting)
    return up


def minor_units(currency: str) -> int:
    """Digits after the decimal point of ``currency`` (2 for GBP, 0 for JPY)."""
    try:
        return int(get_currency_precision(currency))
    except UnknownCurrencyError as exc:
        raise UnknownCurrency(currency) from exc


def round_money(amount: float | Decimal | int | None, currency: str) -> Decimal | None:
    """``amount`` rounded half-up to ``currency``'s minor unit (None stays None).

    Goes through ``str`` so a float such as ``18864.899999999998`` becomes ``18864.90``, not
    the binary value's exact expansion.
    """
    if amount is None:
        return None
    try:
        value = Decimal(str(amount))
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {amount!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {amount!r}")
    return value.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_UP)


def money_float(amount: float | Decimal | int | None, currency: str) -> float | None:
    """:func:`round_money` as a float for JSON (``18864.9``, never ``18864.899999999998``)."""
    rounded = round_money(amount, currency)
    return None if rounded is None else float(rounded)


def format_money(amount: float | Decimal | int | None, currency: str, *,
                 whole: bool = False) -> str:
    """``£18,864.90`` (the symbol where CLDR has one, else the code); ``–`` for None.

    Args:
        amount: the amount.
        currency: an ISO 4217 code.
        whole: round to whole units (KPI cards: "£1,234,567").
    """
    rounded = round_money(amount, currency)
    if rounded is None:
        return "–"
    if whole:
        return format_currency(rounded.quantize(Decimal(1), rounding=ROUND_HALF_UP), currency,
                               format="¤#,##0", locale=LOCALE, currency_digits=False)
    return format_currency(rounded, currency, locale=LOCALE)


def symbol(currency: str) -> str:
    """The currency's symbol in the dashboard's locale (``£``, ``€``, ``US$``)."""
    return str(get_currency_symbol(currency, locale=LOCALE))
