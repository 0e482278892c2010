"""The workspace's currencies: from stockpilot.toml, else from the data; suppliers apart."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from stockpilot.config import load_settings
from stockpilot.domain.money import UnknownCurrency
from stockpilot.store.history import HistoryStore
from stockpilot.usecases.money import currencies


def _daily(history: HistoryStore, source: str) -> None:
    history.write_daily(source, pl.DataFrame({"sku": ["A"], "location": ["W"],
                                              "date": [date(2011, 1, 4)], "units": [1]}))


def test_toml_sets_the_workspace_and_supplier_currencies(tmp_path):
    (tmp_path / "stockpilot.toml").write_text(
        '[stockpilot]\ncurrency = "gbp"\n\n[supplier_currencies]\nACME = "EUR"\nLOCAL = "GBP"\n')
    money = currencies(load_settings(tmp_path))
    assert (money.workspace, money.suppliers) == ("GBP", {"ACME": "EUR"})
    assert money.text(18864.899999999998) == "£18,864.90"
    assert money.text(2.5, "ACME") == "€2.50" and money.number(0.1 + 0.2, "ACME") == 0.3


def test_without_a_setting_the_data_decides(tmp_path):
    history = HistoryStore(tmp_path / "history")
    settings = load_settings(tmp_path)
    assert currencies(settings, history).workspace == "USD"
    _daily(history, "online_retail")  # the bundled UK shop's sample
    assert currencies(settings, history).workspace == "GBP"


def test_a_bad_code_names_its_setting(tmp_path):
    (tmp_path / "stockpilot.toml").write_text('[supplier_currencies]\nACME = "euros"\n')
    with pytest.raises(UnknownCurrency, match=r"supplier_currencies\.ACME: 'euros'"):
        currencies(load_settings(tmp_path))
