"""Fault scenarios shared by the reliability tests and ``benchmarks/reliability.py``.

Each scenario turns one emulator fault on and runs a consumer the way a careful user would: read
everything; on a documented error, resume from the error's continuation token (or the results'
checkpoint) with the fault turned off. The outcome records every event id delivered, in order,
and every error seen, so a caller can check that nothing was lost or duplicated and that every
error was a documented one.
"""

from __future__ import annotations

import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import attrs

from sekoia_async import (
    APITimeoutError,
    ExportConfig,
    Exporter,
    PollPolicy,
    RateLimitError,
    RetryPolicy,
    SearchJobCanceled,
    SearchJobError,
    SearchJobExpired,
    SearchJobFailed,
    SekoiaClient,
    SekoiaError,
    ServerError,
    SessionPool,
    TenantConfig,
    Timeout,
)
from sekoia_async.testing import Faults, SekoiaEmulator

EVENTS = 50_000
PAGE_SIZE = 1000
# Every scenario must end (delivered or raised) within this many seconds: never a hang.
DEADLINE = 60.0
FAST_POLL = PollPolicy(initial=0.005, cap=0.02, jitter=0.5, rng=random.Random(0))
# Small backoffs keep the matrix fast; 8 retries make an unlucky streak of faults unlikely.
FAST_RETRY = RetryPolicy(max_retries=8, backoff_base=0.002, backoff_max=0.01, rng=random.random)
READS = frozenset({"events.page", "events.jobs.get"})
SEARCH = READS | {"events.jobs.create"}


def make_events(n: int = EVENTS, *, now: datetime | None = None) -> list[dict[str, Any]]:
    """``n`` small events, newest first, 10 s apart, ending a minute before ``now``.

    Small bodies keep the emulator's rendering and the client's JSON decoding cheap, so the
    matrix can afford 50 000 events per scenario.
    """
    end = (now or datetime.now(timezone.utc)) - timedelta(minutes=1)
    return [
        {
            "timestamp": (end - timedelta(seconds=10 * i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "__event_id": f"{i:08x}-0000-4000-8000-{i:012x}",
            "event.dialect": "reliability",
            "customer.id": i % 100,
        }
        for i in range(n)
    ]


@attrs.frozen
class Scenario:
    """One fault mode: the faults to inject and the errors a consumer may see because of it.

    ``must_raise``: the fault is certain to surface (no retry can absorb it). ``proof`` names
    the emulator counter (``stats.faults`` key, or ``status:NNN``) that shows the fault
    really happened, so a scenario cannot pass by not injecting anything.
    """

    name: str
    faults: Faults
    allowed: tuple[type[SekoiaError], ...] = ()
    must_raise: bool = False
    proof: str = ""
    timeout: Timeout | None = None


def _faults(**kwargs: Any) -> Faults:
    return Faults(seed=kwargs.pop("seed", 11), **kwargs)


SEARCH_SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        "429 with Retry-After",
        _faults(rate_limit=20.0, retry_after=True),
        proof="rate_limit",
    ),
    Scenario(
        "429 without Retry-After",
        _faults(error_rate=0.2, error_statuses=(429,), endpoints=SEARCH),
        proof="status:429",
    ),
    *(
        Scenario(
            f"HTTP {status}",
            # POST is retried on 503 only (the server did not act); 500/502/504 hit the reads.
            _faults(
                error_rate=0.2,
                error_statuses=(status,),
                endpoints=SEARCH if status == 503 else READS,
            ),
            proof=f"status:{status}",
        )
        for status in (500, 502, 503, 504)
    ),
    Scenario(
        "HTTP 500 on job creation",
        _faults(error_rate=1.0, error_statuses=(500,), endpoints={"events.jobs.create"}),
        allowed=(ServerError,),
        must_raise=True,
        proof="status:500",
    ),
    Scenario(
        "connection reset before the response",
        _faults(reset_rate=0.1, endpoints=READS),
        proof="reset",
    ),
    Scenario(
        "connection reset mid-body",
        _faults(reset_mid_body_rate=0.1, endpoints=READS),
        proof="reset_mid_body",
    ),
    Scenario(
        "truncated JSON",
        # A cut JSON body on a GET is retried like a broken connection: complete delivery.
        _faults(truncate_rate=0.1, endpoints={"events.page"}),
        proof="truncate",
    ),
    Scenario(
        "latency beyond the read timeout (some attempts)",
        _faults(endpoint_latency_ms={"events.page": 100.0}, jitter_ms=100.0),
        proof="slow",
        timeout=Timeout(read=0.15, total=10.0),
    ),
    Scenario(
        "latency beyond the read timeout (every attempt)",
        _faults(endpoint_latency_ms={"events.page": 1000.0}),
        allowed=(APITimeoutError,),
        must_raise=True,
        proof="slow",
        timeout=Timeout(read=0.05, total=10.0),
    ),
    # The emulator counts no job fates: must_raise proves these faults happened.
    Scenario("job failed", _faults(job_fail_rate=1.0), (SearchJobFailed,), must_raise=True),
    Scenario("job canceled", _faults(job_cancel_rate=1.0), (SearchJobCanceled,), must_raise=True),
    Scenario(
        "results expired mid-read",
        _faults(expire_after_reads=10),
        allowed=(SearchJobExpired,),
        must_raise=True,
        proof="status:404",
    ),
    Scenario(
        "WAF block",
        _faults(waf_max_rps=15.0, waf_block_seconds=0.3),
        allowed=(RateLimitError,),
        proof="waf_block",
    ),
    Scenario(
        "everything at once",
        _faults(
            error_rate=0.1,
            error_statuses=(429, 500, 502, 503, 504),
            reset_rate=0.03,
            reset_mid_body_rate=0.03,
            endpoints=READS,
            latency_ms=1.0,
            jitter_ms=1.0,
        ),
        proof="error",
    ),
)


@attrs.define
class Outcome:
    """What a consumer got under one scenario."""

    scenario: str
    delivered: list[str] = attrs.field(factory=list)
    errors: list[str] = attrs.field(factory=list)
    unexpected: list[BaseException] = attrs.field(factory=list)
    faults: Counter[str] = attrs.field(factory=Counter)
    elapsed: float = 0.0
    requests: int = 0

    def lost(self, expected: Sequence[str]) -> int:
        return len(set(expected) - set(self.delivered))

    def duplicates(self) -> int:
        return len(self.delivered) - len(set(self.delivered))

    def exact(self, expected: Sequence[str]) -> bool:
        return self.delivered == list(expected)


def fault_count(emu: SekoiaEmulator, proof: str) -> int:
    """How often the fault named by ``proof`` happened (see Scenario)."""
    if proof == "slow":
        # A request the client gave up on is recorded with status 0 by the emulator.
        return emu.stats.by_status[0]
    if proof.startswith("status:"):
        return emu.stats.by_status[int(proof[7:])]
    return emu.stats.faults[proof]


def end_outage(emu: SekoiaEmulator) -> None:
    """Turn every fault off, including a WAF block or an empty token bucket in force."""
    emu.reset_faults()


def start_scenario(emu: SekoiaEmulator, faults: Faults) -> None:
    """Reset the emulator's counters and fault state, then turn ``faults`` on."""
    emu.stats.reset()
    end_outage(emu)
    emu.faults = attrs.evolve(faults)


def _client(emu: SekoiaEmulator, pool: SessionPool, scenario: Scenario) -> SekoiaClient:
    return SekoiaClient(
        emu.api_key,
        base_url=emu.base_url,
        pool=pool,
        retry=FAST_RETRY,
        timeout=scenario.timeout,
    )


async def run_search(emu: SekoiaEmulator, scenario: Scenario, *, max_rounds: int = 4) -> Outcome:
    """Stream every event under ``scenario``'s faults, resuming after documented errors."""
    outcome = Outcome(scenario.name)
    start_scenario(emu, scenario.faults)
    started = time.perf_counter()
    token: dict[str, Any] | None = None
    try:
        with anyio.fail_after(DEADLINE):
            async with (
                SessionPool(limit=20, rate_limit=None) as pool,
                _client(emu, pool, scenario) as client,
            ):
                for _ in range(max_rounds):
                    stream = (
                        client.events.search("", page_size=PAGE_SIZE, poll=FAST_POLL)
                        if token is None
                        else client.events.resume(token, poll=FAST_POLL)
                    )
                    async with stream as results:
                        try:
                            async for event in results:
                                outcome.delivered.append(event["__event_id"])
                        except SekoiaError as exc:
                            outcome.errors.append(type(exc).__name__)
                            if not isinstance(exc, scenario.allowed):
                                outcome.unexpected.append(exc)
                                break
                            token = (
                                exc.continuation_token
                                if isinstance(exc, SearchJobError) and exc.continuation_token
                                else results.checkpoint()
                            )
                            outcome.faults.update(emu.stats.faults)
                            end_outage(emu)  # the outage is over: carry on
                            continue
                    break
                outcome.requests = client.stats.requests
    except Exception as exc:  # recorded: the caller asserts on it
        outcome.unexpected.append(exc)
    outcome.faults.update(emu.stats.faults)
    outcome.faults["status:0"] = emu.stats.by_status[0]
    outcome.elapsed = time.perf_counter() - started
    return outcome


# -- the auto-pager ---------------------------------------------------------------------------

PAGER_SCENARIOS: tuple[Scenario, ...] = (
    Scenario("429 with Retry-After", _faults(rate_limit=20.0), proof="rate_limit"),
    Scenario(
        "429 without Retry-After",
        _faults(error_rate=0.2, error_statuses=(429,), endpoints={"alerts.list"}),
        proof="status:429",
    ),
    *(
        Scenario(
            f"HTTP {status}",
            _faults(error_rate=0.2, error_statuses=(status,), endpoints={"alerts.list"}),
            proof=f"status:{status}",
        )
        for status in (500, 502, 503, 504)
    ),
    Scenario(
        "connection reset before the response",
        _faults(reset_rate=0.15, endpoints={"alerts.list"}),
        proof="reset",
    ),
    Scenario(
        "connection reset mid-body",
        _faults(reset_mid_body_rate=0.15, endpoints={"alerts.list"}),
        proof="reset_mid_body",
    ),
    Scenario(
        "truncated JSON",
        # A cut JSON body on a GET is retried like a broken connection: complete delivery.
        _faults(truncate_rate=0.15, endpoints={"alerts.list"}),
        proof="truncate",
    ),
    Scenario(
        "latency beyond the read timeout (some attempts)",
        _faults(endpoint_latency_ms={"alerts.list": 100.0}, jitter_ms=100.0),
        proof="slow",
        timeout=Timeout(read=0.15, total=10.0),
    ),
    Scenario(
        "latency beyond the read timeout (every attempt)",
        _faults(endpoint_latency_ms={"alerts.list": 1000.0}),
        allowed=(APITimeoutError,),
        must_raise=True,
        proof="slow",
        timeout=Timeout(read=0.05, total=10.0),
    ),
    Scenario(
        "WAF block",
        _faults(waf_max_rps=5.0, waf_block_seconds=0.3),
        allowed=(RateLimitError,),
        proof="waf_block",
    ),
)


async def run_pager(emu: SekoiaEmulator, scenario: Scenario, *, limit: int = 5) -> Outcome:
    """List every alert under ``scenario``'s faults (one attempt: a pager has no checkpoint)."""
    outcome = Outcome(scenario.name)
    start_scenario(emu, scenario.faults)
    started = time.perf_counter()
    try:
        with anyio.fail_after(DEADLINE):
            async with (
                SessionPool(limit=20, rate_limit=None) as pool,
                _client(emu, pool, scenario) as client,
            ):
                try:
                    async for alert in client.alerts.list(limit=limit, concurrency=4):
                        outcome.delivered.append(str(alert.uuid))
                except SekoiaError as exc:
                    outcome.errors.append(type(exc).__name__)
                    if not isinstance(exc, scenario.allowed):
                        outcome.unexpected.append(exc)
                outcome.requests = client.stats.requests
    except Exception as exc:  # recorded: the caller asserts on it
        outcome.unexpected.append(exc)
    end_outage(emu)
    outcome.faults.update(emu.stats.faults)
    outcome.faults["status:0"] = emu.stats.by_status[0]
    outcome.elapsed = time.perf_counter() - started
    return outcome


# -- the exporter -----------------------------------------------------------------------------

# The exporter reads through the streaming search: every search fault applies to it.
EXPORT_SCENARIOS: tuple[Scenario, ...] = SEARCH_SCENARIOS


def read_ids(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line)["__event_id"] for line in fh]


async def run_export(
    emu: SekoiaEmulator,
    scenario: Scenario,
    out: Path,
    window: tuple[str, str],
    *,
    on_failure: Callable[[str], None] | None = None,
) -> Outcome:
    """Export the window under ``scenario``'s faults; if the tenant fails, rerun without them."""
    outcome = Outcome(scenario.name)
    start_scenario(emu, scenario.faults)
    tenant = TenantConfig(
        name="reliability",
        output=out,
        api_key=emu.api_key,
        base_url=emu.base_url,
        earliest=window[0],
        latest=window[1],
        page_size=PAGE_SIZE,
        split_threshold=10 * EVENTS,
    )
    options: dict[str, Any] = {
        "pool_options": {"rate_limit": None},
        "client_options": {"retry": FAST_RETRY, "timeout": scenario.timeout},
        "search_options": {"poll": FAST_POLL},
    }
    started = time.perf_counter()
    try:
        with anyio.fail_after(DEADLINE):
            for _ in range(3):
                result = await Exporter(ExportConfig((tenant,)), **options).run()
                progress = result.tenants[0]
                if result.ok:
                    break
                error = progress.error or "?"
                outcome.errors.append(error.split(":", 1)[0])
                if on_failure is not None:
                    on_failure(error)
                outcome.faults.update(emu.stats.faults)
                end_outage(emu)  # the outage is over: the rerun resumes
    except Exception as exc:  # recorded: the caller asserts on it
        outcome.unexpected.append(exc)
    end_outage(emu)
    outcome.faults.update(emu.stats.faults)
    outcome.elapsed = time.perf_counter() - started
    if await anyio.Path(out).exists():
        outcome.delivered = await anyio.to_thread.run_sync(read_ids, out)
    return outcome


__all__ = [
    "DEADLINE",
    "EVENTS",
    "EXPORT_SCENARIOS",
    "PAGER_SCENARIOS",
    "SEARCH_SCENARIOS",
    "LoadOutcome",
    "Outcome",
    "Scenario",
    "end_outage",
    "fault_count",
    "make_events",
    "max_in_window",
    "read_ids",
    "run_export",
    "run_load",
    "run_pager",
    "run_search",
    "start_scenario",
]


# -- load -------------------------------------------------------------------------------------


@attrs.define
class LoadOutcome:
    """What ``run_load`` measured."""

    searches: int = 0
    tenants: int = 0
    completed: int = 0
    exact: int = 0
    events: int = 0
    lost: int = 0
    duplicates: int = 0
    errors: list[str] = attrs.field(factory=list)
    pool_limit: int = 0
    peak_connections: int = 0
    rate_limit: float = 0.0
    burst: int = 0
    # The most requests one tenant had served within any one second (emulator request log).
    max_tenant_rate: int = 0
    requests: int = 0
    peak_memory: int = 0
    elapsed: float = 0.0


def max_in_window(times: Sequence[float], window: float = 1.0) -> int:
    """The largest number of ``times`` within any half-open interval of length ``window``."""
    ordered = sorted(times)
    best = start = 0
    for end, t in enumerate(ordered):
        while ordered[start] <= t - window:
            start += 1
        best = max(best, end - start + 1)
    return best


async def run_load(
    emu: SekoiaEmulator,
    *,
    tenants: int = 100,
    searches_per_tenant: int = 2,
    pool_limit: int = 50,
    rate_limit: float = 5.0,
    window_minutes: int = 30,
    page_size: int = 100,
    heavy: int = 10,
) -> LoadOutcome:
    """``tenants * searches_per_tenant`` concurrent searches, each tenant with its own key and
    rate limit, all on one SessionPool; every search reads its own slice of the events. The
    first ``heavy`` tenants run most of the searches, so their limit is what holds them back."""
    import tracemalloc

    outcome = LoadOutcome(
        searches=tenants * searches_per_tenant,
        tenants=tenants,
        pool_limit=pool_limit,
        rate_limit=rate_limit,
        burst=max(1, int(rate_limit)),
    )
    start_scenario(emu, Faults())
    keys = [emu.add_api_key(["View events"], name=f"tenant {i}") for i in range(tenants)]
    key_ids = {emu.key_info(key).uuid for key in keys}
    newest = datetime.now(timezone.utc).replace(second=0, microsecond=0) - timedelta(minutes=2)
    windows: list[tuple[str, str]] = []
    for k in range(outcome.searches):
        hi = newest - timedelta(minutes=window_minutes * k)
        lo = hi - timedelta(minutes=window_minutes) + timedelta(microseconds=1)
        windows.append((lo.isoformat(), hi.isoformat()))
    expected = [emu.expected_event_ids("", lo, hi) for lo, hi in windows]
    got: list[list[str]] = [[] for _ in windows]

    async def search(client: SekoiaClient, k: int) -> None:
        lo, hi = windows[k]
        try:
            async with client.events.search(
                "", lo, hi, page_size=page_size, concurrency=2, poll=FAST_POLL
            ) as results:
                async for event in results:
                    got[k].append(event["__event_id"])
            outcome.completed += 1
        except SekoiaError as exc:
            outcome.errors.append(f"{type(exc).__name__}: {exc}")

    def tenant_of(k: int) -> int:
        # Every tenant runs one search; the searches beyond that go to the first ``heavy``
        # tenants, whose demand then exceeds their rate limit (the limit must hold anyway).
        return k if k < tenants else (k - tenants) % heavy

    tracemalloc.start()
    started = time.perf_counter()
    try:
        with anyio.fail_after(DEADLINE * 2):
            async with SessionPool(limit=pool_limit, rate_limit=None) as pool:
                clients = [
                    SekoiaClient(
                        key,
                        base_url=emu.base_url,
                        pool=pool,
                        rate_limit=rate_limit,
                        retry=FAST_RETRY,
                    )
                    for key in keys
                ]
                try:
                    async with anyio.create_task_group() as tg:
                        for k in range(outcome.searches):
                            tg.start_soon(search, clients[tenant_of(k)], k)
                finally:
                    for client in clients:
                        outcome.requests += client.stats.requests
                        await client.aclose()
    finally:
        outcome.elapsed = time.perf_counter() - started
        outcome.peak_memory = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    for want, have in zip(expected, got, strict=True):
        outcome.events += len(have)
        outcome.lost += len(set(want) - set(have))
        outcome.duplicates += len(have) - len(set(have))
        outcome.exact += want == have
    outcome.peak_connections = emu.stats.max_concurrent_connections
    per_key: dict[str, list[float]] = {}
    for record in emu.stats.log:
        if record.key_id in key_ids:
            per_key.setdefault(record.key_id, []).append(record.time)
    outcome.max_tenant_rate = max((max_in_window(t) for t in per_key.values()), default=0)
    return outcome
