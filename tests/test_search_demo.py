"""The demo's logic (``sekoia-async demo``): complete NDJSON output through faults, progress."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sekoia_async._helpers.demo import DemoProgress, run_demo

pytestmark = pytest.mark.anyio


async def test_demo_writes_every_event_once_through_faults(tmp_path: Path) -> None:
    out = tmp_path / "events.ndjson"
    seen: list[DemoProgress] = []

    async def progress(p: DemoProgress) -> None:
        seen.append(p)

    summary = await run_demo(20_000, out, seed=3, progress=progress)
    assert summary.ok
    assert summary.events == summary.expected == 20_000
    assert (summary.missing, summary.duplicates) == (0, 0)
    assert summary.pages == 20
    assert summary.rate_limited > 0  # the throttling phase answered 429 + Retry-After
    assert summary.retries > 0
    assert summary.requests > summary.pages
    lines = out.read_text().splitlines()
    assert len(lines) == 20_000
    assert json.loads(lines[0])["__event_id"]
    assert [p.events for p in seen] == [1000 * (i + 1) for i in range(20)]
    assert seen[-1].total == 20_000
    assert seen[-1].eta_seconds == 0


async def test_demo_defaults_to_a_temporary_file_and_can_run_clean() -> None:
    summary = await run_demo(1500, faults=False, progress=lambda p: None)
    try:
        assert summary.ok
        assert summary.retries == 0
        assert summary.output.exists()
        assert len(summary.output.read_text().splitlines()) == 1500
    finally:
        summary.output.unlink()
