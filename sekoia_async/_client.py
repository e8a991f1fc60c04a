"""SekoiaClient: the entry point. Holds settings and resources; requests go through the transport.

PLACEHOLDER owned by the foundation issue: the constructor signature, resource attributes and
``request`` signature are the contract; the body is filled in by the transport work.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._resources.account import AccountResource
from ._resources.alerts import AlertsResource
from ._resources.assets import AssetsResource
from ._resources.cases import CasesResource
from ._resources.communities import CommunitiesResource
from ._resources.entities import EntitiesResource
from ._resources.events import EventsResource
from ._resources.intakes import IntakesResource
from ._resources.invitations import InvitationsResource
from ._resources.queries import QueriesResource
from ._resources.rules import RulesResource
from ._resources.tasks import TasksResource


class SekoiaClient:
    """Async client for the Sekoia.io API: ``async with SekoiaClient(...) as client:``."""

    def __init__(
        self,
        api_key: str | None = None,
        *,
        region: str | None = None,
        base_url: str | None = None,
        pool: Any = None,
        timeout: Any = None,
        max_retries: int | None = None,
        rate_limit: float | None = None,
        max_concurrency: int | None = None,
        user_agent: str | None = None,
    ) -> None:
        self.events = EventsResource(self)
        self.alerts = AlertsResource(self)
        self.cases = CasesResource(self)
        self.rules = RulesResource(self)
        self.communities = CommunitiesResource(self)
        self.invitations = InvitationsResource(self)
        self.account = AccountResource(self)
        self.intakes = IntakesResource(self)
        self.entities = EntitiesResource(self)
        self.assets = AssetsResource(self)
        self.queries = QueriesResource(self)
        self.tasks = TasksResource(self)

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> Any:
        """Send one API request (with retries and rate limits) and return the decoded JSON."""
        raise NotImplementedError
