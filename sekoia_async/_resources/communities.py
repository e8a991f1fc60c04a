"""Communities (tenants) and their roles: ``/v1/communities``."""

from __future__ import annotations

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from .._models.community import Community, Role
from .._transport.paths import quote_path_param
from ._base import Resource
from ._listing import offset_pager, uuid_of

__all__ = ["CommunitiesResource"]

_MAX_LIMIT = 100


class CommunitiesResource(Resource):
    """``client.communities``: the communities the API key can see, and their roles."""

    __slots__ = ()

    def list(
        self, *, limit: int = _MAX_LIMIT, max_items: int | None = None
    ) -> AsyncPager[Community]:
        """Every community the key can see: ``async for c in client.communities.list()``."""
        return offset_pager(
            self._client,
            "/v1/communities",
            Community,
            limit=limit,
            max_limit=_MAX_LIMIT,
            max_items=max_items,
        )

    async def get(self, community: Community | str) -> Community:
        """One community by uuid (NotFoundError if the key cannot see it)."""
        community_uuid = uuid_of(community)
        data = await self._client.request(
            "GET", f"/v1/communities/{quote_path_param(community_uuid)}"
        )
        return structure(data, Community)

    def roles(
        self, community: Community | str, *, limit: int = _MAX_LIMIT, max_items: int | None = None
    ) -> AsyncPager[Role]:
        """The roles of a community; their uuids are what ``client.invitations.create`` grants."""
        community_uuid = uuid_of(community)
        return offset_pager(
            self._client,
            f"/v1/communities/{quote_path_param(community_uuid)}/roles",
            Role,
            limit=limit,
            max_limit=_MAX_LIMIT,
            max_items=max_items,
        )
