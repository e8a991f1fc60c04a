"""A raw HTTP caller for the emulator tests: the emulator is tested without the SDK client."""

from __future__ import annotations

from typing import Any

import aiohttp
import attrs

from sekoia_async.testing import SekoiaEmulator


@attrs.frozen
class Api:
    """``await api(method, path, ...) -> (status, decoded JSON or None for 204)``."""

    emu: SekoiaEmulator
    session: aiohttp.ClientSession

    async def __call__(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        params: dict[str, Any] | None = None,
        json: Any = None,
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key or self.emu.api_key}"}
        async with self.session.request(
            method, self.emu.base_url + path, headers=headers, params=params, json=json
        ) as resp:
            body = None if resp.status == 204 else await resp.json()
            return resp.status, body
