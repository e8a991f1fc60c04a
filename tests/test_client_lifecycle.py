"""Pools shared by many tenants, lifecycle (close, reuse, drop) and key redaction."""

from __future__ import annotations

import gc
import logging
import ssl
import warnings

import anyio
import pytest
from _scripted_server import Reply, ScriptedServer
from aiohttp import web

from sekoia_async import (
    APIResponseValidationError,
    AuthenticationError,
    ClientClosedError,
    ConfigurationError,
    RetryPolicy,
    SekoiaClient,
    ServerError,
    SessionPool,
    Timeout,
)

pytestmark = pytest.mark.anyio

KEY = "sk-lifecycle-SECRET-5f3a9c"


async def test_fifty_tenants_share_one_pool_with_their_own_keys() -> None:
    async with ScriptedServer() as srv, SessionPool(limit=8, rate_limit=None) as pool:
        tick = anyio.Event()

        async def whoami(request: web.Request) -> web.Response:
            if srv.inflight >= 8:
                tick.set()  # the pool is saturated: let everyone through
            await tick.wait()
            return web.json_response({"auth": request.headers["Authorization"]})

        srv.on("/v1/me", whoami)
        clients = [
            SekoiaClient(f"tenant-key-{i:02d}", base_url=srv.base_url, pool=pool) for i in range(50)
        ]
        answers: dict[int, list[str]] = {i: [] for i in range(50)}

        async def run(i: int) -> None:
            for _ in range(3):
                answers[i].append((await clients[i].request("GET", "/v1/me"))["auth"])

        async with anyio.create_task_group() as tg:
            for i in range(50):
                tg.start_soon(run, i)
        for client in clients:
            await client.aclose()
        assert not pool.closed  # clients never close a pool they were given
        # Each request carried its own tenant's key.
        assert all(answers[i] == [f"Bearer tenant-key-{i:02d}"] * 3 for i in range(50))
        assert len(srv.seen) == 150
        # The pool's connection limit held, measured by the server.
        assert srv.max_inflight <= 8
        assert len(srv.peers) <= 8
        assert srv.max_inflight == 8


async def test_with_options_shares_the_pool_and_changes_settings() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=503), Reply(json={"ok": True}))
        async with SekoiaClient(KEY, base_url=srv.base_url, max_retries=0) as client:
            other = client.with_options(
                api_key="second-key", max_retries=2, timeout=5, rate_limit=1000
            )
            assert other.pool is client.pool
            assert other.retry.max_retries == 2
            assert other.timeout == Timeout(total=5.0)
            assert other.rate_limit == 1000
            other.retry = RetryPolicy(max_retries=2, backoff_base=0.0)
            assert await other.request("GET", "/v1/x") == {"ok": True}
            await other.aclose()  # does not close the shared pool
            assert not client.pool.closed
            srv.script("/v1/y", Reply(status=503))
            with pytest.raises(ServerError):
                await client.request("GET", "/v1/y")  # the original keeps max_retries=0
        assert srv.seen[0].headers["Authorization"] == "Bearer second-key"
        assert srv.seen[-1].headers["Authorization"] == f"Bearer {KEY}"
        assert len(srv.seen_at("/v1/y")) == 1
        assert client.pool.closed


async def test_double_close_and_use_after_close() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(json={}))
        client = SekoiaClient(KEY, base_url=srv.base_url)
        async with client:
            await client.request("GET", "/v1/x")
        await client.aclose()
        await client.aclose()
        assert client.closed
        with pytest.raises(ClientClosedError, match=r"closed.*async with"):
            await client.request("GET", "/v1/x")
        with pytest.raises(ClientClosedError):
            async with client.stream("GET", "/v1/x"):
                pass
        with pytest.raises(ClientClosedError):
            async with client:
                pass
        with pytest.raises(ClientClosedError):
            client.with_options(max_retries=1)


async def test_closed_shared_pool_gives_a_clear_error() -> None:
    pool = SessionPool()
    client = SekoiaClient(KEY, base_url="http://127.0.0.1:9", pool=pool)
    await pool.aclose()
    await pool.aclose()
    with pytest.raises(ClientClosedError, match="SessionPool is closed"):
        await client.request("GET", "/v1/x")
    await client.aclose()


async def test_owned_pool_is_created_lazily_inside_the_loop() -> None:
    client = SekoiaClient(KEY, base_url="http://127.0.0.1:9")
    assert client.pool._session is None
    await client.aclose()
    assert client.pool.closed


async def test_client_dropped_unclosed_warns_without_touching_the_loop() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(json={}))
        client = SekoiaClient(KEY, base_url=srv.base_url)
        await client.request("GET", "/v1/x")
        session = client.pool._session
        assert session is not None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            del client
            gc.collect()
        ours = [w for w in caught if "SekoiaClient was never closed" in str(w.message)]
        assert len(ours) == 1
        assert ours[0].category is ResourceWarning
        assert all(KEY not in str(w.message) for w in caught)
        await session.close()


def test_a_client_never_used_in_a_loop_is_dropped_silently() -> None:
    client = SekoiaClient(KEY, base_url="http://127.0.0.1:9")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        del client
        gc.collect()


def test_failed_construction_does_not_warn_from_del() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ConfigurationError):
            SekoiaClient("", base_url="http://127.0.0.1:9")
        gc.collect()


async def test_key_never_appears_in_repr_logs_or_errors(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    async with ScriptedServer() as srv:
        srv.script(
            "/v1/x",
            Reply(status=500, text=f"upstream said Bearer {KEY}"),
            Reply(status=401, json={"message": f"invalid key {KEY}"}),
        )
        srv.script("/v1/html", Reply(text=f"<p>{KEY}</p>", content_type="text/html"))
        client = SekoiaClient(
            KEY, base_url=srv.base_url, retry=RetryPolicy(max_retries=2, backoff_base=0)
        )
        async with client:
            with pytest.raises(AuthenticationError) as auth:
                await client.request("GET", "/v1/x")
            with pytest.raises(APIResponseValidationError) as html:
                await client.request("GET", "/v1/html")
        texts = [
            repr(client),
            str(client),
            repr(client.pool),
            str(auth.value),
            repr(auth.value),
            str(auth.value.body),
            str(html.value),
            repr(html.value.__dict__),
            caplog.text,
            repr(client.retry),
            repr(client.timeout),
        ]
        for text in texts:
            assert KEY not in text
        assert "***" in auth.value.message
        # One DEBUG line per attempt and a WARNING per retry.
        attempts = [r for r in caplog.records if r.levelno == logging.DEBUG and "attempt" in r.msg]
        assert len(attempts) == 3
        assert any(
            r.levelno == logging.WARNING and "Retrying" in r.getMessage() for r in caplog.records
        )


async def test_tls_options() -> None:
    context = ssl.create_default_context()
    client = SekoiaClient(KEY, base_url="https://api.sekoia.io", ssl=context)
    assert client._ssl is context
    await client.aclose()
    with pytest.raises(ConfigurationError, match="not both"):
        SekoiaClient(KEY, ssl=context, insecure_skip_tls_verify=True)
    insecure = SekoiaClient(KEY, insecure_skip_tls_verify=True)
    assert insecure._ssl is False
    await insecure.aclose()
    default = SekoiaClient(KEY, region="mco1")
    assert default._ssl is True
    assert default.base_url == "https://app.mco1.sekoia.io/api"
    await default.aclose()


async def test_unknown_region_and_missing_key_fail_at_construction(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEKOIA_API_KEY", raising=False)
    with pytest.raises(ConfigurationError, match="SEKOIA_API_KEY"):
        SekoiaClient()
    with pytest.raises(ConfigurationError, match="known regions"):
        SekoiaClient(KEY, region="nowhere")


def test_client_dropped_after_its_loop_closed_only_warns() -> None:
    async def use_and_leak() -> SekoiaClient:
        async with ScriptedServer() as srv:
            srv.script("/v1/x", Reply(json={}))
            client = SekoiaClient(KEY, base_url=srv.base_url)
            await client.request("GET", "/v1/x")
            return client

    leaked = anyio.run(use_and_leak)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del leaked
        gc.collect()
    assert any("SekoiaClient was never closed" in str(w.message) for w in caught)


async def test_cancelled_requests_and_streams_give_their_connection_back() -> None:
    async with ScriptedServer() as srv, SessionPool(limit=1, rate_limit=None) as pool:
        srv.script("/v1/hang", Reply(hang=True))
        srv.script("/v1/big", Reply(body=b"x\n" * 500_000))
        srv.script("/v1/ok", Reply(json={"ok": True}))
        async with SekoiaClient(KEY, base_url=srv.base_url, pool=pool) as client:
            with anyio.CancelScope() as scope:
                scope.cancel()  # cancelled before the answer: the connection must not leak
                await client.request("GET", "/v1/hang")
            with anyio.move_on_after(0.1):
                await client.request("GET", "/v1/hang")
            async with client.stream("GET", "/v1/big") as resp:
                async for _ in resp.iter_chunks():
                    break  # leave mid-body
            # With one connection in the pool, any leak above would hang here.
            with anyio.fail_after(10):
                assert await client.request("GET", "/v1/ok") == {"ok": True}
