"""Identifier types, so a SKU id is never passed where a location id belongs."""

from typing import NewType

SkuId = NewType("SkuId", str)
LocationId = NewType("LocationId", str)
SupplierId = NewType("SupplierId", str)
EventId = NewType("EventId", str)
LotCode = NewType("LotCode", str)
