"""Real recorded responses (assets, user) read correctly through the client's own calls.

The recordings (tests/data/recorded/, copied from the shared fixtures with their provenance in
that README) are served verbatim by a local aiohttp server on 127.0.0.1, honouring only
``limit``/``offset``, so the pager's handling of lists without a total is exercised too.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _local_app import client_for
from aiohttp import web

from sekoia_async import LegacyAsset, SekoiaClient, User

DATA = Path(__file__).parent / "data" / "recorded"


def _load(name: str) -> Any:
    return json.loads((DATA / name).read_text())


class RecordedServer:
    """Serves recorded bodies; records the query strings it received."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        self.list_file = "SekoiaXDR_get_assets.json"
        self.app = web.Application()
        self.app.router.add_get("/v1/asset-management/assets", self._list)
        self.app.router.add_get("/v1/asset-management/assets/{uuid}", self._get)
        self.app.router.add_get("/v1/me", self._me)

    async def _list(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        data = _load(self.list_file)
        limit = int(request.query.get("limit", 20))
        offset = int(request.query.get("offset", 0))
        data["items"] = data["items"][offset : offset + limit]
        return web.json_response(data)

    async def _get(self, request: web.Request) -> web.Response:
        asset = _load("SekoiaXDR_get_asset.json")
        if request.match_info["uuid"] != asset["uuid"]:
            return web.json_response({"message": "Asset not found"}, status=404)
        return web.json_response(asset)

    async def _me(self, request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer recorded-key"
        return web.json_response(_load("SekoiaXDR_get_user.json"))


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[RecordedServer, SekoiaClient]]:
    server = RecordedServer()
    async with client_for(server.app) as client:
        yield server, client


@pytest.mark.anyio
async def test_me_reads_the_recorded_user(recorded: tuple[RecordedServer, SekoiaClient]) -> None:
    _, client = recorded
    user = await client.account.me()
    assert isinstance(user, User)
    assert user.uuid == "7114c307-d86c-4c55"
    assert (user.firstname, user.lastname, user.email) == ("Joe", "done", "joe.done@test.io")
    assert user.mfa_enabled is True
    assert user.auth_provider == "local"
    # "2023-05-15 15:42:16.266135": space separator, no zone -> UTC.
    assert user.created_at == datetime(2023, 5, 15, 15, 42, 16, 266135, tzinfo=timezone.utc)
    assert user.last_activity == datetime(2024, 5, 2, 12, 32, 27, 196065, tzinfo=timezone.utc)
    assert [(c.name, c.disabled) for c in user.communities] == [("Sandbox", False)]
    assert user.communities[0].avatar_uuid == "d03d90b1-39f6-4da5"
    assert user.raw["company_name"] == "sekoia.io"


@pytest.mark.anyio
async def test_legacy_asset_detail(recorded: tuple[RecordedServer, SekoiaClient]) -> None:
    _, client = recorded
    asset = await client.assets.v1.get("015ea33b-a7a2-4e34")
    assert isinstance(asset, LegacyAsset)
    assert asset.name == "cortex_asset_test"
    assert asset.description is None
    assert asset.category is not None
    assert (asset.category.uuid, asset.category.name) == ("1c646cb3-54c3-44cb", "technical")
    assert asset.asset_type is not None
    assert asset.asset_type.name == "computer"
    assert asset.criticity is not None
    assert (asset.criticity.value, asset.criticity.display) == (10, "low")
    assert [(a.name, a.value) for a in asset.attributes] == [
        ("test_attr", "0"),
        ("test_attr1", "1"),
        ("test_attr2", "2"),
    ]
    assert asset.keys == []
    assert asset.created_at == datetime(2024, 4, 17, 15, 29, 49, 464479, tzinfo=timezone.utc)
    assert asset.updated_at is None


@pytest.mark.anyio
async def test_legacy_asset_list_without_total_reads_until_a_short_page(
    recorded: tuple[RecordedServer, SekoiaClient],
) -> None:
    server, client = recorded
    assets = [a async for a in client.assets.v1.list(limit=2)]
    assert [a.name for a in assets] == ["cortex_asset_test", "ydi test", "cortex debug", "ADMIN"]
    assert assets[2].updated_at == datetime(2022, 4, 6, 7, 41, 7, 477336, tzinfo=timezone.utc)
    assert assets[3].criticity is not None
    assert assets[3].criticity.display == "high"
    # No total and no has_more: full pages are followed until an empty one.
    assert [(q["limit"], q["offset"]) for q in server.queries] == [
        ("2", "0"),
        ("2", "2"),
        ("2", "4"),
    ]


@pytest.mark.anyio
async def test_legacy_asset_list_with_total(recorded: tuple[RecordedServer, SekoiaClient]) -> None:
    server, client = recorded
    server.list_file = "SekoiaXDR_list_assets.json"
    page = await client.assets.v1.list().first_page()
    assert page.total == 2
    assert [a.description for a in page.items] == [None, "ydi test cortex"]
    assert [a.uuid for a in client_items(page.items)] == [
        "015ea33b-a7a2-4e34",
        "3deb62b1-aeee-4f08",
    ]


def client_items(items: tuple[LegacyAsset, ...]) -> list[LegacyAsset]:
    return list(items)
