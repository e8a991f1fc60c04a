"""Assets: v2 asset management (``/v2/asset-management/assets``), plus legacy v1 reads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from .._models.assets import Asset, AssetSource, AssetType, LegacyAsset
from .._transport.paths import quote_path_param, validate_uuid
from ._base import Resource
from ._listing import offset_pager, uuid_of

if TYPE_CHECKING:
    from .._client import SekoiaClient

__all__ = ["AssetsResource", "LegacyAssetsResource", "asset_body"]

_PATH = "/v2/asset-management/assets"
_V1_PATH = "/v1/asset-management/assets"
_MAX_LIMIT = 100
_UNSET: Any = object()


def _text(value: Any) -> Any:
    return value.value if isinstance(value, (AssetType, AssetSource)) else value


def asset_body(fields: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The JSON body of an asset create/update; ValueError naming a field the API would refuse."""
    body = {k: _text(v) for k, v in fields.items() if v is not _UNSET}
    name = body.get("name")
    if (creating or "name" in body) and (not isinstance(name, str) or len(name.strip()) < 2):
        raise ValueError(f"name must be a string of at least 2 characters, got {name!r}")
    criticality = body.get("criticality")
    if criticality is not None and (
        isinstance(criticality, bool)
        or not isinstance(criticality, int)
        or not 0 <= criticality <= 100
    ):
        raise ValueError(f"criticality must be an integer from 0 to 100, got {criticality!r}")
    for key in ("atoms", "props"):
        if body.get(key) is not None and not isinstance(body[key], Mapping):
            raise ValueError(f"{key} must be a mapping, got {type(body[key]).__name__}")
    for key in ("atoms", "props", "tags"):
        if body.get(key) is not None:
            body[key] = dict(body[key]) if key != "tags" else list(body[key])
    if not body:
        raise ValueError("nothing to update: pass at least one field")
    return body


class LegacyAssetsResource(Resource):
    """``client.assets.v1``: read access to the legacy v1 asset API (older integrations)."""

    __slots__ = ()

    def list(
        self,
        *,
        match: Mapping[str, str | Sequence[str]] | None = None,
        sort: str | None = None,
        direction: Literal["asc", "desc"] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
    ) -> AsyncPager[LegacyAsset]:
        """Legacy assets, optionally filtered with ``match={field: value(s)}``."""
        return offset_pager(
            self._client,
            _V1_PATH,
            LegacyAsset,
            params={"match": dict(match) if match else None, "sort": sort, "direction": direction},
            limit=limit,
            max_limit=_MAX_LIMIT,
            max_items=max_items,
        )

    async def get(self, asset: LegacyAsset | str) -> LegacyAsset:
        """One legacy asset by uuid."""
        path = f"{_V1_PATH}/{quote_path_param(uuid_of(asset))}"
        data = await self._client.request("GET", path)
        return structure(data, LegacyAsset)


class AssetsResource(Resource):
    """``client.assets``: hosts, accounts and networks of the v2 asset management API."""

    __slots__ = ("v1",)

    def __init__(self, client: SekoiaClient) -> None:
        super().__init__(client)
        self.v1 = LegacyAssetsResource(client)

    def list(
        self,
        *,
        search: str | None = None,
        uuids: Sequence[str] | None = None,
        community_uuids: Sequence[str] | None = None,
        type: AssetType | str | None = None,
        category: str | None = None,
        source: AssetSource | str | None = None,
        reviewed: bool | None = None,
        criticality: int | tuple[int, int] | None = None,
        tags: Sequence[str] | None = None,
        also_search_in_tags: bool | None = None,
        include_revoked: bool | None = None,
        sort: str | None = None,
        direction: Literal["asc", "desc"] | None = None,
        limit: int = _MAX_LIMIT,
        max_items: int | None = None,
    ) -> AsyncPager[Asset]:
        """Assets, filtered by the v2 API's plain parameters (a list means any of them).

        ``criticality`` is a value or a ``(min, max)`` range; revoked assets are left out
        unless ``include_revoked``.
        """
        params: dict[str, Any] = {
            "search": search,
            "uuids": list(uuids) if uuids is not None else None,
            "community_uuids": list(community_uuids) if community_uuids is not None else None,
            "type": _text(type),
            "category": category,
            "source": _text(source),
            "reviewed": reviewed,
            "criticality": list(criticality) if isinstance(criticality, tuple) else criticality,
            "tags": list(tags) if tags is not None else None,
            "also_search_in_tags": also_search_in_tags,
            "include_revoked": include_revoked,
            "sort": sort,
            "direction": direction,
        }
        return offset_pager(
            self._client,
            _PATH,
            Asset,
            params=params,
            limit=limit,
            max_limit=_MAX_LIMIT,
            max_items=max_items,
        )

    async def get(self, asset: Asset | str) -> Asset:
        """One asset (by uuid, or a fresh copy of an ``Asset``)."""
        data = await self._client.request("GET", f"{_PATH}/{quote_path_param(uuid_of(asset))}")
        return structure(data, Asset)

    async def create(
        self,
        *,
        name: str,
        type: AssetType | str,
        community_uuid: str | None = None,
        category: str | None = None,
        criticality: int | None = None,
        description: str | None = None,
        atoms: Mapping[str, Sequence[str]] | None = None,
        props: Mapping[str, Any] | None = None,
        tags: Sequence[str] | None = None,
        reviewed: bool | None = None,
        source: AssetSource | str | None = None,
        entity_uuid: str | None = None,
        uuid: str | None = None,
    ) -> Asset:
        """Create an asset; ``atoms`` are its identifiers, e.g. ``{"ipv4": ["10.0.0.1"]}``.

        ``uuid`` chooses the new asset's uuid (ConflictError if it is taken).
        """
        fields = {
            "name": name,
            "type": type,
            "community_uuid": community_uuid,
            "category": category,
            "criticality": criticality,
            "description": description,
            "atoms": atoms,
            "props": props,
            "tags": tags,
            "reviewed": reviewed,
            "source": source,
            "entity_uuid": entity_uuid,
            "uuid": validate_uuid(uuid) if uuid is not None else None,
        }
        body = asset_body({k: v for k, v in fields.items() if v is not None}, creating=True)
        data = await self._client.request("POST", _PATH, json=body)
        return structure(data, Asset)

    async def update(
        self,
        asset: Asset | str,
        *,
        name: str = _UNSET,
        category: str | None = _UNSET,
        criticality: int | None = _UNSET,
        description: str | None = _UNSET,
        atoms: Mapping[str, Sequence[str]] = _UNSET,
        props: Mapping[str, Any] = _UNSET,
        tags: Sequence[str] = _UNSET,
        reviewed: bool = _UNSET,
    ) -> Asset:
        """Change the given fields of an asset (others are left as they are)."""
        fields = {
            "name": name,
            "category": category,
            "criticality": criticality,
            "description": description,
            "atoms": atoms,
            "props": props,
            "tags": tags,
            "reviewed": reviewed,
        }
        body = asset_body(fields, creating=False)
        data = await self._client.request(
            "PUT", f"{_PATH}/{quote_path_param(uuid_of(asset))}", json=body
        )
        return structure(data, Asset)

    async def revoke(self, asset: Asset | str) -> Asset:
        """Mark an asset revoked (kept, but hidden from lists unless ``include_revoked``)."""
        path = f"{_PATH}/{quote_path_param(uuid_of(asset))}/revoke"
        data = await self._client.request("PUT", path)
        return structure(data, Asset)

    async def delete(self, asset: Asset | str) -> None:
        """Delete an asset."""
        await self._client.request("DELETE", f"{_PATH}/{quote_path_param(uuid_of(asset))}")
