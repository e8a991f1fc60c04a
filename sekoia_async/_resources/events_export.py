"""Search-job field statistics and the server-side bulk export of a search job's events.

Export flow: ``POST .../jobs/{uuid}/export`` starts a task; ``GET /v1/tasks/{task}`` is polled
with backoff until it finishes; the task (or ``GET .../jobs/{uuid}/export-jobs``) gives a
pre-signed URL of a ``jsonl.gz`` file, streamed to disk by ``download_to`` without ever holding
the file in memory.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from typing import Any

import anyio
import attrs

from .._helpers.gzip_lines import GzipCheck, JsonLinesDecoder
from .._helpers.pagination import AsyncPager
from .._helpers.polling import ProgressCallback, notify, poll_until_done
from .._helpers.search.policy import PollPolicy
from .._models._converter import structure
from .._models.exports import EventField, ExportJob, S3Destination
from .._models.tasks import Task, redact_url
from .._transport.paths import quote_path_param
from ..errors import (
    APIResponseValidationError,
    SearchJobCanceled,
    SearchJobExpired,
    SearchJobFailed,
)
from ._base import Resource
from ._listing import HasUuid, offset_pager, uuid_of
from .tasks import DEFAULT_TASK_MAX_WAIT, TasksResource

__all__ = ["EventsExport", "EventsExportMixin", "ExportRows", "export_body"]

_JOBS = "/v1/sic/conf/events/search/jobs"
_FIELDS_MAX_LIMIT = 1000
_WRITE_SIZE = 1 << 20  # write to disk in ~1 MiB blocks: fewer thread hops per byte


def export_body(
    fields: Sequence[str], s3: S3Destination | Mapping[str, Any] | None
) -> dict[str, Any]:
    """The export request body; ValueError for what the API refuses (no fields, wildcards)."""
    if isinstance(fields, str) or not fields:
        raise ValueError(
            "fields must be a non-empty list of field names, e.g. ['timestamp', 'message']"
        )
    for name in fields:
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"field names must be non-empty strings, got {name!r}")
        if "*" in name:
            raise ValueError(
                f"field {name!r}: the export API does not expand wildcards; list the fields "
                "explicitly (client.events.fields(job_uuid) lists those present)"
            )
    body: dict[str, Any] = {"fields": list(fields)}
    if s3 is not None:
        body["s3"] = s3.to_json() if isinstance(s3, S3Destination) else dict(s3)
    return body


class ExportRows:
    """The events of an export file, decoded as the download arrives (never held whole).

    ``rows_read`` counts the events yielded so far.
    """

    def __init__(self, chunks: AsyncIterator[bytes]) -> None:
        self.rows_read = 0
        self._chunks = chunks
        self._decoder = JsonLinesDecoder()
        self._lines: Iterator[bytes] = iter(())
        self._line_no = 0
        self._finished = False

    def __aiter__(self) -> ExportRows:
        return self

    async def __anext__(self) -> dict[str, Any]:
        while True:
            for line in self._lines:
                self._line_no += 1
                if line.strip():
                    return self._parse(line)
            if self._finished:
                raise StopAsyncIteration
            try:
                chunk = await self._chunks.__anext__()
            except StopAsyncIteration:
                self._finished = True
                self._lines = self._decoder.finish()
            else:
                self._lines = self._decoder.feed(chunk)

    def _parse(self, line: bytes) -> dict[str, Any]:
        try:
            row = json.loads(line)
        except ValueError:
            raise APIResponseValidationError(
                f"line {self._line_no} of the export file is not JSON; read it again",
                body=line[:200],
            ) from None
        self.rows_read += 1
        return row if isinstance(row, dict) else {"value": row}


@attrs.frozen
class EventsExport:
    """A finished bulk export: where it is, and how to fetch it.

    ``download_url`` is None when the export went to your own S3 bucket.
    """

    job_uuid: str
    task: Task
    download_url: str | None = attrs.field(repr=redact_url)
    _resource: EventsExportMixin = attrs.field(repr=False, eq=False, alias="resource")

    async def download_to(
        self,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        verify: bool | None = None,
    ) -> int:
        """Stream the ``jsonl.gz`` file to ``path``; return the number of bytes written.

        See ``client.events.download_export`` for ``progress`` and ``verify``.
        """
        if self.download_url is None:
            raise ValueError(
                f"the export of job {self.job_uuid} has no download URL (it was sent to your "
                "S3 bucket); read it from the bucket instead"
            )
        return await self._resource.download_export(
            self.download_url, path, progress=progress, verify=verify
        )

    def events(self) -> contextlib.AbstractAsyncContextManager[ExportRows]:
        """Read the exported events without writing a file: ``async with export.events() as ev``."""
        if self.download_url is None:
            raise ValueError(
                f"the export of job {self.job_uuid} has no download URL (it was sent to your "
                "S3 bucket); read it from the bucket instead"
            )
        return self._resource.read_export(self.download_url)


class EventsExportMixin(Resource):
    """Field statistics and bulk export of search jobs; a base of ``client.events``."""

    __slots__ = ()

    def fields(
        self, job: HasUuid | str, *, limit: int = _FIELDS_MAX_LIMIT, max_items: int | None = None
    ) -> AsyncPager[EventField]:
        """The fields of a finished search job's events, with their most common values.

        ``job`` is a ``SearchJob`` or its uuid (likewise for the export methods).
        """
        return offset_pager(
            self._client,
            f"{_JOBS}/{quote_path_param(uuid_of(job))}/fields",
            EventField,
            limit=limit,
            max_limit=_FIELDS_MAX_LIMIT,
            max_items=max_items,
        )

    async def start_export(
        self,
        job: HasUuid | str,
        fields: Sequence[str],
        *,
        s3: S3Destination | Mapping[str, Any] | None = None,
    ) -> str:
        """Start a bulk export of a finished search job; return the export task's uuid."""
        job_uuid = uuid_of(job)
        data = await self._client.request(
            "POST",
            f"{_JOBS}/{quote_path_param(job_uuid)}/export",
            json=export_body(fields, s3),
        )
        task_uuid = data.get("task_uuid") if isinstance(data, dict) else None
        if not isinstance(task_uuid, str) or not task_uuid:
            raise APIResponseValidationError(
                f"the export of search job {job_uuid} was accepted but no task_uuid came back",
                body=data,
            )
        return task_uuid

    async def get_export(self, job: HasUuid | str) -> ExportJob:
        """The latest export of a search job (download URL, expiry, size, event count)."""
        job_uuid = uuid_of(job)
        data = await self._client.request(
            "GET", f"{_JOBS}/{quote_path_param(job_uuid)}/export-jobs"
        )
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            # Tolerate a list envelope: the newest export is the one just made.
            if not data["items"]:
                raise APIResponseValidationError(
                    f"search job {job_uuid} has no export yet: start one with export()",
                    body=data,
                )
            data = data["items"][0]
        return structure(data, ExportJob)

    async def export(
        self,
        job: HasUuid | str,
        fields: Sequence[str],
        *,
        s3: S3Destination | Mapping[str, Any] | None = None,
        poll: PollPolicy | None = None,
        max_wait: float | None = DEFAULT_TASK_MAX_WAIT,
        progress: ProgressCallback | None = None,
    ) -> EventsExport:
        """Export a search job's events server-side and wait for the file.

        Waits for the job to be done first, so it can follow ``create_search_job``.
        ``progress`` (sync or async) is called with each observed ``Task`` (``progress`` out
        of ``total`` events). Raises SearchJobFailed/SearchJobCanceled/SearchJobExpired if
        the job cannot be exported, OperationFailed if the export fails, OperationTimeout
        after ``max_wait`` seconds.
        """
        export_body(fields, s3)  # refuse bad arguments before any request
        job_uuid = uuid_of(job)
        policy = poll or PollPolicy()
        deadline = None if max_wait is None else anyio.current_time() + max_wait
        await self._wait_search_job(job_uuid, policy, max_wait)
        task_uuid = await self.start_export(job_uuid, fields, s3=s3)
        remaining = None if deadline is None else max(0.0, deadline - anyio.current_time())
        task = await TasksResource(self._client).wait(
            task_uuid, poll=policy, max_wait=remaining, progress=progress
        )
        url = task.download_url
        if url is None and s3 is None:
            url = (await self.get_export(job_uuid)).download_url
            if url is None:
                raise APIResponseValidationError(
                    f"the export of search job {job_uuid} finished without a download URL",
                    body=task.raw,
                )
        return EventsExport(job_uuid=job_uuid, task=task, download_url=url, resource=self)

    async def _wait_search_job(
        self, job_uuid: str, policy: PollPolicy, max_wait: float | None
    ) -> None:
        # An export needs a done job; waiting here lets export() follow create_search_job().
        path = f"{_JOBS}/{quote_path_param(job_uuid)}"

        async def fetch() -> dict[str, Any]:
            data = await self._client.request("GET", path)
            return data if isinstance(data, dict) else {}

        job = await poll_until_done(
            fetch,
            lambda j: j.get("status") not in (0, 1),
            policy=policy,
            max_wait=max_wait,
            what="search job",
            operation_uuid=job_uuid,
        )
        status = job.get("status")
        if status == 3:
            raise SearchJobCanceled(
                f"search job {job_uuid} was canceled: nothing to export; create it again",
                job_uuid=job_uuid,
            )
        if status == 4:
            raise SearchJobFailed(
                f"search job {job_uuid} failed ({job.get('message') or 'no reason given'}): "
                "nothing to export; fix the query and create it again",
                job_uuid=job_uuid,
            )
        if job.get("expired"):
            raise SearchJobExpired(
                f"the results of search job {job_uuid} expired: create the job again, then export",
                job_uuid=job_uuid,
            )

    @contextlib.asynccontextmanager
    async def read_export(self, url: str) -> AsyncIterator[ExportRows]:
        """Stream the events of an export file (gzip or plain JSON lines) as dicts.

        ``async with client.events.read_export(url) as events: async for event in events:``.
        The download is closed when the block exits, even before the last event.
        """
        async with self._client.stream("GET", url) as response:
            chunks = response.iter_chunks()
            try:
                yield ExportRows(chunks)
            finally:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()

    async def download_export(
        self,
        url: str,
        path: str | os.PathLike[str],
        *,
        progress: ProgressCallback | None = None,
        verify: bool | None = None,
    ) -> int:
        """Stream an export file to ``path``; return the number of bytes written.

        The file is written to ``path + ".part"`` and renamed once complete, so ``path`` never
        holds a partial file. Completeness: the size must match ``Content-Length`` when the
        server sends one; ``verify`` also inflates the gzip stream to check that it is whole
        and uncorrupted (None, the default: only when there is no ``Content-Length``, since
        inflating costs CPU). ``progress`` gets the number of bytes written so far.
        """
        target = anyio.Path(path)
        partial = target.with_name(target.name + ".part")
        written = 0
        try:
            async with self._client.stream("GET", url) as response:
                length = response.headers.get("Content-Length")
                # aiohttp inflates a Content-Encoding body, so its length is not comparable.
                expected = (
                    int(length)
                    if length and length.isdigit() and "Content-Encoding" not in response.headers
                    else None
                )
                check = (
                    GzipCheck() if (verify if verify is not None else expected is None) else None
                )
                async with await anyio.open_file(partial, "wb") as out:
                    buffer = bytearray()
                    async for chunk in response.iter_chunks():
                        if check is not None:
                            check.feed(chunk)
                        buffer += chunk
                        if len(buffer) >= _WRITE_SIZE:
                            # The write completes before the buffer is reused: no copy needed.
                            await out.write(buffer)
                            written += len(buffer)
                            del buffer[:]
                            await notify(progress, written)
                    if buffer:
                        await out.write(buffer)
                        written += len(buffer)
            if expected is not None and written != expected:
                raise APIResponseValidationError(
                    f"the export download ended after {written} of {expected} bytes; "
                    "download it again"
                )
            if check is not None:
                check.finish()
            await partial.replace(target)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await partial.unlink(missing_ok=True)
            raise
        await notify(progress, written)
        return written
