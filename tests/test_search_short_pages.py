"""Short and empty pages before ``total``: retried, then a clear error; never a loop or a skip.

The emulator never serves a short page, so these tests use a minimal search API of their own
(a real aiohttp server on 127.0.0.1) whose pages can be told to come back short.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import pytest
from _local_app import serve
from aiohttp import web

from sekoia_async import PollPolicy, SearchJobError, SekoiaClient, SessionPool

pytestmark = pytest.mark.anyio

FAST = PollPolicy(initial=0.001, cap=0.002, jitter=0)
_JOBS = "/v1/sic/conf/events/search/jobs"
JOB = "3f2c1b0a-9e8d-4c7b-a6f5-e4d3c2b1a098"


class ShortPages:
    """A search API over ``n`` events whose page at an offset can be short a number of times."""

    def __init__(self, n: int) -> None:
        self.events = [{"__event_id": f"e{i:05d}", "timestamp": "t"} for i in range(n)]
        self.short: dict[int, tuple[int, int]] = {}  # offset -> (times left, items served)
        self.page_requests: list[int] = []

    def make_short(self, offset: int, *, times: int, served: int) -> None:
        self.short[offset] = (times, served)

    async def create(self, request: web.Request) -> web.Response:
        return web.json_response({"uuid": JOB, "status": 2, "total": len(self.events)})

    async def page(self, request: web.Request) -> web.Response:
        limit, offset = int(request.query["limit"]), int(request.query["offset"])
        self.page_requests.append(offset)
        items = self.events[offset : offset + limit]
        times, served = self.short.get(offset, (0, 0))
        if times > 0:
            self.short[offset] = (times - 1, served)
            items = items[:served]
        return web.json_response({"items": items, "total": len(self.events)})


@pytest.fixture
async def api() -> AsyncIterator[tuple[ShortPages, str]]:
    fake = ShortPages(1000)
    app = web.Application()
    app.router.add_post(_JOBS, fake.create)
    app.router.add_get(_JOBS + "/{uuid}/events", fake.page)
    async with serve(app) as base_url:
        yield fake, base_url


@pytest.fixture
async def client(api: tuple[ShortPages, str]) -> AsyncIterator[SekoiaClient]:
    async with (
        SessionPool(rate_limit=None) as pool,
        SekoiaClient("test-key", base_url=api[1], pool=pool) as c,
    ):
        yield c


async def drain(results: AsyncIterable[dict[str, Any]], into: list[dict[str, Any]]) -> None:
    async for event in results:
        into.append(event)


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["__event_id"] for e in events]


@pytest.mark.parametrize("served", [0, 40])
async def test_short_or_empty_page_is_retried_and_stream_stays_complete(
    api: tuple[ShortPages, str], client: SekoiaClient, served: int
) -> None:
    fake, _ = api
    fake.make_short(300, times=2, served=served)
    async with client.events.search("", page_size=100, concurrency=3, poll=FAST) as results:
        got = [e async for e in results]
    assert ids(got) == ids(fake.events)
    assert results.stats.page_retries == 2
    assert fake.page_requests.count(300) == 3


async def test_persistently_short_page_raises_after_the_events_before_it(
    api: tuple[ShortPages, str], client: SekoiaClient
) -> None:
    fake, _ = api
    fake.make_short(500, times=100, served=10)
    got: list[dict[str, Any]] = []
    async with client.events.search("", page_size=100, concurrency=4, poll=FAST) as results:
        with pytest.raises(SearchJobError, match="returned 10 events at offset 500") as info:
            await drain(results, got)
    # Everything before the bad page was delivered, in order; nothing after it; no skip.
    assert ids(got) == ids(fake.events[:500])
    assert fake.page_requests.count(500) == 4  # first try + 3 retries, then it gave up
    token = info.value.continuation_token
    assert token is not None
    assert token["offset"] == 500
    assert info.value.job_uuid == JOB
    # Resuming once the server is healthy again yields exactly the rest (this API has no GET
    # of the job, so the 404 also exercises re-creation).
    fake.short.clear()
    async with client.events.resume(token, poll=FAST) as rest:
        remainder = [e async for e in rest]
    assert ids(got + remainder) == ids(fake.events)


async def test_max_events_bounds_requests_even_if_the_server_ignores_it(
    api: tuple[ShortPages, str], client: SekoiaClient
) -> None:
    fake, _ = api
    async with client.events.search(
        "", page_size=100, max_events=250, concurrency=2, poll=FAST
    ) as results:
        got = [e async for e in results]
    assert ids(got) == ids(fake.events[:250])
    assert sorted(fake.page_requests) == [0, 100, 200]
