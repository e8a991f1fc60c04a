"""Search-job field statistics and bulk export models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

__all__ = ["EventField", "ExportJob", "FieldValue"]


@attrs.frozen
class FieldValue:
    """One of a field's most common values; ``value`` is its share of the events (percent)."""

    name: Any = None
    value: float | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class EventField:
    """A field present in a search job's events, with its most common values."""

    name: str
    display_name: str | None = None
    description: str | None = None
    value_type: str | None = None
    most_common_values: list[FieldValue] | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class ExportJob:
    """A finished bulk export of a search job (``GET .../jobs/{uuid}/export-jobs``)."""

    download_url: str | None = None
    expire_at: datetime | None = None
    exported_events_count: int | None = None
    export_size_compressed: int | None = None
    format: str | None = None
    task_uuid: str | None = None
    status: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)
