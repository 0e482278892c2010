"""A/B tests of recommenders: variants, a sticky traffic split, and the report's statistics.

Pure code (no database). A customer's variant is a hash of (experiment, customer) mapped to
[0, 1) and cut by the variants' cumulative traffic weights, so the same customer sees the same
variant on every request and on every server process, with no assignment table.

Statistics per variant (each impression is one trial):
  * CTR and conversion (add-to-cart or purchase per impression) with Wilson score intervals
    (Wilson 1927; Agresti & Coull 1998 recommend it over the Wald interval for small counts);
  * revenue per impression with a normal interval on the mean (central limit theorem;
    per-impression revenue is 0 for impressions that did not sell);
  * power of the two-sided two-proportion z-test at α to detect the observed difference in
    conversion between a variant and the control, with the observed sample sizes
    (Chow, Shao & Wang 2008, "Sample Size Calculations in Clinical Research", §4.2).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from typing import Any

from scipy.stats import norm

from stockpilot.errors import StockpilotError


class InvalidExperiment(StockpilotError):
    """An experiment's variants do not make a valid test (names, weights, modes)."""

    status = 422
    title = "Invalid experiment"


#: Parameters a variant may set, with their allowed ranges. ``boost_weight`` scales the
#: overstock added to the scores in ``boost`` mode (:func:`stockpilot.recommend.rerank.rerank`).
PARAMS: dict[str, tuple[float, float]] = {"boost_weight": (0.0, 10.0)}


@dataclass(frozen=True)
class Variant:
    """One arm: which model, which re-ranking mode, its parameters and its share of traffic."""

    name: str
    model: str = "hybrid"
    mode: str = "substitute"
    weight: float = 1.0
    params: dict[str, Any] = field(default_factory=dict)  # e.g. {"boost_weight": 0.2}

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (stored with the experiment)."""
        return {"name": self.name, "model": self.model, "mode": self.mode,
                "weight": self.weight, "params": dict(self.params)}


def check_variants(variants: list[Variant]) -> None:
    """Raise :class:`InvalidExperiment` unless there are ≥ 2 uniquely named, weighted arms."""
    names = [v.name for v in variants]
    if len(variants) < 2:
        raise InvalidExperiment("an experiment needs at least two variants")
    if len(set(names)) != len(names):
        raise InvalidExperiment(f"variant names must be unique: {', '.join(names)}")
    bad = [v.name for v in variants if not (v.weight > 0 and math.isfinite(v.weight))]
    if bad:
        raise InvalidExperiment(f"variant {bad[0]}: traffic weight must be positive")
    modes = [v.name for v in variants if v.mode not in ("filter", "substitute", "boost")]
    if modes:
        raise InvalidExperiment(f"variant {modes[0]}: mode must be filter, substitute or boost")
    for v in variants:
        unknown = sorted(set(v.params) - set(PARAMS))
        if unknown:
            raise InvalidExperiment(f"variant {v.name}: unknown parameter {unknown[0]!r} "
                                    f"(known: {', '.join(sorted(PARAMS))})")
        for key, (lo, hi) in PARAMS.items():
            if key in v.params and not lo <= float(v.params[key]) <= hi:
                raise InvalidExperiment(f"variant {v.name}: {key} must be in [{lo}, {hi}]")


def bucket(experiment: str, customer: str) -> float:
    """A stable number in [0, 1) for (experiment, customer): SHA-256, first 8 bytes."""
    digest = hashlib.sha256(f"{experiment}\x1f{customer}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign(experiment: str, customer: str, variants: list[Variant]) -> Variant:
    """The customer's variant: sticky (same answer every time), split by traffic weights."""
    x = bucket(experiment, customer) * sum(v.weight for v in variants)
    for v in variants:
        x -= v.weight
        if x < 0:
            return v
    return variants[-1]


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """Wilson score interval of a proportion (Wilson 1927); (0, 1) with no trials."""
    if trials == 0:
        return 0.0, 1.0
    p = successes / trials
    den = 1 + z * z / trials
    mid = (p + z * z / (2 * trials)) / den
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / den
    return max(0.0, mid - half), min(1.0, mid + half)


def mean_ci(total: float, total_sq: float, n: int, z: float = 1.959964
            ) -> tuple[float, float, float]:
    """Mean and normal interval from a sum and a sum of squares over ``n`` values."""
    if n == 0:
        return 0.0, 0.0, 0.0
    mean = total / n
    var = max(0.0, (total_sq - n * mean * mean) / max(n - 1, 1))
    half = z * math.sqrt(var / n)
    return mean, mean - half, mean + half


def power(p1: float, n1: int, p2: float, n2: int, alpha: float = 0.05) -> float:
    """Power of the two-sided two-proportion z-test to detect p1 ≠ p2 with n1, n2 trials.

    Chow, Shao & Wang (2008) §4.2: Φ(|p1 − p2| / σ − z₁₋α/₂), σ² = p1(1−p1)/n1 + p2(1−p2)/n2
    (the negligible far tail is left out).
    """
    if n1 == 0 or n2 == 0:
        return 0.0
    sd = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    if sd == 0:
        return 1.0 if p1 != p2 else 0.0
    return float(norm.cdf(abs(p1 - p2) / sd - norm.ppf(1 - alpha / 2)))


@dataclass(frozen=True)
class Counts:
    """What was recorded for one variant."""

    impressions: int
    clicks: int
    conversions: int  # impressions followed by an add-to-cart or a purchase of the item
    revenue: float
    revenue_sq: float  # Σ revenue² per converting impression (for the interval)


def report(counts: dict[str, Counts], control: str, alpha: float = 0.05
           ) -> list[dict[str, Any]]:
    """One row per variant: rates with intervals, the power against ``control``, the winner."""
    rows: list[dict[str, Any]] = []
    base = counts.get(control, Counts(0, 0, 0, 0.0, 0.0))
    base_p = base.conversions / base.impressions if base.impressions else 0.0
    for name, c in counts.items():
        n = c.impressions
        ctr = c.clicks / n if n else 0.0
        conv = c.conversions / n if n else 0.0
        rpi, rpi_lo, rpi_hi = mean_ci(c.revenue, c.revenue_sq, n)
        rows.append({
            "variant": name, "impressions": n, "clicks": c.clicks, "conversions": c.conversions,
            "ctr": ctr, "ctr_ci": wilson(c.clicks, n), "conversion": conv,
            "conversion_ci": wilson(c.conversions, n), "revenue": c.revenue,
            "revenue_per_impression": rpi, "revenue_per_impression_ci": (rpi_lo, rpi_hi),
            "power": None if name == control else power(conv, n, base_p, base.impressions,
                                                        alpha)})
    return rows


def winner(rows: list[dict[str, Any]], metric: str = "conversion") -> str | None:
    """The variant whose ``metric`` interval lies wholly above every other's (None: no winner)."""
    for r in rows:
        lo = r[f"{metric}_ci"][0]
        if all(lo > o[f"{metric}_ci"][1] for o in rows if o is not r):
            return str(r["variant"])
    return None
