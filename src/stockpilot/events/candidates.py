"""Alert candidates from the Flink job → alerts, through the existing store, dedup and channels.

The Flink job (``stockpilot/flink/demand_anomalies.py``) writes one JSON object per window
whose demand broke the forecast band: ``rule``, ``sku``, ``location``, ``window_start``,
``window_end``, ``units``, ``upper_bound``. Hopping windows overlap, so one spike yields several
candidates; :func:`stockpilot.alerts.service.raise_alerts` keeps one open alert per (rule, SKU,
location) and applies the cooldown, so they become one alert and one notification per channel.
Offsets are committed after the alerts are stored: a crash repeats candidates, which the same
dedup absorbs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from stockpilot.alerts.rules import Finding
from stockpilot.alerts.service import COOLDOWN, Notifiers, raise_alerts

TOPIC = "stockpilot.alert-candidates"
GROUP = "stockpilot-alerts"


class BadCandidate(ValueError):
    """A candidate message that is not an object with rule, sku, location, units."""


def finding_of(body: bytes | str) -> Finding:
    """One candidate → a :class:`Finding` (severity ``warning``; the message says why).

    Raises:
        BadCandidate: the body lacks a field or is not JSON.
    """
    try:
        doc = json.loads(body)
        rule, sku, location = str(doc["rule"]), str(doc["sku"]), str(doc["location"])
        units, bound = int(doc["units"]), float(doc["upper_bound"])
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCandidate(f"not an alert candidate: {body[:200]!r} ({exc})") from exc
    span = f"{doc.get('window_start', '?')} – {doc.get('window_end', '?')}"
    return Finding(rule, sku, location, "warning",
                   f"{units} units sold in {span}, above the forecast band's upper bound "
                   f"{bound:g}")


def raise_from(engine: Engine, bodies: Iterable[bytes | str], notifiers: Notifiers = (),
               cooldown: timedelta = COOLDOWN) -> tuple[list[int], int]:
    """Raise alerts for ``bodies``; returns (new alert ids, bad candidates skipped)."""
    found, bad = [], 0
    for body in bodies:
        try:
            found.append(finding_of(body))
        except BadCandidate:
            bad += 1
    unique = list({(f.rule, f.sku, f.location): f for f in found}.values())
    return (raise_alerts(engine, unique, notifiers, cooldown=cooldown) if unique else []), bad


def read_dir(path: Path) -> list[bytes]:
    """Candidates the job wrote as JSON lines into a folder (``--out-dir``)."""
    return [line.encode() for f in sorted(path.rglob("*")) if f.is_file()
            and not f.name.startswith(".") for line in f.read_text().splitlines() if line]


def consume(engine: Engine, url: str | None, notifiers: Notifiers = (), topic: str = TOPIC,
            group: str = GROUP, idle_exit: float = 2.0,
            cooldown: timedelta = COOLDOWN) -> list[int]:
    """Read the candidates topic until ``idle_exit`` s idle; commit after the alerts."""
    from stockpilot.events import kafka

    kafka.ensure_topic(url, topic)
    cons: Any = kafka.consumer(url, group)
    cons.subscribe([topic])
    raised: list[int] = []
    idle_since, joined_by = time.monotonic(), time.monotonic() + kafka.JOIN_WAIT_S
    try:
        while True:
            msgs = [m for m in cons.consume(500, timeout=kafka.POLL_WAIT_S) if m.error() is None]
            now = time.monotonic()
            if not msgs:
                if not cons.assignment() and now < joined_by:
                    idle_since = now
                elif idle_exit and now - idle_since >= idle_exit:
                    return raised
                continue
            ids, _bad = raise_from(engine, [m.value() for m in msgs], notifiers, cooldown)
            raised += ids
            cons.commit(asynchronous=False)
            idle_since = now
    finally:
        cons.close()
