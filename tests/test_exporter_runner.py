"""The exporter in-process against the emulator: the per-search cap, failing tenants, reruns."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from sekoia_async import (
    ConfigurationError,
    ExportConfig,
    Exporter,
    ExportResult,
    PollPolicy,
    TenantConfig,
    TenantProgress,
)
from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
END = datetime(2026, 1, 2, tzinfo=timezone.utc)
EARLIEST, LATEST = START.isoformat(), END.isoformat()
FAST: dict[str, Any] = {
    "pool_options": {"rate_limit": None},
    "search_options": {"poll": PollPolicy(initial=0.01, cap=0.1)},
}


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=9, max_job_total=500) as emulator:
        emulator.generate_events(2_000, start=START, end=END - timedelta(seconds=1))
        yield emulator


def tenant(emu: SekoiaEmulator, name: str, out: Path, **extra: Any) -> TenantConfig:
    options: dict[str, Any] = {
        "name": name,
        "output": out / f"{name}.ndjson",
        "api_key": emu.api_key,
        "base_url": emu.base_url,
        "earliest": EARLIEST,
        "latest": LATEST,
        "page_size": 250,
        **extra,
    }
    return TenantConfig(**options)


def ids(path: Path) -> list[str]:
    return [json.loads(line)["__event_id"] for line in path.read_text().splitlines()]


async def test_jobs_at_the_server_cap_are_split_until_complete(
    emu: SekoiaEmulator, tmp_path: Path
) -> None:
    capped = tenant(emu, "capped", tmp_path, split_threshold=500)
    result = await Exporter(ExportConfig((capped,)), **FAST).run()
    assert result.ok, result.tenants[0].error
    # Every job is capped at 500 by the server: only splitting can read all 2 000 events.
    assert ids(capped.output) == emu.expected_event_ids("", EARLIEST, LATEST)
    assert result.tenants[0].splits >= 3
    assert result.events == 2_000


async def test_a_failing_tenant_does_not_stop_the_others(
    emu: SekoiaEmulator, tmp_path: Path
) -> None:
    good = tenant(emu, "good", tmp_path, query="event.dialect:*", split_threshold=500)
    bad_query = tenant(emu, "badquery", tmp_path, query="source.ip:(")
    no_perm = tenant(emu, "noperm", tmp_path, api_key=emu.add_api_key(["View alerts"]))
    foreign = tenant(emu, "foreign", tmp_path)
    foreign.output.write_text("not ours\n")
    exporter = Exporter(ExportConfig((good, bad_query, no_perm, foreign)), **FAST)
    result = await exporter.run()
    states = {t.name: (t.state, t.error or "") for t in result.tenants}
    assert not result.ok
    assert states["good"][0] == "done"
    assert ids(good.output) == emu.expected_event_ids("event.dialect:*", EARLIEST, LATEST)
    assert states["badquery"][0] == "failed"
    assert "SearchJobFailed" in states["badquery"][1]
    assert "PermissionDeniedError" in states["noperm"][1]
    assert "no checkpoint" in states["foreign"][1]
    assert foreign.output.read_text() == "not ours\n"


async def test_a_finished_export_is_not_redone(emu: SekoiaEmulator, tmp_path: Path) -> None:
    config = ExportConfig((tenant(emu, "t", tmp_path, split_threshold=500),))
    first = await Exporter(config, **FAST).run()
    assert first.ok
    before = config.tenants[0].output.read_bytes()
    requests = emu.stats.requests
    again = await Exporter(config, environ={}, **FAST).run()
    assert again.ok
    assert again.tenants[0].resumed_events == 2_000
    assert emu.stats.requests == requests  # not a single request
    assert config.tenants[0].output.read_bytes() == before


async def test_missing_key_env_is_reported_per_tenant(emu: SekoiaEmulator, tmp_path: Path) -> None:
    config = ExportConfig(
        (
            TenantConfig(
                name="envless",
                output=tmp_path / "e.ndjson",
                api_key_env="SEKOIA_TEST_MISSING_KEY",
                base_url=emu.base_url,
            ),
        )
    )
    result = await Exporter(config, environ={}, **FAST).run()
    assert result.tenants[0].state == "failed"
    assert "SEKOIA_TEST_MISSING_KEY is not set" in (result.tenants[0].error or "")


async def test_shards_with_a_pinned_now_cut_relative_windows_identically(
    emu: SekoiaEmulator, tmp_path: Path
) -> None:
    now = END + timedelta(hours=1)
    shared = tenant(
        emu, "rel", tmp_path, earliest="-2d", latest="now", time_shards=4, split_threshold=500
    )
    config = ExportConfig((shared,))
    # Two "machines" with their slices, then a run without --shard that merges the parts.
    for index in range(2):
        result = await Exporter(config, shard=(index, 2), now=now, **FAST).run()
        assert result.tenants[0].state == "parts done"
    assert not shared.output.exists()
    merged = await Exporter(config, now=now, **FAST).run()
    assert merged.ok
    window = ((now - timedelta(days=2)).isoformat(), now.isoformat())
    assert ids(shared.output) == emu.expected_event_ids("", *window)


def test_relative_windows_need_a_pinned_now_to_be_sharded(tmp_path: Path) -> None:
    config = ExportConfig(
        (TenantConfig(name="r", output=tmp_path / "r", api_key="k", time_shards=2),)
    )
    with pytest.raises(ConfigurationError, match="--now"):
        Exporter(config, shard=(0, 2))
    Exporter(config, shard=(0, 2), now=END)  # pinned: fine
    Exporter(config, shard=(0, 1))  # one machine: fine


def test_export_summary_lists_failures_in_full() -> None:
    from rich.console import Console

    from sekoia_async.cli._progress import export_summary

    ok = TenantProgress("good", items=1, state="done", events=1234)
    bad = TenantProgress("bad", items=1, state="failed", error="AuthenticationError: HTTP 401")
    console = Console(file=io.StringIO(), width=60)
    console.print(export_summary(ExportResult((ok, bad), elapsed=2.0)))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "1/2 tenants ok, 1,234 events" in text
    assert "bad failed: AuthenticationError: HTTP 401" in text
