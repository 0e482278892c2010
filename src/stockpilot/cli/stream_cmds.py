"""``stockpilot stream``, ``stockpilot relay`` and ``stockpilot events publish``.

``stream`` runs a consumer, ``relay`` publishes the outbox, ``events publish`` replays a file.
"""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path

import typer

from stockpilot.cli.common import DbOpt, WorkspaceOpt, console, workspace
from stockpilot.cli.stock_cmds import events_app

SOURCES = ("embedded", "nats", "redis", "kafka")
URLS = {"nats": "nats://127.0.0.1:4222", "redis": "redis://127.0.0.1:6379/0"}
#: Kafka options (the bootstrap servers come from --url or STOCKPILOT_KAFKA_BOOTSTRAP)
TopicOpt = typer.Option(None, "--topic", envvar="STOCKPILOT_KAFKA_TOPIC",
                        help="Kafka topic (default: stockpilot.events).")
GroupOpt = typer.Option(None, "--group", envvar="STOCKPILOT_KAFKA_GROUP",
                        help="Kafka consumer group (default: stockpilot-ledger).")


def stream(source: str = typer.Option("embedded", help="embedded | nats | redis | kafka"),
           url: str | None = typer.Option(None, help="Broker URL (NATS, Redis or Kafka "
                                                    "bootstrap servers)."),
           batch: int = typer.Option(1000, min=1, max=100_000, help="Events per transaction."),
           idle_exit: float = typer.Option(0.0, min=0.0,
                                           help="Stop after this many idle seconds (0: never)."),
           consumer: str = typer.Option("c1", help="Consumer name (Redis group member)."),
           metrics_port: int = typer.Option(0, help="Serve Prometheus /metrics on this port."),
           alerts: bool = typer.Option(False, "--alerts/--no-alerts",
                                       help="After each batch, check the SKUs it touched "
                                            "(low stock, projected stockout) and notify per "
                                            "[alerts.routes]."),
           gauges_every: float = typer.Option(30.0, min=1.0,
                                              help="With --alerts: recompute the planning "
                                                   "gauges at most this often (seconds)."),
           stream_name: str | None = typer.Option(None, envvar="STOCKPILOT_STREAM_NAME",
                                                  help="NATS stream / Redis key (default: "
                                                       "STOCKPILOT_EVENTS / stockpilot:events)."),
           topic: str | None = TopicOpt, group: str | None = GroupOpt,
           ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Consume stock events into the ledger: one transaction per batch, ack after commit."""
    if source not in SOURCES:
        raise typer.BadParameter(f"--source must be one of {', '.join(SOURCES)}")
    if metrics_port:
        from prometheus_client import start_http_server

        from stockpilot.metrics import REGISTRY

        start_http_server(metrics_port, addr="127.0.0.1", registry=REGISTRY)
    w = workspace(ws, db)
    hook = _live_alerts(w, gauges_every) if alerts else None
    idle = idle_exit or 5.0
    totals = {"applied": 0, "duplicate": 0, "dead": 0}
    signal.signal(signal.SIGTERM, _stop)  # finish deliveries under way on a polite stop
    try:
        while True:
            res = _consume(source, w.engine, url or URLS.get(source, ""), batch, idle,
                           consumer, hook, stream_name or topic, group)
            for key in totals:
                totals[key] += getattr(res, key) if res else 0
            if idle_exit and not (res and (res.applied or res.duplicate or res.dead)):
                break
            if res is None and source == "embedded":
                time.sleep(min(idle, 0.2))
    except KeyboardInterrupt:
        pass
    finally:
        if hook is not None:
            hook.close()
    console.print(", ".join(f"{v} {k}" for k, v in totals.items()))


def _stop(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _live_alerts(w, gauges_every: float):  # type: ignore[no-untyped-def]
    from datetime import timedelta

    from stockpilot.alerts.live import LiveAlerts
    from stockpilot.alerts.routing import Router

    cfg = w.settings.alerts
    return LiveAlerts(w.engine, w.history, Router.from_settings(cfg),
                      cooldown=timedelta(hours=cfg.cooldown_hours), gauges_every_s=gauges_every)


def _consume(source: str, engine, url: str, batch: int, idle: float, consumer: str,  # type: ignore[no-untyped-def]
             hook=None, stream_name: str | None = None, group: str | None = None):
    if source == "embedded":
        from stockpilot.events import embedded

        deadline = time.monotonic() + idle
        total = None
        while time.monotonic() < deadline:
            res = embedded.consume_once(engine, batch, on_batch=hook)
            if res is None:
                time.sleep(0.05)
                continue
            total = res if total is None else total.add(res)
            deadline = time.monotonic() + idle
        return total
    if source == "nats":
        from stockpilot.events import nats_js

        return nats_js.consume(engine, url, batch, idle, on_batch=hook,
                               stream=stream_name or nats_js.STREAM)
    if source == "kafka":
        from stockpilot.events import kafka

        return kafka.consume(engine, url or None, batch, idle, on_batch=hook,
                             topic=stream_name or kafka.TOPIC, group=group or kafka.GROUP,
                             member=consumer)
    from stockpilot.events import redis_streams

    return redis_streams.consume(engine, url, consumer, batch, idle, on_batch=hook,
                                 stream=stream_name or redis_streams.STREAM)


@events_app.command("publish")
def publish(file: Path = typer.Argument(..., help="JSON lines, one event per line."),
            source: str = typer.Option("embedded", help="embedded | nats | redis | kafka"),
            url: str | None = typer.Option(None, help="Broker URL (NATS, Redis or Kafka)."),
            rate: float = typer.Option(0.0, min=0.0, help="Events per second (0: as fast)."),
            stream_name: str | None = typer.Option(None, envvar="STOCKPILOT_STREAM_NAME",
                                                   help="NATS stream / Redis key."),
            topic: str | None = TopicOpt,
            ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Publish a file of events to a stream (message id = event id), optionally paced."""
    lines = [ln for ln in file.read_text(encoding="utf-8").splitlines() if ln.strip()]
    msgs = [(str(json.loads(ln).get("event_id", f"line-{n}")), ln.encode())
            for n, ln in enumerate(lines, 1)]
    chunk = max(1, int(rate)) if rate else len(msgs)
    for start in range(0, len(msgs), chunk):
        t0 = time.monotonic()
        part = msgs[start:start + chunk]
        if source == "embedded":
            from stockpilot.events import embedded

            embedded.publish(workspace(ws, db).engine, part)
        elif source == "nats":
            from stockpilot.events import nats_js

            nats_js.publish(url or URLS["nats"], part, stream=stream_name or nats_js.STREAM)
        elif source == "kafka":  # keyed by sku@location: one SKU-location stays in order
            from stockpilot.events import kafka

            kafka.publish(url, part, topic=topic or kafka.TOPIC)
        else:
            from stockpilot.events import redis_streams

            redis_streams.publish(url or URLS["redis"], part,
                                  stream=stream_name or redis_streams.STREAM)
        if rate:
            time.sleep(max(0.0, 1.0 - (time.monotonic() - t0)))
    console.print(f"published {len(msgs)} events to {source}")


def relay(to: str = typer.Option("embedded", help="embedded | nats | redis | kafka"),
          url: str | None = typer.Option(None, help="Broker URL (NATS, Redis or Kafka)."),
          name: str | None = typer.Option(None, help="Topic / stream (default: "
                                                     "stockpilot.changes, STOCKPILOT_CHANGES, "
                                                     "stockpilot:changes)."),
          batch: int = typer.Option(500, min=1, max=50_000, help="Changes per send."),
          idle_exit: float = typer.Option(0.0, min=0.0,
                                          help="Stop after this many idle seconds (0: never)."),
          gap_wait: float = typer.Option(2.0, min=0.0,
                                         help="Wait this long for a transaction still open "
                                              "before stepping over its id."),
          alerts: bool = typer.Option(False, "--alerts/--no-alerts",
                                      help="After each batch, check the SKU-locations it "
                                           "changed and notify per [alerts.routes]."),
          gauges_every: float = typer.Option(30.0, min=1.0, help="With --alerts: planning "
                                                                 "gauges at most this often."),
          ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Publish committed ledger changes from the outbox, in order, once per change id."""
    from stockpilot.events.relay import DESTINATIONS, Relay
    from stockpilot.events.relay_bus import publisher

    if to not in DESTINATIONS:
        raise typer.BadParameter(f"--to must be one of {', '.join(DESTINATIONS)}")
    w = workspace(ws, db)
    hook = _live_alerts(w, gauges_every) if alerts else None
    signal.signal(signal.SIGTERM, _stop)
    sent = 0
    try:
        sent = Relay(w.engine, publisher(to, url, name), batch=batch, gap_wait_s=gap_wait,
                     on_batch=hook).run(idle_exit=idle_exit)
    except KeyboardInterrupt:
        pass
    finally:
        if hook is not None:
            hook.close()
    console.print(f"relayed {sent} changes to {to}")


def candidates(url: str | None = typer.Option(None, help="Kafka bootstrap servers."),
               topic: str = typer.Option("stockpilot.alert-candidates",
                                         help="Topic the Flink job writes to."),
               from_dir: Path | None = typer.Option(None, help="Read the job's JSON-lines "
                                                                "output folder instead."),
               idle_exit: float = typer.Option(0.0, min=0.0,
                                               help="Stop after this many idle seconds "
                                                    "(0: never)."),
               ws: Path | None = WorkspaceOpt, db: str | None = DbOpt) -> None:
    """Turn the Flink job's alert candidates into alerts (dedup, cooldown, [alerts.routes])."""
    from datetime import timedelta

    from stockpilot.alerts.routing import Router
    from stockpilot.events import candidates as cand

    w = workspace(ws, db)
    cfg = w.settings.alerts
    router, cooldown = Router.from_settings(cfg), timedelta(hours=cfg.cooldown_hours)
    if from_dir is not None:
        raised, bad = cand.raise_from(w.engine, cand.read_dir(from_dir), router, cooldown)
        console.print(f"{len(raised)} alerts raised, {bad} bad candidates")
        return
    signal.signal(signal.SIGTERM, _stop)
    try:
        raised = cand.consume(w.engine, url, router, topic=topic,
                              idle_exit=idle_exit or 1e12, cooldown=cooldown)
        console.print(f"{len(raised)} alerts raised")
    except KeyboardInterrupt:
        pass


def register(app: typer.Typer) -> None:
    """Add ``stream``, ``relay`` and ``candidates`` (``events publish`` joins ``events``)."""
    app.command()(stream)
    app.command()(relay)
    app.command()(candidates)
