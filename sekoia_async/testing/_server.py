"""The emulator's aiohttp server core and ``SekoiaEmulator``.

Every domain route is mounted twice (``/v1/...`` and ``/api/v1/...``) behind one wrapper that, in
order: applies latency, the WAF block, authentication (401), the rate limit (429), the
permission check (403) and the request's injected fault; then runs the handler. A middleware
renders ``ApiError``/404/405 as Sekoia's ``{"message": ...}`` body and records stats.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from types import TracebackType
from typing import Any

from aiohttp import web

from ._core import CoreContext, EmulatorStats, RequestRecord, get_core
from ._domains import (
    alerts,
    assets,
    cases,
    community,
    intakes,
    inthreat,
    notebooks,
    rules,
    search,
)
from ._domains._stores import sic_store
from ._events import AlertWindow, EventStore, parse_event_time
from ._faults import Faults, RateLimiter, WafTracker, decide, latency_seconds
from ._routing import (
    ALL_PERMISSIONS,
    KEY,
    PERMISSIONS,
    STATE_KEY,
    STREAM_FAULT,
    ApiError,
    ApiKey,
    EmulatorState,
    Handler,
    Route,
    json_response,
)
from ._seed import seed_state, seeded_uuid

__all__ = ["SekoiaEmulator", "build_app"]

log = logging.getLogger("sekoia_async.testing")

ENDPOINT: web.RequestKey[str] = web.RequestKey("sekoia_endpoint", str)
KEY_ID: web.RequestKey[str] = web.RequestKey("sekoia_key_id", str)
RESET: web.RequestKey[bool] = web.RequestKey("sekoia_reset", bool)

DOMAINS = (search, notebooks, alerts, cases, rules, community, intakes, assets, inthreat)


def _error_body(status: int, message: str, code: str | None = None) -> web.Response:
    body: dict[str, Any] = {"message": message}
    if code is not None:
        body["code"] = code
    return json_response(body, status=status)


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def _wrap(core: CoreContext, route: Route) -> Handler:
    def cut_stream(request: web.Request, kind: str) -> None:
        core.stats.faults[kind] += 1
        if kind == "reset_mid_body":
            request[RESET] = True
            if request.transport is not None:
                request.transport.abort()

    public = route.name in search.PUBLIC_ENDPOINTS
    state = core.state

    async def handler(request: web.Request) -> web.StreamResponse:
        request[ENDPOINT] = route.name
        number = core.next_request_number()
        faults = core.faults
        delay = latency_seconds(faults, state.seed, number, route.name)
        if delay > 0:
            await asyncio.sleep(delay)
        token = _bearer(request)
        key = core.api_keys.get(token) if token is not None else None
        if key is not None:
            request[KEY] = key
            request[KEY_ID] = key.uuid
        now = state.now()
        if key is not None and faults.applies_to(route.name):
            blocked = core.waf.check(key.uuid, faults, now)
            if blocked is not None:
                core.stats.faults["waf_block"] += 1
                return _error_body(429, "Too many requests: blocked by the WAF, retry later")
        if not public:
            if key is None:
                raise ApiError(401, "The token is invalid", code="T300")
            if faults.rate_limit is not None and faults.applies_to(route.name):
                wait = core.rate_limiter.acquire(key.uuid, faults.rate_limit, now)
                if wait is not None:
                    core.stats.faults["rate_limit"] += 1
                    response = _error_body(429, "Too many requests: slow down and retry later")
                    if faults.retry_after:
                        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
                    return response
            if route.permission is not None and route.permission not in key.permissions:
                raise ApiError(
                    403,
                    f"Insufficient permissions: this endpoint needs the “{route.permission}” "
                    "permission; add it to the API key",
                )
        decision = decide(faults, state.seed, number, route.name)
        if decision.kind == "reset":
            core.stats.faults["reset"] += 1
            request[RESET] = True
            if request.transport is not None:
                request.transport.abort()
            raise web.HTTPServiceUnavailable()  # never reaches the client: the socket is gone
        if decision.kind == "error":
            core.stats.faults["error"] += 1
            return _error_body(decision.status, "Injected server error (emulator fault)")
        if decision.kind in ("reset_mid_body", "truncate"):
            request[STREAM_FAULT] = (decision.kind, lambda: cut_stream(request, decision.kind))
        result = await route.handler(request)
        if decision.kind == "ok" or not isinstance(result, web.Response):
            return result  # a StreamedBody applied the body fault itself
        response = result
        body = response.body if isinstance(response.body, bytes) else b""
        if decision.kind == "truncate":
            core.stats.faults["truncate"] += 1
            response.body = body[: len(body) // 2]
            return response
        # reset_mid_body: announce the full length, send half, then drop the connection.
        core.stats.faults["reset_mid_body"] += 1
        stream = web.StreamResponse(status=response.status, headers=response.headers)
        stream.content_length = len(body)
        await stream.prepare(request)
        await stream.write(body[: len(body) // 2])
        request[RESET] = True
        if request.transport is not None:
            request.transport.abort()
        return stream

    return handler


@web.middleware
async def _core_middleware(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    core = get_core(request.app[STATE_KEY])
    # Rate limits are about arrivals: stamp the request now, not when its response ends (a
    # page that takes long to render would otherwise land in a later second of the log).
    arrived = core.state.now()
    stats = core.stats
    transport = request.transport
    connections: dict[int, Any] = core.extra.setdefault("connections", {})
    if transport is not None and id(transport) not in connections:
        for tid in [t for t, tr in connections.items() if tr.is_closing()]:
            del connections[tid]
        connections[id(transport)] = transport
        stats.max_concurrent_connections = max(stats.max_concurrent_connections, len(connections))
    inflight = core.extra.get("inflight", 0) + 1
    core.extra["inflight"] = inflight
    stats.max_concurrent_requests = max(stats.max_concurrent_requests, inflight)
    status = 500
    try:
        try:
            response = await handler(request)
            status = response.status
            if isinstance(response, web.Response) and isinstance(response.body, bytes):
                stats.bytes_sent += len(response.body)
            else:
                stats.bytes_sent += response.body_length
            return response
        except ApiError as exc:
            status = exc.status
            return _error_body(exc.status, exc.message, exc.code)
        except web.HTTPNotFound:
            status = 404
            return _error_body(404, f"Not found: no endpoint {request.method} {request.path}")
        except web.HTTPMethodNotAllowed as exc:
            status = 405
            response = _error_body(405, f"Method {request.method} is not allowed on {request.path}")
            response.headers["Allow"] = ",".join(sorted(exc.allowed_methods))
            return response
        except web.HTTPException as exc:
            if request.get(RESET):
                status = 0
                raise
            status = exc.status
            return _error_body(exc.status, exc.reason)
        except asyncio.CancelledError:
            status = 0
            raise
        except Exception as exc:
            log.exception("emulator handler failed on %s %s", request.method, request.path)
            status = 500
            return _error_body(500, f"Internal emulator error: {type(exc).__name__}: {exc}")
    finally:
        core.extra["inflight"] -= 1
        if request.get(RESET):
            status = 0
        key_id = request.get(KEY_ID)
        if key_id is not None and (status >= 400 or status == 0):
            core.waf.record_error(key_id, core.faults, core.state.now())
        stats.record(
            RequestRecord(
                time=arrived,
                key_id=key_id,
                endpoint=request.get(ENDPOINT, "unknown"),
                status=status,
            )
        )


def _alert_windows(state: EmulatorState) -> list[AlertWindow]:
    """The seeded alerts as generated events link to them (see ``_events._AlertLinks``)."""
    return [
        (
            parse_event_time(alert.data["first_seen_at"]),
            parse_event_time(alert.data["last_seen_at"]),
            alert.data["short_id"],
            alert.data["community_uuid"],
        )
        for alert in sic_store(state).alerts.values()
    ]


def build_app(core: CoreContext) -> web.Application:
    """The aiohttp application serving every emulated domain for ``core``."""
    app = web.Application(middlewares=[_core_middleware], client_max_size=16 * 1024**2)
    app[STATE_KEY] = core.state
    for module in DOMAINS:
        for route in module.routes(core.state):
            wrapped = _wrap(core, route)
            for prefix in ("", "/api"):
                app.router.add_route(route.method, prefix + route.path, wrapped, name=None)
    return app


class SekoiaEmulator:
    """A local Sekoia.io API on 127.0.0.1: ``async with SekoiaEmulator(seed=0) as emu:``.

    ``emu.base_url`` and ``emu.api_key`` (every permission) point a client at it. ``events``
    synthetic events are generated over the last 7 days; ``job_run_time`` is how long a search
    job runs on the emulator clock (``clock``: a callable returning Unix seconds, e.g. a
    ``VirtualClock``); ``results_ttl`` is how long results live; ``max_job_total`` caps a
    job's total (off by default); ``faults`` are the injected faults (see ``Faults``);
    ``page_cache_mb`` bounds the LRU of encoded events pages (0 turns it off).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        events: int = 0,
        job_run_time: float = 0.0,
        results_ttl: int = 1800,
        faults: Faults | None = None,
        max_job_total: int | None = None,
        clock: Callable[[], float] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        export_rate: float = 1_000_000.0,
        page_cache_mb: float = search.DEFAULT_PAGE_CACHE_MB,
    ) -> None:
        if job_run_time < 0 or results_ttl < 0:
            raise ValueError("job_run_time and results_ttl must be >= 0 seconds")
        if page_cache_mb < 0:
            raise ValueError(
                f"page_cache_mb must be >= 0 (0 disables the page cache), got {page_cache_mb}"
            )
        self.state = EmulatorState(seed=seed, clock=clock)
        seed_state(self.state)
        self._rng = random.Random(f"sekoia-emulator:{seed}")
        entity_names = {e["uuid"]: e["name"] for e in self.state.entities}
        self.stats = EmulatorStats()
        self._core = CoreContext(
            state=self.state,
            events=EventStore(
                seed=seed,
                intakes=self.state.intakes,
                entity_names=entity_names,
                alerts=lambda: _alert_windows(self.state),
            ),
            faults=faults if faults is not None else Faults(),
            stats=self.stats,
            job_run_time=job_run_time,
            results_ttl=results_ttl,
            max_job_total=max_job_total,
            rng=random.Random(f"sekoia-ids:{seed}"),
        )
        self.state.stores["core"] = self._core
        self.state.stores["search"] = search.SearchStore(
            export_rate=export_rate, page_cache_bytes=int(page_cache_mb * 1024 * 1024)
        )
        self.api_key = api_key or f"emu-{self._rng.getrandbits(192):048x}"
        self._main_community: str = self.state.communities[0]["uuid"]
        self._register_key(
            self.api_key, ALL_PERMISSIONS, self._main_community, "emulator admin key"
        )
        self._host = host
        self._port = port
        self._initial_events = events
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    # -- configuration --------------------------------------------------------------------
    @property
    def faults(self) -> Faults:
        """The live fault settings; mutate them (or assign a new ``Faults``) at any time.

        WAF blocks and rate-limit buckets already in force stay: see ``reset_faults``.
        """
        return self._core.faults

    @faults.setter
    def faults(self, value: Faults) -> None:
        self._core.faults = value

    def reset_faults(self, faults: Faults | None = None) -> None:
        """Switch to ``faults`` (default: none) and forget the fault state built up so far.

        Unlike assigning ``emu.faults``, this also lifts WAF blocks (``block_key`` ones
        included), forgets each key's recent requests and errors, and refills every
        rate-limit bucket: the next request meets a fresh emulator.
        """
        self._core.waf = WafTracker()
        self._core.rate_limiter = RateLimiter()
        self._core.faults = faults if faults is not None else Faults()

    @property
    def event_count(self) -> int:
        """How many events the store holds (generated plus added)."""
        return len(self._core.events)

    @property
    def main_community_uuid(self) -> str:
        return self._main_community

    def _register_key(
        self, key: str, permissions: frozenset[str], community: str, name: str
    ) -> ApiKey:
        api_key = ApiKey(
            key=key,
            uuid=seeded_uuid(self._rng),
            community_uuid=community,
            permissions=permissions,
            name=name,
        )
        self._core.api_keys[key] = api_key
        return api_key

    def add_api_key(
        self, permissions: Sequence[str] = (), community_uuid: str | None = None, *, name: str = ""
    ) -> str:
        """A new API key with these permission display names (see ``PERMISSIONS``)."""
        unknown = [p for p in permissions if p not in PERMISSIONS]
        if unknown:
            raise ValueError(
                f"unknown permission {unknown[0]!r}: use display names such as "
                f"'View events' (all: {', '.join(sorted(PERMISSIONS))})"
            )
        community = community_uuid or self._main_community
        if community not in {c["uuid"] for c in self.state.communities}:
            raise ValueError(f"unknown community {community!r}: see emu.state.communities")
        key = f"emu-{self._rng.getrandbits(192):048x}"
        self._register_key(key, frozenset(permissions), community, name or "emulator key")
        return key

    def key_info(self, key: str) -> ApiKey:
        """The emulated key record (uuid, community, permissions) of an API key."""
        return self._core.api_keys[key]

    def block_key(self, key: str, seconds: float) -> None:
        """Put ``key`` under a WAF block: every request of it gets 429 for ``seconds``."""
        self._core.waf.block(self._core.api_keys[key].uuid, self.state.now() + seconds)

    # -- events ---------------------------------------------------------------------------
    def generate_events(
        self, n: int, start: datetime | None = None, end: datetime | None = None
    ) -> None:
        """Add ``n`` synthetic events spread evenly over [start, end] (default: last 7 days)."""
        now = datetime.fromtimestamp(self.state.now(), tz=timezone.utc)
        end = end or now
        start = start or end - timedelta(days=7)
        self._core.events.generate(n, parse_event_time(start), parse_event_time(end))

    def add_events(self, events: Sequence[dict[str, Any]]) -> list[str]:
        """Add explicit events (flat dotted-key dicts); returns their ``__event_id`` values.

        A missing ``timestamp`` becomes now, a missing ``__event_id`` a generated UUID.
        """
        now_us = int(self.state.now() * 1_000_000)
        return self._core.events.add(events, now_us)

    def expected_event_ids(
        self, term: str = "", earliest: str = "-30d", latest: str = "now"
    ) -> list[str]:
        """The ``__event_id`` values a search job with this query and window returns, in order.

        Uses the admin key's scope and ignores ``max_job_total``. Raises ValueError for a bad
        time or query.
        """
        from ._domains.search import _parse_window
        from ._query import compile_query

        try:
            window = {"earliest_time": earliest, "latest_time": latest}
            lo, hi = _parse_window(window, self.state.now())
        except ApiError as exc:
            raise ValueError(exc.message) from None
        query = compile_query(term) if term.strip() else None
        return self._core.events.search(lo, hi, query).ids()

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("this emulator is already running")
        if self._initial_events:
            self.generate_events(self._initial_events)
            self._initial_events = 0
        app = build_app(self._core)
        # handler_cancellation: a client that gives up stops its handler, latency included.
        runner = web.AppRunner(
            app, access_log=None, handle_signals=False, handler_cancellation=True
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port, reuse_address=True)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self.base_url = f"http://{shown}:{port}"

    async def aclose(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> SekoiaEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"SekoiaEmulator(base_url={self.base_url!r}, seed={self.state.seed})"
