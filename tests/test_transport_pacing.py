"""Rate limits hold on the wire: requests that queued for a pooled connection are paced again
at send time, a throttled request gives its slot back, and streams hold their slot."""

from __future__ import annotations

from typing import Any

import anyio
import pytest
from _reliability_scenarios import max_in_window
from _scripted_server import Reply, ScriptedServer

from sekoia_async import (
    APIResponseValidationError,
    RetryPolicy,
    SekoiaClient,
    SessionPool,
    TokenBucket,
)
from sekoia_async._client import _admit

KEY = "sk-pacing-test-key-13579"


def test_pace_is_a_second_gcra_with_the_same_rate_and_burst() -> None:
    bucket = TokenBucket(4, burst=2)
    assert bucket.pace_delay(0.0) == 0.0
    bucket.pace(0.0)
    assert bucket.pace_delay(0.0) == 0.0  # the burst's second request
    bucket.pace(0.0)
    assert bucket.pace_delay(0.0) == pytest.approx(0.25)
    assert bucket.pace_delay(0.0) == pytest.approx(0.25)  # asking takes nothing
    assert bucket.pace_delay(0.25) == 0.0
    # The send-time state is separate from the tokens handed out by acquire/reserve.
    assert bucket.reserve(0.0) == 0.0


def test_paced_sends_never_exceed_the_bound_in_any_window() -> None:
    bucket = TokenBucket(5, burst=5)
    sent: list[float] = []
    now = 0.0
    while len(sent) < 40:  # a sender that tries every 10 ms, as fast as it is allowed
        if bucket.pace_delay(now) == 0.0:
            bucket.pace(now)
            sent.append(now)
        now += 0.01
    assert max_in_window(sent) <= 5 + 5


@pytest.mark.anyio
async def test_a_throttled_request_gives_its_slot_back_while_it_waits() -> None:
    now = 0.0
    waits: list[float] = []
    sleeping, wake = anyio.Event(), anyio.Event()

    async def sleep(seconds: float) -> None:
        nonlocal now
        waits.append(seconds)
        sleeping.set()
        await wake.wait()
        now += seconds

    bucket = TokenBucket(2, burst=1, clock=lambda: now, sleep=sleep)
    bucket.pace(0.0)  # a request just left: the next may leave at 0.5
    slots = anyio.Semaphore(1)
    async with anyio.create_task_group() as tg:
        tg.start_soon(_admit, slots, bucket, None)
        await sleeping.wait()
        assert slots.value == 1  # free for another tenant while this one waits
        wake.set()
    assert waits == [pytest.approx(0.5)]
    assert slots.value == 0  # taken again, then the send is recorded
    assert bucket.pace_delay(0.5) == pytest.approx(0.5)
    slots.release()


@pytest.mark.anyio
async def test_the_slowest_of_client_and_pool_pacing_applies() -> None:
    now = 0.0

    async def sleep(seconds: float) -> None:
        nonlocal now
        now += seconds

    client = TokenBucket(2, burst=1, clock=lambda: now, sleep=sleep)
    pool = TokenBucket(10, burst=1, clock=lambda: now, sleep=sleep)
    for _ in range(3):
        await _admit(None, client, pool)
    assert now == pytest.approx(1.0)


@pytest.mark.anyio
async def test_requests_queued_for_few_connections_leave_within_the_rate() -> None:
    """The old overshoot: two slow requests hold both connections while tokens pile up; when
    they free, every queued request used to leave at once (28 in a second here, for a bound of
    20). Arrival times are taken by the server."""
    rate, burst = 10.0, 10
    async with ScriptedServer() as srv, SessionPool(limit=2, rate_limit=None) as pool:
        srv.script("/v1/fast", Reply(json={}))

        async def slow(request: Any) -> Any:
            await anyio.sleep(1.0)  # server latency: the tokens of the queued requests pile up
            return await srv._reply(request, Reply(json={}))

        srv.on("/v1/slow", slow)
        client = SekoiaClient(
            KEY,
            base_url=srv.base_url,
            pool=pool,
            rate_limit=TokenBucket(rate, burst),
            retry=RetryPolicy(max_retries=0),
        )
        async with client, anyio.create_task_group() as tg:
            for _ in range(2):
                tg.start_soon(client.request, "GET", "/v1/slow")
            await anyio.wait_all_tasks_blocked()
            for _ in range(30):
                tg.start_soon(client.request, "GET", "/v1/fast")
        arrivals = [seen.at for seen in srv.seen]
        assert len(arrivals) == 32
        assert srv.max_inflight <= 2
    assert max_in_window(arrivals) <= rate * 1.0 + burst


@pytest.mark.anyio
async def test_a_stream_holds_its_pool_slot_until_it_closes() -> None:
    async with ScriptedServer() as srv, SessionPool(limit=3, rate_limit=None) as pool:
        srv.script("/v1/file", Reply(body=b"x" * 1000, content_type="application/octet-stream"))
        async with SekoiaClient(KEY, base_url=srv.base_url, pool=pool) as client:
            slots = pool._slots
            assert slots is not None
            async with client.stream("GET", "/v1/file") as resp:
                assert slots.value == 2
                assert await resp.read() == b"x" * 1000
            assert slots.value == 3
    assert SessionPool(limit=0)._slot_count == 0  # no connection bound: no slot to wait for
    assert SessionPool(limit=10, limit_per_host=4)._slot_count == 4


@pytest.mark.anyio
async def test_failed_attempts_give_their_slot_back() -> None:
    """With one connection slot, a slot kept by a failed attempt would hang the retry."""
    fast = RetryPolicy(max_retries=3, backoff_base=0.0)
    async with ScriptedServer() as srv, SessionPool(limit=1, rate_limit=None) as pool:
        srv.script("/v1/x", Reply(drop=True), Reply(status=503), Reply(json={"ok": 1}))
        srv.script(
            "/v1/file",
            Reply(status=503),
            Reply(body=b"data", content_type="application/octet-stream"),
        )
        srv.script("/v1/cut", Reply(text='{"a": [', content_type="application/json"))
        async with SekoiaClient(KEY, base_url=srv.base_url, pool=pool, retry=fast) as client:
            slots = pool._slots
            assert slots is not None
            with anyio.fail_after(10):
                assert await client.request("GET", "/v1/x") == {"ok": 1}
                async with client.stream("GET", "/v1/file") as resp:
                    assert await resp.read() == b"data"
                with pytest.raises(APIResponseValidationError):
                    await client.request("GET", "/v1/cut")
            assert slots.value == 1
