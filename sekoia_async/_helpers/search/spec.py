"""What a streaming search asks for: the query, its window and its page plan. Pure.

Relative times (``-30d``, ``now``) are resolved to absolute UTC instants once, when the search
is set up, and the job is created with those instants: a job re-created on resume (after the
first one expired) then covers exactly the same window. The caller's own inputs are kept too,
so a checkpoint shows what was asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from ..._times import format_time, parse_time

__all__ = ["MAX_PAGE_SIZE", "SearchSpec", "build_spec", "check_options"]

MAX_PAGE_SIZE = 1000

# Creation-body fields the caller may pass through ``**options`` (reference §3.2). ``term``,
# the window and ``max_last_events`` have their own arguments.
_OPTION_FIELDS = frozenset(
    {
        "term_lang",
        "visible",
        "filters",
        "community_uuids",
        "only_eternal",
        "results_ttl",
        "view_uuid",
        "date_field",
    }
)


@attrs.frozen
class SearchSpec:
    """An immutable description of one streaming search (everything a checkpoint must hold)."""

    term: str
    earliest: str  # as the caller gave it (datetimes as ISO strings)
    latest: str
    earliest_resolved: str  # absolute ISO 8601 UTC, what the job is created with
    latest_resolved: str
    page_size: int = 1000
    max_events: int | None = None
    options: dict[str, Any] = attrs.field(factory=dict)

    def job_body(self) -> dict[str, Any]:
        """The POST body that creates this search's job."""
        body: dict[str, Any] = {
            "term": self.term,
            "earliest_time": self.earliest_resolved,
            "latest_time": self.latest_resolved,
        }
        body.update(self.options)
        if self.max_events is not None:
            body["max_last_events"] = self.max_events
        return body


def check_page_size(page_size: int) -> int:
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise TypeError(f"page_size must be an int, got {type(page_size).__name__}")
    if not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(
            f"page_size must be between 1 and {MAX_PAGE_SIZE} (the API's maximum), got {page_size}"
        )
    return page_size


def check_max_events(max_events: int | None) -> int | None:
    if max_events is None:
        return None
    if isinstance(max_events, bool) or not isinstance(max_events, int):
        raise TypeError(f"max_events must be an int or None, got {type(max_events).__name__}")
    if max_events < 1:
        raise ValueError(f"max_events must be >= 1 (or None for all events), got {max_events}")
    return max_events


def check_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Reject creation options the API does not know, so a typo does not go unnoticed."""
    unknown = sorted(set(options) - _OPTION_FIELDS)
    if unknown:
        raise TypeError(
            f"unknown search job option(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(_OPTION_FIELDS))}"
        )
    return {k: v for k, v in options.items() if v is not None}


def _as_given(value: str | datetime) -> str:
    return format_time(value) if isinstance(value, datetime) else value


def build_spec(
    term: str,
    earliest: str | datetime,
    latest: str | datetime,
    *,
    now: datetime,
    page_size: int = 1000,
    max_events: int | None = None,
    options: Mapping[str, Any] | None = None,
) -> SearchSpec:
    """Validate a search's inputs and resolve its window against ``now`` (ValueError if bad:
    malformed or reversed times, or a window that starts after ``now``)."""
    if not isinstance(term, str):
        raise TypeError(f"term must be a string (use '' to match every event), got {term!r}")
    start = parse_time(earliest, now=now)
    end = parse_time(latest, now=now)
    if start > end:
        raise ValueError(
            f"the search window is empty: earliest {earliest!r} ({format_time(start)}) is after "
            f"latest {latest!r} ({format_time(end)}); swap them"
        )
    if start > now:
        raise ValueError(
            f"the search window starts in the future: earliest {earliest!r} "
            f"({format_time(start)}) is after now ({format_time(now)}), so no event can match; "
            "pass a past time such as '-1d'"
        )
    return SearchSpec(
        term=term,
        earliest=_as_given(earliest),
        latest=_as_given(latest),
        earliest_resolved=format_time(start),
        latest_resolved=format_time(end),
        page_size=check_page_size(page_size),
        max_events=check_max_events(max_events),
        options=check_options(options or {}),
    )
