"""client.queries (SOL runs) against the emulator: rows, windows, errors, permissions."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sekoia_async import (
    OperationFailed,
    PermissionDeniedError,
    PollPolicy,
    QueryRunStatus,
    SekoiaClient,
)
from sekoia_async.testing import SekoiaEmulator, VirtualClock

FAST = PollPolicy(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=29) as emulator:
        emulator.generate_events(3_000)
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


@pytest.mark.anyio
async def test_rows_of_a_filtered_projected_query(
    client: SekoiaClient, emu: SekoiaEmulator
) -> None:
    sample = (await client.queries.create_run("events | limit 1", "-30d", "now")).uuid
    async with client.queries.download(await client.queries.wait_run(sample, poll=FAST)) as rows:
        first = [row async for row in rows]
    assert len(first) == 1
    host = first[0]["host.name"]
    sol = f'events | where host.name == "{host}" | select host.name, timestamp | limit 50'
    async with client.queries.run(sol, "-30d", "now", poll=FAST) as rows:
        got = [row async for row in rows]
        assert rows.run.status is QueryRunStatus.DONE
        assert rows.run.total_rows == len(got)
    assert 1 <= len(got) <= 50
    assert all(set(r) == {"host.name", "timestamp"} for r in got)
    assert all(r["host.name"] == host for r in got)


@pytest.mark.anyio
async def test_aggregation_and_no_results(client: SekoiaClient) -> None:
    async with client.queries.run(
        "events | aggregate count() by event.dialect", "-30d", "now", poll=FAST
    ) as rows:
        counts = [row async for row in rows]
    assert counts
    assert sum(r["count"] for r in counts) == 3_000
    async with client.queries.run(
        'events | where host.name == "no-such-host"', "-30d", "now", poll=FAST
    ) as rows:
        assert [row async for row in rows] == []


@pytest.mark.anyio
async def test_the_run_is_polled_until_done() -> None:
    clock = VirtualClock()
    async with SekoiaEmulator(seed=31, clock=clock, job_run_time=10.0) as emu:
        emu.generate_events(100)
        async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
            seen: list[object] = []

            def progress(run: object) -> None:
                seen.append(getattr(run, "status", None))
                clock.advance(4)

            async with client.queries.run(
                "events | limit 5", "-30d", "now", poll=FAST, progress=progress
            ) as rows:
                assert len([r async for r in rows]) == 5
    assert seen == [
        QueryRunStatus.PENDING,
        QueryRunStatus.RUNNING,
        QueryRunStatus.RUNNING,
        QueryRunStatus.DONE,
    ]


@pytest.mark.anyio
async def test_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    with pytest.raises(OperationFailed, match="Invalid SOL query") as info:
        async with client.queries.run("events | frobnicate", poll=FAST):
            raise AssertionError("the block must not run")
    assert info.value.status is QueryRunStatus.ERROR
    with pytest.raises(ValueError, match="invalid time"):
        await client.queries.create_run("events", "last tuesday", "now")
    key = emu.add_api_key(permissions=["View events"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        with pytest.raises(PermissionDeniedError):
            await restricted.queries.create_run("events | limit 1")
