"""Mail a report, send the period's alert digest, and record every delivery (sent or failed).

Each delivery goes through the project's retry policy (:func:`stockpilot.alerts.notifiers.
deliver`); its outcome is one row of ``deliveries``, so a failed mail is visible afterwards
(``stockpilot report deliveries --failed``) instead of lost in a log.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select

from stockpilot.alerts.notifiers import deliver
from stockpilot.store import schema_events as te
from stockpilot.store import schema_reports as tr
from stockpilot.store.uow import UnitOfWork
from stockpilot.usecases.actor import Actor, require


@dataclass(frozen=True)
class Delivery:
    """The outcome of one delivery."""

    channel: str
    status: str
    attempts: int
    items: int
    error: str | None


class _Mail:
    """Adapts a one-off mail to :func:`deliver`'s ``send(payload)`` notifier shape."""

    def __init__(self, send: Callable[[], None]) -> None:
        self._send = send

    def send(self, _payload: dict[str, Any]) -> None:
        self._send()


def _record(uow: UnitOfWork, kind: str, notifier: Any, subject: str, items: int,
            result: tuple[bool, int, str | None]) -> Delivery:
    sent, attempts, error = result
    channel = getattr(notifier, "channel", type(notifier).__name__.lower())
    uow.conn.execute(insert(tr.deliveries).values(
        kind=kind, channel=channel, recipients=", ".join(getattr(notifier, "to", ())),
        subject=subject, status="sent" if sent else "failed", attempts=attempts, items=items,
        last_error=error, created_at=datetime.now(UTC)))
    return Delivery(channel, "sent" if sent else "failed", attempts, items, error)


def mail_report(uow: UnitOfWork, actor: Actor, notifier: Any, files: Sequence[Path],
                subject: str, body: str,
                sleep: Callable[[float], None] | None = None) -> Delivery:
    """Mail ``files`` (the report and what it needs) once, retried; the outcome recorded."""
    require(actor, "planner")
    mail = _Mail(lambda: notifier.send_mail(subject, body, files))
    result = deliver(mail, {}, sleep) if sleep else deliver(mail, {})
    return _record(uow, "report", notifier, subject, 1, result)


def alerts_between(uow: UnitOfWork, actor: Actor, since: datetime, until: datetime
                   ) -> list[dict[str, Any]]:
    """Alerts raised in ``[since, until)`` at the actor's locations, oldest first."""
    a = te.alerts.c
    rows = uow.conn.execute(select(a.id, a.rule, a.sku, a.location, a.severity, a.message,
                                   a.status, a.created_at)
                            .where(a.created_at >= since, a.created_at < until)
                            .order_by(a.created_at, a.id)).all()
    return [dict(r._mapping) for r in rows if actor.sees(r.location)]


def send_digest(uow: UnitOfWork, actor: Actor, notifiers: Sequence[Any], since: datetime,
                until: datetime, sleep: Callable[[float], None] | None = None
                ) -> list[Delivery]:
    """One digest of the period's alerts to each notifier; nothing is sent for no alerts."""
    require(actor, "planner")
    alerts = alerts_between(uow, actor, since, until)
    if not alerts:
        return []
    period = f"{since:%Y-%m-%d %H:%M} – {until:%Y-%m-%d %H:%M} UTC"
    out = []
    for n in notifiers:
        mail = _Mail(lambda n=n: n.send_digest(alerts, period))  # type: ignore[misc]
        result = deliver(mail, {}, sleep) if sleep else deliver(mail, {})
        subject = f"digest of {len(alerts)} alerts, {period}"
        out.append(_record(uow, "digest", n, subject, len(alerts), result))
    return out


def deliveries(uow: UnitOfWork, actor: Actor, *, failed_only: bool = False,
               limit: int = 50) -> list[dict[str, Any]]:
    """The latest deliveries (newest first); ``failed_only`` for the dead letters."""
    require(actor, "viewer")
    d = tr.deliveries.c
    q = select(tr.deliveries).order_by(d.created_at.desc(), d.id.desc()).limit(limit)
    if failed_only:
        q = q.where(d.status == "failed")
    return [dict(r._mapping) for r in uow.conn.execute(q)]
