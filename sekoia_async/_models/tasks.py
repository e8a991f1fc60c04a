"""Generic asynchronous task model (``/v1/tasks/{uuid}``), used by bulk event exports."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = ["Task", "TaskStatus", "redact_url"]


def redact_url(value: Any) -> str:
    """repr of a URL without its query string: a pre-signed URL's signature grants access."""
    if isinstance(value, str) and "?" in value:
        return repr(value.split("?", 1)[0] + "?<redacted>")
    return repr(value)


def _redact_attributes(value: Any) -> str:
    if not isinstance(value, dict):
        return repr(value)
    shown = ", ".join(f"{k!r}: {redact_url(v)}" for k, v in value.items())
    return "{" + shown + "}"


class TaskStatus(str, enum.Enum):
    """Task statuses seen across Sekoia services (they differ by service)."""

    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINISHED = "FINISHED"
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    CANCELED = "CANCELED"
    CANCELLED = "CANCELLED"


_SUCCEEDED = frozenset({"FINISHED", "SUCCESS", "SUCCEEDED", "DONE", "COMPLETED"})
_FAILED = frozenset({"FAILED", "FAILURE", "ERROR", "CANCELED", "CANCELLED", "REVOKED"})


def _status_text(status: Any) -> str:
    value = status.value if isinstance(status, enum.Enum) else status
    return str(value or "").upper()


@attrs.frozen
class Task:
    """A server-side task; ``progress`` out of ``total`` while it runs."""

    uuid: str | None = None
    status: TaskStatus | str | None = None
    progress: int | None = None
    total: int | None = None
    # Service-specific results, e.g. ``download_url`` for an export, ``error`` on failure.
    attributes: dict[str, Any] = attrs.field(factory=dict, repr=_redact_attributes)
    message: str | None = None
    error: Any = None
    type: str | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    updated_at: datetime | None = None
    ended_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def succeeded(self) -> bool:
        """True once the task finished successfully."""
        return _status_text(self.status) in _SUCCEEDED

    @property
    def failed(self) -> bool:
        """True once the task failed or was canceled."""
        return _status_text(self.status) in _FAILED

    @property
    def done(self) -> bool:
        """True when the task will not change any more (succeeded or failed)."""
        return self.succeeded or self.failed

    @property
    def download_url(self) -> str | None:
        """The result's download URL, when the task produced one."""
        url = self.attributes.get("download_url")
        return url if isinstance(url, str) and url else None

    @property
    def error_message(self) -> str | None:
        """The server's explanation of a failure, from wherever this service puts it."""
        for candidate in (self.message, self.attributes.get("error"), self.error):
            if candidate:
                return candidate if isinstance(candidate, str) else repr(candidate)
        return None
