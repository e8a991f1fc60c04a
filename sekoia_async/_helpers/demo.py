"""The ``sekoia-async demo`` logic: a streaming search against the in-process emulator.

It starts the emulator with synthetic events and a few faults (429s with Retry-After from a
rate limit, some 503s, a little latency), streams every event through the real client into an
NDJSON file, reports progress, and checks the result against the emulator: nothing missing,
nothing twice, server order. No API key, no network beyond 127.0.0.1. The CLI owns the command
line and the progress display; this module only does the work.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import attrs

from .._client import SekoiaClient
from .._transport.retry import RetryPolicy
from .search.policy import PollPolicy

if TYPE_CHECKING:
    from ..testing import Faults

__all__ = ["DemoProgress", "DemoSummary", "demo_faults", "run_demo"]

_STEADY_RATE = 40.0
_THROTTLE_FROM, _THROTTLE_UNTIL = 10, 16


def demo_faults(seed: int = 0) -> Faults:
    """What the demo's emulator does wrong: 429 + Retry-After above 40 pages/s, 3% 503s, 5-10 ms."""
    from ..testing import Faults

    return Faults(
        rate_limit=_STEADY_RATE,
        error_rate=0.03,
        error_statuses=(503,),
        endpoints=frozenset({"events.page"}),
        latency_ms=5.0,
        jitter_ms=5.0,
        seed=seed,
    )


@attrs.frozen
class DemoProgress:
    """Where the demo stands: events written so far, out of ``total`` (None until known)."""

    events: int
    total: int | None
    events_per_second: float
    eta_seconds: float | None
    elapsed: float


@attrs.frozen
class DemoSummary:
    """The demo's outcome; ``ok`` when every expected event was written once, in order."""

    events: int
    expected: int
    pages: int
    requests: int
    retries: int
    rate_limited: int
    elapsed: float
    events_per_second: float
    missing: int
    duplicates: int
    in_order: bool
    output: Path
    job_uuid: str | None

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicates == 0 and self.in_order


ProgressCallback = Callable[[DemoProgress], "Awaitable[None] | None"]


async def run_demo(
    events: int = 200_000,
    output: str | Path | None = None,
    seed: int = 0,
    progress: ProgressCallback | None = None,
    *,
    concurrency: int = 4,
    faults: bool = True,
) -> DemoSummary:
    """Stream ``events`` synthetic events from an in-process emulator into ``output`` (NDJSON).

    ``output`` defaults to a new temporary file (kept: its path is in the summary).
    ``progress`` is called (sync or async) after every page. ``faults=False`` runs clean.
    """
    from ..testing import Faults, SekoiaEmulator  # the emulator is only needed here

    if events < 0:
        raise ValueError(f"events must be >= 0, got {events}")
    if output is None:
        handle, name = tempfile.mkstemp(prefix="sekoia-demo-", suffix=".ndjson")
        os.close(handle)
        path = Path(name)
    else:
        path = Path(output)
    emulator_faults = demo_faults(seed) if faults else Faults()
    async with SekoiaEmulator(seed=seed, job_run_time=0.5, faults=emulator_faults) as emu:
        emu.generate_events(events)
        # More retries than the default: the demo's emulator is deliberately unreliable.
        retry = RetryPolicy(max_retries=8, backoff_base=0.05, backoff_max=1.0)
        seen: list[str] = []
        pages = 0
        started = time.perf_counter()
        async with (
            SekoiaClient(emu.api_key, base_url=emu.base_url, retry=retry) as client,
            await anyio.open_file(path, "w", encoding="utf-8") as sink,
        ):
            async with client.events.search(
                "", "-30d", "now", concurrency=concurrency, poll=PollPolicy(initial=0.2, cap=1.0)
            ) as results:
                async for page in results.pages():
                    pages += 1
                    if faults:
                        _throttle_phase(emu.faults, pages)
                    seen.extend(event["__event_id"] for event in page)
                    await sink.write("".join(json.dumps(event) + "\n" for event in page))
                    if progress is not None:
                        await _report(progress, len(seen), results.total, started)
            job_uuid = results.job.uuid if results.job is not None else None
            stats = client.stats
            requests, retries, rate_limited = stats.requests, stats.retries, stats.rate_limited
        elapsed = time.perf_counter() - started
        expected = emu.expected_event_ids()
    unique = set(seen)
    return DemoSummary(
        events=len(seen),
        expected=len(expected),
        pages=pages,
        requests=requests,
        retries=retries,
        rate_limited=rate_limited,
        elapsed=elapsed,
        events_per_second=len(seen) / elapsed if elapsed > 0 else 0.0,
        missing=len(set(expected) - unique),
        duplicates=len(seen) - len(unique),
        in_order=seen == expected,
        output=path,
        job_uuid=job_uuid,
    )


def _throttle_phase(faults: Faults, pages: int) -> None:
    # A short throttling episode a few pages in, so every run shows 429s with Retry-After
    # whatever the machine's speed: 2 pages/s (burst 2), then the steady limit again.
    if pages == _THROTTLE_FROM:
        faults.rate_limit = 2.0
    elif pages == _THROTTLE_UNTIL:
        faults.rate_limit = _STEADY_RATE


async def _report(progress: ProgressCallback, done: int, total: int | None, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed > 0 else 0.0
    eta = (total - done) / rate if total is not None and rate > 0 else None
    result = progress(DemoProgress(done, total, rate, eta, elapsed))
    if result is not None:
        await result
