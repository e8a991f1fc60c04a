"""PollPolicy: how often a search job is polled. Pure: no I/O, no clock, an injectable RNG."""

from __future__ import annotations

import random

import attrs

__all__ = ["PollPolicy"]


def _positive(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"PollPolicy.{attribute.name} must be > 0, got {value!r}")


def _jitter_range(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0 <= value < 1:
        raise ValueError(f"PollPolicy.{attribute.name} must be in [0, 1), got {value!r}")


def _at_least_one(_: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value >= 1:
        raise ValueError(f"PollPolicy.{attribute.name} must be >= 1, got {value!r}")


@attrs.frozen
class PollPolicy:
    """Exponential backoff with jitter for polling a search job.

    The n-th wait (n = 0, 1, ...) is ``min(cap, initial * factor**n)`` shortened by a random
    fraction of at most ``jitter``, so waits never exceed ``cap`` and concurrent searches do
    not poll in lockstep. ``rng`` makes the jitter reproducible in tests.
    """

    initial: float = attrs.field(default=0.5, validator=_positive)
    factor: float = attrs.field(default=1.5, validator=_at_least_one)
    cap: float = attrs.field(default=10.0, validator=_positive)
    jitter: float = attrs.field(default=0.2, validator=_jitter_range)
    rng: random.Random | None = attrs.field(default=None, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.cap < self.initial:
            raise ValueError(
                f"PollPolicy.cap ({self.cap}) must be >= initial ({self.initial}); "
                "raise cap or lower initial"
            )

    def base_delay(self, attempt: int) -> float:
        """The wait before poll number ``attempt + 1``, before jitter."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        if self.factor == 1:
            return self.initial
        # Step up to the cap instead of computing factor**attempt, which overflows on long waits.
        delay = self.initial
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.cap:
                return self.cap
        return min(delay, self.cap)

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """The jittered wait before poll number ``attempt + 1``: in ``[base*(1-jitter), base]``."""
        base = self.base_delay(attempt)
        if not self.jitter:
            return base
        source = rng or self.rng or random
        return base * (1.0 - self.jitter * source.random())
