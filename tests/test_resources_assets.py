"""client.assets (v2 asset management) against the emulator, including its errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from sekoia_async import (
    Asset,
    AssetSource,
    AssetType,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    SekoiaClient,
)
from sekoia_async.testing import Faults, SekoiaEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=3) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


@pytest.mark.anyio
async def test_create_get_update_revoke_delete(client: SekoiaClient) -> None:
    created = await client.assets.create(
        name="web-01",
        type=AssetType.HOST,
        category="server",
        criticality=40,
        atoms={"ipv4": ["10.0.0.1"], "hostname": ["web-01"]},
        props={"os": "linux"},
        tags=["prod"],
    )
    assert isinstance(created, Asset)
    assert created.type is AssetType.HOST
    assert created.source is AssetSource.MANUAL
    assert created.atoms == {"ipv4": ["10.0.0.1"], "hostname": ["web-01"]}
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None

    fetched = await client.assets.get(created.uuid)
    assert fetched == created

    updated = await client.assets.update(created, criticality=90, description="front")
    assert (updated.criticality, updated.description, updated.name) == (90, "front", "web-01")
    assert updated.updated_at is not None

    revoked = await client.assets.revoke(created)  # a model or its uuid
    assert revoked.revoked is True
    listed = [a.uuid async for a in client.assets.list(search="web-01")]
    assert created.uuid not in listed
    listed = [a.uuid async for a in client.assets.list(search="web-01", include_revoked=True)]
    assert created.uuid in listed

    await client.assets.delete(created.uuid)
    with pytest.raises(NotFoundError):
        await client.assets.get(created.uuid)


@pytest.mark.anyio
async def test_list_pages_every_asset_exactly_once(
    client: SekoiaClient, emu: SekoiaEmulator
) -> None:
    for i in range(23):
        await client.assets.create(name=f"bulk-{i:02d}", type="account", criticality=i)
    names = [
        a.name
        async for a in client.assets.list(search="bulk-", limit=5, sort="name", direction="asc")
    ]
    assert names == [f"bulk-{i:02d}" for i in range(23)]
    page = await client.assets.list(search="bulk-", limit=5).first_page()
    assert page.total == 23
    assert len(page.items) == 5
    high = [a.criticality async for a in client.assets.list(search="bulk-", criticality=(20, 100))]
    assert sorted(c for c in high if c is not None) == [20, 21, 22]
    capped = [a async for a in client.assets.list(search="bulk-", limit=5, max_items=7)]
    assert len(capped) == 7
    hosts = [a async for a in client.assets.list(type=AssetType.HOST)]
    assert hosts
    assert all(a.type is AssetType.HOST for a in hosts)


@pytest.mark.anyio
async def test_client_chosen_uuid_and_conflict(client: SekoiaClient) -> None:
    chosen = str(uuid.UUID(int=42))
    asset = await client.assets.create(name="fixed-id", type="network", uuid=chosen)
    assert asset.uuid == chosen
    with pytest.raises(ConflictError):
        await client.assets.create(name="fixed-id-2", type="network", uuid=chosen)


@pytest.mark.anyio
async def test_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    with pytest.raises(NotFoundError):
        await client.assets.get(str(uuid.uuid4()))
    with pytest.raises(BadRequestError, match="type"):
        await client.assets.create(name="odd", type="toaster")
    with pytest.raises(ValueError, match="limit=500"):
        client.assets.list(limit=500)
    with pytest.raises(ValueError, match="at least 2 characters"):
        await client.assets.create(name="x", type="host")
    read_only = emu.add_api_key(permissions=["View assets"])
    async with SekoiaClient(read_only, base_url=emu.base_url, max_retries=0) as restricted:
        assert (await restricted.assets.list().first_page()).items
        with pytest.raises(PermissionDeniedError):
            await restricted.assets.create(name="nope", type="host")
    nothing = emu.add_api_key(permissions=[])
    async with SekoiaClient(nothing, base_url=emu.base_url, max_retries=0) as restricted:
        with pytest.raises(PermissionDeniedError) as info:
            await restricted.assets.list().first_page()
        assert nothing not in str(info.value)


@pytest.mark.anyio
async def test_list_is_exactly_once_under_server_errors(emu: SekoiaEmulator) -> None:
    retry = RetryPolicy(max_retries=6, backoff_base=0.001, backoff_max=0.01)
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, retry=retry) as client:
        for i in range(30):
            await client.assets.create(name=f"flaky-{i:02d}", type="host")
        expected = [a.uuid async for a in client.assets.list(search="flaky-", sort="name")]
        emu.faults = Faults(error_rate=0.3, endpoints={"assets.list"}, seed=1)
        got = [a.uuid async for a in client.assets.list(search="flaky-", sort="name", limit=4)]
        assert got == expected
        assert len(set(got)) == 30
        assert client.stats.retries > 0
