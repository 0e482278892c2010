"""``forecast_frame(factory=...)`` builds every candidate with the given factory (no patching)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import polars as pl
from polars.testing import assert_frame_equal

from stockpilot.forecast import selection
from stockpilot.forecast.data import prepare

MODELS = ("SeasonalNaive", "CrostonOptimized")


def _history() -> pl.DataFrame:
    rng = np.random.default_rng(3)
    d0 = date(2024, 1, 1)
    return pl.DataFrame([(f"s{i}@W", d0 + timedelta(days=t), float(v))
                         for i in range(6) for t, v in enumerate(rng.poisson(0.3 + i, 120))],
                        schema=["unique_id", "ds", "y"], orient="row")


def test_factory_builds_every_candidate_and_agrees_with_the_default() -> None:
    prep = prepare(_history())
    built: list[str] = []

    def factory(name: str, *args: Any) -> Any:
        built.append(name)
        return selection.make_forecaster(name, *args)

    ours = selection.forecast_frame(prep, MODELS, 7, 2, factory=factory)
    default = selection.forecast_frame(prep, MODELS, 7, 2)
    assert built and set(built) <= set(MODELS)
    assert set(ours.choice["model"]) <= set(built)  # every chosen model came from the factory
    assert selection.make_forecaster is not factory  # the module is left untouched
    assert_frame_equal(ours.forecasts, default.forecasts)


def test_factory_is_used_instead_of_the_default() -> None:
    prep = prepare(_history())

    class Refused(Exception):
        pass

    def factory(name: str, *args: Any) -> Any:
        raise Refused(name)

    try:
        selection.forecast_frame(prep, MODELS, 7, 2, factory=factory)
    except Refused as exc:
        assert str(exc) in MODELS
    else:
        raise AssertionError("the factory was not called")
