"""Shared fixtures. Async tests run on asyncio through anyio's pytest plugin."""

from __future__ import annotations

import pytest
from _reliability_guards import (  # noqa: F401  (suite-wide leak and secret guards)
    pytest_configure,
    pytest_runtest_makereport,
    pytest_terminal_summary,
    pytest_unconfigure,
    sekoia_leak_guard,
    sekoia_task_guard,
)


@pytest.fixture
def anyio_backend() -> str:
    # aiohttp runs on asyncio only.
    return "asyncio"
