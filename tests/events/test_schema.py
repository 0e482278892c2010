"""The msgspec fast path parses exactly what the pydantic models accept, and nothing more."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stockpilot.events.schema import BadMessage, parse, parse_strict

BASE = {"v": 1, "kind": "sale", "event_id": "e1", "sku": "A", "location": "W", "quantity": 3,
        "occurred_at": "2024-06-01T10:00:00+02:00"}


def _same(body: bytes) -> None:
    try:
        want = parse_strict(body)
    except BadMessage as exc:
        with pytest.raises(BadMessage) as got:
            parse(body)
        assert got.value.reason == exc.reason  # the error message is pydantic's
        return
    got_cmd = parse(body)
    assert got_cmd == want and got_cmd.canonical_json() == want.canonical_json()


@pytest.mark.parametrize("change", [
    {}, {"occurred_at": "2024-06-01T10:00:00"}, {"occurred_at": "2024-06-01T10:00:00Z"},
    {"occurred_at": "2024-06-01T10:00:00.123456-05:00"}, {"unit_price": 2}, {"unit_price": 2.5},
    {"quantity": "3"}, {"quantity": 3.0}, {"quantity": True}, {"quantity": -2},
    {"from_reserved": "true"}, {"from_reserved": True}, {"extra": 1}, {"v": 2},
    {"sku": ""}, {"sku": "x" * 65}, {"event_id": "é" * 128}, {"kind": "teleport"},
    {"kind": "receipt", "expiry": "2024-07-01", "purchase_order_id": 7},
    {"kind": "receipt", "purchase_order_id": 0}, {"kind": "receipt", "purchase_order_id": "7"},
    {"kind": "transfer", "to_location": "V"}, {"kind": "transfer"}, {"kind": "count"},
    {"kind": "write_off", "reason": "broken"}, {"kind": "adjustment", "quantity": -4},
    {"customer_id": 5}, {"lot_code": None},
    # the bounds of stockpilot.domain.bounds, on both paths
    {"quantity": 2**31 - 1}, {"quantity": 2**31}, {"quantity": -(2**31) - 1},
    {"quantity": 2**63}, {"quantity": 3_000_000_000}, {"unit_price": 9_999_999_999.99},
    {"unit_price": 1e10}, {"unit_price": -1e10}, {"sku": "a\x00b"}, {"reference": "\x00"},
    {"lot_code": "L" * 64}, {"lot_code": "L" * 65}, {"event_id": "e" * 129},
    {"event_id": "e" * 150}, {"order_id": "o" * 65}, {"reference": "r" * 256},
])
def test_fast_and_strict_paths_agree(change):
    _same(json.dumps({**BASE, **change}).encode())


@pytest.mark.parametrize("body", [b"", b"{not json", b"[]", b"null", b'{"kind":"sale"}'])
def test_garbage_is_a_bad_message_on_both_paths(body):
    _same(body)


@pytest.mark.parametrize(("change", "field"), [
    ({"quantity": 2**31}, "quantity"), ({"quantity": 2**63}, "quantity"),
    ({"unit_price": 1e10}, "unit_price"), ({"sku": "a\x00b"}, "sku"),
    ({"lot_code": "L" * 65}, "lot_code"), ({"event_id": "e" * 150}, "event_id"),
    ({"kind": "receipt", "purchase_order_id": 0}, "purchase_order_id"),
    ({"kind": "receipt", "purchase_order_id": 2**63}, "purchase_order_id"),
    ({"kind": "receipt", "on_order_units": 4}, "on_order_units"),
])
def test_out_of_bounds_is_a_bad_message_naming_the_field(change, field):
    with pytest.raises(BadMessage) as got:
        parse(json.dumps({**BASE, **change}).encode())
    assert field in got.value.reason


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["quantity", "sku", "occurred_at", "from_reserved",
                                        "unit_price", "order_id", "v", "kind"]),
                       st.one_of(st.none(), st.booleans(), st.integers(-5, 10**6),
                                 st.floats(allow_nan=False), st.text(max_size=70),
                                 st.sampled_from(["sale", "receipt", "2024-01-01",
                                                  "2024-01-01T00:00:00+01:00"]))))
def test_fast_and_strict_paths_agree_on_random_changes(change):
    _same(json.dumps({**BASE, **change}).encode())
