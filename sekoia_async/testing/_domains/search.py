"""Emulated event search: jobs, events pages, field statistics, bulk export and tasks.

Job lifecycle on the emulator clock (``job_run_time`` seconds, times ``Faults.job_slowdown``):
status 0 for the first fifth, then 1, then terminal (2 done, 3 canceled, 4 failed). The creation
response always shows status 0, as the real API does; with ``job_run_time=0`` the first poll
already sees the terminal status. Results are computed once, when first needed, and kept for
``results_ttl`` seconds after the job ends; reads after that are 404 ("... expired").

Events pages are newest first and encoded once: an LRU of encoded pages keyed by
(job, offset, limit) serves repeated reads (retries, several consumers) without re-encoding.
"""

from __future__ import annotations

import json
import secrets
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import anyio
import attrs
from aiohttp import web

from ..._times import format_time, parse_time
from .._core import CoreContext, get_core
from .._events import ResultSet
from .._faults import fault_roll
from .._query import Accessor, Query, QuerySyntaxError, compile_query
from .._routing import (
    ApiError,
    ApiKey,
    EmulatorState,
    Route,
    StreamedBody,
    get_key,
    json_response,
    read_json,
)
from .._seed import seeded_uuid

__all__ = ["DEFAULT_PAGE_CACHE_MB", "PUBLIC_ENDPOINTS", "SearchJob", "SearchStore", "routes"]

JOBS = "/v1/sic/conf/events/search/jobs"
MAX_PAGE = 1000
DEFAULT_PAGE = 100
MAX_EXPORTS_PER_JOB = 10
DEFAULT_PAGE_CACHE_MB = 64.0


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def _iso(ts: float) -> str:
    return format_time(datetime.fromtimestamp(ts, tz=timezone.utc))


def _us(dt: datetime) -> int:
    return (dt - _EPOCH) // timedelta(microseconds=1)  # exact, unlike float timestamps


@attrs.define(eq=False)
class SearchJob:
    uuid: str
    body: dict[str, Any]
    lo_us: int
    hi_us: int
    created_at: float
    run_time: float
    results_ttl: int
    max_last_events: int | None
    created_by: str
    community_uuids: list[str]
    owner_community: str  # the creating key's community, which the job quota counts against
    fate: str  # "done" | "failed" | "canceled"
    message: str | None
    query: Query | None
    results: ResultSet | None = None
    total: int = 0
    lock: anyio.Lock = attrs.field(factory=anyio.Lock)
    reads: int = 0
    forced_expired: bool = False
    exports: list[str] = attrs.field(factory=list)

    @property
    def started_at(self) -> float:
        return self.created_at + self.run_time / 5

    @property
    def ended_at(self) -> float:
        return self.created_at + self.run_time

    def status(self, now: float) -> int:
        if now < self.started_at:
            return 0
        if now < self.ended_at:
            return 1
        return {"done": 2, "canceled": 3, "failed": 4}[self.fate]

    def expired(self, now: float) -> bool:
        return self.forced_expired or (
            self.status(now) >= 2 and now >= self.ended_at + self.results_ttl
        )


@attrs.define(eq=False)
class ExportTask:
    uuid: str
    job_uuid: str
    fields: list[str] | None
    to_s3: bool
    created_at: float
    duration: float
    total: int
    token: str
    created_by: str


@attrs.define(eq=False)
class SearchStore:
    jobs: dict[str, SearchJob] = attrs.field(factory=dict)
    tasks: dict[str, ExportTask] = attrs.field(factory=dict)
    pages: OrderedDict[tuple[str, int, int], bytes] = attrs.field(factory=OrderedDict)
    page_bytes: int = 0
    page_cache_bytes: int = int(DEFAULT_PAGE_CACHE_MB * 1024 * 1024)
    export_rate: float = 1_000_000.0  # events exported per second of the emulator clock
    job_count: int = 0


def get_store(state: EmulatorState) -> SearchStore:
    store: SearchStore = state.stores["search"]
    return store


def _key_scope(core: CoreContext, key: ApiKey) -> list[str]:
    """Communities a key may search: a parent community's key also sees its sub-communities."""
    scope = [key.community_uuid]
    for community in core.state.communities:
        if community.get("parent_community_uuid") == key.community_uuid:
            scope.append(community["uuid"])
    return scope


_FILTER_OPERATORS = ("=", "!=", "contains", "in")


def _filters_predicate(filters: Any) -> Query | None:
    if filters is None:
        return None
    if not isinstance(filters, list):
        raise ApiError(
            400, "Invalid parameters: filters must be a list of {field, operator, value}"
        )
    checks: list[Callable[[Accessor], bool]] = []
    for item in filters:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise ApiError(400, "Invalid parameters: each filter needs a field name")
        if item.get("disabled"):
            continue
        field, op, value = item["field"], item.get("operator", "="), item.get("value")
        if op not in _FILTER_OPERATORS:
            raise ApiError(
                400, f"Invalid parameters: filter operator {op!r} is not one of {_FILTER_OPERATORS}"
            )
        excluded = bool(item.get("excluded"))
        checks.append(_filter_check(field, op, value, excluded))
    if not checks:
        return None
    return lambda get: all(check(get) for check in checks)


def _filter_check(field: str, op: str, value: Any, excluded: bool) -> Callable[[Accessor], bool]:
    wanted = [str(v) for v in value] if isinstance(value, list) else [str(value)]

    def values(get: Accessor) -> list[str]:
        v = get(field)
        if v is None:
            return []
        return [str(x) for x in v] if isinstance(v, list) else [str(v)]

    def check(get: Accessor) -> bool:
        have = values(get)
        if op == "contains":
            hit = any(w in h for h in have for w in wanted)
        elif op == "!=":
            hit = not any(h in wanted for h in have)
        else:
            hit = any(h in wanted for h in have)
        return hit != excluded

    return check


def _combine(*parts: Query | None) -> Query | None:
    real = [p for p in parts if p is not None]
    if not real:
        return None
    if len(real) == 1:
        return real[0]
    return lambda get: all(p(get) for p in real)


def _parse_window(body: dict[str, Any], now: float) -> tuple[int, int]:
    when = datetime.fromtimestamp(now, tz=timezone.utc)
    bounds = []
    for name, default in (("earliest_time", "-1d"), ("latest_time", "now")):
        raw = body.get(name, default)
        if not isinstance(raw, str):
            raise ApiError(400, f"Invalid parameters: {name} must be a string, got {raw!r}")
        try:
            bounds.append(parse_time(raw, now=when))
        except ValueError as exc:
            raise ApiError(400, f"Invalid parameters: {name}: {exc}") from None
    if bounds[0] > bounds[1]:
        raise ApiError(400, "Invalid parameters: earliest_time is after latest_time")
    return _us(bounds[0]), _us(bounds[1])


def _job_json(job: SearchJob, now: float, *, fresh: bool = False) -> dict[str, Any]:
    status = 0 if fresh else job.status(now)
    done = status >= 2
    total = job.total if status == 2 else 0
    body = job.body
    return {
        "uuid": job.uuid,
        "status": status,
        "total": total,
        "term": body.get("term", ""),
        "term_lang": body.get("term_lang", "dork"),
        "filters": body.get("filters") or [],
        "community_uuids": body.get("community_uuids") or [],
        "earliest_time": body.get("earliest_time", "-1d"),
        "latest_time": body.get("latest_time", "now"),
        "created_at": _iso(job.created_at),
        "started_at": _iso(job.started_at) if status >= 1 else None,
        "ended_at": _iso(job.ended_at) if done else None,
        "created_by": job.created_by,
        "created_by_type": "apikey",
        "canceled_at": _iso(job.ended_at) if status == 3 else None,
        "canceled_by": job.created_by if status == 3 else None,
        "canceled_by_type": "apikey" if status == 3 else None,
        "message": job.message if status in (3, 4) else None,
        "results_ttl": job.results_ttl,
        "expiration_date": _iso(job.ended_at + job.results_ttl) if done else None,
        "expired": job.expired(now),
        "view_uuid": None,
        "only_eternal": bool(body.get("only_eternal", False)),
        "max_last_events": job.max_last_events,
        "date_field": None,
        "visible": bool(body.get("visible", False)),
        # The UI's mini histogram; the emulator reports the total and no alerts or cases.
        "short_histogram": (
            {
                "total": total,
                "alerts": 0,
                "cases": 0,
                "earliest_time": body.get("earliest_time", "-1d"),
                "length": 0,
            }
            if status == 2
            else None
        ),
    }


def _optional_int(body: dict[str, Any], name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ApiError(400, f"Invalid parameters: {name} must be a positive integer")
    return value


def routes(state: EmulatorState) -> list[Route]:
    core = get_core(state)
    store: SearchStore = state.stores.setdefault("search", SearchStore())

    async def create_job(request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid parameters: the body must be a JSON object")
        key = get_key(request)
        now = state.now()
        term = body.get("term", "")
        if not isinstance(term, str):
            raise ApiError(400, "Invalid parameters: term must be a string")
        lang = body.get("term_lang", "dork")
        if lang not in ("dork", "es-query-string"):
            raise ApiError(
                400, f"Invalid parameters: term_lang {lang!r} is not supported (use dork)"
            )
        lo_us, hi_us = _parse_window(body, now)
        max_last = _optional_int(body, "max_last_events")
        ttl = _optional_int(body, "results_ttl") or core.results_ttl
        scope = _key_scope(core, key)
        wanted = body.get("community_uuids")
        if wanted is None or wanted == []:
            communities = scope
        elif not isinstance(wanted, list) or not all(isinstance(c, str) for c in wanted):
            raise ApiError(400, "Invalid parameters: community_uuids must be a list of UUIDs")
        else:
            outside = [c for c in wanted if c not in scope]
            if outside:
                raise ApiError(403, f"The API key has no access to community {outside[0]}")
            communities = list(wanted)
        filters = _filters_predicate(body.get("filters"))
        quota = core.faults.max_running_jobs
        if quota is not None and core.faults.applies_to("events.jobs.create"):
            running = sum(
                1
                for other in store.jobs.values()
                if other.owner_community == key.community_uuid and other.status(now) in (0, 1)
            )
            if running >= quota:
                core.stats.faults["max_running_jobs"] += 1
                raise ApiError(
                    429,
                    f"Too many search jobs running for this community ({running}, at most "
                    f"{quota}): wait for one to finish, then retry",
                )
        message: str | None = None
        fate = "done"
        query: Query | None = None
        try:
            query = compile_query(term) if term.strip() else None
        except QuerySyntaxError as exc:
            fate, message = "failed", f"Invalid query: {exc}"
        store.job_count += 1
        number = store.job_count
        faults = core.faults
        seed = faults.seed if faults.seed is not None else state.seed
        if fate == "done" and faults.applies_to("events.jobs.create"):
            if faults.job_fail_rate and fault_roll(seed, number, 11) < faults.job_fail_rate:
                fate, message = "failed", "The search failed on the server (injected fault)"
            elif faults.job_cancel_rate and fault_roll(seed, number, 12) < faults.job_cancel_rate:
                fate, message = "canceled", "The search job was canceled (injected fault)"
        all_communities = {c["uuid"] for c in state.communities}
        community_filter: Query | None = None
        if set(communities) != all_communities:
            allowed = frozenset(communities)
            community_filter = lambda get: get("sekoiaio.customer.community_uuid") in allowed  # noqa: E731
        job = SearchJob(
            uuid=seeded_uuid(core.rng),
            body=body,
            lo_us=lo_us,
            hi_us=hi_us,
            created_at=now,
            run_time=core.job_run_time * faults.job_slowdown,
            results_ttl=ttl,
            max_last_events=max_last,
            created_by=key.uuid,
            community_uuids=communities,
            owner_community=key.community_uuid,
            fate=fate,
            message=message,
            query=_combine(query, filters, community_filter),
        )
        store.jobs[job.uuid] = job
        for old in store.jobs.values():
            if old.results is not None and old.expired(now):
                release(old)
        return json_response(_job_json(job, now, fresh=True))

    def find(request: web.Request) -> SearchJob:
        job = store.jobs.get(request.match_info["uuid"])
        if job is None:
            raise ApiError(404, f"Search job {request.match_info['uuid']} not found")
        return job

    async def results_of(job: SearchJob) -> ResultSet:
        # Computed once, then a snapshot: events added later never shift a job's pages.
        async with job.lock:
            if job.results is None:
                events = core.events
                limits = [n for n in (job.max_last_events, core.max_job_total) if n is not None]
                limit = min(limits) if limits else None
                query = job.query
                if query is None:
                    job.results = events.search(job.lo_us, job.hi_us, None, limit=limit)
                else:
                    # Matching reads every event of the window: off the event loop.
                    job.results = await anyio.to_thread.run_sync(
                        lambda: events.search(job.lo_us, job.hi_us, query, limit=limit)
                    )
                job.total = job.results.total
            return job.results

    async def get_job(request: web.Request) -> web.Response:
        job = find(request)
        now = state.now()
        if job.status(now) == 2 and not job.expired(now):
            await results_of(job)
        return json_response(_job_json(job, now))

    async def readable(request: web.Request) -> tuple[SearchJob, ResultSet]:
        job = find(request)
        now = state.now()
        status = job.status(now)
        if status in (0, 1):
            raise ApiError(
                400,
                f"Search job {job.uuid} is not done yet (status {status}): poll it until status 2",
            )
        if status != 2:
            raise ApiError(
                400, f"Search job {job.uuid} has no results (status {status}): {job.message}"
            )
        if job.expired(now):
            release(job)
            raise ApiError(404, f"Search job {job.uuid} has expired: create a new search job")
        return job, await results_of(job)

    def release(job: SearchJob) -> None:
        """Free an expired job's results and cached pages (its metadata stays readable)."""
        job.results = None
        for cache_key in [k for k in store.pages if k[0] == job.uuid]:
            store.page_bytes -= len(store.pages.pop(cache_key))

    async def events_page(request: web.Request) -> web.Response:
        job, results = await readable(request)
        limit, offset = _page_params(request)
        job.reads += 1
        after = core.faults.expire_after_reads
        if after is not None and job.reads > after and core.faults.applies_to("events.page"):
            job.forced_expired = True
            raise ApiError(404, f"Search job {job.uuid} has expired: create a new search job")
        cache_key = (job.uuid, offset, limit)
        body = store.pages.get(cache_key)
        if body is None:
            items = ",".join(results.page_json(offset, limit))
            body = f'{{"items":[{items}],"total":{results.total}}}'.encode()
            store.pages[cache_key] = body
            store.page_bytes += len(body)
            while store.page_bytes > store.page_cache_bytes and store.pages:
                _, evicted = store.pages.popitem(last=False)
                store.page_bytes -= len(evicted)
        else:
            store.pages.move_to_end(cache_key)
        return web.Response(body=body, content_type="application/json")

    async def fields(request: web.Request) -> web.Response:
        _, results = await readable(request)
        limit, offset = _page_params(request)
        sample = results.page(0, 1000)
        counts: dict[str, Counter[str]] = {}
        types: dict[str, str] = {}
        for event in sample:
            for name, value in event.items():
                if name == "__event_id":
                    continue
                for v in value if isinstance(value, list) else [value]:
                    counts.setdefault(name, Counter())[
                        json.dumps(v) if not isinstance(v, str) else v
                    ] += 1
                    kind = (
                        "number"
                        if isinstance(v, (int, float)) and not isinstance(v, bool)
                        else "string"
                    )
                    types.setdefault(name, kind)
        items = []
        for name in sorted(counts):
            top = counts[name].most_common(5)
            items.append(
                {
                    "name": name,
                    "display_name": name,
                    "description": "",
                    "value_type": types[name],
                    "most_common_values": [
                        {"name": value, "value": round(100.0 * n / len(sample), 2)}
                        for value, n in top
                    ],
                }
            )
        return json_response({"items": items[offset : offset + limit], "total": len(items)})

    async def export(request: web.Request) -> web.Response:
        body = await read_json(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid parameters: the body must be a JSON object")
        job, results = await readable(request)
        wanted = body.get("fields")
        if wanted is not None:
            if not isinstance(wanted, list) or not all(isinstance(f, str) and f for f in wanted):
                raise ApiError(400, "Invalid parameters: fields must be a list of field names")
            if any("*" in f for f in wanted):
                raise ApiError(
                    400, "Invalid parameters: wildcards are not supported in export fields"
                )
        if len(job.exports) >= MAX_EXPORTS_PER_JOB:
            raise ApiError(400, f"A search job can be exported at most {MAX_EXPORTS_PER_JOB} times")
        now = state.now()
        task = ExportTask(
            uuid=seeded_uuid(core.rng),
            job_uuid=job.uuid,
            fields=wanted,
            to_s3=isinstance(body.get("s3"), dict),
            created_at=now,
            duration=results.total / store.export_rate,
            total=results.total,
            token=secrets.token_urlsafe(16),
            created_by=get_key(request).uuid,
        )
        store.tasks[task.uuid] = task
        job.exports.append(task.uuid)
        return json_response({"task_uuid": task.uuid})

    def download_url(request: web.Request, task: ExportTask) -> str:
        base = f"{request.scheme}://{request.host}"
        return f"{base}/_emulator/exports/{task.uuid}.jsonl.gz?signature={task.token}"

    def task_json(request: web.Request, task: ExportTask) -> dict[str, Any]:
        now = state.now()
        elapsed = now - task.created_at
        if task.duration <= 0 or elapsed >= task.duration:
            status, progress = "FINISHED", task.total
        elif elapsed < task.duration / 10:
            status, progress = "PENDING", 0
        else:
            status, progress = "RUNNING", int(task.total * elapsed / task.duration)
        attributes: dict[str, Any] = {"job_uuid": task.job_uuid}
        if status == "FINISHED" and not task.to_s3:
            attributes["download_url"] = download_url(request, task)
        return {
            "uuid": task.uuid,
            "type": "events-export",
            "status": status,
            "progress": progress,
            "total": task.total,
            "attributes": attributes,
            "message": None,
            "created_at": _iso(task.created_at),
            "created_by": task.created_by,
            "created_by_type": "apikey",
            "ended_at": _iso(task.created_at + task.duration) if status == "FINISHED" else None,
        }

    async def get_task(request: web.Request) -> web.Response:
        task = store.tasks.get(request.match_info["uuid"])
        if task is None:
            raise ApiError(404, f"Task {request.match_info['uuid']} not found")
        return json_response(task_json(request, task))

    async def export_jobs(request: web.Request) -> web.Response:
        job = find(request)
        finished = [
            store.tasks[t]
            for t in job.exports
            if task_json(request, store.tasks[t])["status"] == "FINISHED"
        ]
        if not finished:
            raise ApiError(404, f"Search job {job.uuid} has no finished export")
        task = finished[-1]
        return json_response(
            {
                "download_url": None if task.to_s3 else download_url(request, task),
                "expire_at": _iso(task.created_at + task.duration + 86400),
                "exported_events_count": task.total,
                # Estimated from a typical 8:1 compression ratio of generated events.
                "export_size_compressed": task.total * 160,
                "format": "jsonl.gz",
            }
        )

    async def download(request: web.Request) -> web.StreamResponse:
        task = store.tasks.get(request.match_info["task"])
        if task is None or not secrets.compare_digest(
            request.query.get("signature", ""), task.token
        ):
            raise ApiError(403, "The download link is invalid or has expired")
        if task_json(request, task)["status"] != "FINISHED":
            raise ApiError(404, "The export is not finished yet")
        job = store.jobs[task.job_uuid]
        results = await results_of(job)
        response = StreamedBody(request, headers={"Content-Type": "application/gzip"})
        await response.prepare(request)
        compressor = zlib.compressobj(wbits=31)  # gzip container
        wanted = task.fields
        for offset in range(0, results.total, 1000):
            if wanted is None:
                lines = results.page_json(offset, 1000)
            else:
                lines = [
                    json.dumps({f: e[f] for f in wanted if f in e}, separators=(",", ":"))
                    for e in results.page(offset, 1000)
                ]
            chunk = compressor.compress(("\n".join(lines) + "\n").encode())
            if chunk:
                await response.write(chunk)
            if response.cut:  # an injected fault ended the body
                break
        await response.write(compressor.flush())
        await response.write_eof()
        return response

    return [
        Route("POST", JOBS, create_job, "View events", "events.jobs.create"),
        Route("GET", JOBS + "/{uuid}", get_job, "View events", "events.jobs.get"),
        Route("GET", JOBS + "/{uuid}/events", events_page, "View events", "events.page"),
        Route("GET", JOBS + "/{uuid}/fields", fields, "View events", "events.fields"),
        Route("POST", JOBS + "/{uuid}/export", export, "Massive export of events", "events.export"),
        Route(
            "GET",
            JOBS + "/{uuid}/export-jobs",
            export_jobs,
            "Massive export of events",
            "events.export_jobs",
        ),
        Route("GET", "/v1/tasks/{uuid}", get_task, None, "tasks.get"),
        # A pre-signed download link: served without an API key (see PUBLIC_ENDPOINTS).
        Route(
            "GET", "/_emulator/exports/{task}.jsonl.gz", download, None, "events.export.download"
        ),
    ]


PUBLIC_ENDPOINTS = frozenset({"events.export.download"})


def _page_params(request: web.Request) -> tuple[int, int]:
    try:
        limit = int(request.query.get("limit", DEFAULT_PAGE))
        offset = int(request.query.get("offset", 0))
    except ValueError:
        raise ApiError(400, "Invalid parameters: limit and offset must be integers") from None
    if not 1 <= limit <= MAX_PAGE:
        raise ApiError(400, f"Invalid parameters: limit must be between 1 and {MAX_PAGE}")
    if offset < 0:
        raise ApiError(400, "Invalid parameters: offset must be >= 0")
    return limit, offset
