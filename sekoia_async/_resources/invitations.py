"""Invitations of users into communities: ``POST /v1/invitations``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .._helpers.pagination import AsyncPager
from .._models._converter import structure
from .._models.community import Invitation
from .._transport.paths import validate_uuid
from ._base import Resource
from ._listing import offset_pager

__all__ = ["InvitationsResource"]


def invitation_body(email: str, communities: Mapping[str, Sequence[str]]) -> dict[str, object]:
    """The quickstart's body ``{email, communities: {community_uuid: [role_uuid]}}``, checked."""
    if not isinstance(email, str) or "@" not in email.strip(" @"):
        raise ValueError(f"email {email!r} is not an email address: pass e.g. 'jane@example.com'")
    if not communities:
        raise ValueError(
            "communities is empty: pass {community_uuid: [role_uuid, ...]} with at least one role"
        )
    body: dict[str, list[str]] = {}
    for community_uuid, roles in communities.items():
        if isinstance(roles, str) or not roles:
            raise ValueError(
                f"roles for community {community_uuid!r} must be a non-empty list of role "
                f"uuids (got {roles!r}); list them with client.communities.roles(...)"
            )
        body[validate_uuid(community_uuid)] = [validate_uuid(role) for role in roles]
    return {"email": email.strip(), "communities": body}


class InvitationsResource(Resource):
    """``client.invitations``: invite people into communities with given roles."""

    __slots__ = ()

    async def create(self, email: str, communities: Mapping[str, Sequence[str]]) -> Invitation:
        """Invite ``email`` with ``communities={community_uuid: [role_uuid, ...]}``."""
        data = await self._client.request(
            "POST", "/v1/invitations", json=invitation_body(email, communities)
        )
        return structure(data, Invitation)

    def list(self, *, limit: int = 100, max_items: int | None = None) -> AsyncPager[Invitation]:
        """The invitations sent in the communities the key can see."""
        return offset_pager(
            self._client,
            "/v1/invitations",
            Invitation,
            limit=limit,
            max_limit=100,
            max_items=max_items,
        )
