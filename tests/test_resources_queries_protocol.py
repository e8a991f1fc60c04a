"""SOL query runs over HTTP against a scripted notebooks server on 127.0.0.1.

Checks what goes over the wire (the run body, polling, the jsonl download) and the paths the
emulator cannot easily produce: a run ending in error, ``NO_RESULTS``, a body cut mid-line, and
leaving the block early.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _local_app import client_for
from aiohttp import web

from sekoia_async import (
    APIResponseValidationError,
    NotFoundError,
    OperationFailed,
    OperationTimeout,
    PollPolicy,
    QueryRunStatus,
    SekoiaClient,
)

FAST = PollPolicy(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)
ROWS = [{"host.name": f"web-{i:03d}", "n": i} for i in range(2_000)]


class NotebooksServer:
    def __init__(self) -> None:
        self.statuses = ["pending", "running", "done"]
        self.error: Any = None
        self.download: tuple[int, bytes] = (
            200,
            b"".join(json.dumps(r).encode() + b"\n" for r in ROWS),
        )
        self.bodies: list[Any] = []
        self.polls = 0
        self.download_queries: list[dict[str, str]] = []
        self.finished_downloads = 0
        self.omit_uuid = False
        self.app = web.Application()
        self.app.router.add_post("/v1/notebooks/queries/runs", self._create)
        self.app.router.add_get("/v1/notebooks/queries/runs/{uuid}", self._get)
        self.app.router.add_get("/v1/notebooks/queries/runs/{uuid}/download", self._download)

    async def _create(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.json_response({"uuid": "run-1", "task_id": "task-1"})

    async def _get(self, request: web.Request) -> web.Response:
        status = self.statuses[min(self.polls, len(self.statuses) - 1)]
        self.polls += 1
        body: dict[str, Any] = {"uuid": request.match_info["uuid"], "status": status}
        if self.omit_uuid:
            del body["uuid"]
        if status == "error":
            body["error"] = self.error
        return web.json_response(body)

    async def _download(self, request: web.Request) -> web.StreamResponse:
        self.download_queries.append(dict(request.query))
        status, body = self.download
        if status != 200:
            return web.Response(status=status, body=body, content_type="application/json")
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        for i in range(0, len(body), 1000):  # lines straddle chunk boundaries
            await response.write(body[i : i + 1000])
        await response.write_eof()
        self.finished_downloads += 1
        return response


@pytest.fixture
async def notebooks() -> AsyncIterator[tuple[NotebooksServer, SekoiaClient]]:
    server = NotebooksServer()
    async with client_for(server.app, "k", max_retries=0) as client:
        yield server, client


@pytest.mark.anyio
async def test_run_polls_then_streams_every_row(
    notebooks: tuple[NotebooksServer, SekoiaClient],
) -> None:
    server, client = notebooks
    seen: list[Any] = []
    async with client.queries.run(
        "events | limit 2000", "-1d", "now", poll=FAST, progress=lambda r: seen.append(r.status)
    ) as rows:
        got = [row async for row in rows]
    assert got == ROWS
    assert rows.rows_read == len(ROWS)
    assert rows.run.status is QueryRunStatus.DONE
    assert seen == [QueryRunStatus.PENDING, QueryRunStatus.RUNNING, QueryRunStatus.DONE]
    assert server.bodies == [
        {
            "query_parameters": {"time": {"earliest": "-1d", "latest": "now"}},
            "query_definition": {"ql_query": "events | limit 2000"},
        }
    ]
    assert server.download_queries == [{"download_format": "jsonl"}]


@pytest.mark.anyio
async def test_leaving_early_releases_the_download(
    notebooks: tuple[NotebooksServer, SekoiaClient],
) -> None:
    _, client = notebooks
    for _ in range(3):  # would exhaust a leaked connection quickly if the body were not closed
        async with client.queries.run("events", poll=FAST) as rows:
            async for row in rows:
                assert row == ROWS[0]
                break
    assert client.stats.requests >= 3


@pytest.mark.anyio
async def test_a_run_ending_in_error(notebooks: tuple[NotebooksServer, SekoiaClient]) -> None:
    server, client = notebooks
    server.statuses = ["running", "error"]
    server.error = "Syntax error at line 1: unknown operator 'whre'"
    with pytest.raises(OperationFailed, match="unknown operator 'whre'") as info:
        async with client.queries.run("events | whre x", poll=FAST):
            raise AssertionError("the block must not run")
    assert info.value.operation_uuid == "run-1"
    assert info.value.status is QueryRunStatus.ERROR
    assert server.download_queries == []


@pytest.mark.anyio
async def test_no_results_is_an_empty_iterator_but_other_404s_raise(
    notebooks: tuple[NotebooksServer, SekoiaClient],
) -> None:
    server, client = notebooks
    server.download = (404, b'{"detail": {"code": "NO_RESULTS"}}')
    async with client.queries.run("events | where n == -1", poll=FAST) as rows:
        assert [row async for row in rows] == []
    server.download = (404, b'{"detail": {"code": "RUN_NOT_FOUND"}}')
    with pytest.raises(NotFoundError):
        async with client.queries.download("run-1"):
            raise AssertionError("the block must not run")


@pytest.mark.anyio
async def test_an_error_inside_the_block_is_not_mistaken_for_no_results(
    notebooks: tuple[NotebooksServer, SekoiaClient],
) -> None:
    _, client = notebooks
    marker = NotFoundError(
        "raised by the caller", status=404, body={"detail": {"code": "NO_RESULTS"}}
    )
    with pytest.raises(NotFoundError, match="raised by the caller"):
        async with client.queries.download("run-1"):
            raise marker


@pytest.mark.anyio
async def test_a_cut_line_raises(notebooks: tuple[NotebooksServer, SekoiaClient]) -> None:
    server, client = notebooks
    server.download = (200, b'{"a": 1}\n{"a": 2}\n{"a":')
    async with client.queries.download("run-1") as rows:
        assert await rows.__anext__() == {"a": 1}
        assert await rows.__anext__() == {"a": 2}
        with pytest.raises(APIResponseValidationError, match="line 3"):
            await rows.__anext__()


@pytest.mark.anyio
async def test_wait_deadline(notebooks: tuple[NotebooksServer, SekoiaClient]) -> None:
    server, client = notebooks
    server.statuses = ["running"]
    with pytest.raises(OperationTimeout) as info:
        await client.queries.wait_run("run-1", poll=FAST, max_wait=0.1)
    assert info.value.operation_uuid == "run-1"
    assert server.polls >= 1


@pytest.mark.anyio
async def test_a_run_body_without_uuid_gets_the_one_asked_for(
    notebooks: tuple[NotebooksServer, SekoiaClient],
) -> None:
    server, client = notebooks
    server.omit_uuid = True
    run = await client.queries.get_run("run-7")
    assert run.uuid == "run-7"
    assert run.status is QueryRunStatus.PENDING
