"""Field types shared by the request and response models (bounded like the columns)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

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


class In(BaseModel):
    """A request body: unknown fields are refused (422)."""

    model_config = ConfigDict(extra="forbid")


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
