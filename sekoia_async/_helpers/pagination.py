"""AsyncPager: auto-pagination over Sekoia's list endpoints, with concurrent page fetches.

Design (why it looks like this):

- Plain ``async for`` is driven by the consumer. Each ``__anext__`` that finds its buffer empty
  fetches the next *batch* of pages inside its own task group and leaves the task group before
  it returns. No task ever outlives an ``__anext__`` call, so breaking out of ``async for``,
  cancelling the consumer or dropping the pager leaks nothing and needs no cleanup; there is no
  async generator whose finalisation would be left to the garbage collector, and no task group
  held across a ``yield`` (which anyio forbids when the generator is closed from elsewhere).
- Inside ``async with pager:`` the pager also *pipelines*: a producer task, owned by the task
  group that the ``async with`` block opens and closes in the caller's task, fetches the next
  batch while the consumer works through the current one, and hands pages over a bounded memory
  object stream. Leaving the block cancels the producer and closes the streams, whatever
  happened inside. This is the mode for consumers that do slow work per item.
- The first page is fetched alone. Once a page has told the ``total``, the following pages are
  fetched ``concurrency`` at a time and delivered in offset order, each exactly once; at most
  ``concurrency`` pages (twice that when pipelining) are buffered. Endpoints that only say
  ``has_more`` (or nothing) are read one page at a time.
- A failed page raises its own error (e.g. ``NotFoundError``), never an ExceptionGroup, after
  the pages before it have been delivered; the other fetches of its batch are cancelled.
- Which pages to fetch is decided by a pure planner (``_page_plan.PagePlanner``).

``await pager.aclose()`` (also done by leaving ``async with``) makes the pager refuse further
iteration.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Generic, TypeVar

import anyio
import attrs
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._page_plan import PagePlanner

__all__ = ["AsyncPager", "CursorFetcher", "Page", "PageFetcher"]

T = TypeVar("T")

#: ``fetch(limit, offset) -> (items, total, has_more)``: one request for one page.
PageFetcher = Callable[[int, int], Awaitable[tuple[Sequence[T], int | None, bool | None]]]

#: ``fetch(limit, cursor) -> (items, next_cursor)``: one request for one page of a cursor
#: endpoint (``cursor`` is None for the first page; ``next_cursor`` None when the server sent none).
CursorFetcher = Callable[[int, str | None], Awaitable[tuple[Sequence[T], str | None]]]

DEFAULT_CONCURRENCY = 4


@attrs.frozen
class Page(Generic[T]):
    """One page of a list endpoint: its items, its offset, and what the server said about the
    rest (``total`` and ``has_more``, each None when the endpoint does not send it).

    On a cursor endpoint ``next_cursor`` is the server's cursor for the page after this one:
    store it to resume later from there (``cursor=``)."""

    items: tuple[T, ...]
    offset: int
    total: int | None = None
    has_more: bool | None = None
    next_cursor: str | None = None


class AsyncPager(Generic[T]):
    """Iterate over every item of a list endpoint: ``async for alert in client.alerts.list()``.

    ``pages()`` iterates page by page, ``await first_page()`` fetches only the first page.
    ``max_items`` caps the number of items; ``concurrency`` bounds the pages fetched at once.
    Inside ``async with pager:`` the next pages are fetched while the loop body runs.
    """

    def __init__(
        self,
        fetch: PageFetcher[T],
        *,
        page_size: int,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_page_size: int | None = None,
    ) -> None:
        if isinstance(page_size, bool) or not isinstance(page_size, int) or page_size < 1:
            raise ValueError(f"limit (page size) must be a positive integer, got {page_size!r}")
        if max_page_size is not None and page_size > max_page_size:
            raise ValueError(
                f"limit={page_size} is larger than this endpoint accepts: use 1..{max_page_size}"
            )
        if max_items is not None and (
            isinstance(max_items, bool) or not isinstance(max_items, int) or max_items < 0
        ):
            raise ValueError(f"max_items must be a non-negative integer or None, got {max_items!r}")
        if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
            raise ValueError(f"concurrency must be a positive integer, got {concurrency!r}")
        self._fetch = fetch
        # Cursor pagers need fresh per-iteration state (the cursors seen so far): a factory
        # called once per iteration; offset pagers reuse ``fetch``.
        self._fetch_factory: Callable[[], PageFetcher[T]] | None = None
        self.page_size = page_size
        self.max_items = max_items
        self.concurrency = concurrency
        self._closed = False
        # Set while inside ``async with``: the task group that owns pipelining producers.
        self._task_group: TaskGroup | None = None
        self._streams: list[MemoryObjectReceiveStream[Any]] = []
        # One scope per producer, so stopping them never cancels the caller's own code (the
        # task group's scope encloses the body of the ``async with`` block).
        self._producers: list[anyio.CancelScope] = []

    @classmethod
    def page_numbered(
        cls,
        fetch_page: PageFetcher[T],
        *,
        page_size: int,
        first_page: int = 1,
        max_items: int | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        max_page_size: int | None = None,
    ) -> AsyncPager[T]:
        """A pager over an endpoint paged by number: ``fetch_page(limit, page)``."""

        async def fetch(limit: int, offset: int) -> tuple[Sequence[T], int | None, bool | None]:
            # The planner keeps offsets aligned on the page size, so this division is exact.
            return await fetch_page(limit, offset // limit + first_page)

        return cls(
            fetch,
            page_size=page_size,
            max_items=max_items,
            concurrency=concurrency,
            max_page_size=max_page_size,
        )

    @classmethod
    def cursor(
        cls,
        fetch_cursor: CursorFetcher[T],
        *,
        page_size: int,
        cursor: str | None = None,
        max_items: int | None = None,
        max_page_size: int | None = None,
    ) -> AsyncPager[T]:
        """A pager over a cursor endpoint: ``fetch_cursor(limit, cursor) -> (items, next)``.

        Pages are read one at a time (each needs the previous page's cursor), starting at
        ``cursor``. Reading stops at an empty page, a short page or a page without a next
        cursor; each ``Page`` carries ``next_cursor`` so a consumer can resume from it.
        """
        pager = cls(
            _cursor_fetch(fetch_cursor, cursor),
            page_size=page_size,
            max_items=max_items,
            max_page_size=max_page_size,
        )
        pager._fetch_factory = lambda: _cursor_fetch(fetch_cursor, cursor)
        return pager

    def _new_fetch(self) -> PageFetcher[T]:
        return self._fetch if self._fetch_factory is None else self._fetch_factory()

    def _planner(self) -> PagePlanner:
        if self._closed:
            raise RuntimeError("this pager was closed; call the list method again for a new one")
        return PagePlanner(
            page_size=self.page_size, window=self.concurrency, max_items=self.max_items
        )

    def pages(self) -> AsyncIterator[Page[T]]:
        """Iterate page by page (pages fetched concurrently once the total is known)."""
        pages = _PageIterator(self._new_fetch(), self._planner())
        if self._task_group is None:
            return pages
        return self._pipelined(pages, self._task_group)

    def __aiter__(self) -> AsyncIterator[T]:
        return _ItemIterator(self.pages())

    def _pipelined(self, pages: _PageIterator[T], tg: TaskGroup) -> AsyncIterator[Page[T]]:
        send, receive = anyio.create_memory_object_stream[Any](self.concurrency)
        scope = anyio.CancelScope()
        self._streams.append(receive)
        self._producers.append(scope)
        tg.start_soon(_produce, pages, send, scope)
        return _StreamedPages(receive)

    async def first_page(self) -> Page[T]:
        """Only the first page (one request), e.g. to read ``total``."""
        planner = self._planner()
        offset = planner.next_batch()
        if not offset:
            return Page(items=(), offset=0)
        result: Any = await self._new_fetch()(planner.limit, 0)
        items, total, has_more, *rest = result
        keep = planner.record(0, len(items), total, has_more)
        return Page(
            items=tuple(items[:keep]),
            offset=0,
            total=total,
            has_more=has_more,
            next_cursor=rest[0] if rest else None,
        )

    async def aclose(self) -> None:
        """Refuse further iteration (and, inside ``async with``, stop prefetching)."""
        self._closed = True
        for scope in self._producers:
            scope.cancel()
        for stream in self._streams:
            stream.close()
        self._producers.clear()
        self._streams.clear()

    async def __aenter__(self) -> AsyncPager[T]:
        if self._task_group is not None:
            raise RuntimeError("this pager is already in an async with block")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        self._task_group = tg
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool | None:
        tg, self._task_group = self._task_group, None
        await self.aclose()
        if tg is None:
            return None
        if exc is None or isinstance(exc, anyio.get_cancelled_exc_class()):
            return await tg.__aexit__(exc_type, exc, tb)
        # The block raised: the producers are stopped and never raise themselves, so close the
        # task group without handing it the error, which would come out in an ExceptionGroup.
        await tg.__aexit__(None, None, None)
        return None

    def __repr__(self) -> str:
        return (
            f"AsyncPager(page_size={self.page_size}, max_items={self.max_items}, "
            f"concurrency={self.concurrency})"
        )


class _PageIterator(AsyncIterator[Page[T]]):
    """Delivers pages in order; refills its buffer one planned batch at a time."""

    def __init__(self, fetch: PageFetcher[T], planner: PagePlanner) -> None:
        self._fetch = fetch
        self._planner = planner
        self._ready: deque[Page[T]] = deque()
        self._error: BaseException | None = None

    async def __anext__(self) -> Page[T]:
        while not self._ready:
            if self._error is not None:
                error, self._error = self._error, None
                self._planner.done = True
                raise error
            batch = self._planner.next_batch()
            if not batch:
                raise StopAsyncIteration
            await self._fetch_batch(batch)
        return self._ready.popleft()

    async def _fetch_batch(self, offsets: list[int]) -> None:
        limit = self._planner.limit
        results: list[Any] = [None] * len(offsets)
        errors: list[BaseException | None] = [None] * len(offsets)
        if len(offsets) == 1:
            results[0] = await self._fetch(limit, offsets[0])
        else:
            async with anyio.create_task_group() as tg:

                async def one(i: int, offset: int) -> None:
                    try:
                        results[i] = await self._fetch(limit, offset)
                    except Exception as exc:
                        # Kept to be raised bare (not in an ExceptionGroup) after the pages
                        # before it; the pages after it are pointless now.
                        errors[i] = exc
                        tg.cancel_scope.cancel()

                for i, offset in enumerate(offsets):
                    tg.start_soon(one, i, offset)
        for i, offset in enumerate(offsets):
            if errors[i] is not None:
                self._error = errors[i]
                return
            if results[i] is None:
                # Cancelled because a later page failed first: stop before the gap.
                self._error = next(e for e in errors if e is not None)
                return
            # Cursor fetchers (``_cursor_fetch``) add the page's next cursor as a 4th element.
            items, total, has_more, *rest = results[i]
            keep = self._planner.record(offset, len(items), total, has_more)
            if keep or offset == 0:
                self._ready.append(
                    Page(
                        items=tuple(items[:keep]),
                        offset=offset,
                        total=total,
                        has_more=has_more,
                        next_cursor=rest[0] if rest else None,
                    )
                )


def _cursor_fetch(fetch_cursor: CursorFetcher[T], start: str | None) -> PageFetcher[T]:
    """An offset fetcher over a cursor endpoint, for one iteration.

    The planner reads a cursor endpoint one page at a time (no total is ever reported), so
    the page at ``offset + limit`` is always requested after the page at ``offset`` returned
    the cursor that leads to it.
    """
    cursors: dict[int, str | None] = {0: start}

    async def fetch(limit: int, offset: int) -> Any:
        if offset not in cursors:
            raise RuntimeError(f"no cursor for offset {offset}: cursor pages must be sequential")
        items, next_cursor = await fetch_cursor(limit, cursors[offset])
        cursors[offset + limit] = next_cursor
        # No next cursor means no next page (the server's "has_more").
        has_more = bool(items) and next_cursor is not None
        return items, None, has_more, next_cursor

    return fetch


@attrs.frozen
class _Failure:
    """An error of the producer, handed to the consumer to be raised there (bare)."""

    error: Exception


async def _produce(
    pages: _PageIterator[T], send: MemoryObjectSendStream[Any], scope: anyio.CancelScope
) -> None:
    with scope:
        await _produce_pages(pages, send)


async def _produce_pages(pages: _PageIterator[T], send: MemoryObjectSendStream[Any]) -> None:
    async with send:
        try:
            async for page in pages:
                await send.send(page)
        except anyio.BrokenResourceError:
            pass  # the consumer's stream was closed: nobody wants the rest
        except Exception as exc:
            # Not shielded: if the consumer is gone, leaving the block cancels this send.
            with contextlib.suppress(anyio.BrokenResourceError):
                await send.send(_Failure(exc))


class _StreamedPages(AsyncIterator[Page[T]]):
    """The consumer side of a pipelined iteration."""

    def __init__(self, receive: MemoryObjectReceiveStream[Any]) -> None:
        self._receive = receive

    async def __anext__(self) -> Page[T]:
        try:
            item = await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            self._receive.close()
            raise StopAsyncIteration from None
        if isinstance(item, _Failure):
            self._receive.close()
            raise item.error
        page: Page[T] = item
        return page


class _ItemIterator(AsyncIterator[T]):
    def __init__(self, pages: AsyncIterator[Page[T]]) -> None:
        self._pages = pages
        self._items: deque[T] = deque()

    async def __anext__(self) -> T:
        while not self._items:
            page = await self._pages.__anext__()
            self._items.extend(page.items)
        return self._items.popleft()
