"""SOL (Sekoia Operating Language) query-run models (``/v1/notebooks/queries/runs``)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import attrs

__all__ = ["QueryRun", "QueryRunStatus"]


class QueryRunStatus(str, enum.Enum):
    """The lifecycle of a SOL query run."""

    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    ERROR = "error"


@attrs.frozen
class QueryRun:
    """One execution of a SOL query; rows are downloaded once ``status`` is ``done``."""

    uuid: str
    status: QueryRunStatus | str | None = None
    task_id: str | None = None
    query_uuid: str | None = None
    ql_query: str | None = None
    # The server's failure details (a string or an object, depending on the error).
    error: Any = None
    total_rows: int | None = None
    created_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def done(self) -> bool:
        """True once the run has finished, successfully or not."""
        return self.status in (QueryRunStatus.DONE, QueryRunStatus.ERROR)

    @property
    def error_message(self) -> str | None:
        """The server's explanation of a failed run."""
        if not self.error:
            return None
        return self.error if isinstance(self.error, str) else repr(self.error)
