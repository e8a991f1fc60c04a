"""Identity models: communities, roles, users (``/v1/me``) and invitations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = ["Community", "Invitation", "Role", "User", "UserCommunity"]


@attrs.frozen
class Community:
    """A Sekoia community (tenant)."""

    uuid: str
    name: str | None = None
    description: str | None = None
    homepage_url: str | None = None
    picture_mode: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    is_parent: bool | None = None
    parent_community_uuid: str | None = None
    subcommunities: list[Any] | None = None
    is_mfa_enforced: bool | None = None
    session_timeout: int | None = None
    disable_inactive_avatars: bool | None = None
    disabled: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Role:
    """A role of a community; its ``uuid`` is what an invitation grants."""

    uuid: str
    name: str | None = None
    description: str | None = None
    community_uuid: str | None = None
    permissions: list[Any] | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class UserCommunity:
    """A community a user belongs to, as listed on the user."""

    uuid: str
    name: str | None = None
    avatar_uuid: str | None = None
    disabled: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class User:
    """A user (or the API key's owner, from ``client.account.me()``)."""

    uuid: str
    email: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    company_name: str | None = None
    picture_mode: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    last_activity: datetime | None = None
    mfa_enabled: bool | None = None
    auth_provider: str | None = None
    invitation_v2: Any = None
    # Some deployments add the key's community (a uuid or an object): kept as sent.
    community: Any = None
    communities: list[UserCommunity] = attrs.field(factory=list)
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Invitation:
    """An invitation sent to an email address, granting roles in communities."""

    uuid: str | None = None
    email: str | None = None
    # community uuid -> role uuids granted there.
    communities: dict[str, list[str]] = attrs.field(factory=dict)
    status: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    expire_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
