"""Client-side rate limits: a token bucket on anyio with an injectable clock.

The bucket is a GCRA ("virtual scheduling") limiter: each ``acquire`` reserves the next free slot
with plain arithmetic and then sleeps until it, so callers are served in call order, no lock or
background task is needed, and the uncontended path does not yield to the event loop. ``reserve``
is the pure part (clock in, wait out) and is tested without an event loop.

A second GCRA state with the same rate and burst paces the moment a request is really sent
(``pace_delay`` / ``pace``): a request can take its token and then wait for a pooled connection,
and requests released together by free connections would otherwise leave in a burst above the
limit. The client checks it once it holds a connection slot, just before sending.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

import anyio

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most ``rate`` acquisitions per second on average, with bursts of ``burst``.

    ``burst`` defaults to one second's worth of tokens (at least 1). ``clock`` and ``sleep`` can
    be replaced by a virtual clock in tests.
    """

    __slots__ = (
        "_clock",
        "_interval",
        "_pace_tat",
        "_sleep",
        "_tat",
        "_tolerance",
        "burst",
        "rate",
    )

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"rate limit must be a positive number of requests/s, not {rate!r}")
        if burst is None:
            burst = max(1, int(rate))
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self._interval = 1.0 / self.rate
        self._tolerance = (burst - 1) * self._interval
        self._clock = clock
        self._sleep = sleep
        self._tat = float("-inf")  # theoretical arrival time of the next conforming request
        self._pace_tat = float("-inf")  # the same for requests actually sent

    @classmethod
    def coerce(
        cls, value: float | TokenBucket | None, burst: int | None = None
    ) -> TokenBucket | None:
        """A bucket from a rate in requests/s, an existing bucket (shared as is) or None."""
        if value is None or isinstance(value, TokenBucket):
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"rate_limit must be requests per second or None, not {value!r}")
        return cls(value, burst)

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, burst={self.burst})"

    def reserve(self, now: float) -> float:
        """Take the next slot at time ``now``; return how long to wait before using it."""
        tat = self._tat if self._tat > now else now
        self._tat = tat + self._interval
        wait = tat - self._tolerance - now
        return wait if wait > 0 else 0.0

    async def acquire(self) -> None:
        """Wait for a token."""
        wait = self.reserve(self._clock())
        if wait > 0:
            await self._sleep(wait)

    def pace_delay(self, now: float) -> float:
        """How long a request must wait before it may be sent at ``now`` (nothing is taken)."""
        wait = self._pace_tat - self._tolerance - now
        return wait if wait > 0 else 0.0

    def pace(self, now: float) -> None:
        """Record a request sent at ``now`` (after ``pace_delay`` returned 0)."""
        tat = self._pace_tat if self._pace_tat > now else now
        self._pace_tat = tat + self._interval
