"""AsyncPager and its pure planner.

The planner is tested without an event loop. The pager is driven by in-process page fetchers
(the fetcher is the pager's seam, as a resource passes its own); end-to-end paging over HTTP
with faults is in the resource tests against the emulator.
"""

from __future__ import annotations

from collections.abc import Sequence

import anyio
import pytest

from sekoia_async._helpers._page_plan import PagePlanner
from sekoia_async._helpers.pagination import AsyncPager, Page
from sekoia_async.errors import NotFoundError

# --- the planner, no event loop ---------------------------------------------------------------


def test_planner_reads_first_page_alone_then_windows_of_pages() -> None:
    plan = PagePlanner(page_size=10, window=3)
    assert plan.next_batch() == [0]
    assert plan.record(0, 10, total=55, has_more=None) == 10
    assert plan.next_batch() == [10, 20, 30]
    for offset in (10, 20, 30):
        assert plan.record(offset, 10, total=55, has_more=None) == 10
    assert plan.next_batch() == [40, 50]
    assert plan.record(40, 10, 55, None) == 10
    assert plan.record(50, 5, 55, None) == 5
    assert plan.done
    assert plan.next_batch() == []


def test_planner_without_total_is_sequential_until_a_short_page() -> None:
    plan = PagePlanner(page_size=10, window=4)
    batches = []
    for count in (10, 10, 3):
        batch = plan.next_batch()
        batches.append(batch)
        plan.record(batch[0], count, total=None, has_more=None)
    assert batches == [[0], [10], [20]]
    assert plan.next_batch() == []


def test_planner_stops_on_has_more_false_even_after_a_full_page() -> None:
    plan = PagePlanner(page_size=10)
    plan.next_batch()
    plan.record(0, 10, total=None, has_more=False)
    assert plan.next_batch() == []


def test_planner_treats_total_as_a_lower_bound_while_has_more_is_true() -> None:
    # A capped count: total 20 but the server says there is more.
    plan = PagePlanner(page_size=10, window=4)
    assert plan.next_batch() == [0]
    plan.record(0, 10, total=20, has_more=True)
    assert plan.next_batch() == [10]
    plan.record(10, 10, total=20, has_more=True)
    assert plan.next_batch() == [20]
    plan.record(20, 4, total=20, has_more=False)
    assert plan.next_batch() == []


def test_planner_max_items_shrinks_the_limit_and_truncates() -> None:
    plan = PagePlanner(page_size=100, max_items=7)
    assert plan.limit == 7
    plan = PagePlanner(page_size=10, window=8, max_items=25)
    assert plan.limit == 10
    plan.next_batch()
    assert plan.record(0, 10, total=1000, has_more=None) == 10
    assert plan.next_batch() == [10, 20]
    assert plan.record(10, 10, 1000, None) == 10
    assert plan.record(20, 10, 1000, None) == 5
    assert plan.done


def test_planner_max_items_zero_fetches_nothing() -> None:
    plan = PagePlanner(page_size=10, max_items=0)
    assert plan.next_batch() == []


def test_planner_ignores_pages_after_a_short_one_in_a_batch() -> None:
    # The data shrank between the first page and the batch: later pages are empty anyway and
    # must not be delivered.
    plan = PagePlanner(page_size=10, window=3)
    plan.next_batch()
    plan.record(0, 10, total=40, has_more=None)
    assert plan.next_batch() == [10, 20, 30]
    assert plan.record(10, 4, 14, None) == 4
    assert plan.record(20, 0, 14, None) == 0
    assert plan.done


@pytest.mark.parametrize(("size", "window"), [(0, 1), (1, 0)])
def test_planner_rejects_nonsense(size: int, window: int) -> None:
    with pytest.raises(ValueError, match="must be >= 1"):
        PagePlanner(page_size=size, window=window)


# --- the pager --------------------------------------------------------------------------------


class FakeEndpoint:
    """A list endpoint over ``range(n)``, with the envelope options Sekoia endpoints have."""

    def __init__(
        self, n: int, *, with_total: bool = True, with_has_more: bool = False, gate: bool = False
    ) -> None:
        self.n = n
        self.with_total = with_total
        self.with_has_more = with_has_more
        self.calls: list[tuple[int, int]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.started = 0
        self.finished = 0
        # When gated, every fetch waits for ``release`` so tests control interleavings.
        self.release = anyio.Event() if gate else None
        self.fail_at: int | None = None

    async def fetch(self, limit: int, offset: int) -> tuple[Sequence[int], int | None, bool | None]:
        self.calls.append((limit, offset))
        self.started += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.release is not None:
                await self.release.wait()
            else:
                # Let the other fetches of the batch start, so concurrency is observable.
                await anyio.lowlevel.checkpoint()
            if offset == self.fail_at:
                raise NotFoundError("gone", status=404)
            items = list(range(offset, min(offset + limit, self.n)))
            total = self.n if self.with_total else None
            has_more = offset + len(items) < self.n if self.with_has_more else None
            return items, total, has_more
        finally:
            self.in_flight -= 1
            self.finished += 1


@pytest.mark.anyio
@pytest.mark.parametrize("n", [0, 1, 99, 100, 101, 1234])
async def test_items_in_order_exactly_once(n: int) -> None:
    ep = FakeEndpoint(n)
    got = [x async for x in AsyncPager(ep.fetch, page_size=100, concurrency=4)]
    assert got == list(range(n))
    offsets = [o for _, o in ep.calls]
    assert len(offsets) == len(set(offsets)), "a page was fetched twice"


@pytest.mark.anyio
async def test_pages_after_the_first_are_fetched_concurrently_and_bounded() -> None:
    ep = FakeEndpoint(1000)
    pager = AsyncPager(ep.fetch, page_size=50, concurrency=4)
    pages = [p async for p in pager.pages()]
    assert [p.offset for p in pages] == list(range(0, 1000, 50))
    assert all(p.total == 1000 for p in pages)
    assert ep.max_in_flight == 4


@pytest.mark.anyio
async def test_has_more_only_endpoints_are_read_sequentially() -> None:
    ep = FakeEndpoint(250, with_total=False, with_has_more=True)
    got = [x async for x in AsyncPager(ep.fetch, page_size=100, concurrency=4)]
    assert got == list(range(250))
    assert ep.max_in_flight == 1
    assert [o for _, o in ep.calls] == [0, 100, 200]


@pytest.mark.anyio
async def test_endpoint_without_total_or_has_more_stops_on_short_page() -> None:
    ep = FakeEndpoint(200, with_total=False)
    got = [x async for x in AsyncPager(ep.fetch, page_size=100)]
    assert got == list(range(200))
    # Two full pages, then an empty one proves the end.
    assert [o for _, o in ep.calls] == [0, 100, 200]


@pytest.mark.anyio
async def test_max_items() -> None:
    ep = FakeEndpoint(1000)
    got = [x async for x in AsyncPager(ep.fetch, page_size=100, max_items=250)]
    assert got == list(range(250))
    assert [o for _, o in ep.calls] == [0, 100, 200]


@pytest.mark.anyio
async def test_first_page() -> None:
    ep = FakeEndpoint(42)
    page = await AsyncPager(ep.fetch, page_size=10).first_page()
    assert page == Page(items=tuple(range(10)), offset=0, total=42, has_more=None)
    assert ep.calls == [(10, 0)]


@pytest.mark.anyio
async def test_page_numbered_endpoint() -> None:
    ep = FakeEndpoint(95)
    seen_pages: list[int] = []

    async def fetch_page(limit: int, page: int) -> tuple[Sequence[int], int | None, bool | None]:
        seen_pages.append(page)
        return await ep.fetch(limit, (page - 1) * limit)

    pager = AsyncPager.page_numbered(fetch_page, page_size=10, concurrency=3)
    assert [x async for x in pager] == list(range(95))
    assert sorted(seen_pages) == list(range(1, 11))


def test_page_size_is_checked_before_any_request() -> None:
    ep = FakeEndpoint(10)
    with pytest.raises(ValueError, match=r"use 1\.\.100"):
        AsyncPager(ep.fetch, page_size=101, max_page_size=100)
    with pytest.raises(ValueError, match="positive integer"):
        AsyncPager(ep.fetch, page_size=0)
    with pytest.raises(ValueError, match="max_items"):
        AsyncPager(ep.fetch, page_size=10, max_items=-1)
    assert ep.calls == []


@pytest.mark.anyio
async def test_a_failing_page_raises_its_own_error_not_a_group() -> None:
    ep = FakeEndpoint(1000)
    ep.fail_at = 300
    got: list[int] = []

    async def consume() -> None:
        async for x in AsyncPager(ep.fetch, page_size=100, concurrency=4):
            got.append(x)

    with pytest.raises(NotFoundError):
        await consume()
    # Everything before the failed page was delivered in order, nothing after it.
    assert got == list(range(300))
    assert ep.in_flight == 0


@pytest.mark.anyio
async def test_breaking_out_leaves_no_task_running() -> None:
    ep = FakeEndpoint(10_000)
    async for x in AsyncPager(ep.fetch, page_size=100, concurrency=4):
        if x == 150:
            break
    # Every fetch that started has finished: nothing runs in the background.
    assert ep.in_flight == 0
    assert ep.started == ep.finished == 5  # page 0, then one batch of 4


@pytest.mark.anyio
async def test_cancelling_the_consumer_cancels_in_flight_fetches() -> None:
    ep = FakeEndpoint(10_000, gate=True)
    pager = AsyncPager(ep.fetch, page_size=100, concurrency=4)
    got: list[int] = []

    async def consume() -> None:
        async for x in pager:
            got.append(x)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        assert ep.release is not None
        # Let the first page through, then cancel while the batch of four is in flight.
        while ep.started < 1:
            await anyio.lowlevel.checkpoint()
        ep.release.set()
        ep.release = anyio.Event()
        while ep.in_flight < 4:
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    assert got == list(range(100))
    assert ep.in_flight == 0


@pytest.mark.anyio
async def test_closed_pager_refuses_to_iterate() -> None:
    ep = FakeEndpoint(10)
    async with AsyncPager(ep.fetch, page_size=5) as pager:
        assert [x async for x in pager] == list(range(10))
    with pytest.raises(RuntimeError, match="closed"):
        pager.__aiter__()


@pytest.mark.anyio
async def test_pager_can_be_iterated_again_from_the_start() -> None:
    ep = FakeEndpoint(30)
    pager = AsyncPager(ep.fetch, page_size=10)
    assert [x async for x in pager] == [x async for x in pager] == list(range(30))


# --- pipelining inside ``async with`` ----------------------------------------------------------


@pytest.mark.anyio
async def test_pipelined_items_in_order_exactly_once() -> None:
    ep = FakeEndpoint(1234)
    async with AsyncPager(ep.fetch, page_size=100, concurrency=4) as pager:
        got = [x async for x in pager]
    assert got == list(range(1234))
    offsets = [o for _, o in ep.calls]
    assert sorted(offsets) == list(range(0, 1300, 100))


@pytest.mark.anyio
async def test_pipelining_fetches_ahead_while_the_consumer_works_and_stays_bounded() -> None:
    ep = FakeEndpoint(10_000)
    async with AsyncPager(ep.fetch, page_size=10, concurrency=2) as pager:
        items = pager.__aiter__()
        assert await items.__anext__() == 0
        # The consumer holds item 0; the producer runs ahead on its own...
        with anyio.fail_after(5):
            while ep.finished < 5:
                await anyio.lowlevel.checkpoint()
        # ...but only up to the bounded buffer: page 0 (delivered), pages 1-2 buffered,
        # pages 3-4 fetched and waiting to be sent. Give it every chance to go further.
        for _ in range(100):
            await anyio.lowlevel.checkpoint()
        await anyio.wait_all_tasks_blocked()
        assert ep.started == ep.finished == 5
        assert [await items.__anext__() for _ in range(29)] == list(range(1, 30))
    # Leaving the block stopped the producer: nothing runs any more.
    assert ep.in_flight == 0
    assert ep.started == ep.finished


@pytest.mark.anyio
async def test_pipelined_break_stops_the_producer_on_exit() -> None:
    ep = FakeEndpoint(10_000)
    async with AsyncPager(ep.fetch, page_size=100, concurrency=4) as pager:
        async for x in pager:
            if x == 250:
                break
    assert ep.in_flight == 0
    assert ep.started == ep.finished
    with pytest.raises(RuntimeError, match="closed"):
        pager.__aiter__()


@pytest.mark.anyio
async def test_pipelined_error_is_raised_bare_after_the_pages_before_it() -> None:
    ep = FakeEndpoint(1000)
    ep.fail_at = 500
    got: list[int] = []

    async def consume() -> None:
        async with AsyncPager(ep.fetch, page_size=100, concurrency=2) as pager:
            async for x in pager:
                got.append(x)

    with pytest.raises(NotFoundError):
        await consume()
    assert got == list(range(500))
    assert ep.in_flight == 0


@pytest.mark.anyio
async def test_pipelined_pages_and_the_body_error_propagates() -> None:
    ep = FakeEndpoint(300)

    async def body() -> None:
        async with AsyncPager(ep.fetch, page_size=100) as pager:
            assert [p.offset async for p in pager.pages()] == [0, 100, 200]
            raise KeyError("from the block")

    with pytest.raises(KeyError, match="from the block"):
        await body()


@pytest.mark.anyio
async def test_cancelling_a_pipelined_consumer_stops_everything() -> None:
    ep = FakeEndpoint(10_000, gate=True)
    got: list[int] = []

    async def consume() -> None:
        async with AsyncPager(ep.fetch, page_size=100, concurrency=4) as pager:
            async for x in pager:
                got.append(x)

    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        assert ep.release is not None
        while ep.started < 1:
            await anyio.lowlevel.checkpoint()
        ep.release.set()
        ep.release = anyio.Event()
        # The producer is blocked in the next batch's fetches when the consumer is cancelled.
        while ep.in_flight < 4:
            await anyio.lowlevel.checkpoint()
        tg.cancel_scope.cancel()
    assert got == list(range(100))
    assert ep.in_flight == 0
    assert ep.started == ep.finished
