"""SOL query runs: ``/v1/notebooks/queries/runs`` (create, poll, stream the JSON-lines rows)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from .._helpers.polling import OperationFailed, ProgressCallback, poll_until_done
from .._helpers.search.policy import PollPolicy
from .._models._converter import structure
from .._models.queries import QueryRun, QueryRunStatus
from .._times import parse_time
from .._transport.paths import quote_path_param
from ..errors import APIResponseValidationError, NotFoundError
from ._base import Resource
from ._listing import uuid_of

__all__ = ["DEFAULT_QUERY_MAX_WAIT", "QueriesResource", "QueryRows", "query_run_body"]

_RUNS = "/v1/notebooks/queries/runs"

#: Sekoia stops a SOL query after 10 minutes; the margin covers queueing before it starts.
DEFAULT_QUERY_MAX_WAIT = 15 * 60.0


def _time_text(name: str, value: str | datetime) -> str:
    # Validate before any request; relative strings are sent as given so the server resolves
    # them against its own clock.
    parse_time(value, now=datetime.now(timezone.utc))
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat()
    if not value.strip():
        raise ValueError(f"{name} must not be empty: use e.g. '-24h' or an ISO 8601 time")
    return value.strip()


def query_run_body(
    sol: str | None,
    earliest: str | datetime,
    latest: str | datetime,
    *,
    query_uuid: str | None = None,
    community_uuids: Sequence[str] | None = None,
    intake_uuids: Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The body of ``POST /v1/notebooks/queries/runs``: an inline SOL query or a saved one."""
    if (sol is None) == (query_uuid is None):
        raise ValueError("pass exactly one of sol (a SOL query text) or query_uuid (a saved query)")
    query_parameters: dict[str, Any] = dict(parameters or {})
    query_parameters["time"] = {
        "earliest": _time_text("earliest", earliest),
        "latest": _time_text("latest", latest),
    }
    body: dict[str, Any] = {"query_parameters": query_parameters}
    if query_uuid is not None:
        body["query_uuid"] = query_uuid
        return body
    assert sol is not None
    if not sol.strip():
        raise ValueError("sol is empty: pass a SOL query such as 'events | limit 10'")
    definition: dict[str, Any] = {"ql_query": sol}
    if community_uuids is not None:
        definition["community_uuids"] = list(community_uuids)
    if intake_uuids is not None:
        definition["intake_uuids"] = list(intake_uuids)
    body["query_definition"] = definition
    return body


class QueryRows:
    """The rows of a finished SOL run, decoded one JSON line at a time as they arrive.

    ``rows_read`` counts the rows yielded so far.
    """

    def __init__(self, run: QueryRun, lines: AsyncIterator[bytes] | None) -> None:
        self.run = run
        self.rows_read = 0
        self._lines = lines
        self._line_no = 0

    def __aiter__(self) -> QueryRows:
        return self

    async def __anext__(self) -> dict[str, Any]:
        if self._lines is None:
            raise StopAsyncIteration
        async for line in self._lines:
            self._line_no += 1
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                raise APIResponseValidationError(
                    f"line {self._line_no} of the results of SOL run {self.run.uuid} is not "
                    "JSON; the download was probably cut short: run the query again",
                    body=line[:200],
                ) from None
            self.rows_read += 1
            return row if isinstance(row, dict) else {"value": row}
        raise StopAsyncIteration


def _no_results(exc: NotFoundError) -> bool:
    body = exc.body
    detail = body.get("detail") if isinstance(body, dict) else None
    return isinstance(detail, dict) and detail.get("code") == "NO_RESULTS"


class QueriesResource(Resource):
    """``client.queries``: run SOL queries and stream their rows.

    ``async with client.queries.run("events | limit 10", "-1d", "now") as rows:``
    ``async for row in rows: ...``
    """

    __slots__ = ()

    async def create_run(
        self,
        sol: str | None = None,
        earliest: str | datetime = "-24h",
        latest: str | datetime = "now",
        *,
        query_uuid: str | None = None,
        community_uuids: Sequence[str] | None = None,
        intake_uuids: Sequence[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
    ) -> QueryRun:
        """Start a run of ``sol`` (or of the saved query ``query_uuid``) over a time window."""
        body = query_run_body(
            sol,
            earliest,
            latest,
            query_uuid=query_uuid,
            community_uuids=community_uuids,
            intake_uuids=intake_uuids,
            parameters=parameters,
        )
        data = await self._client.request("POST", _RUNS, json=body)
        return structure(data, QueryRun)

    async def get_run(self, run: QueryRun | str) -> QueryRun:
        """The current state of a run (by uuid, or a ``QueryRun`` seen earlier)."""
        run_uuid = uuid_of(run)
        data = await self._client.request("GET", f"{_RUNS}/{quote_path_param(run_uuid)}")
        if isinstance(data, dict) and not data.get("uuid"):
            # Some deployments omit the uuid in the run body; the caller asked for this one.
            data = {**data, "uuid": run_uuid}
        return structure(data, QueryRun)

    async def wait_run(
        self,
        run: QueryRun | str,
        *,
        poll: PollPolicy | None = None,
        max_wait: float | None = DEFAULT_QUERY_MAX_WAIT,
        progress: ProgressCallback | None = None,
    ) -> QueryRun:
        """Poll a run with backoff until it is done; OperationFailed if it ended in error."""
        run_uuid = uuid_of(run)
        run = await poll_until_done(
            lambda: self.get_run(run_uuid),
            lambda r: r.done,
            policy=poll or PollPolicy(),
            max_wait=max_wait,
            what="SOL query run",
            operation_uuid=run_uuid,
            on_update=progress,
        )
        if run.status != QueryRunStatus.DONE:
            raise OperationFailed(
                f"SOL query run {run_uuid} failed: "
                f"{run.error_message or 'the server gave no reason'}; "
                "fix the query and run it again",
                operation_uuid=run_uuid,
                status=run.status,
                state=run,
            )
        return run

    @contextlib.asynccontextmanager
    async def download(self, run: QueryRun | str) -> AsyncIterator[QueryRows]:
        """Stream the JSON-lines rows of a finished run (no rows: an empty iterator)."""
        if isinstance(run, str):
            run = structure({"uuid": run}, QueryRun)
        path = f"{_RUNS}/{quote_path_param(run.uuid)}/download"
        async with contextlib.AsyncExitStack() as stack:
            # Only the opening of the download may mean "no results"; an error raised by the
            # caller's own code inside the block must propagate untouched.
            try:
                response = await stack.enter_async_context(
                    self._client.stream("GET", path, params={"download_format": "jsonl"})
                )
            except NotFoundError as exc:
                if not _no_results(exc):
                    raise
                lines: AsyncIterator[bytes] | None = None
            else:
                lines = response.iter_lines()
                aclose = getattr(lines, "aclose", None)
                if aclose is not None:
                    # Close the line reader here, not at garbage collection, if the caller
                    # leaves the block before the last row.
                    stack.push_async_callback(aclose)
            yield QueryRows(run, lines)

    @contextlib.asynccontextmanager
    async def run(
        self,
        sol: str | None = None,
        earliest: str | datetime = "-24h",
        latest: str | datetime = "now",
        *,
        query_uuid: str | None = None,
        community_uuids: Sequence[str] | None = None,
        intake_uuids: Sequence[str] | None = None,
        parameters: Mapping[str, Any] | None = None,
        poll: PollPolicy | None = None,
        max_wait: float | None = DEFAULT_QUERY_MAX_WAIT,
        progress: ProgressCallback | None = None,
    ) -> AsyncIterator[QueryRows]:
        """Run a SOL query, wait for it, and stream its rows; the connection closes on exit."""
        created = await self.create_run(
            sol,
            earliest,
            latest,
            query_uuid=query_uuid,
            community_uuids=community_uuids,
            intake_uuids=intake_uuids,
            parameters=parameters,
        )
        finished = await self.wait_run(
            created.uuid, poll=poll, max_wait=max_wait, progress=progress
        )
        async with self.download(finished) as rows:
            yield rows
