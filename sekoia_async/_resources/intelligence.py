"""Intelligence Center (CTI): ``/v2/inthreat`` indicators, observables, feeds, IOC collections."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Final

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from .._models.intelligence import Observable, StixBundle, StixObject
from .._times import format_time
from .._transport.paths import quote_path_param
from ..errors import APIResponseValidationError
from ._base import Resource
from ._listing import offset_pager

__all__ = ["DEFAULT_FEED", "IntelligenceResource", "indicator_chunks"]

#: Sekoia's default CTI feed (used by Sekoia's own feed consumers).
DEFAULT_FEED: Final = "d6092c37-d8d7-45c3-8aff-c4dc26030608"
#: Most indicators one ``POST .../ioc-collections/{id}/indicators`` accepts.
MAX_INDICATORS_PER_CALL: Final = 100
_FEED_MAX_LIMIT = 2000
_OBSERVABLES_MAX_LIMIT = 2000


def _items(data: Any, path: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("items"), list):
        raise APIResponseValidationError(
            f"GET {path} did not return {{items: [...]}} (got {type(data).__name__}); "
            "check that the base URL points at the Sekoia API",
            body=data,
        )
    items: list[Any] = data["items"]
    return items


def _indicator(value: str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("an indicator value must not be empty")
        return {"value": value}
    if isinstance(value, Mapping):
        if not isinstance(value.get("value"), str) or not value["value"].strip():
            raise ValueError(f"an indicator mapping needs a non-empty 'value', got {value!r:.80}")
        return dict(value)
    raise TypeError(
        f"an indicator is a value string or a mapping with 'value', not {type(value).__name__}"
    )


def indicator_chunks(
    indicators: Sequence[str | Mapping[str, Any]], size: int = MAX_INDICATORS_PER_CALL
) -> list[list[dict[str, Any]]]:
    """Validate indicators and split them into request-sized chunks (pure, no I/O)."""
    if isinstance(indicators, (str, bytes)):
        raise TypeError("indicators must be a list of values, not a single string")
    if size < 1:
        raise ValueError(f"chunk size must be >= 1, got {size}")
    items = [_indicator(v) for v in indicators]
    return [items[i : i + size] for i in range(0, len(items), size)]


class IntelligenceResource(Resource):
    """``client.intelligence``: Sekoia's Intelligence Center (STIX 2.1 threat intelligence)."""

    __slots__ = ()

    async def find_indicators(self, value: str, *, type: str) -> list[StixObject]:
        """The indicators matching an observable value, e.g. ``("1.2.3.4", type="ipv4-addr")``.

        An unknown value gives an empty list. Needs the "View intelligence" permission.
        """
        path = "/v2/inthreat/indicators"
        data = await self._client.request("GET", path, params={"value": value, "type": type})
        return [structure(item, StixObject) for item in _items(data, path)]

    async def indicator_context(self, value: str, *, type: str) -> list[StixBundle]:
        """The context of the indicators matching a value: one STIX bundle per indicator with
        the threats it indicates, relationships, sources and markings (at most 100 related
        objects each). An unknown value gives an empty list."""
        path = "/v2/inthreat/indicators/context"
        data = await self._client.request("GET", path, params={"value": value, "type": type})
        return [structure(item, StixBundle) for item in _items(data, path)]

    def observables(
        self,
        *,
        value: str | Sequence[str] | None = None,
        type: str | Sequence[str] | None = None,
        match: Mapping[str, str | Sequence[str]] | None = None,
        limit: int = 100,
        max_items: int | None = None,
    ) -> AsyncPager[Observable]:
        """Observables known to the Intelligence Center, filtered by ``value`` / ``type`` (a
        list means any of them) or other ``match={field: values}`` filters (``hash``,
        ``name``, ``tag``, ``source``, ``id``). The API serves offsets up to 10 000 only.
        """
        filters: dict[str, Any] = dict(match or {})
        if value is not None:
            filters["value"] = value
        if type is not None:
            filters["type"] = type
        return offset_pager(
            self._client,
            "/v2/inthreat/observables",
            Observable,
            params={"match": filters or None},
            limit=limit,
            max_limit=_OBSERVABLES_MAX_LIMIT,
            max_items=max_items,
        )

    def feed(
        self,
        feed_id: str = DEFAULT_FEED,
        *,
        modified_after: datetime | str | None = None,
        types: Sequence[str] | None = None,
        cursor: str | None = None,
        skip_expired: bool | None = None,
        include_revoked: bool | None = None,
        limit: int = 100,
        max_items: int | None = None,
    ) -> AsyncPager[StixObject]:
        """Consume a CTI feed: every STIX object of ``feed_id`` (cursor pagination).

        Start after ``cursor`` (a ``Page.next_cursor`` saved earlier) to resume, or at
        ``modified_after``. ``types`` keeps only these STIX types (``["indicator"]``).
        Iterate ``pager.pages()`` to see each page's ``next_cursor``.
        """
        path = f"/v2/inthreat/collections/{quote_path_param(feed_id)}/objects"
        after = format_time(modified_after) if isinstance(modified_after, datetime) else None
        base: dict[str, Any] = {
            "modified_after": after or modified_after,
            "match": {"type": list(types)} if types else None,
            "skip_expired": skip_expired,
            "include_revoked": include_revoked,
        }
        client = self._client

        async def fetch(page_limit: int, page_cursor: str | None) -> tuple[list[StixObject], Any]:
            params = {**base, "limit": page_limit, "cursor": page_cursor}
            data = await client.request("GET", path, params=params)
            items = [structure(item, StixObject) for item in _items(data, path)]
            next_cursor = data.get("next_cursor")
            return items, next_cursor if isinstance(next_cursor, str) and next_cursor else None

        return AsyncPager.cursor(
            fetch,
            page_size=limit,
            cursor=cursor,
            max_items=max_items,
            max_page_size=_FEED_MAX_LIMIT,
        )

    async def add_indicators(
        self,
        collection_id: str,
        indicators: Sequence[str | Mapping[str, Any]],
        *,
        default_fields: Mapping[str, Any] | None = None,
    ) -> list[StixObject]:
        """Add indicators (values, or ``{"value": ..., "valid_from": ...}`` mappings) to an
        IOC collection; returns the created indicators.

        The API takes at most 100 per call, so larger lists are sent in chunks of 100, in
        order. If a chunk fails its error is raised and the chunks before it stay added.
        ``default_fields`` (``description``, ``valid_until``, ``kill_chain_phases``...)
        apply to every indicator. Needs the "Manage IOC collections" permission.
        """
        chunks = indicator_chunks(indicators)
        path = f"/v2/inthreat/ioc-collections/{quote_path_param(collection_id)}/indicators"
        created: list[StixObject] = []
        for chunk in chunks:
            body: dict[str, Any] = {"indicators": chunk}
            if default_fields:
                body["default_fields"] = dict(default_fields)
            data = await self._client.request("POST", path, json=body)
            created.extend(structure(item, StixObject) for item in _items(data, path))
        return created
