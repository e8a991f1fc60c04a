"""Entities: ``/v1/sic/conf/entities``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from .._models.intakes import Entity
from .._transport.paths import quote_path_param
from ._base import Resource
from ._listing import offset_pager, uuid_of

__all__ = ["EntitiesResource"]

_PATH = "/v1/sic/conf/entities"
_MAX_LIMIT = 100


class EntitiesResource(Resource):
    """``client.entities``: the entities (groups of intakes) of the community."""

    __slots__ = ()

    def list(
        self,
        *,
        name: str | Sequence[str] | None = None,
        match: Mapping[str, str | Sequence[str]] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
    ) -> AsyncPager[Entity]:
        """Entities, optionally matching names; ``match`` adds other ``match[field]`` filters."""
        filters: dict[str, Any] = dict(match or {})
        if name is not None:
            filters["name"] = name
        return offset_pager(
            self._client,
            _PATH,
            Entity,
            params={"match": filters} if filters else None,
            limit=limit,
            max_limit=_MAX_LIMIT,
            max_items=max_items,
        )

    async def get(self, entity: Entity | str) -> Entity:
        """One entity (by uuid, or a fresh copy of an ``Entity``)."""
        path = f"{_PATH}/{quote_path_param(uuid_of(entity))}"
        data = await self._client.request("GET", path)
        return structure(data, Entity)

    async def create(
        self,
        *,
        name: str,
        entity_id: str,
        description: str | None = None,
        alerts_generation: str | None = None,
    ) -> Entity:
        """Create an entity; ``entity_id`` is your own identifier for it."""
        if not name or not name.strip():
            raise ValueError("name must be a non-empty string")
        if not entity_id or not entity_id.strip():
            raise ValueError("entity_id must be a non-empty string (your identifier of the entity)")
        body: dict[str, Any] = {"name": name, "entity_id": entity_id}
        if description is not None:
            body["description"] = description
        if alerts_generation is not None:
            body["alerts_generation"] = alerts_generation
        data = await self._client.request("POST", _PATH, json=body)
        return structure(data, Entity)
