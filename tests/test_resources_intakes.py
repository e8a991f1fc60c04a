"""client.intakes (list, get, create) against the emulator, including its errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from sekoia_async import (
    BadRequestError,
    Intake,
    NotFoundError,
    PermissionDeniedError,
    SekoiaClient,
)
from sekoia_async.testing import SekoiaEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=13) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


@pytest.mark.anyio
async def test_list_filter_get(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    intakes = [i async for i in client.intakes.list()]
    assert intakes
    assert all(isinstance(i, Intake) for i in intakes)
    assert {i.uuid for i in intakes} <= {i["uuid"] for i in emu.state.intakes}
    assert [i.uuid async for i in client.intakes.list(limit=1)] == [i.uuid for i in intakes]
    first = intakes[0]
    assert first.name is not None
    named = [i async for i in client.intakes.list(name=first.name)]
    assert [i.uuid for i in named] == [i.uuid for i in intakes if i.name == first.name]
    either = [i async for i in client.intakes.list(name=[first.name, intakes[-1].name or ""])]
    assert {i.uuid for i in either} >= {first.uuid, intakes[-1].uuid}
    assert await client.intakes.get(first.uuid) == first
    assert first.intake_key is not None
    assert first.intake_key not in repr(first)


@pytest.mark.anyio
async def test_create(client: SekoiaClient) -> None:
    entity = (await client.entities.list().first_page()).items[0]
    format_uuid = str(uuid.uuid4())
    intake = await client.intakes.create(
        name="Firewall logs", entity_uuid=entity.uuid, format_uuid=format_uuid
    )
    assert (intake.name, intake.entity_uuid, intake.format_uuid) == (
        "Firewall logs",
        entity.uuid,
        format_uuid,
    )
    assert intake.intake_key
    assert await client.intakes.get(intake.uuid) == intake
    assert intake.uuid in [i.uuid async for i in client.intakes.list(name="Firewall logs")]


@pytest.mark.anyio
async def test_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    with pytest.raises(NotFoundError):
        await client.intakes.get(str(uuid.uuid4()))
    with pytest.raises(BadRequestError, match="entity_uuid"):
        await client.intakes.create(
            name="x", entity_uuid=str(uuid.uuid4()), format_uuid=str(uuid.uuid4())
        )
    with pytest.raises(ValueError, match="name"):
        await client.intakes.create(name=" ", entity_uuid="e", format_uuid="f")
    key = emu.add_api_key(permissions=["View intakes"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        assert (await restricted.intakes.list().first_page()).items
        with pytest.raises(PermissionDeniedError):
            await restricted.intakes.create(
                name="x", entity_uuid=str(uuid.uuid4()), format_uuid=str(uuid.uuid4())
            )
    key = emu.add_api_key(permissions=["View alerts"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        with pytest.raises(PermissionDeniedError):
            await restricted.intakes.list().first_page()
