"""The API key's own identity: ``/v1/me`` and ``/v1/auth/validate``."""

from __future__ import annotations

from .._models._converter import structure
from .._models.community import User
from ..errors import AuthenticationError
from ._base import Resource

__all__ = ["AccountResource"]


class AccountResource(Resource):
    """``client.account``: who the API key belongs to, and whether it is valid."""

    __slots__ = ()

    async def me(self, *, extended: bool = False) -> User:
        """The user (or key owner) behind the API key."""
        data = await self._client.request(
            "GET", "/v1/me", params={"extended": True} if extended else None
        )
        return structure(data, User)

    async def validate(self) -> bool:
        """True if the API key is accepted, False if it is invalid, expired or revoked.

        Other failures (network, 5xx, 403) raise: they say nothing about the key itself.
        """
        try:
            await self._client.request("GET", "/v1/auth/validate")
        except AuthenticationError:
            return False
        return True
