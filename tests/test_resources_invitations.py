"""client.invitations.create with the quickstart's body, against the emulator."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from sekoia_async import (
    BadRequestError,
    Invitation,
    NotFoundError,
    PermissionDeniedError,
    SekoiaClient,
)
from sekoia_async.testing import SekoiaEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=7) as emulator:
        yield emulator


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as c:
        yield c


async def _a_role(client: SekoiaClient, community_uuid: str) -> str:
    page = await client.communities.roles(community_uuid).first_page()
    return page.items[0].uuid


@pytest.mark.anyio
async def test_invite_with_a_role_of_the_community(
    client: SekoiaClient, emu: SekoiaEmulator
) -> None:
    community = emu.main_community_uuid
    role = await _a_role(client, community)
    invitation = await client.invitations.create("john.doe@example.com", {community: [role]})
    assert isinstance(invitation, Invitation)
    assert invitation.email == "john.doe@example.com"
    assert invitation.communities == {community: [role]}
    assert invitation.uuid
    assert invitation.created_at is not None
    assert invitation.created_at.tzinfo is not None
    listed = [i async for i in client.invitations.list()]
    assert [i.uuid for i in listed] == [invitation.uuid]
    assert listed[0] == invitation


@pytest.mark.anyio
async def test_server_side_errors(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    community = emu.main_community_uuid
    role = await _a_role(client, community)
    with pytest.raises(BadRequestError, match="not a role of community"):
        await client.invitations.create("a@example.com", {community: [str(uuid.uuid4())]})
    with pytest.raises(NotFoundError):
        await client.invitations.create("a@example.com", {str(uuid.uuid4()): [role]})
    key = emu.add_api_key(permissions=["View communities"])
    async with SekoiaClient(key, base_url=emu.base_url, max_retries=0) as restricted:
        with pytest.raises(PermissionDeniedError):
            await restricted.invitations.create("a@example.com", {community: [role]})


@pytest.mark.anyio
async def test_client_side_errors_send_nothing(client: SekoiaClient, emu: SekoiaEmulator) -> None:
    before = client.stats.requests
    with pytest.raises(ValueError, match="not an email"):
        await client.invitations.create("nobody", {emu.main_community_uuid: [str(uuid.uuid4())]})
    with pytest.raises(ValueError, match="non-empty list of role"):
        await client.invitations.create("a@example.com", {emu.main_community_uuid: []})
    assert client.stats.requests == before
