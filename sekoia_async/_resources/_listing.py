"""Shared plumbing for the limit/offset list endpoints of the identity, conf and asset APIs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from ..errors import APIResponseValidationError

if TYPE_CHECKING:
    from .._client import SekoiaClient

__all__ = ["HasUuid", "offset_pager", "parse_envelope", "uuid_of"]

T = TypeVar("T")

Page = tuple[list[T], int | None, bool | None]


class HasUuid(Protocol):
    """Any model with a uuid: methods take the object or its uuid."""

    @property
    def uuid(self) -> str | None: ...


def uuid_of(value: str | HasUuid) -> str:
    """The uuid of a model object, or the string itself."""
    if isinstance(value, str):
        return value
    ident = getattr(value, "uuid", None)
    if not isinstance(ident, str) or not ident:
        raise ValueError(f"this {type(value).__name__} has no uuid: pass the uuid itself")
    return ident


def parse_envelope(data: Any, cls: type[T], *, limit: int, path: str) -> Page[T]:
    """``(items, total, has_more)`` from ``{items, total?, has_more?}`` or a bare JSON list."""
    if isinstance(data, list):
        raw_items: Any = data
        total: int | None = None
        has_more: bool | None = len(data) >= limit
    elif isinstance(data, dict) and isinstance(data.get("items"), list):
        raw_items = data["items"]
        total = data.get("total") if isinstance(data.get("total"), int) else None
        has_more = data.get("has_more") if isinstance(data.get("has_more"), bool) else None
        if total is None and has_more is None:
            # No count at all (seen in recorded responses): a full page may have a successor.
            has_more = len(raw_items) >= limit
    else:
        raise APIResponseValidationError(
            f"GET {path} did not return a list of items (got {type(data).__name__}); "
            "check that the base URL points at the Sekoia API",
            body=data,
        )
    return [structure(item, cls) for item in raw_items], total, has_more


def offset_pager(
    client: SekoiaClient,
    path: str,
    cls: type[T],
    *,
    params: Mapping[str, Any] | None = None,
    limit: int,
    max_limit: int,
    max_items: int | None,
) -> AsyncPager[T]:
    """An AsyncPager over a ``limit``/``offset`` endpoint returning model ``cls``."""
    base = {k: v for k, v in (params or {}).items() if v is not None}

    async def fetch(page_limit: int, offset: int) -> Page[T]:
        data = await client.request(
            "GET", path, params={**base, "limit": page_limit, "offset": offset}
        )
        return parse_envelope(data, cls, limit=page_limit, path=path)

    return AsyncPager(fetch, page_size=limit, max_items=max_items, max_page_size=max_limit)
