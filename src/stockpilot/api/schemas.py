"""Field types shared by the request and response models (bounded like the columns)."""

from __future__ import annotations

import re
import types
from datetime import UTC, date, datetime
from functools import cache
from typing import Annotated, Any, Union, get_args, get_origin

from fastapi import Path
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
)

#: An id (SKU, location, supplier …): no whitespace or URL-path characters, ≤ 64.
Ident = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\s/?#%\x00]+$")]
#: Free text without NUL (PostgreSQL refuses NUL in text).
Text = Annotated[str, Field(max_length=255, pattern=r"^[^\x00]*$")]
#: Text of at most 128 / 64 / 32 characters (the columns' widths).
Text128 = Annotated[Text, Field(max_length=128)]
Text64 = Annotated[Text, Field(max_length=64)]
Ident32 = Annotated[Ident, Field(max_length=32)]
#: Money: non-negative, within NUMERIC(14, 4).
Money = Annotated[float, Field(ge=0, le=1e9)]
#: A positive count of units within a 32-bit column.
Units = Annotated[StrictInt, Field(ge=1, le=1_000_000_000)]
#: A count of days within a 32-bit column.
Days = Annotated[StrictInt, Field(ge=0, le=36_500)]


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _iso(value: Any) -> Any:
    """Dates and times only as ISO 8601 text: pydantic would take 0 as 1970-01-01."""
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("expected an ISO 8601 date (YYYY-MM-DD) or date-time")
    if isinstance(value, int | float):
        raise ValueError("expected an ISO 8601 date (YYYY-MM-DD) or date-time, not a number")
    return value


#: A date or a date-time in a query string or body: ISO 8601 text only.
IsoDate = Annotated[date, BeforeValidator(_iso)]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso)]


def _kinds(annotation: Any) -> frozenset[Any]:
    """The plain types a field annotation admits (through Optional, unions, Annotated)."""
    if get_origin(annotation) in (Union, types.UnionType, Annotated):
        args = get_args(annotation)[:1] if get_origin(annotation) is Annotated else \
            get_args(annotation)
        return frozenset().union(*(_kinds(a) for a in args))
    return frozenset([annotation])


@cache
def _field_kinds(model: type[BaseModel], name: str) -> frozenset[Any]:
    return _kinds(model.model_fields[name].annotation)


class In(BaseModel):
    """A request body: unknown fields are refused (422), and so are loose types.

    pydantic's lax mode would take ``0`` for ``false`` and ``0`` for 1970-01-01; a request
    body says ``true``/``false`` and dates as ISO 8601 text, or it is a 422 naming the field.
    """

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _no_loose_types(cls, value: Any, info: ValidationInfo) -> Any:
        kinds = _field_kinds(cls, info.field_name or "")
        if value is None or isinstance(value, bool):
            return value
        if bool in kinds and str not in kinds and int not in kinds:
            raise ValueError("expected true or false")
        if kinds & {date, datetime}:
            return _iso(value)
        return value


class Out(BaseModel):
    """A response body. Times are always in UTC with the offset (SQLite stores them naive)."""

    model_config = ConfigDict(from_attributes=True)

    @field_validator("*", mode="after")
    @classmethod
    def _utc(cls, value: Any) -> Any:
        if isinstance(value, datetime) and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


#: A numeric id in a path (within BIGINT).
RowId = Annotated[int, Path(ge=1, le=2**53)]
