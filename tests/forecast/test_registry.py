"""The registry: artefacts per run, challenger vs champion on the same new days, rollback."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from stockpilot.errors import StockpilotError
from stockpilot.forecast import registry
from stockpilot.forecast.pipeline import run_forecast
from stockpilot.store.history import HistoryStore

START = date(2024, 1, 1)


def _days(history: HistoryStore, first: int, last: int, level: int) -> None:
    """Days ``first`` … ``last`` (day numbers from START) of two series selling ``level``."""
    rows = [{"sku": s, "location": "S", "date": START + timedelta(days=d),
             "units": level + (d % 7 == 5) * 3} for s in ("A", "B") for d in range(first, last)]
    old = history.daily() if history.parts("daily") else None
    new = pl.DataFrame(rows, schema_overrides={"units": pl.Int32})
    history.write_daily("import", new if old is None else pl.concat([
        old.select(new.columns), new]))


def test_champion_challenger_promotion_and_rollback(tmp_path):
    history = HistoryStore(tmp_path)
    _days(history, 0, 120, 4)
    champ = run_forecast(history, horizon=14, models=["WindowAverage28"], n_windows=1)
    assert (tmp_path / "runs" / champ.run_id / "models.pkl").exists()
    models = registry.load_models(history, champ.run_id)
    assert set(models) == {"WindowAverage28"}
    assert models["WindowAverage28"].predict(14).height == 28  # the artefact forecasts again
    served = history.read("forecasts", "latest")
    # demand jumps; a challenger fitted on it is stored, not served
    _days(history, 120, 127, 10)
    chall = run_forecast(history, horizon=14, models=["SeasonalNaive"], n_windows=1,
                         promote=False)
    assert history.read("forecasts", "latest").equals(served)
    status = {r["run_id"]: r["status"] for r in registry.list_runs(history)}
    assert status == {champ.run_id: "champion", chall.run_id: "challenger"}
    with pytest.raises(StockpilotError, match="no new days yet"):
        registry.promote(history, chall.run_id)
    # the days after both runs arrive, at the new level: the challenger wins on them
    _days(history, 127, 134, 10)
    got = registry.promote(history, chall.run_id)
    assert got is not None and got.days == 7 and got.pairs == 14
    assert got.challenger_mse < got.champion_mse
    assert history.read("forecasts", "latest")["model"].unique().to_list() == ["SeasonalNaive"]
    assert registry.rollback(history) == champ.run_id
    assert history.read("forecasts", "latest").equals(served)
    with pytest.raises(StockpilotError, match="no earlier champion"):
        registry.rollback(history)


def test_a_worse_challenger_is_refused_unless_forced(tmp_path):
    history = HistoryStore(tmp_path)
    _days(history, 0, 120, 4)
    champ = run_forecast(history, horizon=14, models=["WindowAverage28"], n_windows=1)
    bad = run_forecast(history, horizon=14, models=["Naive"], n_windows=1, promote=False)
    _days(history, 120, 127, 4)
    with pytest.raises(StockpilotError, match="did worse than the champion"):
        registry.promote(history, bad.run_id)
    assert registry.promote(history, bad.run_id, force=True) is None
    assert {r["run_id"]: r["status"] for r in registry.list_runs(history)} == {
        champ.run_id: "retired", bad.run_id: "champion"}
    with pytest.raises(StockpilotError, match="no forecast run"):
        registry.promote(history, "nope")
