"""The model registry: every run's artefacts, one champion, promotion on evidence, rollback.

Each run keeps, under the history store's ``runs/``:

    runs/<run_id>.json              the run record (config, data fingerprint, CV scores)
    runs/<run_id>/forecasts.parquet the run's forecasts, with ``series`` (choice) and ``cv``
    runs/<run_id>/models.pkl        the fitted candidates (pickle; absent if not picklable)
    runs/registry.json              {"champion": id, "promoted": [ids, oldest first]}

The champion's forecasts are the ones planning reads (``forecasts/latest``, ``series``,
``cv``). A run made with ``promote=False`` is a challenger: stored, not served. Promoting a
challenger compares it with the champion on the same new days — (series, day) pairs that
both forecast and that have arrived in the history since — and refuses unless the
challenger's MSE there is no higher (``force`` skips the check). ``rollback`` serves the
previous champion again.
"""

from __future__ import annotations

import json
import pickle
import shutil
from dataclasses import dataclass
from typing import Any

import polars as pl

from stockpilot.errors import StockpilotError
from stockpilot.forecast.data import to_long
from stockpilot.store.history import HistoryStore

PARTS = ("forecasts", "series", "cv")
SUFFIX = {"D": "", "W": "_weekly", "M": "_monthly"}


@dataclass(frozen=True)
class Comparison:
    """Champion vs challenger on the same new days."""

    challenger: str
    champion: str
    pairs: int  # (series, day) pairs scored
    days: int
    challenger_mse: float | None
    champion_mse: float | None


def _state(history: HistoryStore) -> dict[str, Any]:
    path = history.root / "runs" / "registry.json"
    return json.loads(path.read_text()) if path.exists() else {"champion": None,
                                                               "promoted": []}


def _save_state(history: HistoryStore, state: dict[str, Any]) -> None:
    path = history.root / "runs" / "registry.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(path)


def record(history: HistoryStore, run_id: str) -> dict[str, Any]:
    """The stored record of ``run_id`` (typed error naming the known runs otherwise)."""
    path = history.root / "runs" / f"{run_id}.json"
    if not path.exists():
        known = ", ".join(r["run_id"] for r in list_runs(history)) or "none"
        raise StockpilotError(f"no forecast run {run_id!r} (known: {known})")
    out: dict[str, Any] = json.loads(path.read_text())
    return out


def save_artefacts(history: HistoryStore, run_id: str, frames: dict[str, pl.DataFrame],
                   fitted: dict[str, Any]) -> str | None:
    """Store a run's frames and fitted models; returns a note when the models were not kept."""
    folder = history.root / "runs" / run_id
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in frames.items():
        df.write_parquet(folder / f"{name}.parquet")
    try:
        blob = pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)
    # any model may refuse pickling (a Spark-bound fitted object raises PySparkRuntimeError,
    # not a PicklingError): the run stands, only its fitted models are not kept
    except Exception as exc:
        return f"fitted models not stored ({exc.__class__.__name__}: {exc})"
    (folder / "models.pkl").write_bytes(blob)
    return None


def load_models(history: HistoryStore, run_id: str) -> dict[str, Any]:
    """The fitted candidates of a run (``predict(h)`` on each gives its forecasts again)."""
    record(history, run_id)
    path = history.root / "runs" / run_id / "models.pkl"
    if not path.exists():
        raise StockpilotError(f"run {run_id} kept no fitted models")
    models: dict[str, Any] = pickle.loads(path.read_bytes())  # noqa: S301 - our own file
    return models


def list_runs(history: HistoryStore) -> list[dict[str, Any]]:
    """Every run record, oldest first, with ``status``: champion, challenger or retired."""
    folder = history.root / "runs"
    if not folder.exists():
        return []
    state = _state(history)
    runs = []
    for path in folder.glob("*.json"):
        if path.stem in ("latest", "registry"):
            continue
        run = json.loads(path.read_text())
        run["status"] = ("champion" if run["run_id"] == state["champion"] else
                         "retired" if run["run_id"] in state["promoted"] else "challenger")
        runs.append(run)
    return sorted(runs, key=lambda r: r["created_at"])


def _forecasts(history: HistoryStore, run_id: str) -> pl.DataFrame:
    path = history.root / "runs" / run_id / "forecasts.parquet"
    if not path.exists():
        raise StockpilotError(f"run {run_id} has no stored forecasts (made before the registry "
                              "kept artefacts)")
    return pl.read_parquet(path).select("unique_id", "ds", "mean")


def compare(history: HistoryStore, challenger: str, champion: str) -> Comparison:
    """Both runs' MSE on the (series, day) pairs both forecast that have arrived since."""
    actual = to_long(history.daily()).group_by("unique_id", "ds").agg(pl.col("y").sum())
    a = _forecasts(history, challenger).rename({"mean": "a"})
    b = _forecasts(history, champion).rename({"mean": "b"})
    both = actual.join(a, on=["unique_id", "ds"]).join(b, on=["unique_id", "ds"])
    if both.is_empty():
        return Comparison(challenger, champion, 0, 0, None, None)
    mse = both.select(((pl.col("y") - pl.col("a")) ** 2).mean().alias("a"),
                      ((pl.col("y") - pl.col("b")) ** 2).mean().alias("b")).row(0)
    return Comparison(challenger, champion, both.height, both["ds"].n_unique(),
                      float(mse[0]), float(mse[1]))


def serve(history: HistoryStore, run_id: str) -> None:
    """Copy a run's stored frames to the parts planning reads, and make it ``runs/latest``."""
    run = record(history, run_id)
    suffix = SUFFIX[run.get("freq", "D")]
    folder = history.root / "runs" / run_id
    for part in PARTS:
        src = folder / f"{part}.parquet"
        if not src.exists():
            raise StockpilotError(f"run {run_id} has no stored {part}")
        history.write("forecasts", ("latest" if part == "forecasts" else part) + suffix,
                      pl.read_parquet(src))
    shutil.copyfile(history.root / "runs" / f"{run_id}.json",
                    history.root / "runs" / "latest.json")


def promote(history: HistoryStore, run_id: str, force: bool = False) -> Comparison | None:
    """Make ``run_id`` the champion; unless ``force``, only if it did no worse on new days.

    Returns the comparison made (None when there was no champion, or with ``force``).
    """
    record(history, run_id)
    state = _state(history)
    result = None
    if state["champion"] and state["champion"] != run_id and not force:
        result = compare(history, run_id, state["champion"])
        if result.pairs == 0:
            raise StockpilotError(
                f"no new days yet on which both {run_id} and the champion {state['champion']} "
                "forecast: import the days that followed, or promote with --force")
        if (result.challenger_mse or 0.0) > (result.champion_mse or 0.0):
            raise StockpilotError(
                f"{run_id} did worse than the champion {state['champion']} on {result.days} new "
                f"days (MSE {result.challenger_mse:.3f} vs {result.champion_mse:.3f}): "
                "not promoted (--force to promote anyway)")
    serve(history, run_id)
    state["promoted"] = [r for r in state["promoted"] if r != run_id] + [run_id]
    state["champion"] = run_id
    _save_state(history, state)
    return result


def rollback(history: HistoryStore) -> str:
    """Serve the champion before the current one again; returns its id."""
    state = _state(history)
    if len(state["promoted"]) < 2:
        raise StockpilotError("no earlier champion to roll back to")
    state["promoted"].pop()
    previous = state["promoted"][-1]
    serve(history, previous)
    state["champion"] = previous
    _save_state(history, state)
    return str(previous)
