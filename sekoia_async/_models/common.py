"""Models shared by alerts and cases: verdicts, custom statuses and priorities, custom fields."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "CustomField",
    "CustomFieldType",
    "CustomPriority",
    "CustomStatus",
    "CustomStatusStage",
    "Verdict",
    "VerdictStage",
]


class VerdictStage(str, enum.Enum):
    """Whether a verdict says the alert or case was a real threat."""

    FALSE_POSITIVE = "false_positive"
    TRUE_POSITIVE = "true_positive"


class CustomStatusStage(str, enum.Enum):
    """The lifecycle stage a community's custom status belongs to."""

    OPEN = "open"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


class CustomFieldType(str, enum.Enum):
    """The value type of a custom field."""

    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    SINGLE_SELECT = "single_select"
    MULTI_SELECT = "multi_select"


@attrs.frozen(kw_only=True)
class Verdict:
    """The verdict of an alert or case (a community-defined label with a stage)."""

    uuid: str | None = None
    label: str | None = None
    description: str | None = None
    level: int | None = None
    stage: VerdictStage | str | None = None
    analysis: str | None = None
    confidence: int | None = None
    updated_by: str | None = None
    updated_by_type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class CustomStatus:
    """A community-defined status of an alert or case."""

    uuid: str | None = None
    label: str | None = None
    description: str | None = None
    color: str | None = None
    level: int | None = None
    stage: CustomStatusStage | str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class CustomPriority:
    """A community-defined priority of a case."""

    uuid: str | None = None
    label: str | None = None
    description: str | None = None
    color: str | None = None
    level: int | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class CustomField:
    """A custom field definition together with its ``value`` on one alert or case."""

    uuid: str | None = None
    community_uuid: str | None = None
    name: str | None = None
    slug: str | None = None
    description: str | None = None
    type: CustomFieldType | str | None = None
    options: Any = None
    color: str | None = None
    auto_added_to_case: bool | None = None
    auto_added_to_alert: bool | None = None
    task_uuid: str | None = None
    # bool, int, str or list of str depending on ``type``.
    value: Any = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    updated_by_type: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
