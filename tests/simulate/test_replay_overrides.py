"""The simulator replays planner overrides: they act on the review days they are in force."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import polars as pl
from test_replay import FIRST, _demand, _replay, _world

from stockpilot.planning.pipeline import OVERRIDES_SCHEMA, PlanOptions, build_plan
from stockpilot.simulate.engine import State


def test_an_override_is_replayed_until_it_expires():
    df, ids = _world()
    start = FIRST + timedelta(days=244)
    fixed = pl.DataFrame([{"unique_id": ids[7], "kind": "order_up_to", "value": 300.0,
                           "start": None, "end": None, "author": "ann",
                           "expires": start + timedelta(days=20), "note": None}],
                         schema=dict(OVERRIDES_SCHEMA))
    rp = replace(_replay(df, ids, start), overrides=fixed)
    trace = rp.run(_demand(df, ids, start), np.full(len(ids), 5, dtype=np.int64))
    for d, active in ((14, True), (35, False)):
        before = trace.on_order[:, d] - trace.ordered[:, d]
        state = State(d, trace.on_hand_end[:, d], before, None, None)
        plan = build_plan(rp.inputs(state), PlanOptions(as_of=start + timedelta(days=d)))
        row = plan.filter(pl.col("unique_id") == ids[7]).row(0, named=True)
        assert (row["order_up_to"] == 300) is active
        assert ("order-up-to fixed at 300" in row["reason"]) is active
        got = pl.DataFrame({"unique_id": ids}).join(plan, on="unique_id", how="left")
        np.testing.assert_array_equal(got["order_qty"].to_numpy(), trace.ordered[:, d])
