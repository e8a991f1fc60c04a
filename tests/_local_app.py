"""Serve a test's own aiohttp application on 127.0.0.1, for tests that script the API by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web

from sekoia_async import SekoiaClient


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Run ``app`` on a free loopback port; yields its base URL and stops it on exit."""
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def client_for(
    app: web.Application, api_key: str = "recorded-key", **options: Any
) -> AsyncIterator[SekoiaClient]:
    """``serve(app)`` and a SekoiaClient pointed at it, both closed on exit."""
    async with serve(app) as base_url, SekoiaClient(api_key, base_url=base_url, **options) as c:
        yield c
