"""Load: 200 concurrent searches from 100 tenants on one SessionPool limited to 50 connections.

Every search must deliver exactly its slice of events; the emulator measures the connections
open at once (never above the pool's limit) and logs every request, from which each tenant's
busiest second is computed (never above its token bucket's bound); tracemalloc's peak bounds
memory. The ten busiest tenants run most searches, so their rate limit is what holds them back.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from _reliability_scenarios import make_events, max_in_window, run_load
from aiohttp import web

from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


RATE = 5.0  # requests/s per tenant, Sekoia's advice for scripts
MEMORY_BOUND = 150 * 1024 * 1024  # generous: the measured peak is far lower (see the README)


def test_max_in_window() -> None:
    assert max_in_window([]) == 0
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([0.0, 0.0, 0.0]) == 3
    assert max_in_window([3.0, 1.0, 2.0]) == 1


async def test_200_searches_from_100_tenants_on_one_pool() -> None:
    async with SekoiaEmulator(seed=5) as emu:
        emu.add_events(make_events(40_000))
        outcome = await run_load(
            emu, tenants=100, searches_per_tenant=2, pool_limit=50, rate_limit=RATE
        )
    assert outcome.errors == [], outcome
    assert outcome.completed == outcome.searches == 200
    assert outcome.exact == 200  # each search: its slice, in order
    assert outcome.lost == 0
    assert outcome.duplicates == 0
    assert outcome.events > 30_000
    # Measured by the emulator: connections open at once never exceed the pool's limit...
    assert 0 < outcome.peak_connections <= outcome.pool_limit
    # ...and no tenant had more requests served in any one second than its token bucket
    # allows (a burst, then the rate: 10), although the ten heavy tenants, unlimited, reach
    # about 22. No slack: requests that queued for one of the 50 connections are paced again
    # when they are sent, so they cannot leave together.
    assert 0 < outcome.max_tenant_rate <= outcome.burst + RATE, outcome
    assert outcome.peak_memory < MEMORY_BOUND
