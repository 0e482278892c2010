"""The versioned wire format of stock events (JSON), validated with pydantic at the edge.

Version 1: one JSON object per event with ``v`` (1), ``kind`` and the fields of the matching
ledger command (:mod:`stockpilot.domain.commands`); unknown fields are rejected. Quantities are
integers; ``occurred_at`` is ISO 8601 with a time zone (naive times are taken as UTC, on the
wire and in ``stockpilot events apply`` alike, which parses its files with :func:`parse_strict`).
Every field keeps to :mod:`stockpilot.domain.bounds` (lengths, 32-bit quantities, prices below
1e10, no NUL). A receipt may name ``purchase_order_id``: it is then received against an
open line of that PO for its SKU and location (the line's ``received`` and on_order move
together) or rejected (:mod:`stockpilot.ledger.po_receipts`); the internal
``on_order_units`` is never taken from the wire.

The pydantic models are the definition (and what the API documents). The stream's hot path
decodes with msgspec structs that mirror them field for field (about 5× faster than
``json.loads`` + pydantic); anything msgspec refuses is parsed again by pydantic, so a valid
event is accepted exactly as before and a bad one gets pydantic's error message. A test
checks that both paths give the same commands.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

import msgspec
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationError,
    field_validator,
)

from stockpilot.domain import bounds as b
from stockpilot.domain import commands as c

SCHEMA_VERSION = 1

# Field types from the one set of bounds (stockpilot.domain.bounds): lengths, integer range,
# money range, no NUL. The msgspec mirror below uses the same numbers.
_NoNul = AfterValidator(b.no_nul)
EventId = Annotated[str, Field(min_length=1, max_length=b.EVENT_ID_LEN), _NoNul]
Key = Annotated[str, Field(min_length=1, max_length=b.ID_LEN), _NoNul]
OptId = Annotated[str, Field(max_length=b.ID_LEN), _NoNul] | None
LotCode = Annotated[str, Field(max_length=b.LOT_CODE_LEN), _NoNul] | None
Text = Annotated[str, Field(max_length=b.TEXT_LEN), _NoNul] | None
Quantity = Annotated[StrictInt, Field(ge=b.INT_MIN, le=b.INT_MAX)]
Price = Annotated[float, Field(gt=-b.MONEY_LIMIT, lt=b.MONEY_LIMIT, allow_inf_nan=False)] | None
PoId = Annotated[StrictInt, Field(ge=1, le=b.BIGINT_MAX)] | None


class _Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    v: Literal[1] = 1
    event_id: EventId
    sku: Key
    location: Key
    quantity: Quantity
    occurred_at: datetime
    lot_code: LotCode = None
    reference: Text = None

    @field_validator("occurred_at")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


class Receipt(_Event):
    """Units arrive."""

    kind: Literal["receipt"]
    expiry: date | None = None
    purchase_order_id: PoId = Field(default=None, description=(
        "Receive against the open line of this PO for the SKU and location "
        "(rejected when there is none or it has fewer units open)"))


class Sale(_Event):
    """Units leave to a customer."""

    kind: Literal["sale"]
    from_reserved: bool = False
    customer_id: OptId = None
    order_id: OptId = None
    unit_price: Price = None


class Return(_Event):
    """A customer sends units back."""

    kind: Literal["return"]
    expiry: date | None = None
    customer_id: OptId = None
    order_id: OptId = None


class Adjustment(_Event):
    """A signed correction."""

    kind: Literal["adjustment"]
    expiry: date | None = None
    reason: Text = None


class Transfer(_Event):
    """Units move between locations."""

    kind: Literal["transfer"]
    to_location: Key


class Reservation(_Event):
    """Units promised to an order."""

    kind: Literal["reservation"]
    order_id: OptId = None


class Release(_Event):
    """A promise withdrawn."""

    kind: Literal["release"]
    order_id: OptId = None


class Count(_Event):
    """A counted level."""

    kind: Literal["count"]


class WriteOffEvent(_Event):
    """Units written off."""

    kind: Literal["write_off"]
    reason: Text = None


class Envelope(BaseModel):
    """Any one event (discriminated on ``kind``)."""

    event: Annotated[
        Receipt
        | Sale
        | Return
        | Adjustment
        | Transfer
        | Reservation
        | Release
        | Count
        | WriteOffEvent,
        Field(discriminator="kind"),
    ]


class BadMessage(Exception):
    """A message that is not a valid event; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse(body: bytes | str) -> c.LedgerCommand:
    """The ledger command a message carries, or :class:`BadMessage`."""
    try:
        return _fast(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return parse_strict(body)


def parse_strict(body: bytes | str) -> c.LedgerCommand:
    """:func:`parse` through pydantic alone (the reference the fast path must agree with)."""
    try:
        data: Any = json.loads(body)
        if not isinstance(data, dict):
            raise BadMessage("not a JSON object")
        event = Envelope.model_validate({"event": data}).event
    except (ValueError, ValidationError) as exc:
        raise BadMessage(
            str(exc).splitlines()[0]
            if not isinstance(exc, ValidationError)
            else "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        ) from exc
    fields = event.model_dump(exclude={"v"})
    return c.COMMAND_TYPES[fields.pop("kind")](**fields)


# --- the msgspec mirror of the models above (hot path) ------------------------------------

_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=b.EVENT_ID_LEN)]
_Key = Annotated[str, msgspec.Meta(min_length=1, max_length=b.ID_LEN)]
_OptId = Annotated[str, msgspec.Meta(max_length=b.ID_LEN)] | None
_Lot = Annotated[str, msgspec.Meta(max_length=b.LOT_CODE_LEN)] | None
_Text = Annotated[str, msgspec.Meta(max_length=b.TEXT_LEN)] | None
_Qty = Annotated[int, msgspec.Meta(ge=b.INT_MIN, le=b.INT_MAX)]
_Price = Annotated[float, msgspec.Meta(gt=-b.MONEY_LIMIT, lt=b.MONEY_LIMIT)] | None


class _M(msgspec.Struct, forbid_unknown_fields=True, tag_field="kind", kw_only=True):
    event_id: _Id
    sku: _Key
    location: _Key
    quantity: _Qty
    occurred_at: datetime
    v: Literal[1] = 1
    lot_code: _Lot = None
    reference: _Text = None


class _MReceipt(_M, tag="receipt"):
    expiry: date | None = None
    purchase_order_id: Annotated[int, msgspec.Meta(ge=1, le=b.BIGINT_MAX)] | None = None


class _MSale(_M, tag="sale"):
    from_reserved: bool = False
    customer_id: _OptId = None
    order_id: _OptId = None
    unit_price: _Price = None


class _MReturn(_M, tag="return"):
    expiry: date | None = None
    customer_id: _OptId = None
    order_id: _OptId = None


class _MAdjustment(_M, tag="adjustment"):
    expiry: date | None = None
    reason: _Text = None


class _MTransfer(_M, tag="transfer"):
    to_location: _Key


class _MReservation(_M, tag="reservation"):
    order_id: _OptId = None


class _MRelease(_M, tag="release"):
    order_id: _OptId = None


class _MCount(_M, tag="count"):
    pass


class _MWriteOff(_M, tag="write_off"):
    reason: _Text = None


_DECODER = msgspec.json.Decoder(_MReceipt | _MSale | _MReturn | _MAdjustment | _MTransfer
                                | _MReservation | _MRelease | _MCount | _MWriteOff)
_FIELDS: dict[type, tuple[str, ...]] = {}


def _fast(body: bytes | str) -> c.LedgerCommand:
    # JSON can carry a NUL only escaped; msgspec has no NUL check, pydantic's path has one
    nul = b"\\u0000" in body if isinstance(body, bytes) else "\\u0000" in body
    if nul:
        raise msgspec.ValidationError("NUL character")
    event = _DECODER.decode(body)
    cls = type(event)
    names = _FIELDS.get(cls) or _FIELDS.setdefault(
        cls, tuple(f for f in cls.__struct_fields__ if f != "v"))
    fields = {f: getattr(event, f) for f in names}
    at = fields["occurred_at"]
    if at.tzinfo is None:
        fields["occurred_at"] = at.replace(tzinfo=UTC)
    return c.COMMAND_TYPES[cls.__struct_config__.tag](**fields)


def dump(cmd: c.LedgerCommand) -> bytes:
    """The wire form of a command (version 1); unset optional fields are left out."""
    body = {k: v for k, v in cmd.to_dict().items()
            if v is not None and v is not False and k != "on_order_units"}  # internal only
    return json.dumps({"v": SCHEMA_VERSION, **body}, separators=(",", ":")).encode()
