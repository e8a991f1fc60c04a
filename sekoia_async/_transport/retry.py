"""Pure retry logic: which failures are retried, the backoff schedule and Retry-After.

No I/O and no clock of its own: callers pass the time and an RNG, so every decision is a plain
function of its inputs and is tested without an event loop.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from datetime import timezone
from email.utils import parsedate_to_datetime

import attrs

__all__ = [
    "IDEMPOTENT_METHODS",
    "RETRYABLE_STATUSES",
    "Failure",
    "RetryPolicy",
    "parse_retry_after",
    "should_retry",
]

RETRYABLE_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
#: Statuses on which a non-idempotent request is retried: the server says it did not act.
_SAFE_FOR_ANY_METHOD = frozenset({429, 503})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})


class Failure:
    """Kinds of attempt failures without an HTTP status."""

    #: The connection was never established (refused, DNS, connect timeout): nothing was sent.
    CONNECT = "connect"
    #: The attempt timed out after the request may have been sent.
    TIMEOUT = "timeout"
    #: The connection broke after the request may have been sent.
    CONNECTION = "connection"
    #: A 2xx arrived whose JSON body does not parse (cut by a proxy, truncated): the server
    #: acted, so only an idempotent request may be sent again.
    CORRUPT = "corrupt"


def _default_rng() -> Callable[[], float]:
    return random.random


@attrs.frozen
class RetryPolicy:
    """How failed attempts are retried.

    Delays use exponential backoff with full jitter: attempt ``n`` (0-based) waits a uniform
    random time in ``[0, min(backoff_max, backoff_base * backoff_multiplier**n)]``. A server
    ``Retry-After`` up to ``max_retry_after`` seconds is waited instead; a longer one is raised as
    RateLimitError. ``max_retries=0`` disables retries. ``rng`` returns floats in [0, 1) (inject a
    seeded one for reproducible schedules).
    """

    max_retries: int = attrs.field(default=3, validator=attrs.validators.ge(0))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    backoff_multiplier: float = attrs.field(default=2.0, validator=attrs.validators.ge(1))
    backoff_max: float = attrs.field(default=8.0, validator=attrs.validators.ge(0))
    max_retry_after: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))
    retry_statuses: frozenset[int] = attrs.field(default=RETRYABLE_STATUSES, converter=frozenset)
    rng: Callable[[], float] = attrs.field(factory=_default_rng, eq=False, repr=False, hash=False)

    def backoff(self, attempt: int) -> float:
        """The full-jitter wait before retry number ``attempt + 1`` (attempt is 0-based)."""
        ceiling = min(self.backoff_max, self.backoff_base * self.backoff_multiplier**attempt)
        return ceiling * self.rng()

    def schedule(self) -> list[float]:
        """The jittered waits of every retry, in order (for docs, tests and logs)."""
        return [self.backoff(i) for i in range(self.max_retries)]


def should_retry(
    policy: RetryPolicy,
    method: str,
    *,
    status: int | None = None,
    failure: str | None = None,
    idempotent: bool | None = None,
) -> bool:
    """Whether an attempt that ended with ``status`` (or ``failure``) may be retried.

    GET/PUT/DELETE... are retried on every retryable status and failure. POST/PATCH only when the
    request certainly did not reach the server (a connect failure) or the server said it did not
    act on it (429, 503), so a retry cannot create a duplicate. ``idempotent`` overrides the
    method's default (True: a duplicate is harmless, retry like a GET).
    """
    if idempotent is None:
        idempotent = method.upper() in IDEMPOTENT_METHODS
    if status is not None:
        if status not in policy.retry_statuses:
            return False
        return idempotent or status in _SAFE_FOR_ANY_METHOD
    if failure == Failure.CONNECT:
        return True
    return idempotent and failure in (Failure.TIMEOUT, Failure.CONNECTION, Failure.CORRUPT)


def parse_retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds to wait from ``retry-after-ms``, or ``Retry-After`` (seconds or an HTTP-date).

    ``now`` is the current Unix time (for HTTP-dates). None when absent or unparsable; never
    negative.
    """
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
        except ValueError:
            value = -1.0
        if value >= 0 and value == value and value != float("inf"):
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        if seconds != seconds or seconds == float("inf"):
            return None
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT; "-0000" parses as naive
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)
