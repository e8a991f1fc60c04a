"""SekoiaClient.request / stream against a real aiohttp server on 127.0.0.1."""

from __future__ import annotations

import socket
from typing import Any
from urllib.parse import unquote

import pytest
from _scripted_server import Reply, ScriptedServer
from aiohttp import web

from sekoia_async import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RetryPolicy,
    SekoiaClient,
    ServerError,
    Timeout,
    UnprocessableEntityError,
)
from sekoia_async._transport.paths import quote_path_param

pytestmark = pytest.mark.anyio

KEY = "sk-test-0123456789abcdef"
NO_RETRY = RetryPolicy(max_retries=0)


def client_for(srv: ScriptedServer, **kwargs: Any) -> SekoiaClient:
    kwargs.setdefault("retry", NO_RETRY)
    return SekoiaClient(KEY, base_url=srv.base_url, **kwargs)


async def test_get_sends_bearer_key_params_and_decodes_json() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/sic/alerts", Reply(json={"items": [1], "total": 1}))
        async with client_for(srv) as client:
            data = await client.request(
                "get",
                "/v1/sic/alerts",
                params={"match": {"entity_name": ["a", "b"]}, "limit": 5, "x": None},
            )
        assert data == {"items": [1], "total": 1}
        (seen,) = srv.seen
        assert seen.method == "GET"
        assert seen.headers["Authorization"] == f"Bearer {KEY}"
        assert seen.headers["User-Agent"].startswith("sekoia-async/")
        assert seen.query == "match%5Bentity_name%5D=a,b&limit=5" or seen.query == (
            "match[entity_name]=a,b&limit=5"
        )
        assert client.stats.requests == 1
        assert client.stats.bytes_received > 0


async def test_post_json_body_and_204() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/things", Reply(status=204))
        async with client_for(srv) as client:
            assert await client.request("POST", "/v1/things", json={"a": [1, 2]}) is None
        assert srv.seen[0].body == b'{"a": [1, 2]}'
        assert srv.seen[0].headers["Content-Type"].startswith("application/json")


@pytest.mark.parametrize("suffix", ["", "/", "/api", "/api/", "/v1", "/api/v1"])
async def test_base_url_forms_reach_the_same_path(suffix: str) -> None:
    async with ScriptedServer() as srv:
        expected = "/api/v1/me" if "/api" in suffix else "/v1/me"
        srv.script(expected, Reply(json={"ok": True}))
        async with SekoiaClient(KEY, base_url=srv.base_url + suffix) as client:
            assert await client.request("GET", "/v1/me") == {"ok": True}
            # A path that already carries /api is not doubled.
            if "/api" in suffix:
                assert await client.request("GET", "/api/v1/me") == {"ok": True}


async def test_env_fallback_for_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/me", Reply(json={}))
        monkeypatch.setenv("SEKOIA_API_KEY", "from-env")
        monkeypatch.setenv("SEKOIA_BASE_URL", srv.base_url)
        async with SekoiaClient() as client:
            await client.request("GET", "/v1/me")
        assert srv.seen[0].headers["Authorization"] == "Bearer from-env"


async def test_path_must_be_an_api_path() -> None:
    async with SekoiaClient(KEY, base_url="http://127.0.0.1:9") as client:
        for bad in ("v1/x", "https://evil.example/v1/x"):
            with pytest.raises(ValueError, match="path"):
                await client.request("GET", bad)


async def test_quoted_path_params_cannot_change_the_endpoint() -> None:
    async with ScriptedServer() as srv:
        async with client_for(srv) as client:
            hostile = "../../v1/admin?delete=1#x"
            with pytest.raises(NotFoundError):
                await client.request("GET", f"/v1/sic/alerts/{quote_path_param(hostile)}")
        (seen,) = srv.seen
        prefix, _, segment = seen.path.rpartition("/")
        assert prefix == "/v1/sic/alerts"
        assert unquote(segment) == hostile
        assert seen.query == ""


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, UnprocessableEntityError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
        (418, APIStatusError),
    ],
)
async def test_status_error_mapping(status: int, cls: type[APIStatusError]) -> None:
    async with ScriptedServer() as srv:
        srv.script(
            "/v1/x",
            Reply(
                status=status, json={"message": f"boom {status}"}, headers={"X-Request-Id": "r-1"}
            ),
        )
        async with client_for(srv) as client:
            with pytest.raises(APIStatusError) as info:
                await client.request("GET", "/v1/x", params={"limit": 1})
    err = info.value
    assert type(err) is cls
    assert err.status == status
    assert err.message == f"boom {status}"
    assert err.body == {"message": f"boom {status}"}
    assert err.request_id == "r-1"
    assert err.method == "GET"
    assert err.url == f"{srv.base_url}/v1/x"
    assert "r-1" in str(err)
    assert str(status) in str(err)


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(status=400, json={"detail": "bad term"}), "bad term"),
        (Reply(status=400, json={"detail": {"code": "T42"}}), '{"code":"T42"}'),
        (Reply(status=400, text="plain failure"), "plain failure"),
        (Reply(status=400, body=b""), "Bad Request"),
    ],
)
async def test_error_message_sources(reply: Reply, message: str) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", reply)
        async with client_for(srv) as client:
            with pytest.raises(BadRequestError) as info:
                await client.request("GET", "/v1/x")
    assert info.value.message == message


async def test_non_json_2xx_says_what_came_back() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(text="<html>login page</html>", content_type="text/html"))
        async with client_for(srv) as client:
            with pytest.raises(APIResponseValidationError) as info:
                await client.request("GET", "/v1/x")
    text = str(info.value)
    assert "200" in text
    assert "text/html" in text
    assert "<html>login page" in text
    assert info.value.status == 200


async def test_connection_refused_is_api_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    async with SekoiaClient(KEY, base_url=f"http://127.0.0.1:{port}", retry=NO_RETRY) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.request("GET", "/v1/x")
    assert not isinstance(info.value, APITimeoutError)
    assert "Could not connect" in str(info.value)
    assert KEY not in str(info.value)
    assert client.stats.errors == 1


async def test_read_timeout_is_api_timeout_error() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/slow", Reply(hang=True))
        async with client_for(srv, timeout=Timeout(read=0.2)) as client:
            with pytest.raises(APITimeoutError, match="timed out"):
                await client.request("GET", "/v1/slow")


async def test_overall_deadline_bounds_retries() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/flaky", Reply(status=503))
        retry = RetryPolicy(max_retries=50, backoff_base=0.05, rng=lambda: 1.0)
        async with client_for(srv, retry=retry, timeout=Timeout(deadline=0.3)) as client:
            with pytest.raises(APITimeoutError, match="deadline"):
                await client.request("GET", "/v1/flaky")
        assert 1 < len(srv.seen) < 50


async def test_same_origin_redirect_is_followed_with_the_key() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/old", Reply(status=307, headers={"Location": "/v1/new"}))
        srv.script("/v1/new", Reply(json={"moved": True}))
        async with client_for(srv) as client:
            assert await client.request("GET", "/v1/old") == {"moved": True}
        assert [s.path for s in srv.seen] == ["/v1/old", "/v1/new"]
        assert srv.seen[1].headers["Authorization"] == f"Bearer {KEY}"


async def test_cross_host_redirect_is_refused_and_the_key_never_leaves() -> None:
    async with ScriptedServer() as other, ScriptedServer() as srv:
        other.script("/steal", Reply(json={"stolen": True}))
        # localhost vs 127.0.0.1: another host, same machine.
        target = f"http://localhost:{other.port}/steal"
        srv.script("/v1/x", Reply(status=302, headers={"Location": target}))
        async with client_for(srv) as client:
            with pytest.raises(APIStatusError, match="another host") as info:
                await client.request("GET", "/v1/x")
        assert info.value.status == 302
        assert other.seen == []


async def test_stream_lines_and_chunks() -> None:
    async with ScriptedServer() as srv:
        body = b"".join(b'{"n": %d}\r\n' % i for i in range(2000)) + b"last"
        srv.script("/v1/dl", Reply(body=body, content_type="application/x-ndjson"))
        async with client_for(srv) as client:
            async with client.stream("GET", "/v1/dl", params={"format": "jsonl"}) as resp:
                assert resp.status == 200
                assert resp.headers["Content-Type"].startswith("application/x-ndjson")
                lines = [line async for line in resp.iter_lines()]
            assert lines[0] == b'{"n": 0}'
            assert lines[-2] == b'{"n": 1999}'
            assert lines[-1] == b"last"
            assert len(lines) == 2001
            async with client.stream("GET", "/v1/dl") as resp:
                chunks = [c async for c in resp.iter_chunks()]
            assert b"".join(chunks) == body
            assert client.stats.bytes_received == 2 * len(body)
        assert srv.seen[0].query == "format=jsonl"
        assert srv.seen[0].headers["Authorization"] == f"Bearer {KEY}"
        assert srv.seen[0].headers["Accept"] == "*/*"


async def test_stream_to_another_host_has_no_authorization() -> None:
    async with ScriptedServer() as bucket, ScriptedServer() as srv:
        bucket.script("/file.gz", Reply(body=b"\x1f\x8b data", content_type="application/gzip"))
        async with client_for(srv) as client:
            url = f"http://localhost:{bucket.port}/file.gz?X-Amz-Signature=abc"
            async with client.stream("GET", url) as resp:
                assert await resp.read() == b"\x1f\x8b data"
        assert "Authorization" not in bucket.seen[0].headers
        assert bucket.seen[0].query == "X-Amz-Signature=abc"


async def test_stream_retries_then_raises_typed_errors() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/dl", Reply(status=503), Reply(body=b"a\nb"))
        srv.script("/v1/gone", Reply(status=404, json={"message": "expired"}))
        retry = RetryPolicy(max_retries=2, backoff_base=0.0)
        async with client_for(srv, retry=retry) as client:
            async with client.stream("GET", "/v1/dl") as resp:
                assert [x async for x in resp.iter_lines()] == [b"a", b"b"]
            with pytest.raises(NotFoundError, match="expired"):
                async with client.stream("GET", "/v1/gone"):
                    pytest.fail("the body of a failed stream must not run")
        assert client.stats.retries == 1


async def test_stream_refuses_plain_http_to_remote_hosts() -> None:
    async with SekoiaClient(KEY, base_url="http://127.0.0.1:9") as client:
        with pytest.raises(ValueError, match="https"):
            async with client.stream("GET", "http://example.com/file"):
                pass


async def test_plain_http_to_remote_host_is_refused_at_construction() -> None:
    with pytest.raises(ConfigurationError, match="https"):
        SekoiaClient(KEY, base_url="http://api.sekoia.io")


async def test_custom_handler_sees_json_null_body() -> None:
    async def handler(request: web.Request) -> web.Response:
        return web.json_response(None)

    async with ScriptedServer() as srv:
        srv.on("/v1/null", handler)
        async with client_for(srv) as client:
            assert await client.request("DELETE", "/v1/null") is None


async def test_stream_broken_mid_body_raises_api_connection_error() -> None:
    async def partial(request: web.Request) -> web.StreamResponse:
        resp = web.StreamResponse(headers={"Content-Length": "1000000"})
        await resp.prepare(request)
        await resp.write(b"line one\nline two\n")
        assert request.transport is not None
        request.transport.abort()
        return resp

    async with ScriptedServer() as srv:
        srv.on("/v1/dl", partial)
        async with client_for(srv) as client:
            got: list[bytes] = []

            async def download() -> None:
                async with client.stream("GET", "/v1/dl") as resp:
                    async for line in resp.iter_lines():
                        got.append(line)

            with pytest.raises(APIConnectionError, match="connection failed"):
                await download()
            assert got == [b"line one", b"line two"]
            # The client stays usable after a broken download.
            srv.script("/v1/ok", Reply(json={"ok": True}))
            assert await client.request("GET", "/v1/ok") == {"ok": True}
