"""Intake and entity models (``/v1/sic/conf/intakes``, ``/v1/sic/conf/entities``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = ["Entity", "EntityRef", "Intake"]


@attrs.frozen
class EntityRef:
    """The short form ``{uuid, name}`` of an entity, embedded in intakes and alerts."""

    uuid: str
    name: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Intake:
    """A log intake. ``intake_key`` is a credential for pushing events, so it stays out of repr."""

    uuid: str
    name: str | None = None
    community_uuid: str | None = None
    entity_uuid: str | None = None
    format_uuid: str | None = None
    intake_key: str | None = attrs.field(default=None, repr=False)
    status: str | None = None
    is_custom_format: bool | None = None
    connector_configuration_uuid: str | None = None
    entity: EntityRef | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Entity:
    """An entity: a group of intakes (a site, a subsidiary...) that alerts are attributed to."""

    uuid: str
    name: str | None = None
    entity_id: str | None = None
    community_uuid: str | None = None
    description: str | None = None
    alerts_generation: str | None = None
    number_of_intakes: int | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
