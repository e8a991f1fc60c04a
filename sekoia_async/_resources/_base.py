from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .._client import SekoiaClient


class Resource:
    """Base of every resource: holds the client whose ``request`` it calls."""

    __slots__ = ("_client",)

    def __init__(self, client: SekoiaClient) -> None:
        self._client = client
