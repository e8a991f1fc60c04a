"""Field statistics and the bulk export (export -> task polling -> download_to) on the emulator."""

from __future__ import annotations

import gzip
import json
import os
import random
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest
from _local_app import serve
from aiohttp import web

from sekoia_async import (
    APIConnectionError,
    APIResponseValidationError,
    EventField,
    EventsExport,
    NotFoundError,
    OperationTimeout,
    PermissionDeniedError,
    PollPolicy,
    RetryPolicy,
    S3Destination,
    SearchJobFailed,
    SekoiaClient,
    Task,
    TaskStatus,
)
from sekoia_async.testing import Faults, SekoiaEmulator, VirtualClock

FAST = PollPolicy(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)
EVENTS = 2_500
FIELDS = ["__event_id", "timestamp", "message"]


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[SekoiaEmulator]:
    # Exports take 100 s of emulator time: progress is observable, and only moves when a test
    # advances the virtual clock.
    async with SekoiaEmulator(seed=19, clock=clock, export_rate=EVENTS / 100) as emulator:
        emulator.generate_events(EVENTS)
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


async def _job(client: SekoiaClient, term: str = "") -> str:
    job = await client.events.create_search_job(term, "-30d", "now")
    return job.uuid


@pytest.mark.anyio
async def test_field_statistics(client: SekoiaClient) -> None:
    job = await client.events.create_search_job("", "-30d", "now")
    job_uuid = job.uuid
    fields = [f async for f in client.events.fields(job)]  # a SearchJob or its uuid
    assert all(isinstance(f, EventField) for f in fields)
    by_name = {f.name: f for f in fields}
    assert {"timestamp", "message", "source.ip"} <= by_name.keys()
    common = by_name["source.ip"].most_common_values
    assert common
    assert all(0 < (v.value or 0) <= 100 for v in common)
    paged = [f.name async for f in client.events.fields(job_uuid, limit=8)]
    assert paged == [f.name for f in fields]


@pytest.mark.anyio
async def test_export_reports_progress_then_downloads_every_event(
    client: SekoiaClient, emu: SekoiaEmulator, clock: VirtualClock, tmp_path: Path
) -> None:
    job_uuid = await _job(client)
    seen: list[tuple[object, int | None, int | None]] = []

    def progress(task: Task) -> None:
        seen.append((task.status, task.progress, task.total))
        clock.advance(30)  # the next poll sees the export further along

    export = await client.events.export(job_uuid, FIELDS, poll=FAST, progress=progress)
    assert isinstance(export, EventsExport)
    assert export.task.status is TaskStatus.FINISHED
    assert [s for s, _, _ in seen] == [
        TaskStatus.PENDING,
        TaskStatus.RUNNING,
        TaskStatus.RUNNING,
        TaskStatus.RUNNING,
        TaskStatus.FINISHED,
    ]
    progresses = [p or 0 for _, p, _ in seen]
    assert progresses == sorted(progresses)
    assert progresses[-1] == EVENTS
    assert {t for _, _, t in seen} == {EVENTS}
    assert export.download_url is not None
    assert "signature=" in export.download_url
    # A pre-signed URL is a credential: reprs (and so logs of them) hide its query.
    assert "signature=" not in repr(export)
    assert "signature=" not in repr(export.task)

    written: list[int] = []
    target = tmp_path / "events.jsonl.gz"
    size = await export.download_to(target, progress=written.append)
    assert size == target.stat().st_size
    assert written[-1] == size
    assert not (tmp_path / "events.jsonl.gz.part").exists()
    rows = [json.loads(line) for line in gzip.decompress(target.read_bytes()).splitlines()]
    assert [r["__event_id"] for r in rows] == emu.expected_event_ids("", "-30d", "now")
    assert all(set(r) <= set(FIELDS) for r in rows)

    latest = await client.events.get_export(job_uuid)
    assert latest.download_url == export.download_url
    assert latest.exported_events_count == EVENTS
    assert latest.expire_at is not None


@pytest.mark.anyio
async def test_export_to_s3_has_no_download_url(client: SekoiaClient, clock: VirtualClock) -> None:
    job_uuid = await _job(client)
    s3 = S3Destination(bucket_name="b", access_key_id="AK", secret_access_key="SECRET")
    export = await client.events.export(
        job_uuid, FIELDS, s3=s3, poll=FAST, progress=lambda _: clock.advance(60)
    )
    assert export.download_url is None
    assert export.task.succeeded
    with pytest.raises(ValueError, match="S3 bucket"):
        await export.download_to("unused.jsonl.gz")


@pytest.mark.anyio
async def test_export_deadline(client: SekoiaClient) -> None:
    job_uuid = await _job(client)
    seen: list[Task] = []
    with pytest.raises(OperationTimeout) as info:
        # The virtual clock never moves: the task stays PENDING until the deadline.
        await client.events.export(job_uuid, FIELDS, poll=FAST, max_wait=0.2, progress=seen.append)
    assert seen
    assert info.value.state == seen[-1]
    assert info.value.operation_uuid == seen[-1].uuid


@pytest.mark.anyio
async def test_export_of_a_failed_job(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    emu.faults = Faults(job_fail_rate=1.0)
    job_uuid = await _job(client)
    with pytest.raises(SearchJobFailed) as info:
        await client.events.export(job_uuid, FIELDS, poll=FAST)
    assert info.value.job_uuid == job_uuid


class FileServer:
    """A pre-signed-URL-like download host on 127.0.0.1 (another origin than the API)."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.authorization: list[str | None] = []
        self.app = web.Application()
        self.app.router.add_get("/whole.jsonl.gz", self._whole)
        self.app.router.add_get("/cut.jsonl.gz", self._cut)
        self.app.router.add_get("/reset.jsonl.gz", self._reset)
        self.app.router.add_get("/sized-half.jsonl.gz", self._sized_half)
        self.app.router.add_get("/stall.jsonl.gz", self._stall)
        self.half_sent = anyio.Event()
        self.release = anyio.Event()

    async def _start(self, request: web.Request) -> web.StreamResponse:
        self.authorization.append(request.headers.get("Authorization"))
        response = web.StreamResponse(headers={"Content-Type": "application/gzip"})
        await response.prepare(request)
        return response

    async def _whole(self, request: web.Request) -> web.StreamResponse:
        response = await self._start(request)
        for i in range(0, len(self.body), 4096):
            await response.write(self.body[i : i + 4096])
        await response.write_eof()
        return response

    async def _cut(self, request: web.Request) -> web.StreamResponse:
        # A cleanly terminated body that is missing the end of the gzip stream.
        response = await self._start(request)
        await response.write(self.body[: len(self.body) // 2])
        await response.write_eof()
        return response

    async def _sized_half(self, request: web.Request) -> web.StreamResponse:
        # A Content-Length that matches what is sent, but only half of a gzip file.
        self.authorization.append(request.headers.get("Authorization"))
        half = self.body[: len(self.body) // 2]
        return web.Response(body=half, headers={"Content-Type": "application/gzip"})

    async def _stall(self, request: web.Request) -> web.StreamResponse:
        # Half the file, then nothing until the test lets go (a stalled download).
        response = await self._start(request)
        await response.write(self.body[: len(self.body) // 2])
        self.half_sent.set()
        await self.release.wait()
        return response

    async def _reset(self, request: web.Request) -> web.StreamResponse:
        response = await self._start(request)
        await response.write(self.body[: len(self.body) // 2])
        assert request.transport is not None
        request.transport.abort()
        return response


@pytest.fixture
async def files() -> AsyncIterator[tuple[FileServer, str]]:
    rows = b"".join(
        b'{"__event_id": "%d", "message": "%s"}\n' % (i, b"x" * 50) for i in range(20_000)
    )
    server = FileServer(gzip.compress(rows))
    async with serve(server.app) as base_url:
        try:
            yield server, base_url
        finally:
            server.release.set()


@pytest.mark.anyio
async def test_download_from_another_host_streams_to_disk_without_the_api_key(
    client: SekoiaClient, files: tuple[FileServer, str], tmp_path: Path
) -> None:
    server, base = files
    written: list[int] = []
    target = tmp_path / "out.jsonl.gz"
    size = await client.events.download_export(
        f"{base}/whole.jsonl.gz", target, progress=written.append
    )
    assert target.read_bytes() == server.body
    assert size == len(server.body)
    assert written == sorted(written)
    assert written[-1] == size
    assert server.authorization == [None]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("path", "error"),
    [("cut.jsonl.gz", APIResponseValidationError), ("reset.jsonl.gz", APIConnectionError)],
)
async def test_a_broken_download_leaves_no_file(
    client: SekoiaClient,
    files: tuple[FileServer, str],
    tmp_path: Path,
    path: str,
    error: type[Exception],
) -> None:
    _, base = files
    target = tmp_path / "out.jsonl.gz"
    target.write_bytes(b"previous complete file")
    with pytest.raises(error):
        await client.events.download_export(f"{base}/{path}", target)
    # The previous file is untouched and no partial file is left behind.
    assert target.read_bytes() == b"previous complete file"
    assert os.listdir(tmp_path) == ["out.jsonl.gz"]


@pytest.mark.anyio
async def test_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    job_uuid = await _job(client)
    with pytest.raises(NotFoundError):
        await client.tasks.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await client.events.export(str(uuid.uuid4()), FIELDS, poll=FAST)
    with pytest.raises(NotFoundError):
        await client.events.get_export(job_uuid)  # nothing exported yet
    with pytest.raises(ValueError, match="wildcards"):
        await client.events.export(job_uuid, ["event.*"])
    key = emu.add_api_key(permissions=["View events"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        assert [f async for f in restricted.events.fields(job_uuid, max_items=1)]
        with pytest.raises(PermissionDeniedError):
            await restricted.events.start_export(job_uuid, FIELDS)


@pytest.mark.anyio
async def test_gzip_inflation_check_is_automatic_only_without_content_length(
    client: SekoiaClient, files: tuple[FileServer, str], tmp_path: Path
) -> None:
    server, base = files
    target = tmp_path / "half.jsonl.gz"
    # With a Content-Length the size check is enough by default (inflating costs CPU)...
    size = await client.events.download_export(f"{base}/sized-half.jsonl.gz", target)
    assert size == len(server.body) // 2
    # ...and verify=True inflates anyway, catching a file that was bad at the source.
    with pytest.raises(APIResponseValidationError, match="cut short"):
        await client.events.download_export(f"{base}/sized-half.jsonl.gz", target, verify=True)
    assert target.stat().st_size == size  # the earlier complete download is kept


@pytest.mark.anyio
async def test_cancelling_a_download_removes_the_partial_file(
    client: SekoiaClient, files: tuple[FileServer, str], tmp_path: Path
) -> None:
    server, base = files
    server.body = gzip.compress(random.Random(0).randbytes(3 << 20), compresslevel=1)
    target = tmp_path / "out.jsonl.gz"
    on_disk: list[list[str]] = []
    with anyio.CancelScope() as scope:

        def progress(written: int) -> None:
            # Called after the first 1 MiB reached the disk; the server then stalls.
            on_disk.append(os.listdir(tmp_path))
            scope.cancel()

        await client.events.download_export(f"{base}/stall.jsonl.gz", target, progress=progress)
    assert scope.cancelled_caught
    assert on_disk == [["out.jsonl.gz.part"]]
    assert os.listdir(tmp_path) == []


@pytest.mark.anyio
async def test_cancelling_export_while_polling_stops_all_requests(
    client: SekoiaClient, emu: SekoiaEmulator
) -> None:
    job_uuid = await _job(client)
    with anyio.CancelScope() as scope:
        # Cancelled from the first progress report: the task is still PENDING.
        await client.events.export(job_uuid, FIELDS, poll=FAST, progress=lambda _: scope.cancel())
    assert scope.cancelled_caught
    sent = client.stats.requests
    await anyio.wait_all_tasks_blocked()
    assert client.stats.requests == sent  # nothing kept polling in the background
    # GET job, POST export, GET task: the cancellation landed at the first poll.
    assert sent == 4  # plus the job creation


@pytest.mark.anyio
async def test_export_survives_server_errors_while_polling(
    emu: SekoiaEmulator, clock: VirtualClock, tmp_path: Path
) -> None:
    retry = RetryPolicy(max_retries=6, backoff_base=0.001, backoff_max=0.01)
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, retry=retry) as client:
        job_uuid = await _job(client)
        emu.faults = Faults(error_rate=0.4, endpoints={"tasks.get", "events.jobs.get"}, seed=2)
        export = await client.events.export(
            job_uuid, FIELDS, poll=FAST, progress=lambda _: clock.advance(25)
        )
        assert export.task.succeeded
        assert client.stats.retries > 0
        emu.faults = Faults()
        await export.download_to(tmp_path / "e.jsonl.gz")
    rows = gzip.decompress((tmp_path / "e.jsonl.gz").read_bytes()).splitlines()
    assert len(rows) == EVENTS


@pytest.mark.anyio
async def test_reading_an_export_without_a_file(
    client: SekoiaClient, emu: SekoiaEmulator, clock: VirtualClock
) -> None:
    job_uuid = await _job(client, "")
    export = await client.events.export(
        job_uuid, FIELDS, poll=FAST, progress=lambda _: clock.advance(60)
    )
    async with export.events() as events:
        ids = [event["__event_id"] async for event in events]
        assert events.rows_read == EVENTS
    assert ids == emu.expected_event_ids("", "-30d", "now")
    async with export.events() as events:
        async for event in events:
            assert set(event) <= set(FIELDS)
            break  # leaving early closes the download


@pytest.mark.anyio
async def test_reading_a_cut_export_raises_at_the_end(
    client: SekoiaClient, files: tuple[FileServer, str]
) -> None:
    _, base = files
    async with client.events.read_export(f"{base}/whole.jsonl.gz") as events:
        assert len([e async for e in events]) == 20_000
    read: list[dict[str, object]] = []

    async def read_all() -> None:
        async with client.events.read_export(f"{base}/cut.jsonl.gz") as events:
            async for event in events:
                read.append(event)

    with pytest.raises(APIResponseValidationError, match="cut short"):
        await read_all()
    # Complete lines before the cut are delivered; the error comes where the data ends.
    assert 0 < len(read) < 20_000
