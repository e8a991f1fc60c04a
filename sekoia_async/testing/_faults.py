"""Fault injection settings (public: ``Faults``) and the pure decision logic behind them.

Every random choice is a hash of ``(seed, request number, purpose)``: the same seed and the same
arrival order of requests give the same faults, so a failing test replays exactly.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable
from typing import Any

import attrs

__all__ = ["FaultDecision", "Faults", "RateLimiter", "fault_roll"]

_M64 = (1 << 64) - 1


def fault_roll(seed: int, number: int, purpose: int) -> float:
    """A deterministic uniform float in [0, 1) for request ``number`` and ``purpose``."""
    x = seed * 0x9E3779B97F4A7C15 + number * 0xBF58476D1CE4E5B9 + purpose * 0x94D049BB133111EB
    x &= _M64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    return (x >> 11) / float(1 << 53)


def _rate(name: str) -> Any:
    def check(_: object, attribute: object, value: float) -> None:
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"Faults.{name} is a probability: give a value in [0, 1], got {value}")

    return check


def _endpoint_set(value: Iterable[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


@attrs.define
class Faults:
    """Faults the emulator injects; mutate the emulator's instance at run time (``emu.faults``).

    Rates are probabilities per request in [0, 1]. ``endpoints`` restricts every fault except
    latency to those endpoint names (e.g. ``{"events.page"}``); None means every endpoint.
    Latency applies to every request (``latency_ms`` ± ``jitter_ms``) plus the
    per-endpoint extra of ``endpoint_latency_ms``.
    """

    latency_ms: float = 0.0
    jitter_ms: float = 0.0
    endpoint_latency_ms: dict[str, float] = attrs.field(factory=dict)
    endpoints: frozenset[str] | None = attrs.field(default=None, converter=_endpoint_set)
    # Token-bucket rate limit per API key (requests/s, burst = max(1, rate)); 429 above it.
    rate_limit: float | None = None
    # Send Retry-After (whole seconds until a token is free) with rate-limit 429s.
    retry_after: bool = True
    error_rate: float = attrs.field(default=0.0, validator=_rate("error_rate"))
    error_statuses: tuple[int, ...] = (500, 502, 503, 504)
    reset_rate: float = attrs.field(default=0.0, validator=_rate("reset_rate"))
    reset_mid_body_rate: float = attrs.field(default=0.0, validator=_rate("reset_mid_body_rate"))
    truncate_rate: float = attrs.field(default=0.0, validator=_rate("truncate_rate"))
    # Search jobs: fail (status 4) / cancel (status 3) a share of jobs; multiply run times.
    job_fail_rate: float = attrs.field(default=0.0, validator=_rate("job_fail_rate"))
    job_cancel_rate: float = attrs.field(default=0.0, validator=_rate("job_cancel_rate"))
    job_slowdown: float = 1.0
    # Per-community quota of search jobs not yet finished (status 0 or 1): creating one more is
    # a 429, as a tenant whose UI "launched 66 jobs" sees (reference §3.7; the real number is
    # undocumented).
    max_running_jobs: int | None = None
    # Results expire after this many events-page reads of a job (expiry in the middle of paging).
    expire_after_reads: int | None = None
    # WAF: a key sending more than ``waf_max_rps`` requests within one second of the emulator
    # clock gets 429 on every request for ``waf_block_seconds``.
    waf_max_rps: float | None = None
    # WAF: a key getting more than ``waf_max_errors`` 4xx/5xx answers within 5 seconds of the
    # emulator clock is blocked too (Sekoia's WAF tolerates about 8 errors/s over 5 s).
    waf_max_errors: int | None = None
    waf_block_seconds: float = 30.0
    seed: int | None = None

    def applies_to(self, endpoint: str) -> bool:
        return self.endpoints is None or endpoint in self.endpoints

    @classmethod
    def parse(cls, items: Iterable[str], base: Faults | None = None) -> Faults:
        """Faults from ``name=value`` strings (the command line's ``--fault``).

        Lists (``endpoints``, ``error_statuses``) are comma-separated; ``endpoint_latency_ms``
        takes ``endpoint:ms`` pairs separated by commas.
        """
        faults = attrs.evolve(base) if base is not None else cls()
        fields = attrs.fields_dict(cls)
        for item in items:
            name, sep, raw = item.partition("=")
            name = name.strip().replace("-", "_")
            if not sep or name not in fields:
                known = ", ".join(sorted(fields))
                raise ValueError(
                    f"invalid fault {item!r}: expected name=value with a name among {known}"
                )
            value: Any
            try:
                if name == "endpoints":
                    value = frozenset(v for v in raw.split(",") if v)
                elif name == "error_statuses":
                    value = tuple(int(v) for v in raw.split(",") if v)
                elif name == "endpoint_latency_ms":
                    value = dict(faults.endpoint_latency_ms)
                    for pair in raw.split(","):
                        endpoint, _, ms = pair.partition(":")
                        value[endpoint] = float(ms)
                elif name == "retry_after":
                    if raw.lower() not in ("true", "false", "1", "0", "yes", "no"):
                        raise ValueError(raw)
                    value = raw.lower() in ("true", "1", "yes")
                elif name in ("expire_after_reads", "seed", "max_running_jobs", "waf_max_errors"):
                    value = None if raw.lower() == "none" else int(raw)
                elif name in ("rate_limit", "waf_max_rps"):
                    value = None if raw.lower() == "none" else float(raw)
                else:
                    value = float(raw)
            except ValueError:
                raise ValueError(f"invalid value for fault {name!r}: {raw!r}") from None
            setattr(faults, name, value)
            attrs.validate(faults)
        return faults


@attrs.frozen
class FaultDecision:
    """What to do with one request, decided before its handler runs."""

    kind: str  # "ok" | "error" | "reset" | "reset_mid_body" | "truncate"
    status: int = 0


def decide(faults: Faults, seed: int, number: int, endpoint: str) -> FaultDecision:
    """The fault for request ``number`` at ``endpoint`` (pure; see module docstring)."""
    if not faults.applies_to(endpoint):
        return FaultDecision("ok")
    s = faults.seed if faults.seed is not None else seed
    if faults.reset_rate and fault_roll(s, number, 1) < faults.reset_rate:
        return FaultDecision("reset")
    if faults.error_rate and fault_roll(s, number, 2) < faults.error_rate:
        statuses = faults.error_statuses or (500,)
        pick = int(fault_roll(s, number, 3) * len(statuses))
        return FaultDecision("error", statuses[pick])
    if faults.reset_mid_body_rate and fault_roll(s, number, 4) < faults.reset_mid_body_rate:
        return FaultDecision("reset_mid_body")
    if faults.truncate_rate and fault_roll(s, number, 5) < faults.truncate_rate:
        return FaultDecision("truncate")
    return FaultDecision("ok")


def latency_seconds(faults: Faults, seed: int, number: int, endpoint: str) -> float:
    ms = faults.latency_ms + faults.endpoint_latency_ms.get(endpoint, 0.0)
    if faults.jitter_ms:
        s = faults.seed if faults.seed is not None else seed
        ms += (fault_roll(s, number, 6) * 2 - 1) * faults.jitter_ms
    return max(0.0, ms) / 1000.0


class RateLimiter:
    """A token bucket per key on the emulator clock; ``acquire`` returns the wait if refused."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, last time)

    def acquire(self, key_id: str, rate: float, now: float) -> float | None:
        burst = max(1.0, rate)
        tokens, last = self._buckets.get(key_id, (burst, now))
        tokens = min(burst, tokens + max(0.0, now - last) * rate)
        if tokens >= 1.0:
            self._buckets[key_id] = (tokens - 1.0, now)
            return None
        self._buckets[key_id] = (tokens, now)
        return (1.0 - tokens) / rate


class WafTracker:
    """Counts each key's requests per second of the emulator clock and blocks heavy senders."""

    ERROR_WINDOW = 5.0

    def __init__(self) -> None:
        self._window: dict[str, tuple[int, int]] = {}  # key id -> (second, count)
        self._errors: dict[str, deque[float]] = {}  # key id -> times of recent error answers
        self.blocked_until: dict[str, float] = {}

    def record_error(self, key_id: str, faults: Faults, now: float) -> None:
        """Count an error answer to ``key_id``; too many within the window start a block."""
        if faults.waf_max_errors is None:
            return
        times = self._errors.setdefault(key_id, deque())
        times.append(now)
        while times and times[0] <= now - self.ERROR_WINDOW:
            times.popleft()
        if len(times) > faults.waf_max_errors:
            times.clear()
            self.block(key_id, now + faults.waf_block_seconds)

    def block(self, key_id: str, until: float) -> None:
        self.blocked_until[key_id] = max(until, self.blocked_until.get(key_id, 0.0))

    def check(self, key_id: str, faults: Faults, now: float) -> float | None:
        """Seconds left of a block on ``key_id`` (None if it may proceed)."""
        until = self.blocked_until.get(key_id)
        if until is not None:
            if now < until:
                return until - now
            del self.blocked_until[key_id]
        if faults.waf_max_rps is None:
            return None
        second = math.floor(now)
        current, count = self._window.get(key_id, (second, 0))
        count = count + 1 if current == second else 1
        self._window[key_id] = (second, count)
        if count > faults.waf_max_rps:
            self.block(key_id, now + faults.waf_block_seconds)
            return faults.waf_block_seconds
        return None
