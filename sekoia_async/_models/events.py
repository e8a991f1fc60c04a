"""Event search models: the search job (reference §3.3) and a page of its events (§3.4)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any, Union

import attrs

from ..errors import APIResponseValidationError
from ._converter import converter

__all__ = ["EventsPage", "SearchJob", "SearchJobStatus"]


class SearchJobStatus(enum.IntEnum):
    """Lifecycle of an event search job, as the API numbers it."""

    NOT_STARTED = 0
    IN_PROGRESS = 1
    DONE = 2
    CANCELED = 3
    FAILED = 4


_StatusOrInt = Union[SearchJobStatus, int]  # noqa: UP007 - a runtime type key for cattrs


def _structure_status(value: Any, _: Any) -> SearchJobStatus | int:
    # A status this SDK does not know must not break parsing; the poller treats it as running.
    number = int(value)
    try:
        return SearchJobStatus(number)
    except ValueError:
        return number


converter.register_structure_hook(_StatusOrInt, _structure_status)


@attrs.frozen
class SearchJob:
    """An event search job. ``status`` is a SearchJobStatus (a plain int if the API adds one)."""

    uuid: str
    status: SearchJobStatus | int = SearchJobStatus.NOT_STARTED
    # Events matched; 0 until the job is done, capped by max_last_events.
    total: int | None = None
    term: str | None = None
    term_lang: str | None = None
    filters: list[Any] | None = None
    community_uuids: list[str] | None = None
    # Echo of the creation window: ISO strings, or relative ones kept as the creator sent them.
    earliest_time: str | None = None
    latest_time: str | None = None
    created_at: datetime | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    created_by: str | None = None
    created_by_type: str | None = None
    canceled_at: datetime | None = None
    canceled_by: str | None = None
    canceled_by_type: str | None = None
    results_ttl: int | None = None
    expiration_date: datetime | None = None
    expired: bool = False
    view_uuid: str | None = None
    only_eternal: bool | None = None
    max_last_events: int | None = None
    date_field: str | None = None
    short_histogram: dict[str, Any] | None = None
    # Set by the server when the job failed (status 4), e.g. an unparsable query.
    message: str | None = None
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @property
    def is_finished(self) -> bool:
        """True once the job reached a final status (done, canceled or failed)."""
        return self.status in (
            SearchJobStatus.DONE,
            SearchJobStatus.CANCELED,
            SearchJobStatus.FAILED,
        )


@attrs.frozen
class EventsPage:
    """One page of a job's events: plain dicts exactly as the API sends them, and the total."""

    items: list[dict[str, Any]]
    total: int
    raw: dict[str, Any] = attrs.field(factory=dict, repr=False, eq=False)

    @classmethod
    def from_api(cls, data: Any) -> EventsPage:
        """Build from the API's ``{items, total}``; events are not copied (no per-event cost)."""
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise APIResponseValidationError(
                f"expected an events page {{items, total}}, got {type(data).__name__}; "
                "is the base URL a Sekoia.io API?",
                body=data,
            )
        items: list[dict[str, Any]] = data["items"]
        total = data.get("total")
        return cls(items=items, total=int(total) if total is not None else len(items), raw=data)
