"""The ledger's rules, applied to in-memory stock state: pure, no I/O.

The store loads the stock rows an event batch touches (locked), this module applies each
command in order and returns the movements it produced, and the store writes the final state
back with a version check. Keeping the rules here means every rule is tested without a
database, and the database's CHECK constraints are a second, independent guard.

Invariants (checked by :func:`check_state` and the store's invariant checker):
  * ``reserved >= 0``; unless the location allows backorders, ``0 <= reserved <= on_hand``;
  * for lot-tracked SKUs, ``on_hand`` and ``reserved`` equal the sums over their lots, and every
    lot has ``0 <= reserved <= on_hand``;
  * a sale or reservation never takes available stock below zero (rejected, never clamped),
    unless the location allows backorders and the SKU is not lot-tracked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from stockpilot.domain import bounds
from stockpilot.domain.commands import (
    AdjustStock,
    CountStock,
    LedgerCommand,
    ReceiveStock,
    ReceiveTransfer,
    RecordReturn,
    RecordSale,
    ReleaseReservation,
    ReserveStock,
    ShipTransfer,
    TransferStock,
    WriteOff,
)
from stockpilot.domain.movements import Movement, MovementKind
from stockpilot.errors import InsufficientStock, InvalidEvent


@dataclass
class LotState:
    """Units of one lot at one location."""

    lot_code: str
    expiry: date | None
    on_hand: int = 0
    reserved: int = 0
    is_new: bool = False

    def free(self, today: date) -> int:
        """Units of this lot that can still be sold or reserved today."""
        if self.expiry is not None and self.expiry <= today:
            return 0
        return self.on_hand - self.reserved


@dataclass
class StockState:
    """Working copy of one SKU-location's stock row and its lots."""

    sku: str
    location: str
    on_hand: int = 0
    reserved: int = 0
    on_order: int = 0
    allows_backorders: bool = False
    lot_tracked: bool = False
    version: int = 0
    lots: dict[str, LotState] = field(default_factory=dict)
    touched: bool = False

    def available(self, today: date) -> int:
        """Units that can be sold or reserved today (expired lots excluded)."""
        if self.lot_tracked:
            return sum(lot.free(today) for lot in self.lots.values())
        return self.on_hand - self.reserved

    def fefo(self) -> list[LotState]:
        """Lots in first-expiry-first-out order (no expiry last, then by code for ties)."""
        return sorted(
            self.lots.values(),
            key=lambda lot: (lot.expiry is None, lot.expiry or date.max, lot.lot_code),
        )


StateKey = tuple[str, str]


@dataclass
class _Ctx:
    """What one command's application needs: the states and a movement builder."""

    cmd: LedgerCommand
    states: dict[StateKey, StockState]
    out: list[Movement] = field(default_factory=list)

    @property
    def today(self) -> date:
        return self.cmd.occurred_at.date()

    def state(self, location: str | None = None) -> StockState:
        st = self.states[(self.cmd.sku, location or self.cmd.location)]
        st.touched = True
        return st

    def move(
        self,
        kind: MovementKind,
        on_hand: int,
        reserved: int = 0,
        *,
        location: str | None = None,
        lot: LotState | None = None,
        variance: int | None = None,
    ) -> None:
        self.out.append(
            Movement(
                event_id=self.cmd.event_id,
                seq=len(self.out),
                kind=kind,
                sku=self.cmd.sku,
                location=location or self.cmd.location,
                on_hand_delta=on_hand,
                reserved_delta=reserved,
                occurred_at=self.cmd.occurred_at,
                lot_code=lot.lot_code if lot else None,
                expiry=lot.expiry if lot else None,
                variance=variance,
                reference=self.cmd.reference,
            )
        )


def validate(cmd: LedgerCommand) -> None:
    """Reject commands whose shape is wrong, before any state is read."""
    q = cmd.quantity
    if type(q) is not int:
        raise InvalidEvent(cmd.event_id, f"quantity must be an integer, got {q!r}")
    if isinstance(cmd, AdjustStock):
        if q == 0:
            raise InvalidEvent(cmd.event_id, "an adjustment of 0 units records nothing")
    elif isinstance(cmd, CountStock):
        if q < 0:
            raise InvalidEvent(cmd.event_id, f"a counted level cannot be negative ({q})")
    elif q <= 0:
        raise InvalidEvent(cmd.event_id, f"quantity must be positive, got {q}")
    if isinstance(cmd, TransferStock | ShipTransfer) and cmd.to_location == cmd.location:
        raise InvalidEvent(cmd.event_id, "a transfer needs two different locations")
    if not cmd.event_id or not cmd.sku or not cmd.location:
        raise InvalidEvent(cmd.event_id, "event_id, sku and location are required")
    try:
        bounds.check_command(cmd)
    except bounds.OutOfBounds as exc:
        raise InvalidEvent(cmd.event_id, str(exc)) from exc


def keys_of(cmd: LedgerCommand) -> list[StateKey]:
    """The SKU-locations a command touches (two for a transfer)."""
    keys = [(cmd.sku, cmd.location)]
    if isinstance(cmd, TransferStock | ShipTransfer):
        keys.append((cmd.sku, cmd.to_location))
    return keys


def apply(cmd: LedgerCommand, states: dict[StateKey, StockState]) -> list[Movement]:
    """Apply one command to ``states`` in place and return the movements it made.

    On error nothing in ``states`` has changed: the command is applied to copies first.

    Raises:
        InsufficientStock: the command would oversell.
        InvalidEvent: the command breaks another ledger rule.
    """
    validate(cmd)
    keys = keys_of(cmd)
    scratch = {k: _copy(states[k]) for k in keys}
    ctx = _Ctx(cmd, scratch)
    _HANDLERS[type(cmd)](ctx)
    _check_fits(cmd, [scratch[k] for k in keys if scratch[k].touched], ctx.out)
    for k in keys:
        if scratch[k].touched:
            states[k] = scratch[k]
    return ctx.out


def _check_fits(cmd: LedgerCommand, touched: list[StockState], moves: list[Movement]) -> None:
    """Balances and movements the command leaves must fit their columns (domain.bounds)."""
    try:
        for st in touched:
            for name in ("on_hand", "reserved", "on_order"):
                bounds.check_level(f"{st.sku}@{st.location} {name}", getattr(st, name))
            for lot in st.lots.values():
                bounds.check_level(f"lot {lot.lot_code} on_hand", lot.on_hand)
        for m in moves:
            bounds.check_level("on_hand change", m.on_hand_delta)
            bounds.check_level("variance", m.variance or 0)
    except bounds.OutOfBounds as exc:
        raise InvalidEvent(cmd.event_id, f"the result would not fit: {exc}") from exc


def _copy(st: StockState) -> StockState:
    lots = {
        c: LotState(lot.lot_code, lot.expiry, lot.on_hand, lot.reserved, lot.is_new)
        for c, lot in st.lots.items()
    }
    return StockState(
        st.sku,
        st.location,
        st.on_hand,
        st.reserved,
        st.on_order,
        st.allows_backorders,
        st.lot_tracked,
        st.version,
        lots,
        st.touched,
    )


# --- lots ------------------------------------------------------------------------------


def _lot_for_inbound(ctx: _Ctx, st: StockState, expiry: date | None) -> LotState | None:
    """The lot an inbound movement lands in (created when new); None for untracked SKUs."""
    code = ctx.cmd.lot_code
    if not st.lot_tracked:
        return None
    if code is None:
        raise InvalidEvent(ctx.cmd.event_id, f"SKU {ctx.cmd.sku!r} is lot-tracked: lot_code needed")
    lot = st.lots.get(code)
    if lot is None:
        if expiry is None:
            raise InvalidEvent(ctx.cmd.event_id, f"new lot {code!r} needs an expiry date")
        lot = st.lots[code] = LotState(code, expiry, is_new=True)
    elif expiry is not None and lot.expiry != expiry:
        raise InvalidEvent(
            ctx.cmd.event_id, f"lot {code!r} has expiry {lot.expiry}, event says {expiry}"
        )
    return lot


def _pick(
    ctx: _Ctx, st: StockState, qty: int, *, from_reserved: bool
) -> list[tuple[LotState, int]]:
    """Choose lots FEFO for an outbound quantity; expired lots are never picked.

    With ``from_reserved`` the units come out of the lots' reservations instead of free stock.
    """
    today = ctx.today
    candidates = st.fefo()
    if ctx.cmd.lot_code is not None:
        candidates = [lot for lot in candidates if lot.lot_code == ctx.cmd.lot_code]
        if not candidates:
            raise InvalidEvent(ctx.cmd.event_id, f"no lot {ctx.cmd.lot_code!r} at {st.location!r}")
    picks: list[tuple[LotState, int]] = []
    need = qty
    for lot in candidates:
        if from_reserved:
            room = lot.reserved if lot.expiry is None or lot.expiry > today else 0
        else:
            room = lot.free(today)
        take = min(room, need)
        if take > 0:
            picks.append((lot, take))
            need -= take
        if need == 0:
            return picks
    got = qty - need
    raise InsufficientStock(ctx.cmd.sku, st.location, qty, got)


# --- handlers ---------------------------------------------------------------------------


def _outbound(
    ctx: _Ctx,
    st: StockState,
    kind: MovementKind,
    qty: int,
    *,
    reserved: bool,
    backorder_ok: bool,
    location: str | None = None,
) -> list[tuple[LotState, int]]:
    """Take ``qty`` units out of ``st``: check availability, update state, record movements."""
    if st.lot_tracked:
        picks = _pick(ctx, st, qty, from_reserved=reserved)
        for lot, take in picks:
            lot.on_hand -= take
            lot.reserved -= take if reserved else 0
            ctx.move(kind, -take, -take if reserved else 0, location=location, lot=lot)
        st.on_hand -= qty
        st.reserved -= qty if reserved else 0
        return picks
    if reserved:
        if st.reserved < qty:
            raise InvalidEvent(
                ctx.cmd.event_id, f"only {st.reserved} units reserved, {qty} shipped"
            )
    elif not (backorder_ok and st.allows_backorders) and st.available(ctx.today) < qty:
        raise InsufficientStock(ctx.cmd.sku, st.location, qty, st.available(ctx.today))
    st.on_hand -= qty
    st.reserved -= qty if reserved else 0
    ctx.move(kind, -qty, -qty if reserved else 0, location=location)
    return []


def _receive(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    assert isinstance(cmd, ReceiveStock | RecordReturn)
    st = ctx.state()
    lot = _lot_for_inbound(ctx, st, cmd.expiry)
    if lot:
        lot.on_hand += cmd.quantity
    st.on_hand += cmd.quantity
    if isinstance(cmd, ReceiveStock) and cmd.purchase_order_id is not None:
        units = cmd.quantity if cmd.on_order_units is None else cmd.on_order_units
        st.on_order -= min(units, st.on_order)
    kind = MovementKind.RECEIPT if isinstance(cmd, ReceiveStock) else MovementKind.RETURN
    ctx.move(kind, cmd.quantity, lot=lot)


def _sale(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    assert isinstance(cmd, RecordSale)
    _outbound(
        ctx,
        ctx.state(),
        MovementKind.SALE,
        cmd.quantity,
        reserved=cmd.from_reserved,
        backorder_ok=True,
    )


def _adjust(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    assert isinstance(cmd, AdjustStock)
    st = ctx.state()
    if cmd.quantity > 0:
        lot = _lot_for_inbound(ctx, st, cmd.expiry)
        if lot:
            lot.on_hand += cmd.quantity
        st.on_hand += cmd.quantity
        ctx.move(MovementKind.ADJUSTMENT, cmd.quantity, lot=lot)
        return
    _outbound(ctx, st, MovementKind.ADJUSTMENT, -cmd.quantity, reserved=False, backorder_ok=False)


def _write_off(ctx: _Ctx) -> None:
    """Remove unsold units; for a named lot this may be an expired one (that is the point)."""
    cmd = ctx.cmd
    st = ctx.state()
    if st.lot_tracked and cmd.lot_code is not None:
        lot = st.lots.get(cmd.lot_code)
        room = lot.on_hand - lot.reserved if lot else 0
        if lot is None or room < cmd.quantity:
            raise InsufficientStock(cmd.sku, st.location, cmd.quantity, room)
        lot.on_hand -= cmd.quantity
        st.on_hand -= cmd.quantity
        ctx.move(MovementKind.WRITE_OFF, -cmd.quantity, lot=lot)
        return
    _outbound(ctx, st, MovementKind.WRITE_OFF, cmd.quantity, reserved=False, backorder_ok=False)


def _transfer(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    assert isinstance(cmd, TransferStock)
    src = ctx.state()
    dst = ctx.state(cmd.to_location)
    picks = _outbound(
        ctx, src, MovementKind.TRANSFER_OUT, cmd.quantity, reserved=False, backorder_ok=False
    )
    dst.on_hand += cmd.quantity
    if not dst.lot_tracked:
        ctx.move(MovementKind.TRANSFER_IN, cmd.quantity, location=cmd.to_location)
        return
    for src_lot, take in picks:
        lot = dst.lots.get(src_lot.lot_code)
        if lot is None:
            lot = dst.lots[src_lot.lot_code] = LotState(
                src_lot.lot_code, src_lot.expiry, is_new=True
            )
        lot.on_hand += take
        ctx.move(MovementKind.TRANSFER_IN, take, location=cmd.to_location, lot=lot)


def _ship(ctx: _Ctx) -> None:
    """Out of the source now; the destination receives it later (:func:`_receive_transfer`)."""
    cmd = ctx.cmd
    assert isinstance(cmd, ShipTransfer)
    _outbound(ctx, ctx.state(), MovementKind.TRANSFER_OUT, cmd.quantity, reserved=False,
              backorder_ok=False)
    ctx.state(cmd.to_location)  # touched: the destination gets its stock row now


def _receive_transfer(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    assert isinstance(cmd, ReceiveTransfer)
    st = ctx.state()
    lot = _lot_for_inbound(ctx, st, cmd.expiry)
    if lot:
        lot.on_hand += cmd.quantity
    st.on_hand += cmd.quantity
    ctx.move(MovementKind.TRANSFER_IN, cmd.quantity, lot=lot)


def _reserve(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    st = ctx.state()
    qty = cmd.quantity
    if st.lot_tracked:
        for lot, take in _pick(ctx, st, qty, from_reserved=False):
            lot.reserved += take
            ctx.move(MovementKind.RESERVATION, 0, take, lot=lot)
    else:
        if not st.allows_backorders and st.available(ctx.today) < qty:
            raise InsufficientStock(cmd.sku, st.location, qty, st.available(ctx.today))
        ctx.move(MovementKind.RESERVATION, 0, qty)
    st.reserved += qty


def _release(ctx: _Ctx) -> None:
    cmd = ctx.cmd
    st = ctx.state()
    qty = cmd.quantity
    if st.reserved < qty:
        raise InvalidEvent(cmd.event_id, f"only {st.reserved} units reserved, {qty} released")
    _release_units(ctx, st, qty)


def _release_units(ctx: _Ctx, st: StockState, qty: int) -> None:
    """Release reservations, latest expiry first, so the earliest lots stay promised."""
    if st.lot_tracked:
        need = qty
        lots = [lot for lot in reversed(st.fefo()) if lot.reserved > 0]
        if ctx.cmd.lot_code is not None:
            lots = [lot for lot in lots if lot.lot_code == ctx.cmd.lot_code]
        for lot in lots:
            take = min(lot.reserved, need)
            lot.reserved -= take
            need -= take
            ctx.move(MovementKind.RELEASE, 0, -take, lot=lot)
            if need == 0:
                break
        if need:
            raise InvalidEvent(ctx.cmd.event_id, f"lot {ctx.cmd.lot_code!r} has too few reserved")
    else:
        ctx.move(MovementKind.RELEASE, 0, -qty)
    st.reserved -= qty


def _count(ctx: _Ctx) -> None:
    """Set the counted level; the variance is recorded. Reservations above it are released."""
    cmd = ctx.cmd
    st = ctx.state()
    lot: LotState | None = None
    if st.lot_tracked:
        if cmd.lot_code is None or cmd.lot_code not in st.lots:
            raise InvalidEvent(cmd.event_id, "a count of a lot-tracked SKU names an existing lot")
        lot = st.lots[cmd.lot_code]
        current, reserved = lot.on_hand, lot.reserved
    else:
        current, reserved = st.on_hand, st.reserved
    variance = cmd.quantity - current
    if cmd.quantity < reserved and not (st.allows_backorders and lot is None):
        _release_units(ctx, st, reserved - cmd.quantity)
    if lot:
        lot.on_hand += variance
    st.on_hand += variance
    ctx.move(MovementKind.COUNT, variance, lot=lot, variance=variance)


_HANDLERS = {
    ReceiveStock: _receive,
    RecordReturn: _receive,
    RecordSale: _sale,
    AdjustStock: _adjust,
    WriteOff: _write_off,
    TransferStock: _transfer,
    ShipTransfer: _ship,
    ReceiveTransfer: _receive_transfer,
    ReserveStock: _reserve,
    ReleaseReservation: _release,
    CountStock: _count,
}


def check_state(st: StockState) -> list[str]:
    """Every broken invariant of one SKU-location, as readable strings (empty when sound)."""
    problems = []
    where = f"{st.sku}@{st.location}"
    if st.reserved < 0:
        problems.append(f"{where}: reserved {st.reserved} < 0")
    if not st.allows_backorders and not (0 <= st.reserved <= st.on_hand):
        problems.append(f"{where}: on_hand {st.on_hand}, reserved {st.reserved}")
    if st.on_order < 0:
        problems.append(f"{where}: on_order {st.on_order} < 0")
    if st.lot_tracked:
        if sum(lot.on_hand for lot in st.lots.values()) != st.on_hand:
            problems.append(f"{where}: lots do not add up to on_hand {st.on_hand}")
        if sum(lot.reserved for lot in st.lots.values()) != st.reserved:
            problems.append(f"{where}: lot reservations do not add up to {st.reserved}")
        problems += [
            f"{where}: lot {lot.lot_code} {lot.on_hand}/{lot.reserved}"
            for lot in st.lots.values()
            if not 0 <= lot.reserved <= lot.on_hand
        ]
    return problems


def replay(movements: Iterable[Movement]) -> dict[StateKey, tuple[int, int]]:
    """(on_hand, reserved) per SKU-location from movements alone: the ledger's ground truth."""
    totals: dict[StateKey, tuple[int, int]] = {}
    for m in movements:
        h, r = totals.get((m.sku, m.location), (0, 0))
        totals[(m.sku, m.location)] = (h + m.on_hand_delta, r + m.reserved_delta)
    return totals
