"""The workspace's currencies: one per workspace, and per supplier where it differs.

``currency`` in ``stockpilot.toml`` (``[stockpilot]``) names the workspace's currency; left
empty it comes from the data: the Online Retail sample is a UK shop's (GBP), anything else
defaults to :data:`~stockpilot.domain.money.DEFAULT_CURRENCY`. ``[supplier_currencies]`` maps a
supplier whose prices are in another currency to its code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from stockpilot.domain.money import currency_code, format_money, money_float, round_money

if TYPE_CHECKING:
    from stockpilot.config import Settings
    from stockpilot.store.history import HistoryStore

#: Daily-demand sources whose money is known (source → currency).
DATA_CURRENCIES = {"online_retail": "GBP"}


@dataclass(frozen=True)
class Currencies:
    """The workspace's currency and the suppliers' that differ from it."""

    workspace: str = "USD"
    suppliers: dict[str, str] = field(default_factory=dict)

    def of(self, supplier: str | None = None) -> str:
        """The currency of ``supplier``'s amounts (the workspace's when it has none)."""
        return self.suppliers.get(supplier or "", self.workspace)

    def rounded(self, amount: float | Decimal | None, supplier: str | None = None
                ) -> Decimal | None:
        """``amount`` rounded to the minor unit of the supplier's (or workspace's) currency."""
        return round_money(amount, self.of(supplier))

    def number(self, amount: float | Decimal | None, supplier: str | None = None
               ) -> float | None:
        """:meth:`rounded` as a float (JSON, CSV and XLSX cells)."""
        return money_float(amount, self.of(supplier))

    def text(self, amount: float | Decimal | None, supplier: str | None = None, *,
             whole: bool = False) -> str:
        """``£1,234.50`` in the supplier's (or workspace's) currency."""
        return format_money(amount, self.of(supplier), whole=whole)


def currencies(settings: Settings, history: HistoryStore | None = None) -> Currencies:
    """The workspace's currencies from its settings (and its data when not set).

    Raises:
        UnknownCurrency: a code in the settings is not ISO 4217 (names the setting).
    """
    code = settings.currency
    if not code and history is not None:
        code = next((DATA_CURRENCIES[p] for p in history.parts("daily")
                     if p in DATA_CURRENCIES), "")
    workspace = currency_code(code)
    suppliers = {s: currency_code(c, f"supplier_currencies.{s}")
                 for s, c in settings.supplier_currencies.items()}
    return Currencies(workspace, {s: c for s, c in suppliers.items() if c != workspace})
