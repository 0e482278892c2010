"""Ledger commands: what a client asks the ledger to record, each with its own event id.

Commands are imperative and frozen (cosmicpython). Every command carries a client-generated
``event_id``: applying the same id twice returns the first result and changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, fields
from datetime import date, datetime
from typing import Any, ClassVar


@dataclass(frozen=True, kw_only=True)
class LedgerCommand:
    """Fields every ledger command has."""

    kind: ClassVar[str] = "abstract"

    event_id: str
    sku: str
    location: str
    quantity: int
    occurred_at: datetime
    lot_code: str | None = None
    reference: str | None = None

    def fingerprint(self) -> str:
        """Stable hash of the command's content, to tell a replay from a reused id."""
        return fingerprint_of(self.canonical_json())

    def canonical_json(self) -> str:
        """The command as compact JSON with sorted keys (what the fingerprint hashes)."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict, with ``kind`` first."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in _field_names(type(self)):
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, date | datetime) else value
        return out


def fingerprint_of(canonical_json: str) -> str:
    """The fingerprint of a command's canonical JSON text."""
    return hashlib.sha256(canonical_json.encode()).hexdigest()[:32]


_FIELDS: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in fields(cls))
    return names


@dataclass(frozen=True, kw_only=True)
class ReceiveStock(LedgerCommand):
    """Units arrive at a location (from a supplier, or a purchase order when one is given)."""

    kind: ClassVar[str] = "receipt"
    expiry: date | None = None
    purchase_order_id: int | None = None
    #: Units of this receipt that were on order (default: all of it when a PO is named).
    on_order_units: int | None = None


@dataclass(frozen=True, kw_only=True)
class RecordSale(LedgerCommand):
    """Units leave to a customer; ``from_reserved`` ships units reserved earlier."""

    kind: ClassVar[str] = "sale"
    from_reserved: bool = False
    customer_id: str | None = None
    order_id: str | None = None
    unit_price: float | None = None


@dataclass(frozen=True, kw_only=True)
class RecordReturn(LedgerCommand):
    """A customer sends units back into stock."""

    kind: ClassVar[str] = "return"
    expiry: date | None = None
    customer_id: str | None = None
    order_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class AdjustStock(LedgerCommand):
    """A signed correction of on-hand units (damage, found stock, …); never zero."""

    kind: ClassVar[str] = "adjustment"
    expiry: date | None = None
    reason: str | None = None


@dataclass(frozen=True, kw_only=True)
class TransferStock(LedgerCommand):
    """Units move from ``location`` to ``to_location`` in one atomic step."""

    kind: ClassVar[str] = "transfer"
    to_location: str


@dataclass(frozen=True, kw_only=True)
class ShipTransfer(LedgerCommand):
    """Units leave ``location`` for ``to_location`` and are in transit until received."""

    kind: ClassVar[str] = "transfer_ship"
    to_location: str


@dataclass(frozen=True, kw_only=True)
class ReceiveTransfer(LedgerCommand):
    """Units shipped from ``from_location`` arrive at ``location`` (lot and expiry as shipped)."""

    kind: ClassVar[str] = "transfer_receipt"
    from_location: str
    expiry: date | None = None


@dataclass(frozen=True, kw_only=True)
class ReserveStock(LedgerCommand):
    """Units are promised to an open order and no longer available to others."""

    kind: ClassVar[str] = "reservation"
    order_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ReleaseReservation(LedgerCommand):
    """Reserved units become available again (order cancelled or changed)."""

    kind: ClassVar[str] = "release"
    order_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class CountStock(LedgerCommand):
    """A physical count: ``quantity`` is the counted level, the difference is the variance."""

    kind: ClassVar[str] = "count"


@dataclass(frozen=True, kw_only=True)
class WriteOff(LedgerCommand):
    """Units leave stock unsold: expired, damaged or lost. Expired lots may be written off."""

    kind: ClassVar[str] = "write_off"
    reason: str | None = None


COMMAND_TYPES: dict[str, type[LedgerCommand]] = {
    c.kind: c
    for c in (
        ReceiveStock,
        RecordSale,
        RecordReturn,
        AdjustStock,
        TransferStock,
        ReserveStock,
        ReleaseReservation,
        CountStock,
        WriteOff,
    )
}


def command_from_dict(data: dict[str, Any]) -> LedgerCommand:
    """Build a command from a plain dict with a ``kind`` (the inverse of ``to_dict``)."""
    body = dict(data)
    kind = body.pop("kind")
    cls = COMMAND_TYPES[kind]
    for f in fields(cls):
        value = body.get(f.name)
        if isinstance(value, str) and f.name == "occurred_at":
            body[f.name] = datetime.fromisoformat(value)
        elif isinstance(value, str) and f.name == "expiry":
            body[f.name] = date.fromisoformat(value)
    return cls(**body)
