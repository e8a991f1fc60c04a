"""Asset models: v2 asset management (``/v2/asset-management``) and the legacy v1 shape."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "Asset",
    "AssetAttribute",
    "AssetCriticity",
    "AssetSource",
    "AssetType",
    "LegacyAsset",
    "NamedRef",
]


class AssetType(str, enum.Enum):
    """The closed set of v2 asset types (an unknown one from the server stays a plain str)."""

    HOST = "host"
    ACCOUNT = "account"
    NETWORK = "network"


class AssetSource(str, enum.Enum):
    """How a v2 asset was created."""

    MANUAL = "manual"
    AUTOMATIC = "automatic"
    IMPORT = "import"


@attrs.frozen
class Asset:
    """A v2 asset (host, account or network) with its atoms (ips, hostnames...) and props."""

    uuid: str
    name: str | None = None
    type: AssetType | str | None = None
    category: str | None = None
    criticality: int | None = None
    description: str | None = None
    community_uuid: str | None = None
    entity_uuid: str | None = None
    # Atom kind (ipv4, cidrv4, hostname, ...) -> values.
    atoms: dict[str, list[Any]] = attrs.field(factory=dict)
    props: dict[str, Any] = attrs.field(factory=dict)
    tags: list[Any] = attrs.field(factory=list)
    source: AssetSource | str | None = None
    reviewed: bool | None = None
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    revoked: bool | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    nb_events: int | None = None
    nb_alerts: int | None = None
    nb_atoms: int | None = None
    rule_uuid: str | None = None
    rule_version: str | None = None
    pending_recommendations: Any = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class NamedRef:
    """A ``{uuid, name}`` reference (legacy asset category and type)."""

    uuid: str | None = None
    name: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class AssetCriticity:
    """Legacy criticity: a 0-100 ``value`` and its ``display`` (low, medium, high)."""

    value: int | None = None
    display: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class AssetAttribute:
    """A legacy asset attribute or key: ``{uuid, name, value}``."""

    uuid: str | None = None
    name: str | None = None
    value: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class LegacyAsset:
    """An asset in the legacy v1 shape (``/v1/asset-management/assets``)."""

    uuid: str
    name: str | None = None
    description: str | None = None
    category: NamedRef | None = None
    asset_type: NamedRef | None = None
    criticity: AssetCriticity | None = None
    community_uuid: str | None = None
    owners: list[Any] = attrs.field(factory=list)
    keys: list[AssetAttribute] = attrs.field(factory=list)
    attributes: list[AssetAttribute] = attrs.field(factory=list)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
