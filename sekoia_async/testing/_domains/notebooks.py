"""Emulated SOL query runs: POST /v1/notebooks/queries/runs, poll, download jsonl|csv.

Runs follow the same clock as search jobs (``job_run_time``): ``pending`` for the first fifth,
then ``running``, then ``done`` (or ``error`` for a query outside the supported SOL subset, see
``_sol``). Errors use FastAPI's ``{"detail": ...}`` shape, as the real notebooks service does;
an empty result downloads as 404 ``{"detail": {"code": "NO_RESULTS"}}``.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import attrs
from aiohttp import web

from ..._times import format_time, parse_time
from .._core import get_core
from .._routing import EmulatorState, Route, get_key, json_response, read_json
from .._seed import seeded_uuid
from .._sol import SolQuery, SolSyntaxError, parse_sol
from .search import _key_scope

__all__ = ["routes"]

RUNS = "/v1/notebooks/queries/runs"
MAX_ROWS = 10_000  # SOL's default internal_fetch_limit


@attrs.define(eq=False)
class QueryRun:
    uuid: str
    task_id: str
    ql_query: str
    created_at: float
    run_time: float
    lo_us: int
    hi_us: int
    communities: frozenset[str]
    query: SolQuery | None
    error: str | None
    created_by: str
    rows: list[dict[str, Any]] | None = None

    def status(self, now: float) -> str:
        if now < self.created_at + self.run_time / 5:
            return "pending"
        if now < self.created_at + self.run_time:
            return "running"
        return "error" if self.error is not None else "done"


def _detail(status: int, detail: Any) -> web.Response:
    return json_response({"detail": detail}, status=status)


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _iso(ts: float) -> str:
    return format_time(datetime.fromtimestamp(ts, tz=timezone.utc))


def _us(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(microseconds=1)  # exact, unlike float timestamps


def routes(state: EmulatorState) -> list[Route]:
    core = get_core(state)
    runs: dict[str, QueryRun] = state.stores.setdefault("notebooks", {})

    async def create_run(request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            return _detail(422, [{"loc": ["body"], "msg": "a JSON object is required"}])
        if body.get("query_uuid") and not body.get("query_definition"):
            return _detail(404, {"code": "QUERY_NOT_FOUND", "message": "no saved queries here"})
        definition = body.get("query_definition")
        ql = definition.get("ql_query") if isinstance(definition, dict) else None
        if not isinstance(ql, str) or not ql.strip():
            return _detail(
                422,
                [{"loc": ["body", "query_definition", "ql_query"], "msg": "field required"}],
            )
        now = state.now()
        when = datetime.fromtimestamp(now, tz=timezone.utc)
        params = body.get("query_parameters") or {}
        window = params.get("time") if isinstance(params, dict) else None
        window = window if isinstance(window, dict) else {}
        try:
            lo = parse_time(window.get("earliest", "-1d"), now=when)
            hi = parse_time(window.get("latest", "now"), now=when)
        except ValueError as exc:
            return _detail(422, [{"loc": ["body", "query_parameters", "time"], "msg": str(exc)}])
        scope = _key_scope(core, get_key(request))
        wanted = definition.get("community_uuids") if isinstance(definition, dict) else None
        communities = frozenset(wanted) & frozenset(scope) if wanted else frozenset(scope)
        query: SolQuery | None = None
        error: str | None = None
        try:
            query = parse_sol(ql, now=when)
        except SolSyntaxError as exc:
            error = f"Invalid SOL query: {exc}"
        run = QueryRun(
            uuid=seeded_uuid(core.rng),
            task_id=seeded_uuid(core.rng),
            ql_query=ql,
            created_at=now,
            run_time=core.job_run_time * core.faults.job_slowdown,
            lo_us=_us(lo),
            hi_us=_us(hi),
            communities=communities,
            query=query,
            error=error,
            created_by=get_key(request).uuid,
        )
        runs[run.uuid] = run
        return json_response({"uuid": run.uuid, "task_id": run.task_id})

    async def rows_of(run: QueryRun) -> list[dict[str, Any]]:
        if run.rows is None:
            query = run.query
            assert query is not None
            events = core.events
            everything = frozenset(c["uuid"] for c in state.communities)
            communities = run.communities
            leading = query.leading_filter()

            def prefilter(get: Any) -> bool:
                if communities != everything and (
                    get("sekoiaio.customer.community_uuid") not in communities
                ):
                    return False
                return leading is None or bool(leading(get))

            def compute() -> list[dict[str, Any]]:
                results = events.search(run.lo_us, run.hi_us, prefilter)
                return query.run(iter(results), max_rows=MAX_ROWS, prefiltered=True)

            run.rows = await anyio.to_thread.run_sync(compute)
        return run.rows

    def find(request: web.Request) -> QueryRun | None:
        return runs.get(request.match_info["uuid"])

    async def get_run(request: web.Request) -> web.Response:
        run = find(request)
        if run is None:
            return _detail(404, {"code": "NOT_FOUND", "message": "no such query run"})
        now = state.now()
        status = run.status(now)
        rows = await rows_of(run) if status == "done" else None
        return json_response(
            {
                "uuid": run.uuid,
                "task_id": run.task_id,
                "status": status,
                "error": run.error if status == "error" else None,
                "ql_query": run.ql_query,
                "created_at": _iso(run.created_at),
                "created_by": run.created_by,
                "created_by_type": "apikey",
                "started_at": _iso(run.created_at + run.run_time / 5)
                if status != "pending"
                else None,
                "ended_at": _iso(run.created_at + run.run_time)
                if rows is not None or run.error
                else None,
                "total_rows": len(rows) if rows is not None else None,
            }
        )

    async def download(request: web.Request) -> web.Response:
        run = find(request)
        if run is None:
            return _detail(404, {"code": "NOT_FOUND", "message": "no such query run"})
        fmt = request.query.get("download_format", "jsonl")
        if fmt not in ("jsonl", "csv"):
            return _detail(422, [{"loc": ["query", "download_format"], "msg": "use jsonl or csv"}])
        status = run.status(state.now())
        if status != "done":
            return _detail(
                400, {"code": "RUN_NOT_DONE", "message": f"the run is {status}: poll it until done"}
            )
        rows = await rows_of(run)
        if not rows:
            return _detail(404, {"code": "NO_RESULTS"})
        if fmt == "jsonl":
            text = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
            return web.Response(text=text, content_type="application/x-ndjson")
        columns: dict[str, None] = {}
        for row in rows:
            columns.update(dict.fromkeys(row))
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()}
            )
        return web.Response(text=out.getvalue(), content_type="text/csv")

    return [
        Route("POST", RUNS, create_run, "Use notebooks", "notebooks.runs.create"),
        Route("GET", RUNS + "/{uuid}", get_run, "Use notebooks", "notebooks.runs.get"),
        Route(
            "GET", RUNS + "/{uuid}/download", download, "Use notebooks", "notebooks.runs.download"
        ),
    ]
