"""Time per 1,000 series of each model family on real M5 daily series: fit + predict(28).

    python benchmarks/forecast_timing.py [--data ../shared/data] [--series 200] [--days 1913]
        [--families SeasonalNaive,AutoETS,...] [--wrapper]

Takes ``--series`` real daily series (a seeded sample of the 972 we have: grocery TX_3/FOODS_3
and intermittent CA_3/HOBBIES_2 in their proportions), their last ``--days`` days up to d_1913,
and times each family's fit + 28-day predict in a fresh process, after a warm-up on three
short series (imports and numba compilation are not timed) (one core for the models:
statsforecast ``n_jobs=1``, LightGBM and PyTorch one thread). Time per 1,000 series is the
measured time × 1000 / series — linear because local models fit each series alone, and the
global models' training work (LightGBM rows, network windows per series) grows with the number
of series. Peak RSS is the whole process's (data included).

Without ``--wrapper`` the model is timed alone (statsforecast/mlforecast/torch fit + predict);
with it, our estimator as the forecast pipeline runs it (rolling-origin cross-validation for
conformal quantiles and model choice — 3 windows of 28 days — then the final fit and predict).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _harness import machine, measure

ROOT = Path(__file__).resolve().parents[1]
STATS = ("SeasonalNaive", "AutoETS", "AutoTheta", "AutoARIMA", "MSTL", "CrostonOptimized",
         "TSB", "ADIDA", "IMAPA")
GLOBAL = ("LightGBM", "LSTM", "Transformer")
H = 28


def load_series(data: Path, n: int, days: int, seed: int = 0) -> pl.DataFrame:
    """``n`` real daily M5 series (seeded sample), last ``days`` days, gaps as zeros."""
    from stockpilot.forecast.data import prepare, to_long
    from stockpilot.ingest import m5

    cal = m5.read_calendar(data / "m5" / "calendar.csv.gz")
    wide = pl.concat([m5.read_daily_wide(p) for p in m5.daily_files(data / "m5")])
    pick = np.random.default_rng(seed).choice(wide.height, size=min(n, wide.height),
                                              replace=False)
    df = prepare(to_long(m5.wide_to_long(wide[np.sort(pick)], cal))).df
    return df.filter(pl.col("ds") > df["ds"].max() - timedelta(days=days))


def _model_only(family: str, df: pl.DataFrame) -> pl.DataFrame:
    if family in STATS:
        from statsforecast import StatsForecast

        from stockpilot.forecast.stats import build_model

        sf = StatsForecast(models=[build_model(family)], freq="1d", n_jobs=1)
        return sf.fit(df=df).predict(h=H)
    if family == "LightGBM":
        from stockpilot.forecast.lgbm import LGBMForecaster

        return LGBMForecaster(num_threads=1)._mlf().fit(df=df).predict(h=H)
    from stockpilot.forecast.deep import DeepForecaster

    return DeepForecaster(family, horizon=H, n_windows=0).fit(df).predict(H)


def _wrapper(family: str, df: pl.DataFrame) -> pl.DataFrame:
    from stockpilot.forecast.selection import make_forecaster

    f: Any = make_forecaster(family, H, 3)
    if family == "LightGBM":
        f.num_threads = 1
    return f.fit(df).predict(H)


def case(family: str, data: Path, n: int, days: int, wrapper: bool) -> dict[str, float]:
    """Runs in a fresh process: load, then time fit + predict of one family."""
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)  # ARIMA convergence chatter
    df = load_series(data, n, days)
    run = _wrapper if wrapper else _model_only
    # warm-up on 3 short series: imports and numba's compilation stay out of the timing
    few = df["unique_id"].unique().sort()[:3]
    run(family, df.filter(pl.col("unique_id").is_in(few.implode()),
                          pl.col("ds") > df["ds"].max() - timedelta(days=200)))
    cpu0, t0 = time.process_time(), time.perf_counter()
    fc = run(family, df)
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"series": df["unique_id"].n_unique(), "rows": df.height, "wall": wall, "cpu": cpu,
            "forecast_rows": fc.height}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--series", type=int, default=200)
    ap.add_argument("--days", type=int, default=1913)
    ap.add_argument("--families", default=",".join(STATS + GLOBAL))
    ap.add_argument("--wrapper", action="store_true")
    args = ap.parse_args()
    families = [f for f in args.families.split(",") if f]
    if any(f in ("LSTM", "Transformer") for f in families):
        try:
            import torch  # noqa: F401
        except ImportError:
            families = [f for f in families if f not in ("LSTM", "Transformer")]
            print("(torch not installed: LSTM/Transformer skipped)", file=sys.stderr)
    rows = []
    for fam in families:
        print(f"timing {fam}", file=sys.stderr)
        _, peak, r = measure(case, fam, args.data, args.series, args.days, args.wrapper)
        assert r["forecast_rows"] == r["series"] * H, (fam, r)
        rows.append((fam, r, peak))
    what = ("our estimator: 3-window rolling-origin CV + fit + predict(28)" if args.wrapper
            else "model alone: fit + predict(28)")
    n, length = rows[0][1]["series"], rows[0][1]["rows"] / rows[0][1]["series"]
    print(f"# {what}; {n} real M5 daily series, mean length {length:.0f} days, one core "
          f"— {machine()}")
    print("| family | wall s | CPU s | wall s / 1,000 series | CPU s / 1,000 series | "
          "peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for fam, r, peak in rows:
        k = 1000 / r["series"]
        print(f"| {fam} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['wall'] * k:.1f} | "
              f"{r['cpu'] * k:.1f} | {peak:.0f} |")
    print(f"\ncommand: python benchmarks/forecast_timing.py --series {args.series} "
          f"--days {args.days} --families {','.join(families)}"
          f"{' --wrapper' if args.wrapper else ''}")


if __name__ == "__main__":
    main()
