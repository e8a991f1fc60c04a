"""Retries, Retry-After, client-wide pauses and rate limits, against a real local server."""

from __future__ import annotations

import contextlib
import logging
import socket
from typing import Any

import anyio
import pytest
from _scripted_server import Reply, ScriptedServer

from sekoia_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    RateLimitError,
    RetryPolicy,
    SekoiaClient,
    ServerError,
    SessionPool,
    Timeout,
    TokenBucket,
)

pytestmark = pytest.mark.anyio

KEY = "sk-retry-test-key-987654321"
FAST = RetryPolicy(max_retries=3, backoff_base=0.0)


def client_for(srv: ScriptedServer, **kwargs: Any) -> SekoiaClient:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("api_key", KEY)
    return SekoiaClient(base_url=srv.base_url, **kwargs)


class RetrySignal(logging.Handler):
    """Sets an anyio Event when the client logs a retry (the pause is set before the log)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.event = anyio.Event()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())
        if record.getMessage().startswith("Retrying"):
            self.event.set()


@pytest.fixture
def retry_signal() -> Any:
    handler = RetrySignal()
    logger = logging.getLogger("sekoia_async")
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_get_is_retried_on_retryable_statuses(status: int) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=status), Reply(status=status), Reply(json={"ok": 1}))
        async with client_for(srv) as client:
            assert await client.request("GET", "/v1/x") == {"ok": 1}
        assert len(srv.seen) == 3
        assert client.stats.requests == 3
        assert client.stats.retries == 2
        assert client.stats.errors == 2
        assert client.stats.rate_limited == (2 if status == 429 else 0)


async def test_retries_are_exhausted_then_the_typed_error_is_raised() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=502, json={"message": "bad gateway"}))
        async with client_for(srv, max_retries=2) as client:
            with pytest.raises(ServerError, match="bad gateway"):
                await client.request("GET", "/v1/x")
        assert len(srv.seen) == 3


async def test_max_retries_zero_disables_retries() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=503))
        async with client_for(srv, max_retries=0) as client:
            with pytest.raises(ServerError):
                await client.request("GET", "/v1/x")
        assert len(srv.seen) == 1


async def test_4xx_is_not_retried() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=409, json={"message": "invalid transition"}))
        async with client_for(srv) as client:
            with pytest.raises(Exception, match="invalid transition"):
                await client.request("PATCH", "/v1/x", json={})
        assert len(srv.seen) == 1


@pytest.mark.parametrize(
    ("status", "retried"),
    [(500, False), (502, False), (504, False), (408, False), (429, True), (503, True)],
)
async def test_post_retry_rules_for_statuses(status: int, retried: bool) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/create", Reply(status=status), Reply(json={"uuid": "u"}))
        async with client_for(srv) as client:
            if retried:
                assert await client.request("POST", "/v1/create", json={}) == {"uuid": "u"}
            else:
                with pytest.raises(APIStatusError) as info:
                    await client.request("POST", "/v1/create", json={})
                assert info.value.status == status
        assert len(srv.seen) == (2 if retried else 1)


async def test_post_is_retried_after_a_connect_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = SekoiaClient(KEY, base_url=f"http://127.0.0.1:{port}", retry=FAST)
    async with client:
        with pytest.raises(APIConnectionError):
            await client.request("POST", "/v1/create", json={})
    assert client.stats.requests == 4  # nothing reached a server: safe to try again


@pytest.mark.parametrize(("method", "attempts"), [("GET", 2), ("POST", 1)])
async def test_broken_connection_after_sending_is_retried_only_if_idempotent(
    method: str, attempts: int
) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(drop=True), Reply(json={"ok": True}))
        async with client_for(srv) as client:
            if method == "GET":
                assert await client.request(method, "/v1/x") == {"ok": True}
            else:
                with pytest.raises(APIConnectionError, match="connection failed"):
                    await client.request(method, "/v1/x", json={})
        assert len(srv.seen) == attempts


async def test_backoff_waits_follow_the_schedule(retry_signal: RetrySignal) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=500), Reply(status=500), Reply(json={}))
        retry = RetryPolicy(max_retries=3, backoff_base=0.05, rng=lambda: 1.0)
        async with client_for(srv, retry=retry) as client:
            await client.request("GET", "/v1/x")
        gaps = [b.at - a.at for a, b in zip(srv.seen, srv.seen[1:], strict=False)]
        # Lower bounds only: a wait is never shorter than the schedule says.
        assert gaps[0] >= 0.05 - 0.005
        assert gaps[1] >= 0.10 - 0.005
        assert retry_signal.messages == [
            "Retrying GET /v1/x in 0.05 s (retry 1 of 3): HTTP 500",
            "Retrying GET /v1/x in 0.10 s (retry 2 of 3): HTTP 500",
        ]


@pytest.mark.parametrize(
    "headers", [{"Retry-After": "0.3"}, {"retry-after-ms": "300"}, {"Retry-After": "0.3", "x": "y"}]
)
async def test_retry_after_is_honoured(headers: dict[str, str]) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=429, headers=headers), Reply(json={}))
        async with client_for(srv) as client:
            await client.request("GET", "/v1/x")
        assert srv.seen[1].at - srv.seen[0].at >= 0.3 - 0.005


async def test_retry_after_above_the_cap_raises_rate_limit_error_at_once() -> None:
    async with ScriptedServer() as srv:
        srv.script(
            "/v1/x",
            Reply(status=429, json={"message": "slow down"}, headers={"Retry-After": "600"}),
        )
        async with client_for(srv) as client:
            with pytest.raises(RateLimitError) as info:
                await client.request("POST", "/v1/x", json={})
        assert len(srv.seen) == 1
        assert info.value.retry_after == 600.0
        assert "slow down" in str(info.value)
        assert "max_retry_after" in str(info.value)


async def test_exhausted_429_carries_retry_after() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=429, headers={"Retry-After": "0"}))
        async with client_for(srv, max_retries=1) as client:
            with pytest.raises(RateLimitError) as info:
                await client.request("GET", "/v1/x")
        assert info.value.retry_after == 0.0
        assert client.stats.rate_limited == 2


async def _pause_is_client_wide(
    first: Reply, wait: float, retry: RetryPolicy, signal: RetrySignal
) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/first", first, Reply(json={"n": 1}))
        srv.script("/v1/second", Reply(json={"n": 2}))
        async with client_for(srv, retry=retry) as client, anyio.create_task_group() as tg:
            results: list[Any] = []

            async def first_call() -> None:
                results.append(await client.request("GET", "/v1/first"))

            tg.start_soon(first_call)
            await signal.event.wait()  # the first request failed and the client paused
            assert await client.request("GET", "/v1/second") == {"n": 2}
        failed_at = srv.seen_at("/v1/first")[0].at
        second_at = srv.seen_at("/v1/second")[0].at
        # The second request was held back although it never failed itself.
        assert second_at - failed_at >= wait - 0.005
        assert results == [{"n": 1}]


async def test_a_429_pauses_every_request_of_the_client(retry_signal: RetrySignal) -> None:
    await _pause_is_client_wide(
        Reply(status=429, headers={"Retry-After": "0.4"}), 0.4, FAST, retry_signal
    )


async def test_a_retryable_error_pauses_every_request_of_the_client(
    retry_signal: RetrySignal,
) -> None:
    retry = RetryPolicy(backoff_base=0.4, rng=lambda: 1.0)
    await _pause_is_client_wide(Reply(status=503), 0.4, retry, retry_signal)


async def test_pause_is_per_client_not_per_pool(retry_signal: RetrySignal) -> None:
    async with ScriptedServer() as srv, SessionPool(rate_limit=None) as pool:
        srv.script("/v1/first", Reply(status=429, headers={"Retry-After": "5"}), Reply(json={}))
        srv.script("/v1/second", Reply(json={"n": 2}))
        a = client_for(srv, pool=pool)
        b = a.with_options(api_key="other-tenant")
        async with anyio.create_task_group() as tg:
            tg.start_soon(a.request, "GET", "/v1/first")
            await retry_signal.event.wait()
            # Another tenant on the same pool is not held back by a's 429.
            assert await b.request("GET", "/v1/second") == {"n": 2}
            assert len(srv.seen_at("/v1/first")) == 1
            tg.cancel_scope.cancel()
        await a.aclose()
        await b.aclose()


class VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await anyio.lowlevel.checkpoint()


async def test_client_rate_limit_with_virtual_clock() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(5, burst=1, clock=clock.time, sleep=clock.sleep)
    async with ScriptedServer() as srv, SessionPool(rate_limit=None) as pool:
        srv.script("/v1/x", Reply(json={}))
        stamps: list[float] = []

        async def stamp(request: Any) -> Any:
            stamps.append(clock.now)
            return await srv._reply(request, Reply(json={}))

        srv.on("/v1/x", stamp)
        async with client_for(srv, pool=pool, rate_limit=bucket) as client:
            for _ in range(6):
                await client.request("GET", "/v1/x")
        assert client.rate_limit == 5
    assert stamps == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


async def test_pool_rate_limit_is_shared_by_all_clients_with_virtual_clock() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(10, burst=1, clock=clock.time, sleep=clock.sleep)
    async with ScriptedServer() as srv, SessionPool(rate_limit=bucket) as pool:
        stamps: list[tuple[str, float]] = []

        async def stamp(request: Any) -> Any:
            stamps.append((request.headers["Authorization"], clock.now))
            return await srv._reply(request, Reply(json={}))

        srv.on("/v1/x", stamp)
        clients = [client_for(srv, pool=pool, api_key=f"k{i}") for i in range(3)]
        for _ in range(2):
            for client in clients:
                await client.request("GET", "/v1/x")
        for client in clients:
            await client.aclose()
    assert [t for _, t in stamps] == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4, 0.5])
    assert [k for k, _ in stamps] == [f"Bearer k{i}" for i in range(3)] * 2
    assert pool.rate_limit == 10


async def test_client_and_pool_limits_both_apply() -> None:
    clock = VirtualClock()
    pool_bucket = TokenBucket(10, burst=1, clock=clock.time, sleep=clock.sleep)
    client_bucket = TokenBucket(2, burst=1, clock=clock.time, sleep=clock.sleep)
    async with ScriptedServer() as srv, SessionPool(rate_limit=pool_bucket) as pool:
        srv.script("/v1/x", Reply(json={}))
        async with client_for(srv, pool=pool, rate_limit=client_bucket) as client:
            for _ in range(3):
                await client.request("GET", "/v1/x")
    # The slower (client) limit dominates: 0.5 s apart.
    assert clock.now == pytest.approx(1.0)


async def test_max_concurrency_bounds_in_flight_requests() -> None:
    async with ScriptedServer() as srv:
        gate = anyio.Event()

        async def held(request: Any) -> Any:
            if srv.inflight >= 2:
                gate.set()
            await gate.wait()
            return await srv._reply(request, Reply(json={}))

        srv.on("/v1/x", held)
        async with client_for(srv, max_concurrency=2) as client, anyio.create_task_group() as tg:
            for _ in range(8):
                tg.start_soon(client.request, "GET", "/v1/x")
        assert srv.max_inflight == 2
        assert len(srv.seen) == 8


async def test_retry_after_above_the_cap_does_not_freeze_the_client() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=429, headers={"Retry-After": "3600"}))
        srv.script("/v1/y", Reply(json={"ok": True}))
        async with client_for(srv, timeout=Timeout(deadline=5)) as client:
            with pytest.raises(RateLimitError):
                await client.request("GET", "/v1/x")
            # The caller got the error to decide; other calls are not held for an hour.
            assert await client.request("GET", "/v1/y") == {"ok": True}


async def test_giving_up_still_pauses_siblings(retry_signal: RetrySignal) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/create", Reply(status=500))
        srv.script("/v1/next", Reply(json={}))
        retry = RetryPolicy(backoff_base=0.3, rng=lambda: 1.0)
        async with client_for(srv, retry=retry) as client:
            with pytest.raises(ServerError):
                await client.request("POST", "/v1/create", json={})  # POST: 500 not retried
            await client.request("GET", "/v1/next")
        gap = srv.seen_at("/v1/next")[0].at - srv.seen_at("/v1/create")[0].at
        assert gap >= 0.3 - 0.005
        assert retry_signal.messages == []  # nothing was retried


async def test_post_is_retried_after_a_connect_timeout() -> None:
    # A listening socket whose accept queue is full: SYNs are dropped, so connecting times out
    # without any byte of the request being sent.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        fillers = []
        try:
            for _ in range(3):
                filler = socket.socket()
                filler.setblocking(False)
                fillers.append(filler)
                with contextlib.suppress(BlockingIOError):
                    filler.connect(("127.0.0.1", port))
            client = SekoiaClient(
                KEY,
                base_url=f"http://127.0.0.1:{port}",
                timeout=Timeout(connect=0.2),
                retry=RetryPolicy(max_retries=1, backoff_base=0.0),
            )
            async with client:
                with pytest.raises(APITimeoutError, match="connecting"):
                    await client.request("POST", "/v1/create", json={})
        finally:
            for filler in fillers:
                filler.close()
    assert client.stats.requests == 2


async def test_with_options_shares_the_rate_limiter_unless_given_one() -> None:
    clock = VirtualClock()
    bucket = TokenBucket(2, burst=1, clock=clock.time, sleep=clock.sleep)
    async with ScriptedServer() as srv, SessionPool(rate_limit=None) as pool:
        srv.script("/v1/x", Reply(json={}))
        async with client_for(srv, pool=pool, rate_limit=bucket) as a:
            b = a.with_options(api_key="b")
            c = a.with_options(api_key="c", rate_limit=None)
            for client in (a, b, a, b):
                await client.request("GET", "/v1/x")
            assert clock.now == pytest.approx(1.5)  # a and b share 2 requests/s
            for _ in range(3):
                await c.request("GET", "/v1/x")
            assert clock.now == pytest.approx(1.5)  # c has no limit of its own
            await b.aclose()
            await c.aclose()
