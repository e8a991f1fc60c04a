"""Search-job field statistics and bulk export models."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from .tasks import redact_url

__all__ = ["EventField", "ExportJob", "FieldValue", "S3Destination"]


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

    # Pre-signed: whoever has the URL can read the file, so repr hides its signature.
    download_url: str | None = attrs.field(default=None, repr=redact_url)
    expire_at: datetime | None = None
    exported_events_count: int | None = None
    export_size_compressed: int | None = None
    format: str | None = None
    task_uuid: str | None = None
    status: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)


@attrs.frozen
class S3Destination:
    """Your own S3 bucket as the target of a bulk export (instead of Sekoia's storage).

    The secrets never appear in repr.
    """

    bucket_name: str
    access_key_id: str
    secret_access_key: str = attrs.field(repr=False)
    prefix: str | None = None
    endpoint_url: str | None = None
    region_name: str | None = None
    sse_customer_key: str | None = attrs.field(default=None, repr=False)
    sse_customer_algorithm: str | None = None
    sse_customer_key_md5: str | None = None

    def to_json(self) -> dict[str, str]:
        """The ``s3`` object of the export request body (unset fields left out)."""
        return {k: v for k, v in attrs.asdict(self).items() if v is not None}
