"""Event search: search jobs (create, get, read pages) and the streaming ``search``/``resume``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from .._helpers.search.checkpoint import decode_token
from .._helpers.search.machine import SearchMachine
from .._helpers.search.policy import PollPolicy
from .._helpers.search.spec import (
    MAX_PAGE_SIZE,
    build_spec,
    check_max_events,
    check_options,
)
from .._helpers.search.stream import SearchResults
from .._models._converter import structure
from .._models.events import EventsPage, SearchJob
from .._times import format_time, parse_time
from .._transport.paths import validate_uuid
from ..errors import APIResponseValidationError
from .events_export import EventsExportMixin

__all__ = ["DEFAULT_RUN_TIMEOUT", "DEFAULT_START_TIMEOUT", "EventsResource"]

_JOBS = "/v1/sic/conf/events/search/jobs"

# Sekoia's own integrations give a job 20 minutes to start and 30 minutes to finish.
DEFAULT_START_TIMEOUT = 1200.0
DEFAULT_RUN_TIMEOUT = 1800.0


def _check_concurrency(concurrency: int) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValueError(f"concurrency must be an int >= 1, got {concurrency!r}")
    return concurrency


def _time_param(value: str | datetime, name: str) -> str:
    # Validate locally (ValueError before any request) but send what the caller wrote: the
    # server resolves relative times itself.
    try:
        parse_time(value, now=datetime.now(timezone.utc))
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
    if isinstance(value, datetime):
        return format_time(value)
    return value


def _job(data: Any) -> SearchJob:
    if not isinstance(data, dict) or not isinstance(data.get("uuid"), str):
        raise APIResponseValidationError(
            f"expected a search job object with a uuid, got {type(data).__name__}", body=data
        )
    return structure(data, SearchJob)


class EventsResource(EventsExportMixin):
    """``client.events``: event search jobs, streaming search, field statistics and export."""

    __slots__ = ()

    async def create_search_job(
        self,
        term: str,
        earliest_time: str | datetime,
        latest_time: str | datetime,
        *,
        max_last_events: int | None = None,
        **options: Any,
    ) -> SearchJob:
        """Create an event search job (``POST .../search/jobs``) and return it.

        Times are ISO 8601 strings, datetimes or Sekoia relative strings (``-30d``, ``now``);
        relative strings are sent as given. ``options`` are other creation fields:
        ``term_lang``, ``visible``, ``filters``, ``community_uuids``, ``only_eternal``,
        ``results_ttl``, ``view_uuid``, ``date_field``.
        """
        if not isinstance(term, str):
            raise TypeError(f"term must be a string (use '' to match every event), got {term!r}")
        body: dict[str, Any] = {
            "term": term,
            "earliest_time": _time_param(earliest_time, "earliest_time"),
            "latest_time": _time_param(latest_time, "latest_time"),
        }
        body.update(check_options(options))
        if check_max_events(max_last_events) is not None:
            body["max_last_events"] = max_last_events
        return await self._create_job(body)

    async def _create_job(self, body: dict[str, Any]) -> SearchJob:
        # A duplicate job is harmless (it expires unread), so creation is retried like a GET.
        return _job(await self._client.request("POST", _JOBS, json=body, idempotent=True))

    async def get_search_job(self, uuid: str) -> SearchJob:
        """The search job ``uuid`` with its current status (NotFoundError once it is gone)."""
        # Job ids are always UUIDs: anything else is refused before a request is sent.
        return _job(await self._client.request("GET", f"{_JOBS}/{validate_uuid(uuid)}"))

    async def get_search_job_events(
        self, uuid: str, *, limit: int = 100, offset: int = 0
    ) -> EventsPage:
        """One page of a done job's events, newest first (``limit`` 1..1000, ``offset`` >= 0)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
            raise ValueError(f"limit must be an int between 1 and {MAX_PAGE_SIZE}, got {limit!r}")
        if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
            raise ValueError(f"offset must be an int >= 0, got {offset!r}")
        data = await self._client.request(
            "GET",
            f"{_JOBS}/{validate_uuid(uuid)}/events",
            params={"limit": limit, "offset": offset},
        )
        return EventsPage.from_api(data)

    def search(
        self,
        term: str,
        earliest: str | datetime = "-30d",
        latest: str | datetime = "now",
        *,
        page_size: int = MAX_PAGE_SIZE,
        concurrency: int = 4,
        max_events: int | None = None,
        poll: PollPolicy | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        run_timeout: float = DEFAULT_RUN_TIMEOUT,
        **options: Any,
    ) -> SearchResults:
        """Stream every event a query matches, in server order (newest first), exactly once.

        Use as ``async with client.events.search(term, "-7d") as results:`` then
        ``async for event in results:`` (or ``results.pages()``). The job is created with the
        window resolved to absolute times; it is polled per ``poll``, must start within
        ``start_timeout`` s and finish within ``run_timeout`` s; then up to ``concurrency``
        pages of ``page_size`` are fetched ahead of the consumer. ``max_events`` caps what is
        read (sent as ``max_last_events``). ``results.checkpoint()`` gives a token for
        ``resume()``. Bad arguments raise ValueError here, before any request.
        """
        spec = build_spec(
            term,
            earliest,
            latest,
            now=datetime.now(timezone.utc),
            page_size=page_size,
            max_events=max_events,
            options=options,
        )
        machine = SearchMachine(
            spec,
            poll=poll or PollPolicy(),
            start_timeout=start_timeout,
            run_timeout=run_timeout,
        )
        return SearchResults(self, machine, concurrency=_check_concurrency(concurrency))

    def resume(
        self,
        token: Mapping[str, Any] | str,
        *,
        concurrency: int = 4,
        poll: PollPolicy | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        run_timeout: float = DEFAULT_RUN_TIMEOUT,
    ) -> SearchResults:
        """Carry on a search from ``results.checkpoint()`` (or an error's continuation_token).

        Yields exactly the events after those already delivered. If the job expired, it is
        re-created from the token's query and *resolved* window and the delivered events are
        skipped by position; see the README ("Event search") for what that guarantees.
        """
        checkpoint = decode_token(token)
        machine = SearchMachine(
            checkpoint.spec,
            poll=poll or PollPolicy(),
            start_timeout=start_timeout,
            run_timeout=run_timeout,
            job_uuid=checkpoint.job_uuid,
            offset=checkpoint.offset,
            expected_total=checkpoint.total,
        )
        return SearchResults(self, machine, concurrency=_check_concurrency(concurrency))
