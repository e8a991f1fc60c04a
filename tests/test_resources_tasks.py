"""client.tasks: get and wait, against the emulator and a server scripted to fail a task."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from _local_app import client_for
from aiohttp import web

from sekoia_async import NotFoundError, OperationFailed, PollPolicy, SekoiaClient, Task, TaskStatus
from sekoia_async.testing import SekoiaEmulator, VirtualClock

FAST = PollPolicy(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)


@pytest.mark.anyio
async def test_get_and_wait_an_export_task_on_the_emulator() -> None:
    clock = VirtualClock()
    async with SekoiaEmulator(seed=23, clock=clock, export_rate=10.0) as emu:
        emu.generate_events(100)  # 10 s of emulator time to export
        async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as client:
            job = await client.events.create_search_job("", "-30d", "now")
            task_uuid = await client.events.start_export(job.uuid, ["message"])
            task = await client.tasks.get(task_uuid)
            assert isinstance(task, Task)
            assert (task.uuid, task.status, task.progress, task.total) == (
                task_uuid,
                TaskStatus.PENDING,
                0,
                100,
            )
            assert not task.done
            assert task.created_at is not None
            clock.advance(5)
            assert (await client.tasks.get(task_uuid)).progress == 50
            clock.advance(5)
            done = await client.tasks.wait(task_uuid, poll=FAST)
            assert done.succeeded
            assert done.download_url is not None
            with pytest.raises(NotFoundError):
                await client.tasks.get(str(uuid.uuid4()))


class TaskServer:
    """Answers GET /v1/tasks/{uuid} with scripted states, the last one repeating."""

    def __init__(self, states: list[dict[str, Any]]) -> None:
        self.states = states
        self.polls = 0
        self.app = web.Application()
        self.app.router.add_get("/v1/tasks/{uuid}", self._get)

    async def _get(self, request: web.Request) -> web.Response:
        state = self.states[min(self.polls, len(self.states) - 1)]
        self.polls += 1
        return web.json_response(state)


@pytest.fixture
async def failing() -> AsyncIterator[tuple[TaskServer, SekoiaClient]]:
    server = TaskServer(
        [
            {"uuid": "t-1", "status": "PENDING", "progress": 0, "total": 10},
            {"uuid": "t-1", "status": "RUNNING", "progress": 4, "total": 10},
            {
                "uuid": "t-1",
                "status": "FAILED",
                "progress": 4,
                "total": 10,
                "attributes": {"error": "Monthly export quota exceeded"},
            },
        ]
    )
    async with client_for(server.app, "k", max_retries=0) as client:
        yield server, client


@pytest.mark.anyio
async def test_a_failed_task_raises_with_the_servers_reason(
    failing: tuple[TaskServer, SekoiaClient],
) -> None:
    server, client = failing
    seen: list[Any] = []
    with pytest.raises(OperationFailed, match="FAILED: Monthly export quota exceeded") as info:
        await client.tasks.wait("t-1", poll=FAST, progress=lambda t: seen.append(t.status))
    assert info.value.operation_uuid == "t-1"
    assert isinstance(info.value.state, Task)
    assert info.value.state.progress == 4
    assert seen == [TaskStatus.PENDING, TaskStatus.RUNNING, TaskStatus.FAILED]
    assert server.polls == 3
