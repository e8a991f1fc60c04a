"""Case models (``/v1/sic/cases``). Case timestamps are ISO strings (unlike alerts)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from .alerts import Alert
from .common import CustomField, CustomPriority, CustomStatus, Verdict

__all__ = ["Case", "CaseComment", "CasePriority", "CaseSubscriber"]


class CasePriority(str, enum.Enum):
    """The built-in case priorities."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


@attrs.frozen(kw_only=True)
class CaseSubscriber:
    """A user following a case; ``type`` is ``assignee`` for the analysts assigned to it."""

    avatar_uuid: str | None = None
    type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Case:
    """A Sekoia case: a group of alerts under investigation."""

    uuid: str
    short_id: str | None = None
    title: str | None = None
    description: str | None = None
    priority: CasePriority | str | None = None
    # "opened", "closed", ... or a community's own status name.
    status: str | None = None
    status_uuid: str | None = None
    community_uuid: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    updated_by_type: str | None = None
    subscribers: tuple[CaseSubscriber, ...] = ()
    tags: tuple[str, ...] = ()
    number_of_comments: int | None = None
    number_of_alerts: int | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    manual: bool | None = None
    is_supplied: bool | None = None
    verdict_uuid: str | None = None
    verdict: Verdict | None = None
    custom_status_uuid: str | None = None
    custom_status: CustomStatus | None = None
    custom_priority_uuid: str | None = None
    custom_priority: CustomPriority | None = None
    description_updated_manually: bool | None = None
    priority_updated_manually: bool | None = None
    custom_fields: tuple[CustomField, ...] = ()
    alerts: tuple[Alert, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class CaseComment:
    """A comment on a case."""

    uuid: str
    content: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
