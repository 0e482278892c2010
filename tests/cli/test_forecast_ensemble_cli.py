"""`stockpilot forecast` with per-store / per-department LightGBM and the Ensemble, end to end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from stockpilot.forecast.registry import load_models
from stockpilot.store.history import HistoryStore

H = 7
MEMBERS = ("LightGBM", "LightGBM-store")


def run(*args: str, ws: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "OMP_NUM_THREADS": "1"}
    env.pop("STOCKPILOT_DB_URL", None)
    proc = subprocess.run([sys.executable, "-m", "stockpilot", *args, "-w", str(ws)],
                          capture_output=True, text=True, env=env, timeout=300, check=False)
    assert (proc.returncode == 0) == ok, proc.stdout + proc.stderr
    return proc


@pytest.fixture(scope="module")
def shop(tmp_path_factory) -> Path:
    """3 SKUs (one without a category) × 2 stores, 120 days of weekly-shaped Poisson sales."""
    tmp = tmp_path_factory.mktemp("ensemble")
    ws = tmp / "shop"
    run("init", ws=ws)
    (tmp / "loc.csv").write_text("location\nS1\nS2\n")
    (tmp / "skus.csv").write_text("sku,name,category\nA,Apple,fruit\nB,Bread,bakery\nC,Cup,\n")
    run("import", "locations", str(tmp / "loc.csv"), ws=ws)
    run("import", "skus", str(tmp / "skus.csv"), ws=ws)
    rng = np.random.default_rng(7)
    lines = ["order_id,sku,location,quantity,occurred_at"]
    start = date(2024, 1, 1)
    for sku, level in (("A", 6.0), ("B", 3.0), ("C", 1.5)):
        for store, lift in (("S1", 1.0), ("S2", 2.0)):
            for d in range(120):
                day = start + timedelta(days=d)
                units = rng.poisson(level * lift * (1.6 if day.weekday() >= 5 else 1.0))
                if units:
                    lines.append(f"{sku}-{store}-{d},{sku},{store},{units},{day.isoformat()}")
    (tmp / "sales.csv").write_text("\n".join(lines) + "\n")
    run("import", "sales", str(tmp / "sales.csv"), ws=ws)
    return ws


def test_ensemble_of_global_and_per_store_lightgbm(shop: Path) -> None:
    out = run("forecast", "--models", "SeasonalNaive,LightGBM,LightGBM-store,Ensemble",
              "--windows", "1", "--horizon", str(H), ws=shop).stdout
    assert "Ensemble" in out and "LightGBM-store" in out
    history = HistoryStore(shop / "history")
    run_id = json.loads((shop / "history" / "runs" / "latest.json").read_text())["run_id"]
    models = load_models(history, run_id)
    assert sorted(models["LightGBM-store"].models_) == ["S1", "S2"]
    ens = models["Ensemble"]
    assert list(ens.members) == list(MEMBERS)
    # its backtest is the members' mean on every (series, origin, day) they share
    keys = ["unique_id", "cutoff", "ds"]
    both = models[MEMBERS[0]].cv_.select(*keys, pl.col("mean").alias("a")).join(
        models[MEMBERS[1]].cv_.select(*keys, pl.col("mean").alias("b")), on=keys)
    cv = ens.cv_.join(both, on=keys)
    assert cv.height == ens.cv_.height == 6 * H
    np.testing.assert_allclose(cv["mean"].to_numpy(), ((cv["a"] + cv["b"]) / 2).to_numpy())
    # forecasts/series records every candidate's backtest MSE, the Ensemble's from its own cv
    series = history.read("forecasts", "series")
    for m in ("SeasonalNaive", *MEMBERS, "Ensemble"):
        assert series[f"mse_{m}"].null_count() == 0
    mse = ens.cv_.group_by("unique_id").agg(((pl.col("y") - pl.col("mean")) ** 2).mean())
    got = series.select("unique_id", "mse_Ensemble").join(mse, on="unique_id")
    np.testing.assert_allclose(got["mse_Ensemble"].to_numpy(), got["y"].to_numpy())
    # where the Ensemble is chosen, the served forecast is its members' mean
    served = history.read("forecasts", "latest").filter(pl.col("model") == "Ensemble")
    assert served.height > 0  # it wins this data's class (all six series are smooth)
    points = [models[m].predict(H).select("unique_id", "ds", pl.col("mean").alias(m))
              for m in MEMBERS]
    mean = points[0].join(points[1], on=["unique_id", "ds"]).select(
        "unique_id", "ds", ((pl.col(MEMBERS[0]) + pl.col(MEMBERS[1])) / 2).alias("expected"))
    check = served.join(mean, on=["unique_id", "ds"])
    assert check.height == served.height
    np.testing.assert_allclose(check["mean"].to_numpy(), check["expected"].to_numpy())


def test_per_department_models_group_by_the_catalogue(shop: Path) -> None:
    out = run("forecast", "--models", "SeasonalNaive,LightGBM-dept", "--windows", "1",
              "--horizon", str(H), "--challenger", ws=shop).stdout
    assert "2 of 6 series have no category" in out
    history = HistoryStore(shop / "history")
    run_id = next(line.split()[-1] for line in out.splitlines() if "forecast run" in line)
    dept = load_models(history, run_id)["LightGBM-dept"]
    assert sorted(dept.models_) == ["(other)", "bakery", "fruit"]


def test_ensemble_without_two_lightgbm_members_fails_before_any_work(tmp_path: Path) -> None:
    ws = tmp_path / "empty"
    run("init", ws=ws)
    proc = run("forecast", "--models", "SeasonalNaive,LightGBM,Ensemble", ws=ws, ok=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "add some of LightGBMDirect" in proc.stdout + proc.stderr
    unknown = run("forecast", "--models", "LightGBM-region", ws=ws, ok=False)
    assert unknown.returncode != 0 and "Traceback" not in unknown.stderr
    assert not (ws / "history" / "runs").exists()


def test_models_help_names_every_global_model() -> None:
    import typer

    from stockpilot.cli.forecast_cmds import forecast_app
    from stockpilot.forecast.selection import GLOBAL_MODELS

    option = next(p for p in typer.main.get_command(forecast_app).params if p.name == "models")
    words = {w.strip(",.()") for w in str(getattr(option, "help", "")).split()}
    assert not GLOBAL_MODELS - words, f"not in the --models help: {GLOBAL_MODELS - words}"


def test_tuning_searches_lightgbm_within_its_budget_and_the_models_use_it(shop: Path) -> None:
    out = run("forecast", "--models", "SeasonalNaive,LightGBM,LightGBM-store", "--windows", "1",
              "--horizon", str(H), "--tune-trials", "2", ws=shop).stdout
    assert "LightGBM tuned by optuna: 2 trials" in " ".join(out.split())
    history = HistoryStore(shop / "history")
    record = json.loads((shop / "history" / "runs" / "latest.json").read_text())
    note = next(n for n in record["notes"] if n.startswith("LightGBM tuned by optuna"))
    params = json.loads(note.split("parameters ", 1)[1])
    models = load_models(history, record["run_id"])
    for got in (models["LightGBM"], *models["LightGBM-store"].models_.values()):
        assert got.n_estimators == params["n_estimators"]
        assert got.params["min_child_samples"] == params["min_child_samples"]
        assert got.params["subsample_freq"] == 1


def test_tuning_without_a_lightgbm_model_is_refused_before_any_work(shop: Path) -> None:
    proc = run("forecast", "--models", "SeasonalNaive", "--tune-trials", "2", ws=shop, ok=False)
    assert proc.returncode == 2 and "add LightGBM" in " ".join(proc.stderr.split())
