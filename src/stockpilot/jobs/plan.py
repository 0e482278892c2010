"""``stockpilot plan`` and ``stockpilot orders approve``: the planning run around pure code.

Reads positions, supplier terms and prices from the database and the latest forecast run from
the history store, calls :mod:`stockpilot.planning` and writes the policy parameters and
today's suggestions to ``plans/latest``. Approving turns suggestions into purchase orders.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import Connection, Engine, select

from stockpilot.errors import StockpilotError
from stockpilot.forecast.data import prepare, to_long
from stockpilot.forecast.leadtime import lead_time_quantiles
from stockpilot.ledger.purchasing import OrderLine, create_purchase_order_in
from stockpilot.planning.classes import abc_xyz
from stockpilot.planning.leadtime_dist import lead_time_demand
from stockpilot.planning.suggestions import FORECAST, cap_for_expiry, plan_orders, prioritise
from stockpilot.planning.supplier_leadtime import (
    demand_over_random_lead_time,
    lead_time_for,
    lead_time_pmfs,
)
from stockpilot.store import schema as t
from stockpilot.store.history import HistoryStore
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.leadtimes import load_receipts


def _frame(engine: Engine, query, schema: dict) -> pl.DataFrame:  # type: ignore[no-untyped-def]
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pl.DataFrame(rows, schema=schema, orient="row")


def load_terms(engine: Engine) -> pl.DataFrame:
    """Primary supplier terms per SKU: ``sku, supplier, lead_time_days, moq, pack_size, …``."""
    si = t.supplier_items.c
    q = select(si.sku, si.supplier, si.lead_time_days, si.moq, si.pack_size, si.unit_cost,
               si.order_cost).where(si.is_primary.is_(True))
    return _frame(engine, q, {"sku": pl.Utf8, "supplier": pl.Utf8, "lead_time_days": pl.Int64,
                              "moq": pl.Int64, "pack_size": pl.Int64, "unit_cost": pl.Float64,
                              "order_cost": pl.Float64}).unique("sku", keep="first")


def load_positions(engine: Engine) -> pl.DataFrame:
    """``unique_id, on_hand, on_order, reserved`` for every stock row."""
    s = t.stock.c
    df = _frame(engine, select(s.sku, s.location, s.on_hand, s.on_order, s.reserved),
                {"sku": pl.Utf8, "location": pl.Utf8, "on_hand": pl.Int64, "on_order": pl.Int64,
                 "reserved": pl.Int64})
    return df.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
                     "on_hand", "on_order", "reserved")


def run_plan(engine: Engine, history: HistoryStore, *, review_days: int = 7,
             class_window_days: int = 91, budgets: dict[str, float] | None = None,
             holding_rate: float = 0.25, method_window_days: int = 365) -> pl.DataFrame:
    """Plan every forecast series that has supplier terms; writes and returns ``plans/latest``.

    Demand over lead time + review comes from the forecast's calibrated quantiles, except:
    intermittent series (ADI ≥ 1.32) get a compound-Poisson law of their recent history, and
    items whose supplier has purchase-order receipts get the demand over the lead-time
    distribution learned from them (the ``method`` column and the reason say which). Orders of
    SKUs with a shelf life are capped so they sell before expiry; with ``budgets`` (per
    supplier) lines are ranked by marginal value and those over budget deferred.
    """
    if not {"latest", "cv"} <= set(history.parts("forecasts")):
        raise StockpilotError("no forecasts yet: run `stockpilot forecast` first")
    forecast = history.read("forecasts", "latest")
    cv = history.read("forecasts", "cv")
    hist = prepare(to_long(history.daily())).df
    ids = forecast.select("unique_id", "sku", "location").unique()
    terms = ids.join(load_terms(engine), on="sku", how="inner")
    if terms.is_empty():
        raise StockpilotError("no supplier terms for the forecast SKUs: import supplier-items")
    ltd = pl.concat([
        lead_time_quantiles(forecast.join(group, on="unique_id", how="semi"), cv, hist,
                            int(p) + review_days)
        for (p,), group in terms.group_by("lead_time_days")])
    recent = hist.filter(pl.col("ds") > hist["ds"].max() - pl.duration(days=method_window_days))
    ltd, terms = _other_methods(engine, ltd, terms, recent, review_days)
    classes = _classes(engine, hist, class_window_days)
    plan = plan_orders(ltd, load_positions(engine), terms.drop("sku", "location"), classes,
                       review_days)
    plan = plan.join(_reorder_points(forecast, cv, hist, terms, plan), on="unique_id",
                     how="left")
    plan = cap_for_expiry(plan, *_shelf_life_and_lots(engine))
    if budgets:
        plan = prioritise(plan, ltd, sku_prices(engine, plan), budgets, holding_rate)
    history.write("plans", "latest", plan)
    return plan


def _other_methods(engine: Engine, ltd: pl.DataFrame, terms: pl.DataFrame,
                   recent: pl.DataFrame, review_days: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Swap in compound-Poisson and learned-lead-time laws where they apply."""
    cols = ltd.columns
    ltd = ltd.with_columns(pl.lit(FORECAST).alias("method"))
    parts = []
    for (lead,), group in terms.group_by("lead_time_days"):
        daily = recent.join(group, on="unique_id", how="semi")
        if not daily.is_empty():
            got = lead_time_demand(daily, int(lead) + review_days)
            parts.append(got.filter(pl.col("method") == "compound-poisson"))
    swap = [p for p in parts if not p.is_empty()]
    receipts = load_receipts(engine)
    if not receipts.is_empty():
        lead = lead_time_for(lead_time_pmfs(receipts), terms.select(
            "unique_id", "supplier", "sku", "lead_time_days"))
        if not lead.is_empty():
            learned = demand_over_random_lead_time(
                recent.join(lead, on="unique_id", how="semi"), lead, review_days=review_days)
            source = lead.group_by("unique_id").agg(pl.col("source", "n_receipts").first())
            learned = learned.join(source, on="unique_id").with_columns(
                pl.format("lead time learned from {} receipts ({}), blended with the stated "
                          "one", pl.col("n_receipts"), pl.col("source"))
                .alias("method"),
                (pl.col("mean_lead_time_days").round().cast(pl.Int64) + review_days)
                .alias("days"))
            terms = terms.join(learned.select(
                "unique_id", pl.col("mean_lead_time_days").round().cast(pl.Int64)
                .alias("learned")), on="unique_id", how="left").with_columns(
                pl.coalesce("learned", "lead_time_days").alias("lead_time_days")).drop("learned")
            swap = [s.join(learned, on="unique_id", how="anti") for s in swap] + [learned]
    if swap:
        new = pl.concat([s.select(*cols, "method") for s in swap], how="vertical_relaxed")
        ltd = pl.concat([ltd.join(new, on="unique_id", how="anti"), new.cast(ltd.schema)],
                        how="vertical_relaxed")
    return ltd, terms


def _shelf_life_and_lots(engine: Engine) -> tuple[pl.DataFrame, pl.DataFrame]:
    s, lot = t.skus.c, t.lots.c
    shelf = _frame(engine, select(s.sku, s.shelf_life_days).where(s.shelf_life_days.is_not(None)),
                   {"sku": pl.Utf8, "shelf_life_days": pl.Int64})
    stock = load_positions(engine).select("unique_id").with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku"))
    shelf = stock.join(shelf, on="sku").select("unique_id", "shelf_life_days")
    lots = _frame(engine, select(lot.sku, lot.location, lot.on_hand, lot.expiry)
                  .where(lot.on_hand > 0, lot.expiry.is_not(None)),
                  {"sku": pl.Utf8, "location": pl.Utf8, "qty": pl.Int64, "expiry": pl.Date})
    today = date.today()
    lots = lots.select((pl.col("sku") + "@" + pl.col("location")).alias("unique_id"),
                       pl.col("qty").cast(pl.Float64),
                       (pl.col("expiry") - pl.lit(today)).dt.total_days().alias("days_to_expiry"))
    return shelf, lots


def sku_prices(engine: Engine, plan: pl.DataFrame) -> pl.DataFrame:
    """``unique_id, price`` for the series in ``plan`` (from the SKU catalogue)."""
    prices = _frame(engine, select(t.skus.c.sku, t.skus.c.price),
                    {"sku": pl.Utf8, "price": pl.Float64})
    return plan.select("unique_id").with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku")).join(
        prices, on="sku", how="left").select("unique_id", "price")


def _reorder_points(forecast: pl.DataFrame, cv: pl.DataFrame, hist: pl.DataFrame,
                    terms: pl.DataFrame, plan: pl.DataFrame) -> pl.DataFrame:
    """Reorder point: the class service-level quantile of demand over the lead time alone.

    That is what must be on hand when an order is placed; the low-stock alert compares to it.
    """
    import numpy as np

    from stockpilot.planning.policies import quantile_at

    parts = []
    for (lead,), group in terms.group_by("lead_time_days"):
        ltd = lead_time_quantiles(forecast.join(group, on="unique_id", how="semi"), cv, hist,
                                  max(int(lead), 1))
        ltd = ltd.join(plan.select("unique_id", "service_level"), on="unique_id")
        parts.append(ltd.select("unique_id").with_columns(pl.Series(
            "reorder_point", np.ceil(quantile_at(ltd, ltd["service_level"])).astype(np.int64))))
    return pl.concat(parts)


def _classes(engine: Engine, hist: pl.DataFrame, window: int) -> pl.DataFrame:
    end = hist["ds"].max()
    recent = hist.filter(pl.col("ds") > end - pl.duration(days=window))
    prices = _frame(engine, select(t.skus.c.sku, t.skus.c.price),
                    {"sku": pl.Utf8, "price": pl.Float64})
    price = recent.select("unique_id").unique().with_columns(
        pl.col("unique_id").str.split("@").list.first().alias("sku")).join(
        prices, on="sku", how="left").select("unique_id", "price")
    return abc_xyz(recent, price)


def approve(engine: Engine, plan: pl.DataFrame, suppliers: list[str] | None = None,
            as_of: date | None = None) -> list[int]:
    """Create one purchase order per supplier from the suggestions with a quantity > 0.

    The reference ``SUG-<supplier>-<date>`` makes approving twice on one day a no-op.
    """
    with UnitOfWork(engine) as uow:
        ids = approve_in(uow.conn, plan, suppliers, as_of)
        uow.commit()
    return ids


def approve_in(conn: Connection, plan: pl.DataFrame, suppliers: list[str] | None = None,
               as_of: date | None = None, locations: frozenset[str] | None = None
               ) -> list[int]:
    """:func:`approve` on an open transaction, optionally only for lines at ``locations``.

    A run limited to locations gets its own reference (``SUG-<supplier>-<date>-<locations>``),
    so it neither blocks nor repeats an unlimited approval of the same day.
    """
    todo = plan.filter(pl.col("order_qty") > 0)
    if suppliers:
        todo = todo.filter(pl.col("supplier").is_in(suppliers))
    if locations is not None:
        todo = todo.filter(pl.col("unique_id").str.split("@").list.last().is_in(
            sorted(locations)))
    day = (as_of or date.today()).isoformat()
    scope = "" if locations is None else "-" + "+".join(sorted(locations))
    ids = []
    for (supplier,), lines in todo.group_by("supplier", maintain_order=True):
        order = [OrderLine(*r["unique_id"].split("@", 1), int(r["order_qty"]))
                 for r in lines.iter_rows(named=True)]
        po_id, _ = create_purchase_order_in(conn, str(supplier), order,
                                            reference=f"SUG-{supplier}-{day}{scope}"[:128])
        ids.append(po_id)
    return ids
