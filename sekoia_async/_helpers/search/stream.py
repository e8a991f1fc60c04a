"""The anyio driver of a streaming search: it performs what SearchMachine decides.

One task drives the job (create, poll with backoff under deadlines) and then hands out page
requests in server order. Each request first takes a token from a CapacityLimiter of
``concurrency`` tokens and gives it back only when the consumer has *taken* that page, so the
pages in flight plus the pages fetched but not yet consumed never exceed ``concurrency``: a slow
consumer stops the fetching. Page slots travel to the consumer through a memory object stream in
request order, so events come out in server order whatever order the responses arrive in.

No task ever lets an exception escape into the task group: errors travel to the consumer in a
slot and are raised from ``async for`` (in order: every event before the failure is yielded
first). Leaving the ``async with`` cancels the task group, which cancels in-flight requests
(aiohttp then drops their connections) and waits for every task to finish.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from types import TracebackType
from typing import TYPE_CHECKING, Any

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ...errors import (
    NotFoundError,
    SearchJobCanceled,
    SearchJobError,
    SearchJobExpired,
    SearchJobFailed,
    SearchJobTimeout,
)
from .checkpoint import encode_token
from .machine import (
    CreateJob,
    Fail,
    FailKind,
    PageAccepted,
    PageRequest,
    PageRetry,
    SearchMachine,
    StartPaging,
)

if TYPE_CHECKING:
    from ..._models.events import SearchJob
    from ..._resources.events import EventsResource

__all__ = ["SearchResults", "SearchStats"]

logger = logging.getLogger("sekoia_async.search")

Event = dict[str, Any]

# A poll that starts right at the deadline still gets this long to answer before the search
# times out; the request itself is also bounded by the client's own timeouts.
_LAST_POLL_GRACE = 5.0

_ERRORS: dict[FailKind, type[SearchJobError]] = {
    FailKind.FAILED: SearchJobFailed,
    FailKind.CANCELED: SearchJobCanceled,
    FailKind.TIMEOUT: SearchJobTimeout,
    FailKind.EXPIRED: SearchJobExpired,
    FailKind.SHORT_PAGE: SearchJobError,
}


@attrs.define
class SearchStats:
    """Counters of one streaming search (read them any time; they only grow)."""

    polls: int = 0
    pages_requested: int = 0
    pages_received: int = 0
    pages_delivered: int = 0
    page_retries: int = 0
    #: Most pages ever requested but not yet taken by the consumer (never above concurrency).
    max_pages_ahead: int = 0
    #: The poll wait in force when the job was seen done (0 if it was done at once).
    last_poll_delay: float = 0.0
    #: Loop times (anyio.current_time()) when status 2 was seen and the first event went out.
    job_done_at: float | None = None
    first_event_at: float | None = None


class _Slot:
    """One page on its way to the consumer (or an error in its place)."""

    __slots__ = ("error", "holds_token", "items", "ready", "request")

    def __init__(self, request: PageRequest | None) -> None:
        self.request = request
        self.ready = anyio.Event()
        self.items: list[Event] = []
        self.error: BaseException | None = None
        self.holds_token = False


class SearchResults:
    """The results of ``client.events.search()`` / ``resume()``: enter it, then iterate.

    ``async for event in results`` yields plain event dicts (newest first, each once);
    ``results.pages()`` yields one list per page. ``job`` is the last job object seen,
    ``total`` the job's total once it is done, ``checkpoint()`` a JSON token for
    ``client.events.resume()``, ``stats`` counters.
    """

    def __init__(
        self, resource: EventsResource, machine: SearchMachine, *, concurrency: int
    ) -> None:
        self._resource = resource
        self._machine = machine
        self._concurrency = concurrency
        self.job: SearchJob | None = None
        self.stats = SearchStats()
        self._state = "new"
        self._tg: TaskGroup | None = None
        self._send: MemoryObjectSendStream[_Slot] | None = None
        self._recv: MemoryObjectReceiveStream[_Slot] | None = None
        self._limiter: anyio.CapacityLimiter | None = None
        self._page: list[Event] = []
        self._index = 0
        self._page_offset = machine.start_offset
        self._finished = False

    def __repr__(self) -> str:
        m = self._machine
        return (
            f"<SearchResults {self._state} job={m.job_uuid} phase={m.phase.value} "
            f"total={self.total} delivered={self._delivered()}>"
        )

    # -- public surface ----------------------------------------------------------------------

    @property
    def total(self) -> int | None:
        """The job's total number of events, once the job is done (else None)."""
        return self._machine.total if self._machine.end is not None else None

    @property
    def concurrency(self) -> int:
        return self._concurrency

    def checkpoint(self) -> dict[str, Any]:
        """A JSON-serialisable token: resume() from it yields exactly the events not yet yielded."""
        return encode_token(self._machine.checkpoint(self._delivered()))

    def __aiter__(self) -> AsyncIterator[Event]:
        return _Events(self)

    def pages(self) -> AsyncIterator[list[Event]]:
        """Iterate page by page (lists of event dicts) with the same guarantees as events."""
        return _Pages(self)

    async def __aenter__(self) -> SearchResults:
        if self._state != "new":
            raise RuntimeError(
                "a search can be entered once; call client.events.search() again, "
                "or client.events.resume(results.checkpoint())"
            )
        self._limiter = anyio.CapacityLimiter(self._concurrency)
        self._send, self._recv = anyio.create_memory_object_stream[_Slot](self._concurrency)
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._tg = tg
        self._state = "open"
        tg.start_soon(self._run, name="sekoia_async search job")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        assert self._tg is not None
        assert self._send is not None
        assert self._recv is not None
        tg, self._state, self._finished = self._tg, "closed", True
        tg.cancel_scope.cancel()
        try:
            if exc is None or isinstance(exc, anyio.get_cancelled_exc_class()):
                return await tg.__aexit__(exc_type, exc, tb)
            # Not handed to the task group, which would wrap it in an ExceptionGroup: the
            # caller's own exception propagates unchanged.
            await tg.__aexit__(None, None, None)
            return None
        finally:
            self._recv.close()
            self._send.close()

    # -- driver ------------------------------------------------------------------------------

    async def _run(self) -> None:
        assert self._send is not None
        send = self._send
        try:
            with send:
                try:
                    await self._drive_job()
                    await self._produce(send)
                except Exception as exc:
                    failed = _Slot(None)
                    failed.error = exc
                    failed.ready.set()
                    await send.send(failed)
        except (anyio.BrokenResourceError, anyio.ClosedResourceError):
            pass  # the consumer left: nothing to deliver to

    def _error(self, action: Fail) -> SearchJobError:
        return _ERRORS[action.kind](action.message, job_uuid=self._machine.job_uuid)

    async def _drive_job(self) -> None:
        m = self._machine
        action = m.start(anyio.current_time())
        while True:
            if isinstance(action, StartPaging):
                self.stats.job_done_at = anyio.current_time()
                if m.total_changed:
                    logger.warning(
                        "re-created search job %s has %d events where the checkpoint's job had "
                        "%s; the events skipped on resume are positional (see the README)",
                        m.job_uuid,
                        action.total,
                        m.expected_total,
                    )
                return
            if isinstance(action, Fail):
                raise self._error(action)
            if isinstance(action, CreateJob):
                job = await self._resource._create_job(m.spec.job_body())
                self.job = job
                action = m.job_created(
                    job.uuid, int(job.status), job.total, anyio.current_time(), job.message
                )
                continue
            if action.delay > 0:
                self.stats.last_poll_delay = action.delay
                await anyio.sleep(action.delay)
            assert m.job_uuid is not None
            assert m.deadline is not None
            deadline = max(m.deadline, anyio.current_time() + _LAST_POLL_GRACE)
            polled: SearchJob | None = None
            with anyio.CancelScope(deadline=deadline):
                try:
                    polled = await self._resource.get_search_job(m.job_uuid)
                except NotFoundError:
                    action = m.job_missing(anyio.current_time())
                    continue
            if polled is None:
                action = m.deadline_passed(anyio.current_time())
                continue
            self.job = polled
            self.stats.polls += 1
            action = m.job_observed(
                int(polled.status),
                polled.total,
                polled.expired,
                anyio.current_time(),
                polled.message,
            )

    async def _produce(self, send: MemoryObjectSendStream[_Slot]) -> None:
        assert self._tg is not None
        assert self._limiter is not None
        m, stats, limiter = self._machine, self.stats, self._limiter
        while (request := m.next_page()) is not None:
            slot = _Slot(request)
            await limiter.acquire_on_behalf_of(slot)
            slot.holds_token = True
            stats.pages_requested += 1
            ahead = stats.pages_requested - stats.pages_delivered
            if ahead > stats.max_pages_ahead:
                stats.max_pages_ahead = ahead
            self._tg.start_soon(self._fetch, slot, name="sekoia_async search page")
            # Never blocks: every buffered slot holds one of the ``concurrency`` tokens.
            await send.send(slot)

    async def _fetch(self, slot: _Slot) -> None:
        m, request = self._machine, slot.request
        assert request is not None
        assert m.job_uuid is not None
        attempt = 0
        try:
            while True:
                page = await self._resource.get_search_job_events(
                    m.job_uuid, limit=request.limit, offset=request.offset
                )
                verdict = m.page_received(request, len(page.items), attempt)
                if isinstance(verdict, PageAccepted):
                    items = page.items
                    slot.items = items if len(items) == verdict.keep else items[: verdict.keep]
                    self.stats.pages_received += 1
                    return
                if isinstance(verdict, PageRetry):
                    self.stats.page_retries += 1
                    attempt += 1
                    await anyio.sleep(verdict.delay)
                    continue
                slot.error = self._error(verdict)
                return
        except NotFoundError:
            slot.error = self._error(m.results_gone())
        except Exception as exc:
            slot.error = exc
        finally:
            slot.ready.set()

    # -- consumer side -----------------------------------------------------------------------

    def _delivered(self) -> int:
        return self._page_offset + self._index

    async def _next_page(self) -> list[Event] | None:
        if self._recv is None or self._state == "new":
            raise RuntimeError(
                "enter the search first: async with client.events.search(...) as results"
            )
        if self._finished:
            return None
        try:
            slot = await self._recv.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._finished = True
            self._page = []  # the last page is not kept alive by a finished search
            return None
        await slot.ready.wait()
        if slot.holds_token:
            assert self._limiter is not None
            self._limiter.release_on_behalf_of(slot)
            slot.holds_token = False
        if slot.error is not None:
            self._finished = True
            error = slot.error
            if isinstance(error, SearchJobError):
                error.continuation_token = self._error_token(error)
            raise error
        assert slot.request is not None
        self.stats.pages_delivered += 1
        self._page_offset = slot.request.offset
        self._index = 0
        self._page = slot.items
        return slot.items

    def _error_token(self, error: SearchJobError) -> dict[str, Any]:
        checkpoint = self._machine.checkpoint(self._delivered())
        if isinstance(error, (SearchJobFailed, SearchJobCanceled)):
            # That job will never give results: resuming must create a new one.
            checkpoint = attrs.evolve(checkpoint, job_uuid=None, total=None)
        return encode_token(checkpoint)


class _Events:
    """``async for event in results`` (a plain iterator: nothing is left to the GC to close)."""

    __slots__ = ("_r",)

    def __init__(self, results: SearchResults) -> None:
        self._r = results

    def __aiter__(self) -> _Events:
        return self

    async def __anext__(self) -> Event:
        r = self._r
        index = r._index
        page = r._page
        if index < len(page):
            r._index = index + 1
            return page[index]
        page_or_none = await r._next_page()
        if not page_or_none:
            raise StopAsyncIteration
        r._index = 1
        if r.stats.first_event_at is None:
            r.stats.first_event_at = anyio.current_time()
        return page_or_none[0]


class _Pages:
    """``async for page in results.pages()``."""

    __slots__ = ("_r",)

    def __init__(self, results: SearchResults) -> None:
        self._r = results

    def __aiter__(self) -> _Pages:
        return self

    async def __anext__(self) -> list[Event]:
        r = self._r
        if r._index < len(r._page):
            # Events iteration stopped mid-page: hand out the rest of that page first.
            rest = r._page[r._index :]
            r._index = len(r._page)
            return rest
        page = await r._next_page()
        if not page:
            raise StopAsyncIteration
        r._index = len(page)
        if r.stats.first_event_at is None:
            r.stats.first_event_at = anyio.current_time()
        return page
