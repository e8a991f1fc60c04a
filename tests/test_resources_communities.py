"""client.communities (list, get, roles) against the emulator, including its errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from sekoia_async import Community, NotFoundError, PermissionDeniedError, Role, SekoiaClient
from sekoia_async.testing import SekoiaEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=5) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


@pytest.mark.anyio
async def test_list_and_get(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    communities = [c async for c in client.communities.list()]
    assert all(isinstance(c, Community) for c in communities)
    assert [c.uuid for c in communities] == [c["uuid"] for c in emu.state.communities]
    one_per_page = [c.uuid async for c in client.communities.list(limit=1)]
    assert one_per_page == [c.uuid for c in communities]
    main = await client.communities.get(emu.main_community_uuid)
    assert main == next(c for c in communities if c.uuid == emu.main_community_uuid)
    assert main.name
    assert main.created_at is not None
    assert main.created_at.tzinfo is not None


@pytest.mark.anyio
async def test_roles_of_a_community(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    main = await client.communities.get(emu.main_community_uuid)
    roles = [r async for r in client.communities.roles(main)]  # a model or its uuid
    assert roles == [r async for r in client.communities.roles(main.uuid)]
    assert roles
    assert all(isinstance(r, Role) for r in roles)
    assert len({r.uuid for r in roles}) == len(roles)
    assert all(r.name for r in roles)


@pytest.mark.anyio
async def test_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    with pytest.raises(NotFoundError):
        await client.communities.get(str(uuid.uuid4()))
    with pytest.raises(NotFoundError):
        await client.communities.roles(str(uuid.uuid4())).first_page()
    with pytest.raises(ValueError, match="would change the request path"):
        await client.communities.get("..")
    key = emu.add_api_key(permissions=["View alerts"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        with pytest.raises(PermissionDeniedError):
            await restricted.communities.list().first_page()
        with pytest.raises(PermissionDeniedError):
            await restricted.communities.get(emu.main_community_uuid)
