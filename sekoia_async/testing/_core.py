"""What the server core shares with its own domain modules (search, notebooks): settings, the
event store, faults, stats and the key registry, kept in ``state.stores["core"]``."""

from __future__ import annotations

import random
from collections import Counter, deque
from datetime import datetime, timezone
from typing import Any

import attrs

from ._events import EventStore
from ._faults import Faults, RateLimiter, WafTracker
from ._routing import ApiKey, EmulatorState

__all__ = ["CoreContext", "EmulatorStats", "RequestRecord", "VirtualClock", "get_core"]


class VirtualClock:
    """A manually advanced clock for ``SekoiaEmulator(clock=...)``: ``clock.advance(60)``.

    Job run times, result expiry, rate limits and the WAF all follow it; network latency
    faults stay in real time.
    """

    def __init__(self, start: float | datetime | None = None) -> None:
        if start is None:
            start = datetime.now(timezone.utc).timestamp()
        elif isinstance(start, datetime):
            start = start.timestamp()
        self._now = float(start)

    def __call__(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("a clock only moves forward: give a positive number of seconds")
        self._now += seconds


@attrs.frozen
class RequestRecord:
    """One served request: arrival time (emulator clock), key id (never the key), endpoint, status.

    ``status`` is 0 when the connection was reset before any response.
    """

    time: float
    key_id: str | None
    endpoint: str
    status: int


@attrs.define
class EmulatorStats:
    """Counters of what the emulator served (``emu.stats``)."""

    requests: int = 0
    bytes_sent: int = 0  # response bodies (what was written when a fault cut one short)
    by_endpoint: Counter[str] = attrs.field(factory=Counter)
    by_key: Counter[str] = attrs.field(factory=Counter)
    by_status: Counter[int] = attrs.field(factory=Counter)
    faults: Counter[str] = attrs.field(factory=Counter)
    max_concurrent_connections: int = 0
    max_concurrent_requests: int = 0
    # The newest 100 000 requests; left out of the repr, which stays one line.
    log: deque[RequestRecord] = attrs.field(factory=lambda: deque(maxlen=100_000), repr=False)

    def record(self, record: RequestRecord) -> None:
        self.requests += 1
        self.by_endpoint[record.endpoint] += 1
        if record.key_id is not None:
            self.by_key[record.key_id] += 1
        self.by_status[record.status] += 1
        self.log.append(record)

    def reset(self) -> None:
        """Forget everything counted so far (e.g. between benchmark phases)."""
        self.requests = 0
        self.bytes_sent = 0
        self.by_endpoint.clear()
        self.by_key.clear()
        self.by_status.clear()
        self.faults.clear()
        self.max_concurrent_connections = 0
        self.max_concurrent_requests = 0
        self.log.clear()


@attrs.define(eq=False)
class CoreContext:
    state: EmulatorState
    events: EventStore
    faults: Faults
    stats: EmulatorStats
    job_run_time: float
    results_ttl: int
    max_job_total: int | None
    api_keys: dict[str, ApiKey] = attrs.field(factory=dict)
    rate_limiter: RateLimiter = attrs.field(factory=RateLimiter)
    waf: WafTracker = attrs.field(factory=WafTracker)
    request_number: int = 0
    rng: random.Random = attrs.field(factory=random.Random)
    extra: dict[str, Any] = attrs.field(factory=dict)

    def next_request_number(self) -> int:
        self.request_number += 1
        return self.request_number


def get_core(state: EmulatorState) -> CoreContext:
    core: CoreContext = state.stores["core"]
    return core
