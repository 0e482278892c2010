"""Prometheus metrics (prometheus-client): one registry for the consumer, alerts and the API.

``events_total{source,outcome}`` counts messages by outcome (applied, duplicate, dead);
``apply_seconds{source}`` is the latency of applying one batch (one transaction);
``consumer_lag{source}`` is what the source still holds for us, set after every batch (NATS:
the durable consumer's ``num_pending`` + ``num_ack_pending``; Redis: the group's ``lag`` +
XPENDING count; embedded: pending inbox rows); ``alerts_total{rule}`` counts alerts raised;
``planning_*`` gauges carry the planner's headline numbers (below reorder point, projected
stockouts, fill rate of the last 28 days), recomputed by ``stockpilot alerts check`` and
periodically by ``stockpilot stream --alerts``. ``exposition()``
returns the text format for ``/metrics``; ``stockpilot stream --metrics-port`` serves it.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

REGISTRY = CollectorRegistry()

EVENTS = Counter("stockpilot_events_total", "Stream messages by source and outcome",
                 ["source", "outcome"], registry=REGISTRY)
APPLY_SECONDS = Histogram("stockpilot_apply_seconds", "Time to apply one batch to the ledger",
                          ["source"], registry=REGISTRY,
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5))
CONSUMER_LAG = Gauge("stockpilot_consumer_lag", "Messages waiting at the source", ["source"],
                     registry=REGISTRY)
ALERTS = Counter("stockpilot_alerts_total", "Alerts raised by rule", ["rule"],
                 registry=REGISTRY)
BELOW_REORDER = Gauge("stockpilot_planning_skus_below_reorder_point",
                      "SKU-locations with available stock at or below the reorder point",
                      registry=REGISTRY)
PROJECTED_STOCKOUTS = Gauge("stockpilot_planning_projected_stockouts",
                            "SKU-locations projected to run out before the next receipt",
                            registry=REGISTRY)


def exposition() -> bytes:
    """The Prometheus text format of every stockpilot metric."""
    return generate_latest(REGISTRY)


FILL_RATE_28D = Gauge("stockpilot_planning_fill_rate_28d",
                      "Units sold / units asked for over the last 28 days (refused sales count "
                      "as unfilled)", registry=REGISTRY)


def value(name: str, **labels: str) -> float | None:
    """The current value of one sample (tests, and the CLI's summary)."""
    got = REGISTRY.get_sample_value(name, labels or None)
    return None if got is None else float(got)
