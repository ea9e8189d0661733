"""The query parameters and answer shape every paginated list shares."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Path, Query
from pydantic import BaseModel, Field

from cauce.limits import API_PAGE_SIZE_DEFAULT, API_PAGE_SIZE_MAX

T = TypeVar("T")

LimitQuery = Annotated[
    int, Query(ge=1, le=API_PAGE_SIZE_MAX, description="Items per page.")
]
CursorQuery = Annotated[
    str | None,
    Query(max_length=19, pattern=r"^\d*$", description="`next_cursor` of the previous page."),
]
DEFAULT_LIMIT = API_PAGE_SIZE_DEFAULT


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Pass as `cursor` for the next page; null on the last page."
    )

MAX_ID = 2**63 - 1
"""Largest id either database stores (signed 64-bit); larger ones are 422, not a crash."""

IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="Id in this workspace.")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
