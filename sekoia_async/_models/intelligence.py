"""Intelligence Center (CTI) models: STIX 2.1 objects, observables and context bundles.

STIX objects come in dozens of types (indicator, malware, intrusion-set, relationship,
identity, marking-definition...) with Sekoia's ``x_ic_*`` / ``x_inthreat_*`` extensions. One
class reads them all: the fields common to most types are typed, every other field is in
``raw`` (a newer server or another STIX type must never break parsing).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import attrs

__all__ = ["KillChainPhase", "Observable", "StixBundle", "StixObject"]


@attrs.frozen
class KillChainPhase:
    """A STIX kill-chain phase, e.g. ``("lockheed-martin-cyber-kill-chain", "delivery")``."""

    kill_chain_name: str | None = None
    phase_name: str | None = None


@attrs.frozen
class StixObject:
    """One STIX 2.1 object of the Intelligence Center (``type`` says which kind).

    Indicator fields (``pattern``, ``valid_from``...) are None on other types, relationship
    fields (``source_ref``, ``relationship_type``...) likewise.
    """

    id: str
    type: str
    spec_version: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    created_by_ref: str | None = None
    name: str | None = None
    description: str | None = None
    revoked: bool | None = None
    confidence: int | None = None
    lang: str | None = None
    aliases: tuple[str, ...] = ()
    object_marking_refs: tuple[str, ...] = ()
    kill_chain_phases: tuple[KillChainPhase, ...] = ()
    # Indicators.
    pattern: str | None = None
    pattern_type: str | None = None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    indicator_types: tuple[str, ...] = ()
    # Relationships.
    relationship_type: str | None = None
    source_ref: str | None = None
    target_ref: str | None = None
    # Sekoia extensions.
    x_ic_observable_types: tuple[str, ...] = ()
    x_ic_deprecated: bool | None = None
    x_inthreat_sources_refs: tuple[str, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class Observable:
    """A STIX cyber-observable known to the Intelligence Center (``email-addr``, ``ipv4-addr``,
    ``domain-name``, ``file``...); ``value`` is None for types without one (files: ``hashes``
    in ``raw``)."""

    id: str
    type: str
    value: str | None = None
    spec_version: str | None = None
    created: datetime | None = None
    modified: datetime | None = None
    x_inthreat_short_display: str | None = None
    x_inthreat_sources_refs: tuple[str, ...] = ()
    x_inthreat_tags: tuple[Any, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class StixBundle:
    """A STIX bundle: the context of an indicator (the indicator, the threats it indicates,
    their relationships, sources and markings). Iterating it yields its objects."""

    type: str = "bundle"
    id: str | None = None
    spec_version: str | None = None
    objects: tuple[StixObject, ...] = ()
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    def __iter__(self) -> Iterator[StixObject]:
        return iter(self.objects)

    def __len__(self) -> int:
        return len(self.objects)

    def of_type(self, stix_type: str) -> list[StixObject]:
        """The objects of one STIX type, e.g. ``bundle.of_type("malware")``."""
        return [obj for obj in self.objects if obj.type == stix_type]

    def get(self, stix_id: str) -> StixObject | None:
        """The object with this STIX id (``malware--...``), or None."""
        return next((obj for obj in self.objects if obj.id == stix_id), None)
