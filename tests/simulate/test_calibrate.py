"""Target → level calibration: the inversion by hand, and hitting the target out of sample."""

from __future__ import annotations

import numpy as np
from scipy.stats import poisson

from stockpilot.simulate.calibrate import ALL, LevelMap, fit_level_map
from stockpilot.simulate.engine import Policy, Setup, simulate
from stockpilot.simulate.kpis import cycle_service_level


def test_level_for_inverts_each_groups_curve():
    lmap = LevelMap(levels=np.array([0.5, 0.7, 0.9]),
                    achieved=np.array([[0.6, 0.8, 0.95], [0.8, 0.9, 0.99]]),
                    groups=("slow", ALL))
    got = lmap.level_for(np.array([0.7, 0.85, 0.99, 0.5]), ["slow", "fast", "fast", "slow"])
    # slow: 0.7 is half-way 0.6 → 0.8; fast (unknown) uses ALL: 0.85 half-way 0.8 → 0.9
    assert np.allclose(got, [0.6, 0.6, 0.9, 0.5])  # beyond the curve: clamped to the ends


def _policy(mean: np.ndarray, days: int, setup: Setup, level: np.ndarray) -> Policy:
    s = poisson.ppf(level, mean * (setup.lead_time + setup.review))
    return Policy(order_up_to=np.repeat(s[:, None], days, axis=1).astype(float))


def test_calibrated_level_hits_the_target_on_fresh_demand():
    rng = np.random.default_rng(1)
    setup = Setup(lead_time=7, review=7)
    n, days = 400, 364
    mean = rng.uniform(0.2, 5.0, n)
    past, future = (rng.poisson(mean[:, None], (n, days)) for _ in range(2))
    hand0 = np.rint(mean * 14).astype(np.int64)
    lmap = fit_level_map(lambda lv: _policy(mean, days, setup, lv), past, hand0, setup)
    for target in (0.90, 0.95, 0.98):
        raw = cycle_service_level(simulate(future, _policy(mean, days, setup,
                                                           np.full(n, target)), hand0, setup))
        level = lmap.level_for(np.full(n, target), [ALL] * n)
        got = cycle_service_level(simulate(future, _policy(mean, days, setup, level), hand0,
                                           setup))
        assert abs(got.mean() - target) <= 0.01, (target, raw.mean(), got.mean())
