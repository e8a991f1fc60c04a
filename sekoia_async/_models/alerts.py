"""Alert models (``/v1/sic/alerts``): the alert, its nested objects, comments and workflow.

Alert ``created_at``/``updated_at`` arrive as Unix integer seconds while nested timestamps
(``first_seen_at``, countermeasures) are ISO strings: all become timezone-aware datetimes.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

from .common import CustomField, CustomStatus, Verdict
from .intakes import EntityRef

__all__ = [
    "Alert",
    "AlertCaseRef",
    "AlertComment",
    "AlertCountermeasure",
    "AlertHistoryEntry",
    "AlertRuleRef",
    "AlertStatus",
    "AlertStatusName",
    "AlertType",
    "AlertWorkflow",
    "KillChainStep",
    "StixRef",
    "Urgency",
    "UrgencyDisplay",
    "WorkflowAction",
    "WorkflowActionName",
]

_STATUS_UUIDS = {
    "Pending": "2efc4930-1442-4abb-acf2-58ba219a4fd0",
    "Acknowledged": "8f206505-af6d-433e-93f4-775d46dc7d0f",
    "Ongoing": "1f2f88d5-ff5b-48bf-bbbc-00c2fff82d9f",
    "Rejected": "4f68da89-38e0-4703-a6ab-652f02bdf24e",
    "Closed": "1738b1c1-767d-489e-bada-19176621a007",
}

_ACTION_UUIDS = {
    "Acknowledge": "937bdabf-6a08-434b-b6d3-d7447e4e452a",
    "Validate": "c39a0a95-aa2c-4d0d-8d2e-d3decf426eea",
    "Reject": "ade85d7b-7507-4026-bfc6-cc006d10ddac",
    "Close": "1390be4e-ced8-4dd6-9bed-573471b235ab",
}

# The legacy workflow: which status each action leads to.
_ACTION_TARGETS = {
    "Acknowledge": "Acknowledged",
    "Validate": "Ongoing",
    "Reject": "Rejected",
    "Close": "Closed",
}


class AlertStatusName(str, enum.Enum):
    """The five legacy alert statuses; ``.uuid`` is the status UUID the API uses."""

    PENDING = "Pending"
    ACKNOWLEDGED = "Acknowledged"
    ONGOING = "Ongoing"
    REJECTED = "Rejected"
    CLOSED = "Closed"

    @property
    def uuid(self) -> str:
        return _STATUS_UUIDS[self.value]

    @classmethod
    def from_uuid(cls, value: str) -> AlertStatusName | None:
        """The legacy status with this UUID, or None for a custom status."""
        for name, uuid in _STATUS_UUIDS.items():
            if uuid == value.lower():
                return cls(name)
        return None


class WorkflowActionName(str, enum.Enum):
    """The four legacy workflow actions; ``.uuid`` is the action UUID, ``.target`` the status."""

    ACKNOWLEDGE = "Acknowledge"
    VALIDATE = "Validate"
    REJECT = "Reject"
    CLOSE = "Close"

    @property
    def uuid(self) -> str:
        return _ACTION_UUIDS[self.value]

    @property
    def target(self) -> AlertStatusName:
        return AlertStatusName(_ACTION_TARGETS[self.value])


class UrgencyDisplay(str, enum.Enum):
    """The textual urgency bands: Low [0-20[, Moderate [20-40[, High [40-60[, Major [60-80[,
    Urgent [80-100]."""

    LOW = "Low"
    MODERATE = "Moderate"
    HIGH = "High"
    MAJOR = "Major"
    URGENT = "Urgent"

    @classmethod
    def from_value(cls, value: int) -> UrgencyDisplay:
        """The band of a 0-100 urgency value."""
        if not 0 <= value <= 100:
            raise ValueError(f"urgency must be between 0 and 100, got {value}")
        bands = (cls.LOW, cls.MODERATE, cls.HIGH, cls.MAJOR, cls.URGENT)
        return bands[min(value // 20, 4)]


@attrs.frozen(kw_only=True)
class Urgency:
    """An alert's urgency: ``value``/``current_value`` on 0-100 and its ``display`` band."""

    current_value: int | None = None
    value: int | None = None
    severity: int | None = None
    criticity: int | None = None
    display: UrgencyDisplay | str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertType:
    """The threat type of an alert, e.g. category ``malware``, value ``ransomware``."""

    category: str | None = None
    value: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertStatus:
    """The current workflow status of an alert (legacy or custom)."""

    uuid: str | None = None
    name: AlertStatusName | str | None = None
    description: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertRuleRef:
    """The detection rule that raised an alert."""

    uuid: str | None = None
    name: str | None = None
    severity: int | None = None
    type: str | None = None
    pattern: str | None = None
    description: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class StixRef:
    """A minimal STIX object (a TTP or an adversary) attached to an alert."""

    id: str | None = None
    type: str | None = None
    name: str | None = None
    description: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertCaseRef:
    """A case an alert belongs to, as listed on the alert (``cases=True``)."""

    short_id: str | None = None
    name: str | None = None
    title: str | None = None
    is_supplied: bool | None = None
    manual: bool | None = None
    status: str | None = None
    custom_status_uuid: str | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertComment:
    """A comment on an alert. ``author`` looks like ``user:<uuid>``, ``apikey:<uuid>`` or a name."""

    uuid: str
    content: str | None = None
    author: str | None = None
    date: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    unseen: bool | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertHistoryEntry:
    """One entry of an alert's history; the part named by ``entry_type`` stays a dict."""

    uuid: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    # alert, comment, countermeasure, countermeasure_action_step, kill_chain, urgency, ...
    entry_type: str | None = None
    alert: dict[str, Any] | None = None
    comment: dict[str, Any] | None = None
    countermeasure: dict[str, Any] | None = None
    countermeasure_action_step: dict[str, Any] | None = None
    kill_chain: dict[str, Any] | None = None
    urgency: dict[str, Any] | None = None
    details: dict[str, Any] | None = None
    alert_type: dict[str, Any] | None = None
    custom_fields: dict[str, Any] | None = None
    assignee: dict[str, Any] | None = None
    verdict: dict[str, Any] | None = None
    history_comments: tuple[AlertComment, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertCountermeasure:
    """A countermeasure proposed for an alert; its STIX course of action stays a dict."""

    uuid: str | None = None
    model_uuid: str | None = None
    name: str | None = None
    description: str | None = None
    type: str | None = None
    status: str | None = None
    relevance: int | None = None
    dynamic_relevance: int | None = None
    duration: str | None = None
    assignee: str | None = None
    external_ref: str | None = None
    alert_uuid: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    activated_at: datetime | None = None
    activated_by: str | None = None
    activated_by_type: str | None = None
    denied_at: datetime | None = None
    denied_by: str | None = None
    denied_by_type: str | None = None
    course_of_action: dict[str, Any] | None = None
    action_steps: tuple[dict[str, Any], ...] = ()
    comments: tuple[AlertComment, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class Alert:
    """A Sekoia alert. ``comments``, ``history`` and ``countermeasures`` are filled by
    ``client.alerts.get()`` (the detail view) and empty in lists."""

    uuid: str | None = None
    short_id: str | None = None
    title: str | None = None
    description: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None
    updated_by_type: str | None = None
    community_uuid: str | None = None
    entity: EntityRef | None = None
    urgency: Urgency | None = None
    alert_type: AlertType | None = None
    status: AlertStatus | None = None
    rule: AlertRuleRef | None = None
    detection_type: str | None = None
    source: str | None = None
    target: str | None = None
    similar: int | None = None
    details: str | None = None
    ttps: tuple[StixRef, ...] = ()
    adversaries: tuple[StixRef, ...] = ()
    # The STIX bundle, only with ``stix=True``.
    stix: dict[str, Any] | None = None
    kill_chain_short_id: str | None = None
    number_of_unseen_comments: int | None = None
    number_of_total_comments: int | None = None
    first_seen_at: datetime | None = None
    last_seen_at: datetime | None = None
    assets: tuple[str, ...] = ()
    intake_uuids: tuple[str, ...] = ()
    time_to_detect: int | None = None
    time_to_acknowledge: int | None = None
    time_to_respond: int | None = None
    time_to_resolve: int | None = None
    time_to_ingest: int | None = None
    cases: tuple[AlertCaseRef, ...] = ()
    assignee: str | None = None
    verdict_uuid: str | None = None
    verdict: Verdict | None = None
    custom_status_uuid: str | None = None
    custom_status: CustomStatus | None = None
    custom_fields: tuple[CustomField, ...] = ()
    comments: tuple[AlertComment, ...] = ()
    history: tuple[AlertHistoryEntry, ...] = ()
    countermeasures: tuple[AlertCountermeasure, ...] = ()
    similarity_strategy: Any = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def status_name(self) -> AlertStatusName | str | None:
        """Shortcut for ``alert.status.name``."""
        return self.status.name if self.status is not None else None


@attrs.frozen(kw_only=True)
class WorkflowAction:
    """A status transition available on an alert now (``GET .../workflow``)."""

    id: str | None = None
    name: WorkflowActionName | str | None = None
    description: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class AlertWorkflow:
    """The transitions an alert can take from its current status."""

    actions: tuple[WorkflowAction, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen(kw_only=True)
class KillChainStep:
    """A step of the cyber kill chain (``/v1/sic/kill-chains``), referenced by alerts."""

    uuid: str | None = None
    short_id: str | None = None
    order_id: int | None = None
    name: str | None = None
    description: str | None = None
    stix_name: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
