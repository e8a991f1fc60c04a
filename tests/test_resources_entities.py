"""client.entities (list, get, create) against the emulator, including its errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from sekoia_async import BadRequestError, Entity, NotFoundError, PermissionDeniedError, SekoiaClient
from sekoia_async.testing import SekoiaEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=17) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


@pytest.mark.anyio
async def test_list_get_create(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    entities = [e async for e in client.entities.list()]
    assert entities
    assert all(isinstance(e, Entity) for e in entities)
    assert {e.uuid for e in entities} <= {e["uuid"] for e in emu.state.entities}
    assert await client.entities.get(entities[0].uuid) == entities[0]
    created = await client.entities.create(
        name="Test branch 42",
        entity_id="LYS",
        description="Lyon office",
        alerts_generation="manual",
    )
    assert (created.name, created.entity_id, created.alerts_generation) == (
        "Test branch 42",
        "LYS",
        "manual",
    )
    assert created.number_of_intakes == 0
    named = [e async for e in client.entities.list(name="Test branch 42")]
    assert [e.uuid for e in named] == [created.uuid]


@pytest.mark.anyio
async def test_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    with pytest.raises(NotFoundError):
        await client.entities.get(str(uuid.uuid4()))
    existing = (await client.entities.list().first_page()).items[0]
    assert existing.name is not None
    with pytest.raises(BadRequestError, match="already used"):
        await client.entities.create(name=existing.name, entity_id="dup")
    with pytest.raises(ValueError, match="entity_id"):
        await client.entities.create(name="ok", entity_id="")
    key = emu.add_api_key(permissions=["View entities"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        with pytest.raises(PermissionDeniedError):
            await restricted.entities.create(name="nope", entity_id="n")
