"""Rules catalog models (``/v1/sic/conf/rules-catalog/rules``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = ["Rule", "RuleAlertType", "RuleEffort", "RuleTag", "RuleType"]


class RuleType(str, enum.Enum):
    """The kinds of detection rules (``stix`` is deprecated by Sekoia but still listed)."""

    SIGMA = "sigma"
    CTI = "cti"
    ANOMALY = "anomaly"
    STIX = "stix"


class RuleEffort(enum.IntEnum):
    """How much effort a rule's alerts take to handle (1-4)."""

    ELEMENTARY = 1
    INTERMEDIATE = 2
    ADVANCED = 3
    MASTER = 4


@attrs.frozen(kw_only=True)
class RuleAlertType:
    """The alert type a rule raises (``alert_type`` on the rule)."""

    uuid: str | None = None
    value: str | None = None
    category: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class RuleTag:
    """A tag on a rule."""

    uuid: str | None = None
    name: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Rule:
    """A detection rule of the rules catalog. ``severity`` is 0-100, ``effort`` 1-4."""

    uuid: str
    name: str | None = None
    type: RuleType | str | None = None
    description: str | None = None
    # Sigma YAML, a STIX pattern... depending on ``type``.
    payload: str | None = None
    severity: int | None = None
    effort: int | None = None
    enabled: bool | None = None
    community_uuid: str | None = None
    alert_type: RuleAlertType | None = None
    alert_category: dict[str, Any] | None = None
    tags: tuple[RuleTag, ...] = ()
    parameters: tuple[Any, ...] = ()
    entities: tuple[Any, ...] = ()
    all_entities: bool | None = None
    assets: tuple[Any, ...] = ()
    all_assets: bool | None = None
    datasources: tuple[Any, ...] = ()
    event_fields: tuple[Any, ...] = ()
    references: Any = None
    related_object_refs: tuple[Any, ...] = ()
    similarity_strategy: tuple[Any, ...] = ()
    goal: str | None = None
    false_positives: str | None = None
    available_for_subcommunities: bool | None = None
    private: bool | None = None
    is_private: bool | None = None
    verified: bool | None = None
    source: str | None = None
    instance_uuid: str | None = None
    last_compilation_at: datetime | None = None
    last_compilation_success: bool | None = None
    last_compilation_error: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
