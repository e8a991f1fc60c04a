"""The streaming event search against the emulator, most tests with faults on.

No test sleeps to wait for something: progress is observed through anyio Events, the
emulator's virtual clock and its request counters, and ``wait_all_tasks_blocked``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import AsyncIterable, AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import pytest

from sekoia_async import (
    NotFoundError,
    PollPolicy,
    RetryPolicy,
    SearchJobCanceled,
    SearchJobExpired,
    SearchJobFailed,
    SearchJobStatus,
    SearchJobTimeout,
    SekoiaClient,
    SessionPool,
)
from sekoia_async.testing import Faults, SekoiaEmulator, VirtualClock

pytestmark = pytest.mark.anyio

N = 3000  # events: 30 pages of 100
FAST = PollPolicy(initial=0.002, cap=0.01, jitter=0.5, rng=random.Random(0))
RETRY = RetryPolicy(max_retries=8, backoff_base=0.001, backoff_max=0.005)


@asynccontextmanager
async def running(
    *, events: int = N, pool_limit: int = 100, **emu_kw: Any
) -> AsyncIterator[tuple[SekoiaEmulator, SekoiaClient]]:
    async with SekoiaEmulator(seed=1, **emu_kw) as emu:
        emu.generate_events(events)
        async with (
            SessionPool(limit=pool_limit, rate_limit=None) as pool,
            SekoiaClient(emu.api_key, base_url=emu.base_url, pool=pool, retry=RETRY) as client,
        ):
            yield emu, client


def ids(events: list[dict[str, Any]]) -> list[str]:
    return [e["__event_id"] for e in events]


def served_pages(emu: SekoiaEmulator) -> int:
    return sum(1 for r in emu.stats.log if r.endpoint == "events.page" and r.status == 200)


def search_tasks() -> list[str]:
    names = [t.get_name() for t in asyncio.all_tasks() if not t.done()]
    return [n for n in names if n.startswith("sekoia_async search")]


async def drain(results: AsyncIterable[dict[str, Any]], into: list[dict[str, Any]]) -> None:
    async for event in results:
        into.append(event)


class CountingRandom(random.Random):
    """A seeded RNG that sets ``reached`` once it was drawn ``n`` times (one draw per poll)."""

    def __init__(self, n: int) -> None:
        super().__init__(0)
        self.n = n
        self.draws = 0
        self.reached = anyio.Event()

    def random(self) -> float:
        self.draws += 1
        if self.draws >= self.n:
            self.reached.set()
        return super().random()


# -- completeness and order -------------------------------------------------------------------


async def test_every_event_once_in_server_order_despite_429_5xx_and_resets() -> None:
    faults = Faults(
        error_rate=0.2,
        error_statuses=(429, 500, 502, 503),
        reset_rate=0.03,
        endpoints={"events.page", "events.jobs.get"},
        latency_ms=1,
        jitter_ms=1,
        seed=7,
    )
    async with running(faults=faults, job_run_time=0.02) as (emu, client):
        async with client.events.search("", page_size=100, concurrency=4, poll=FAST) as results:
            got = [e async for e in results]
        expected = emu.expected_event_ids()
        assert len(expected) == N
        assert ids(got) == expected  # server order (newest first), each exactly once
        assert results.total == N
        assert results.job is not None
        assert results.job.status is SearchJobStatus.DONE
        assert served_pages(emu) == 30  # each page served once, nothing past total
        assert client.stats.retries > 0
        assert emu.stats.by_status[429] > 0
        assert emu.stats.by_status[503] + emu.stats.by_status[500] > 0
        assert results.stats.pages_delivered == 30


async def test_pages_max_events_and_window_as_absolute_times() -> None:
    async with running() as (emu, client):
        async with client.events.search(
            "", "-30d", "now", page_size=100, max_events=250, poll=FAST
        ) as results:
            pages = [page async for page in results.pages()]
        assert [len(p) for p in pages] == [100, 100, 50]
        assert ids([e for p in pages for e in p]) == emu.expected_event_ids()[:250]
        job = results.job
        assert job is not None
        assert job.max_last_events == 250  # max_events is sent as max_last_events
        # The window went out resolved, so a re-created job covers the same instants.
        assert job.earliest_time is not None
        assert job.earliest_time[:4].isdigit()
        token = results.checkpoint()
        assert token["window"]["earliest"] == "-30d"
        assert token["window"]["earliest_resolved"] == job.earliest_time


async def test_query_is_passed_to_the_job() -> None:
    async with running() as (emu, client):
        term = 'event.dialect:"windows"'
        expected = emu.expected_event_ids(term)
        assert 0 < len(expected) < N
        async with client.events.search(term, page_size=37, concurrency=3, poll=FAST) as results:
            got = [e async for e in results]
        assert ids(got) == expected


async def test_empty_result() -> None:
    async with running(events=0) as (_, client):
        async with client.events.search("", poll=FAST) as results:
            got = [e async for e in results]
        assert got == []
        assert results.total == 0


# -- leaving early ----------------------------------------------------------------------------


async def test_early_break_releases_connections_and_tasks() -> None:
    # A pool of 2 connections: a leaked connection would make the second search hang.
    faults = Faults(latency_ms=5, endpoints={"events.page"})
    async with running(pool_limit=2, faults=faults) as (_, client):
        async with client.events.search("", page_size=100, concurrency=2, poll=FAST) as results:
            n = 0
            async for _ in results:
                n += 1
                if n == 150:
                    break
            token = results.checkpoint()
        assert token["offset"] == 150
        assert search_tasks() == []
        with anyio.fail_after(20):
            async with client.events.search("", page_size=1000, poll=FAST) as again:
                assert len([e async for e in again]) == N
        assert search_tasks() == []


async def test_exception_in_the_loop_propagates_unchanged() -> None:
    async def failing_consumer(client: SekoiaClient) -> None:
        async with client.events.search("", page_size=100, poll=FAST) as results:
            async for event in results:
                if event:
                    raise KeyError("boom")

    async with running() as (_, client):
        # A plain KeyError, not wrapped in an ExceptionGroup by the search's task group.
        with pytest.raises(KeyError, match="boom"):
            await failing_consumer(client)
        assert search_tasks() == []


async def test_cancellation_while_polling() -> None:
    clock = VirtualClock()  # frozen: the job never leaves status 0 on its own
    async with running(job_run_time=60, clock=clock) as (emu, client):
        rng = CountingRandom(3)
        poll = PollPolicy(initial=0.001, cap=0.002, rng=rng)
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:

                async def consume() -> None:
                    async with client.events.search("", poll=poll) as results:
                        async for _ in results:
                            pytest.fail("the job never finished, no event can come")

                tg.start_soon(consume)
                await rng.reached.wait()
                tg.cancel_scope.cancel()
        assert emu.stats.by_endpoint["events.jobs.get"] >= 2
        assert emu.stats.by_endpoint["events.page"] == 0
        assert search_tasks() == []


async def test_cancellation_while_paging_stops_fetching() -> None:
    faults = Faults(latency_ms=10, endpoints={"events.page"})
    async with running(pool_limit=4, faults=faults) as (emu, client):
        with anyio.fail_after(10), anyio.CancelScope() as scope:
            async with client.events.search("", page_size=100, concurrency=4, poll=FAST) as results:
                async for _ in results.pages():
                    if results.stats.pages_delivered == 2:
                        scope.cancel()
        assert scope.cancelled_caught
        assert search_tasks() == []
        requested = emu.stats.by_endpoint["events.page"]
        assert requested <= 2 + 4  # the two consumed pages plus at most the window
        with anyio.fail_after(20):
            async with client.events.search("", page_size=1000, poll=FAST) as again:
                assert len([e async for e in again]) == N


# -- job outcomes -----------------------------------------------------------------------------


async def test_failed_job_raises_with_the_server_message() -> None:
    async with running() as (emu, client):
        async with client.events.search('source.ip:"1.2', poll=FAST) as results:
            with pytest.raises(SearchJobFailed, match="Invalid query") as info:
                await drain(results, [])
        error = info.value
        assert error.job_uuid is not None
        token = error.continuation_token
        assert token is not None
        assert token["job_uuid"] is None  # resuming must create a new job
        assert emu.stats.by_endpoint["events.page"] == 0


async def test_canceled_job_raises() -> None:
    async with running(faults=Faults(job_cancel_rate=1.0)) as (_, client):
        async with client.events.search("", poll=FAST) as results:
            with pytest.raises(SearchJobCanceled, match="canceled") as info:
                await drain(results, [])
        assert info.value.job_uuid is not None
        assert info.value.continuation_token is not None


async def test_job_timeout_then_resume_polls_the_same_job() -> None:
    clock = VirtualClock()
    async with running(job_run_time=10, clock=clock) as (emu, client):
        async with client.events.search(
            "", poll=FAST, start_timeout=0.05, run_timeout=0.05
        ) as results:
            with pytest.raises(SearchJobTimeout, match="did not start within") as info:
                await drain(results, [])
        token = info.value.continuation_token
        assert token is not None
        assert token["job_uuid"] == info.value.job_uuid
        clock.advance(11)  # the job finishes on the emulator
        async with client.events.resume(token, poll=FAST) as resumed:
            got = [e async for e in resumed]
        assert ids(got) == emu.expected_event_ids()
        assert emu.stats.by_endpoint["events.jobs.create"] == 1


# -- resume -----------------------------------------------------------------------------------


async def test_resume_from_a_mid_stream_token_yields_exactly_the_rest() -> None:
    faults = Faults(error_rate=0.1, error_statuses=(503,), endpoints={"events.page"}, seed=3)
    async with running(faults=faults) as (emu, client):
        got: list[dict[str, Any]] = []
        async with client.events.search("", page_size=100, concurrency=3, poll=FAST) as results:
            async for event in results:
                got.append(event)
                if len(got) == 1234:  # mid-page
                    token = results.checkpoint()
                    break
        text = json.dumps(token)  # tokens are plain JSON
        async with client.events.resume(text, concurrency=2, poll=FAST) as rest:
            remainder = [e async for e in rest]
        expected = emu.expected_event_ids()
        assert ids(got) == expected[:1234]
        assert ids(remainder) == expected[1234:]
        assert emu.stats.by_endpoint["events.jobs.create"] == 1  # the job was still alive
        assert rest.checkpoint()["offset"] == N


async def test_expiry_mid_read_then_resume_recreates_the_job() -> None:
    async with running(faults=Faults(expire_after_reads=5)) as (emu, client):
        got: list[dict[str, Any]] = []
        async with client.events.search("", page_size=100, concurrency=3, poll=FAST) as results:
            with pytest.raises(SearchJobExpired, match="expired while being read") as info:
                await drain(results, got)
        expected = emu.expected_event_ids()
        assert ids(got) == expected[:500]  # the five pages read before expiry, in order
        token = info.value.continuation_token
        assert token is not None
        assert token["offset"] == 500
        emu.faults = Faults()
        async with client.events.resume(token, poll=FAST) as rest:
            remainder = [e async for e in rest]
        assert ids(got + remainder) == expected  # no gap, no duplicate
        assert emu.stats.by_endpoint["events.jobs.create"] == 2


async def test_resume_after_the_window_changed_is_positional_and_warns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with running(faults=Faults(expire_after_reads=5)) as (emu, client):
        got: list[dict[str, Any]] = []
        async with client.events.search("", "-30d", "-1m", page_size=100, poll=FAST) as results:
            with pytest.raises(SearchJobExpired) as info:
                await drain(results, got)
        before = emu.expected_event_ids("", "-30d", "-1m")
        # A late event lands inside the (resolved) window, newer than the resume point.
        late = (datetime.now(timezone.utc) - timedelta(minutes=2)).isoformat()
        emu.add_events([{"__event_id": "late-arrival", "timestamp": late, "message": "late"}])
        emu.faults = Faults()
        token = info.value.continuation_token
        assert token is not None
        with caplog.at_level(logging.WARNING, logger="sekoia_async.search"):
            async with client.events.resume(token, poll=FAST) as rest:
                remainder = [e async for e in rest]
        n = len(before)
        assert f"{n + 1} events where the checkpoint's job had {n}" in caplog.text
        # Skipping is by position: the late event shifted everything by one, so the resume
        # point's last delivered event comes again and the late event (before it) is not seen.
        seen = ids(got + remainder)
        assert len(seen) == n + 1
        assert len(set(seen)) == n
        assert "late-arrival" not in seen
        assert set(seen) == set(before)


async def test_resume_with_a_bad_token_fails_before_any_request() -> None:
    async with running() as (emu, client):
        async with client.events.search("", page_size=100, poll=FAST) as results:
            token = results.checkpoint()
        token["offset"] = 5
        with pytest.raises(ValueError, match="digest"):
            client.events.resume(token)
        with pytest.raises(ValueError, match="not JSON"):
            client.events.resume("{")
        assert emu.stats.by_endpoint["events.page"] == 0


# -- backpressure -----------------------------------------------------------------------------


async def test_slow_consumer_stops_the_fetching() -> None:
    concurrency = 3
    async with running() as (emu, client):
        async with client.events.search(
            "", page_size=100, concurrency=concurrency, poll=FAST
        ) as results:
            consumed = 0
            window_filled = 0
            async for _page in results.pages():
                consumed += 1
                # Give the prefetcher every chance to run ahead of this slow consumer.
                for _ in range(300):
                    await anyio.wait_all_tasks_blocked()
                    ahead = served_pages(emu) - consumed
                    assert ahead <= concurrency
                    if ahead == concurrency or served_pages(emu) == 30:
                        window_filled += 1
                        break
        assert consumed == 30
        assert served_pages(emu) == 30
        assert window_filled > 20  # it did prefetch: the window was full most of the time
        assert results.stats.max_pages_ahead == concurrency


# -- low level and validation -----------------------------------------------------------------


async def test_low_level_job_calls() -> None:
    async with running() as (emu, client):
        job = await client.events.create_search_job("", "-30d", "now", term_lang="dork")
        assert job.status is SearchJobStatus.NOT_STARTED
        assert job.earliest_time == "-30d"  # the low-level call sends times as given
        job = await client.events.get_search_job(job.uuid)  # job_run_time=0: done at once
        assert job.status is SearchJobStatus.DONE
        assert job.total == N
        page = await client.events.get_search_job_events(job.uuid, limit=5, offset=10)
        assert ids(page.items) == emu.expected_event_ids()[10:15]
        assert page.total == N
        with pytest.raises(NotFoundError):
            await client.events.get_search_job("00000000-0000-0000-0000-000000000000")
        with pytest.raises(ValueError, match="limit"):
            await client.events.get_search_job_events(job.uuid, limit=1001)
        with pytest.raises(ValueError, match="offset"):
            await client.events.get_search_job_events(job.uuid, offset=-1)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"page_size": 0}, ValueError, "page_size"),
        ({"page_size": 1001}, ValueError, "page_size"),
        ({"concurrency": 0}, ValueError, "concurrency"),
        ({"max_events": 0}, ValueError, "max_events"),
        ({"earliest": "last tuesday"}, ValueError, "invalid time"),
        ({"earliest": "now", "latest": "-1d"}, ValueError, "swap"),
        ({"start_timeout": 0}, ValueError, "start_timeout"),
        ({"term_lnag": "dork"}, TypeError, "term_lnag"),
    ],
)
async def test_bad_arguments_fail_before_any_request(
    kwargs: dict[str, Any], error: type[Exception], match: str
) -> None:
    async with running(events=0) as (emu, client):
        args: dict[str, Any] = {"term": ""}
        args.update(kwargs)
        with pytest.raises(error, match=match):
            client.events.search(**args)
        with pytest.raises(ValueError, match="invalid time"):
            await client.events.create_search_job("", "yesterday", "now")
        assert emu.stats.requests == 0


async def test_results_must_be_entered_once() -> None:
    async with running(events=10) as (_, client):
        results = client.events.search("", poll=FAST)
        with pytest.raises(RuntimeError, match="enter the search first"):
            await drain(results, [])
        async with results:
            assert len([e async for e in results]) == 10
        with pytest.raises(RuntimeError, match="entered once"):
            async with results:
                pass
