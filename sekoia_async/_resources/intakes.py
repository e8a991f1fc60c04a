"""Intakes: ``/v1/sic/conf/intakes``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from .._models.intakes import Intake
from .._transport.paths import quote_path_param
from ._base import Resource
from ._listing import offset_pager, uuid_of

__all__ = ["IntakesResource"]

_PATH = "/v1/sic/conf/intakes"
_MAX_LIMIT = 100


class IntakesResource(Resource):
    """``client.intakes``: the log intakes of the community."""

    __slots__ = ()

    def list(
        self,
        *,
        name: str | Sequence[str] | None = None,
        format_uuid: str | Sequence[str] | None = None,
        match: Mapping[str, str | Sequence[str]] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
    ) -> AsyncPager[Intake]:
        """Intakes, optionally matching names / format uuids (a list means any of them).

        ``match`` adds other ``match[field]`` filters the server supports.
        """
        filters: dict[str, Any] = dict(match or {})
        if name is not None:
            filters["name"] = name
        if format_uuid is not None:
            filters["format_uuid"] = format_uuid
        return offset_pager(
            self._client,
            _PATH,
            Intake,
            params={"match": filters} if filters else None,
            limit=limit,
            max_limit=_MAX_LIMIT,
            max_items=max_items,
        )

    async def get(self, intake: Intake | str) -> Intake:
        """One intake (by uuid, or a fresh copy of an ``Intake``)."""
        path = f"{_PATH}/{quote_path_param(uuid_of(intake))}"
        data = await self._client.request("GET", path)
        return structure(data, Intake)

    async def create(
        self,
        *,
        name: str,
        entity_uuid: str,
        format_uuid: str,
        connector_configuration: Mapping[str, Any] | None = None,
        connector_module_configuration_uuid: str | None = None,
    ) -> Intake:
        """Create an intake of format ``format_uuid`` attached to entity ``entity_uuid``."""
        if not name or not name.strip():
            raise ValueError("name must be a non-empty string")
        body: dict[str, Any] = {
            "name": name,
            "entity_uuid": entity_uuid,
            "format_uuid": format_uuid,
        }
        if connector_configuration is not None:
            body["connector_configuration"] = dict(connector_configuration)
        if connector_module_configuration_uuid is not None:
            body["connector_module_configuration_uuid"] = connector_module_configuration_uuid
        data = await self._client.request("POST", _PATH, json=body)
        return structure(data, Intake)
