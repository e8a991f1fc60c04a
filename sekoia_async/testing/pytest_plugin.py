"""pytest plugin (entry point ``sekoia_async``): fixtures ``sekoia_emulator`` and ``sekoia_client``.

Both are async fixtures for anyio's pytest plugin (mark tests ``@pytest.mark.anyio``)::

    @pytest.mark.anyio
    async def test_alerts(sekoia_client):
        async for alert in sekoia_client.alerts.list():
            ...

Configure the emulator per test with ``@pytest.mark.sekoia_emulator(events=1000, seed=1, ...)``
(any ``SekoiaEmulator`` keyword).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from .._client import SekoiaClient
from ._server import SekoiaEmulator

__all__ = ["sekoia_client", "sekoia_emulator"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "sekoia_emulator(**kwargs): SekoiaEmulator keywords for the sekoia_emulator fixture",
    )


@pytest.fixture
async def sekoia_emulator(
    request: pytest.FixtureRequest, anyio_backend: Any
) -> AsyncIterator[SekoiaEmulator]:
    """A running SekoiaEmulator on 127.0.0.1, closed after the test."""
    marker = request.node.get_closest_marker("sekoia_emulator")
    options: dict[str, Any] = dict(marker.kwargs) if marker is not None else {}
    async with SekoiaEmulator(**options) as emulator:
        yield emulator


@pytest.fixture
async def sekoia_client(
    sekoia_emulator: SekoiaEmulator, anyio_backend: Any
) -> AsyncIterator[SekoiaClient]:
    """A SekoiaClient pointed at ``sekoia_emulator`` with its all-permissions key."""

    async with SekoiaClient(
        api_key=sekoia_emulator.api_key, base_url=sekoia_emulator.base_url
    ) as client:
        yield client
