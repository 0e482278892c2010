"""Statistical alert rules (pure: frames in, findings out): demand anomaly, phantom stock.

* ``demand_anomaly`` — the day's demand outside the stored forecast's central 99% band
  (q0.005 … q0.995) for that day; where no forecast covers the day, a robust z-score of the
  day against the recent daily demand (modified z-score, Iglewicz & Hoaglin 1993:
  z = 0.6745·(x − median) / MAD, flagged beyond 3.5);
* ``phantom_stock`` — positive on hand but no sale for so long that the forecast makes it
  implausible: under Poisson demand with the forecast's daily rate λ, P(no sale in n days) =
  exp(−λ·n); flagged below 1%. Records that say "on the shelf" while nothing sells point at
  lost, stolen or mis-located units (DeHoratius & Raman 2008, "Inventory record inaccuracy").
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl

from stockpilot.alerts.rules import Finding
from stockpilot.domain.series import SeriesKey, unique_id

MAD_TO_SIGMA = 0.6745  # Φ⁻¹(0.75): MAD of a normal sample = 0.6745 σ
MEAN_AD_TO_SIGMA = 1.2533  # √(π/2): mean absolute deviation of a normal sample = 0.7979 σ


def demand_anomaly(today_demand: pl.DataFrame, forecast: pl.DataFrame | None,
                   history: pl.DataFrame, today: date, *, window_days: int = 56,
                   min_days: int = 14, z_limit: float = 3.5) -> list[Finding]:
    """Flag SKU-locations whose demand ``today`` is implausible.

    Args:
        today_demand: ``sku, location, units`` — net units sold today (missing means 0 only
            for series that have a forecast for today or recent history).
        forecast: ``unique_id, ds, q0.005, q0.995`` (or None): the band for ``today``.
        history: daily demand ``sku, location, date, units`` before ``today``.
        today: the day judged.
        window_days: how many recent days the robust z-score looks at.
        min_days: fewest days of history (since the series' first day) to judge by z-score.
        z_limit: the modified z-score beyond which a day is an outlier.
    """
    banded = _band_for(forecast, today)
    out = _outside_band(today_demand, banded)
    judged = set(banded["unique_id"].to_list()) if banded is not None else set()
    recent = history.filter((pl.col("date") < today) &
                            (pl.col("date") >= today - timedelta(days=window_days)))
    recent = recent.with_columns(unique_id())
    recent = recent.filter(~pl.col("unique_id").is_in(list(judged)))
    return out + _robust_z(today_demand, recent, today, window_days, min_days, z_limit)


def _band_for(forecast: pl.DataFrame | None, today: date) -> pl.DataFrame | None:
    if forecast is None or not {"q0.005", "q0.995"} <= set(forecast.columns):
        return None
    return forecast.filter(pl.col("ds") == today).select("unique_id", "q0.005", "q0.995")


def _outside_band(today_demand: pl.DataFrame, band: pl.DataFrame | None) -> list[Finding]:
    if band is None or band.is_empty():
        return []
    df = band.join(_uid(today_demand).select("unique_id", "units"), on="unique_id", how="left")
    df = df.with_columns(pl.col("units").fill_null(0))
    hit = df.filter((pl.col("units") < pl.col("q0.005")) | (pl.col("units") > pl.col("q0.995")))
    return [_finding(r["unique_id"], f"demand today {r['units']} outside the forecast's 99% "
                     f"band [{r['q0.005']:.1f}, {r['q0.995']:.1f}]")
            for r in hit.iter_rows(named=True)]


def _robust_z(today_demand: pl.DataFrame, recent: pl.DataFrame, today: date,
              window_days: int, min_days: int, z_limit: float) -> list[Finding]:
    if recent.is_empty():
        return []
    first = recent.group_by("unique_id").agg(pl.col("date").min().alias("first"))
    first = first.filter(pl.col("first") <= today - timedelta(days=min_days))
    start = today - timedelta(days=window_days)
    out = []
    by_uid = {uid: g for (uid,), g in recent.group_by("unique_id")}
    units_today = dict(_uid(today_demand).select("unique_id", "units").iter_rows())
    for uid, since in first.iter_rows():
        days = (today - max(since, start)).days
        sold = by_uid[uid]["units"].to_list()
        series = sold + [0] * (days - len(sold))  # days without a row sold nothing
        x = units_today.get(uid, 0)
        z = modified_z(x, series)
        if abs(z) > z_limit:
            med = sorted(series)[len(series) // 2]
            out.append(_finding(uid, f"demand today {x} vs median {med} over {days} days "
                                f"(robust z {z:+.1f})"))
    return out


def modified_z(x: float, series: list[int] | list[float]) -> float:
    """Modified z-score of ``x`` against ``series`` (Iglewicz & Hoaglin 1993).

    The scale is MAD / 0.6745; where more than half the days are equal (MAD = 0, common
    for intermittent demand) it falls back to 1.2533 × the mean absolute deviation, and it is
    never below one unit — demand comes in whole units.
    """
    s = sorted(series)
    n = len(s)
    med = (s[(n - 1) // 2] + s[n // 2]) / 2
    dev = sorted(abs(v - med) for v in s)
    mad = (dev[(n - 1) // 2] + dev[n // 2]) / 2
    scale = mad / MAD_TO_SIGMA if mad > 0 else MEAN_AD_TO_SIGMA * sum(dev) / n
    return (x - med) / max(scale, 1.0)


def phantom_stock(quiet: pl.DataFrame, forecast: pl.DataFrame, p_limit: float = 0.01
                  ) -> list[Finding]:
    """Positive on hand, no sale for implausibly long under the forecast's daily rate.

    Args:
        quiet: ``sku, location, on_hand, quiet_days`` — days since the last sale, or since
            stock last came back from zero if that is later (no sale is possible without stock).
        forecast: ``unique_id, mean`` (daily means over the horizon; their average is λ).
        p_limit: flag when P(zero demand over ``quiet_days``) = exp(−λ·n) is below this.
    """
    rate = forecast.group_by("unique_id").agg(pl.col("mean").mean().alias("rate"))
    df = _uid(quiet).join(rate, on="unique_id").filter(
        (pl.col("on_hand") > 0) & (pl.col("rate") > 0) & (pl.col("quiet_days") > 0))
    df = df.with_columns((-pl.col("rate") * pl.col("quiet_days")).exp().alias("p_zero"))
    hit = df.filter(pl.col("p_zero") < p_limit)
    return [Finding("phantom_stock", r["sku"], r["location"], "warning",
                    f"{r['on_hand']} on hand but no sale for {r['quiet_days']} days; at the "
                    f"forecast {r['rate']:.2f}/day that has probability {r['p_zero']:.1e}")
            for r in hit.iter_rows(named=True)]


def days_for_implausible_quiet(rate: float, p_limit: float = 0.01) -> int:
    """Fewest quiet days that :func:`phantom_stock` flags at daily rate ``rate``."""
    return math.floor(-math.log(p_limit) / rate) + 1


def _uid(df: pl.DataFrame) -> pl.DataFrame:
    return df.with_columns(unique_id())


def _finding(uid: str, message: str) -> Finding:
    key = SeriesKey.parse(uid)
    return Finding("demand_anomaly", key.sku, key.location, "warning", message)
