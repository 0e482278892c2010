"""PyFlink job: rolling demand per SKU-location, flagged against the latest forecast band.

Self-contained (PyFlink and the standard library only), so the same file runs in the local
mini-cluster (``python -m stockpilot.flink.demand_anomalies``, in the ``.venv-flink`` that
``make flink`` creates) and on a Flink cluster (``flink run -py demand_anomalies.py ...``).

Table API / SQL:

* ``sales`` — sale events (``sku``, ``location``, ``quantity``, ``occurred_at``) with an
  event-time watermark of ``--lateness-s``; from a Kafka topic (``--bootstrap``, ``--topic``;
  needs the ``flink-sql-connector-kafka`` jar via ``--jars``) or, for replays and tests, a
  file of JSON lines (``--sales-file``).
* ``bands`` — the forecast run's band per SKU-location (``hi_1h``, ``hi_1d``: the upper
  quantile of demand over one hour and one day), a bounded table joined to every window —
  the "broadcast" of the latest forecast; a new forecast run writes a new file and the job
  is restarted on it.
* two windowed aggregates (Flink's windowing table-valued functions): ``HOP`` 1 hour every
  5 minutes and ``TUMBLE`` 1 day, summed units per SKU-location; a window whose units exceed
  its band's upper bound is an alert candidate (``rule = demand_spike_1h`` / ``_1d``).
* the candidates go to a Kafka topic (``--out-topic``) or a JSON-lines folder (``--out-dir``);
  ``stockpilot candidates`` turns them into alerts through the existing rules' store: dedup
  per (rule, SKU, location), cooldown and channels.

Reference: Apache Flink documentation, "Windowing TVF" (HOP, TUMBLE) and "Joins".
"""

from __future__ import annotations

import argparse
from typing import Any

HOP_SLIDE, HOP_SIZE = "INTERVAL '5' MINUTE", "INTERVAL '1' HOUR"


def sales_ddl(args: argparse.Namespace) -> str:
    """The ``sales`` source table: Kafka or a JSON-lines file, event time ``occurred_at``."""
    if args.sales_file:
        conn = (f"'connector' = 'filesystem', 'path' = '{args.sales_file}', "
                "'format' = 'json'")
    else:
        conn = (f"'connector' = 'kafka', 'topic' = '{args.topic}', "
                f"'properties.bootstrap.servers' = '{args.bootstrap}', "
                "'properties.group.id' = 'stockpilot-flink', "
                "'scan.startup.mode' = 'earliest-offset', 'format' = 'json', "
                "'json.ignore-parse-errors' = 'true'")
    return f"""CREATE TABLE sales (
        kind STRING, sku STRING, location STRING, quantity INT, occurred_at STRING,
        ts AS TO_TIMESTAMP(REPLACE(SUBSTRING(occurred_at FROM 1 FOR 19), 'T', ' ')),
        WATERMARK FOR ts AS ts - INTERVAL '{int(args.lateness_s)}' SECOND
    ) WITH ({conn})"""


def bands_ddl(path: str) -> str:
    """The forecast band per SKU-location (JSON lines: sku, location, hi_1h, hi_1d)."""
    return f"""CREATE TABLE bands (sku STRING, location STRING, hi_1h DOUBLE, hi_1d DOUBLE)
        WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json')"""


def sink_ddl(args: argparse.Namespace) -> str:
    """Where the candidates go: a Kafka topic or a folder of JSON lines."""
    cols = ("rule STRING, sku STRING, location STRING, window_start TIMESTAMP(3), "
            "window_end TIMESTAMP(3), units BIGINT, upper_bound DOUBLE")
    if args.out_dir:
        conn = f"'connector' = 'filesystem', 'path' = '{args.out_dir}', 'format' = 'json'"
    else:
        conn = (f"'connector' = 'kafka', 'topic' = '{args.out_topic}', "
                f"'properties.bootstrap.servers' = '{args.bootstrap}', 'format' = 'json'")
    return f"CREATE TABLE candidates ({cols}) WITH ({conn})"


def windows_sql(window: str, bound: str, rule: str) -> str:
    """Units per SKU-location and window, kept where they exceed the band's ``bound``.

    The pieces are this module's own constants, never user input.
    """
    return f"""
      SELECT '{rule}' AS rule, w.sku, w.location, w.window_start, w.window_end, w.units,
             b.{bound} AS upper_bound
      FROM (SELECT sku, location, window_start, window_end, SUM(quantity) AS units
            FROM TABLE({window})
            GROUP BY sku, location, window_start, window_end) AS w
      JOIN bands AS b ON w.sku = b.sku AND w.location = b.location
      WHERE w.units > b.{bound}"""  # noqa: S608


def statements(args: argparse.Namespace) -> tuple[list[str], str]:
    """The DDL and the one INSERT of the job (separate so tests can read them)."""
    view = ("CREATE TEMPORARY VIEW sale_events AS "
            "SELECT sku, location, quantity, ts FROM sales WHERE kind = 'sale'")
    hop = f"HOP(TABLE sale_events, DESCRIPTOR(ts), {HOP_SLIDE}, {HOP_SIZE})"
    day = "TUMBLE(TABLE sale_events, DESCRIPTOR(ts), INTERVAL '1' DAY)"
    insert = ("INSERT INTO candidates " + windows_sql(hop, "hi_1h", "demand_spike_1h")
              + " UNION ALL " + windows_sql(day, "hi_1d", "demand_spike_1d"))
    return [sales_ddl(args), bands_ddl(args.bands), sink_ddl(args), view], insert


def run(args: argparse.Namespace) -> Any:
    """Build the table environment, run the job; wait for it when the source is bounded."""
    from pyflink.table import EnvironmentSettings, TableEnvironment

    env = TableEnvironment.create(EnvironmentSettings.in_streaming_mode())
    conf = env.get_config()
    conf.set("parallelism.default", str(args.parallelism))
    if args.jars:
        conf.set("pipeline.jars", ";".join(f"file://{j}" for j in args.jars.split(",")))
    ddl, insert = statements(args)
    for stmt in ddl:
        env.execute_sql(stmt)
    result = env.execute_sql(insert)
    if args.sales_file:  # bounded replay: the job ends when the file is read
        result.wait()
    return result


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The job's options (see the module docstring)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--sales-file", help="JSON lines of ledger events (replay)")
    ap.add_argument("--bootstrap", default="127.0.0.1:9092")
    ap.add_argument("--topic", default="stockpilot.events")
    ap.add_argument("--bands", required=True, help="JSON lines: sku, location, hi_1h, hi_1d")
    ap.add_argument("--out-topic", default="stockpilot.alert-candidates")
    ap.add_argument("--out-dir", help="write candidates as JSON lines here instead of Kafka")
    ap.add_argument("--jars", help="comma-separated connector jars (Kafka)")
    ap.add_argument("--lateness-s", type=float, default=5.0)
    ap.add_argument("--parallelism", type=int, default=1)
    return ap.parse_args(argv)


if __name__ == "__main__":
    run(parse_args())
