"""client.account.me() and validate() against the emulator."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from sekoia_async import AuthenticationError, SekoiaClient, User
from sekoia_async.testing import SekoiaEmulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=11) as emulator:
        yield emulator


@pytest.mark.anyio
async def test_me_describes_the_keys_principal(emu: SekoiaEmulator) -> None:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
        me = await client.account.me()
        extended = await client.account.me(extended=True)
    assert isinstance(me, User)
    assert me.uuid == emu.key_info(emu.api_key).uuid
    assert extended.uuid == me.uuid
    assert emu.main_community_uuid in {c.uuid for c in me.communities}
    assert emu.api_key not in repr(me)


@pytest.mark.anyio
async def test_validate_tells_a_good_key_from_a_bad_one(emu: SekoiaEmulator) -> None:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
        assert await client.account.validate() is True
    # A key without any permission is still a valid key.
    bare = emu.add_api_key(permissions=[])
    async with SekoiaClient(bare, base_url=emu.base_url) as client:
        assert await client.account.validate() is True
    async with SekoiaClient("not-a-key", base_url=emu.base_url, max_retries=0) as client:
        assert await client.account.validate() is False
        with pytest.raises(AuthenticationError) as info:
            await client.account.me()
        assert "not-a-key" not in str(info.value)
