"""Truncated JSON answers are retried like broken connections; ``idempotent=`` per request."""

from __future__ import annotations

from typing import Any

import pytest
from _scripted_server import Reply, ScriptedServer

from sekoia_async import (
    APIResponseValidationError,
    RetryPolicy,
    SekoiaClient,
    ServerError,
)

pytestmark = pytest.mark.anyio

KEY = "sk-idempotency-test-key-24680"
FAST = RetryPolicy(max_retries=3, backoff_base=0.0)
CUT = Reply(text='{"items": [{"uuid": "a"}, {"uu', content_type="application/json")
GOOD = Reply(json={"items": [{"uuid": "a"}, {"uuid": "b"}]})
JOB = {
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "status": 0,
    "term": "",
    "earliest_time": "2026-01-01T00:00:00Z",
    "latest_time": "2026-01-02T00:00:00Z",
}


def client_for(srv: ScriptedServer, **kwargs: Any) -> SekoiaClient:
    kwargs.setdefault("retry", FAST)
    return SekoiaClient(KEY, base_url=srv.base_url, **kwargs)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_truncated_json_on_an_idempotent_request_is_retried(method: str) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", CUT, CUT, GOOD)
        async with client_for(srv) as client:
            assert await client.request(method, "/v1/x") == GOOD.json
        assert len(srv.seen) == 3
        assert client.stats.retries == 2
        assert client.stats.errors == 2


async def test_a_vendor_json_content_type_counts_as_json() -> None:
    async with ScriptedServer() as srv:
        cut = Reply(text='{"a": ', content_type="application/problem+json")
        srv.script("/v1/x", cut, GOOD)
        async with client_for(srv) as client:
            assert await client.request("GET", "/v1/x") == GOOD.json
        assert len(srv.seen) == 2


async def test_truncated_json_pauses_the_client_like_other_retryable_errors() -> None:
    waits = iter([0.25])
    policy = RetryPolicy(max_retries=1, backoff_base=1.0, rng=lambda: next(waits))
    async with ScriptedServer() as srv:
        srv.script("/v1/x", CUT, GOOD)
        async with client_for(srv, retry=policy) as client:
            await client.request("GET", "/v1/x")
            paused = client._paused_until
        assert paused > 0  # the backoff was applied client-wide, as for a 5xx
        assert srv.seen[1].at - srv.seen[0].at >= 0.2


async def test_truncated_json_exhausting_retries_raises_validation_error() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", CUT)
        async with client_for(srv) as client:
            with pytest.raises(APIResponseValidationError) as info:
                await client.request("GET", "/v1/x")
        assert len(srv.seen) == 4  # the first attempt and 3 retries
    text = str(info.value)
    assert "does not parse" in text
    assert "4 attempt(s)" in text
    assert "max_retries" in text
    assert info.value.status == 200
    assert KEY not in text


async def test_a_body_of_another_type_is_not_retried() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(text="<html>login</html>", content_type="text/html"), GOOD)
        async with client_for(srv) as client:
            with pytest.raises(APIResponseValidationError, match="not JSON"):
                await client.request("GET", "/v1/x")
        assert len(srv.seen) == 1  # an HTML page will not turn into JSON on a retry


@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_truncated_json_on_a_post_is_not_retried(method: str) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", CUT, GOOD)
        async with client_for(srv) as client:
            with pytest.raises(APIResponseValidationError, match="does not parse"):
                await client.request(method, "/v1/x", json={})
        assert len(srv.seen) == 1  # the server acted: a retry could act twice


async def test_idempotent_post_is_retried_after_truncated_json() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", CUT, GOOD)
        async with client_for(srv) as client:
            assert await client.request("POST", "/v1/x", json={}, idempotent=True) == GOOD.json
        assert len(srv.seen) == 2


@pytest.mark.parametrize("idempotent", [None, False, True])
async def test_idempotent_overrides_the_method_for_500(idempotent: bool | None) -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=500), GOOD)
        async with client_for(srv) as client:
            if idempotent:
                got = await client.request("POST", "/v1/x", json={}, idempotent=True)
                assert got == GOOD.json
            else:
                with pytest.raises(ServerError):
                    await client.request("POST", "/v1/x", json={}, idempotent=idempotent)
        assert len(srv.seen) == (2 if idempotent else 1)


async def test_idempotent_post_is_retried_after_a_broken_connection() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(drop=True), GOOD)
        async with client_for(srv) as client:
            assert await client.request("POST", "/v1/x", json={}, idempotent=True) == GOOD.json
        assert len(srv.seen) == 2


async def test_idempotent_false_stops_a_get_from_being_retried() -> None:
    async with ScriptedServer() as srv:
        srv.script("/v1/x", Reply(status=502), GOOD)
        async with client_for(srv) as client:
            with pytest.raises(ServerError):
                await client.request("GET", "/v1/x", idempotent=False)
        assert len(srv.seen) == 1


async def test_search_job_creation_is_retried_on_500() -> None:
    path = "/v1/sic/conf/events/search/jobs"
    async with ScriptedServer() as srv:
        srv.script(path, Reply(status=500), Reply(status=502), Reply(json=JOB))
        async with client_for(srv) as client:
            job = await client.events.create_search_job("", "-1d", "now")
        assert job.uuid == JOB["uuid"]
        assert [seen.method for seen in srv.seen] == ["POST"] * 3
