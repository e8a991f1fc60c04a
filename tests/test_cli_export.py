"""`sekoia-async export` run as a real subprocess against the in-process emulator: many tenants,
a failing tenant, kill -9 and resume, time shards, and --shard slices."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio
import pytest

from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

EARLIEST, LATEST = "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z"
N_EVENTS = 3_000


def cli_env(emu: SekoiaEmulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKOIA_")}
    env.update(NO_PROXY="*", **extra)
    return env


async def run_cli(
    args: Sequence[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(90):
        return await anyio.run_process(
            [sys.executable, "-m", "sekoia_async", *args], env=env, check=False
        )


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=5, job_run_time=0.0) as emulator:
        emulator.generate_events(
            N_EVENTS,
            start=datetime(2026, 1, 1, tzinfo=timezone.utc),
            end=datetime(2026, 2, 1, tzinfo=timezone.utc) - timedelta(seconds=1),
        )
        yield emulator


def tenant_toml(name: str, emu: SekoiaEmulator, output: Path, *, key_env: str, **extra: Any) -> str:
    lines = [
        "[[tenants]]",
        f'name = "{name}"',
        f'api_key_env = "{key_env}"',
        f'base_url = "{emu.base_url}"',
        f"output = {json.dumps(str(output))}",
        f'earliest = "{EARLIEST}"',
        f'latest = "{LATEST}"',
    ]
    lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
    return "\n".join(lines) + "\n\n"


def read_ids(path: Path) -> list[str]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    return [json.loads(line)["__event_id"] for line in raw.splitlines()]


async def test_five_tenants_one_with_a_bad_key(emu: SekoiaEmulator, tmp_path: Path) -> None:
    queries = ["", "event.dialect:*", 'NOT event.dialect:"nginx"', "", ""]
    env = cli_env(emu)
    config = ""
    for i, query in enumerate(queries):
        env[f"KEY_{i}"] = emu.add_api_key(permissions=["View events"]) if i != 3 else "bad-key"
        suffix = ".ndjson.gz" if i == 1 else ".ndjson"
        config += tenant_toml(
            f"t{i}",
            emu,
            tmp_path / f"t{i}{suffix}",
            key_env=f"KEY_{i}",
            query=query,
            page_size=200,
            concurrency=3,
        )
    (tmp_path / "tenants.toml").write_text(config)

    done = await run_cli(
        [
            "export",
            "--config",
            str(tmp_path / "tenants.toml"),
            "--pool-limit",
            "8",
            "--pool-rate-limit",
            "0",
            "--poll-interval",
            "0.02",
        ],
        env,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 1, stderr  # not every tenant succeeded
    assert "t3" in stderr
    assert "AuthenticationError" in stderr
    assert "bad-key" not in stderr
    for i, query in enumerate(queries):
        if i == 3:
            assert not (tmp_path / "t3.ndjson").exists() or read_ids(tmp_path / "t3.ndjson") == []
            continue
        path = tmp_path / (f"t{i}.ndjson.gz" if i == 1 else f"t{i}.ndjson")
        assert read_ids(path) == emu.expected_event_ids(query, EARLIEST, LATEST), f"tenant t{i}"
    # The shared pool bounded the connections of all tenants together.
    assert emu.stats.max_concurrent_connections <= 8


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
async def test_kill_mid_export_then_rerun_gives_every_event_once(
    emu: SekoiaEmulator, tmp_path: Path, sig: signal.Signals
) -> None:
    env = cli_env(emu)
    config = ""
    for i in range(2):
        env[f"KEY_{i}"] = emu.api_key
        config += tenant_toml(
            f"t{i}",
            emu,
            tmp_path / (f"t{i}.ndjson.gz" if i else f"t{i}.ndjson"),
            key_env=f"KEY_{i}",
            page_size=20,
            concurrency=1,
            rate_limit=100,
        )
    (tmp_path / "tenants.toml").write_text(config)
    checkpoint = tmp_path / "t0.ndjson.checkpoint.json"
    args = [
        sys.executable,
        "-m",
        "sekoia_async",
        "export",
        "--config",
        str(tmp_path / "tenants.toml"),
    ]

    async with await anyio.open_process(args, env=env) as proc:
        with anyio.fail_after(60):
            # Wait (bounded) until some, but not all, events are durably written.
            while _events_in(checkpoint) < 200:
                assert proc.returncode is None, "the export finished before it could be killed"
                await anyio.sleep(0.01)
            proc.send_signal(sig)
            code = await proc.wait()
    # SIGKILL leaves no chance to clean up; SIGTERM cancels like Ctrl-C (exit code 130).
    assert code == (-signal.SIGKILL if sig == signal.SIGKILL else 130)
    partial = _events_in(checkpoint)
    assert 0 < partial < N_EVENTS

    done = await run_cli(
        [
            "export",
            "--config",
            str(tmp_path / "tenants.toml"),
            "--pool-rate-limit",
            "0",
            "--poll-interval",
            "0.02",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr.decode()
    expected = emu.expected_event_ids("", EARLIEST, LATEST)
    for name in ("t0.ndjson", "t1.ndjson.gz"):
        got = read_ids(tmp_path / name)
        assert len(got) == len(set(got)), f"{name} has duplicates"
        assert set(got) == set(expected)
        assert got == expected  # and in server order
    # A third run has nothing left to do and changes nothing.
    before = (tmp_path / "t0.ndjson").read_bytes()
    again = await run_cli(["export", "--config", str(tmp_path / "tenants.toml")], env)
    assert again.returncode == 0
    assert (tmp_path / "t0.ndjson").read_bytes() == before


def _events_in(checkpoint: Path) -> int:
    try:
        return int(json.loads(checkpoint.read_text())["events"])
    except (FileNotFoundError, ValueError, KeyError):
        return 0


async def test_time_shards_and_splits_keep_newest_first_order(
    emu: SekoiaEmulator, tmp_path: Path
) -> None:
    env = cli_env(emu, KEY=emu.api_key)
    out = tmp_path / "big.ndjson"
    config = tenant_toml(
        "big", emu, out, key_env="KEY", time_shards=2, split_threshold=600, page_size=100
    )
    (tmp_path / "tenants.toml").write_text(config)
    done = await run_cli(
        [
            "export",
            "--config",
            str(tmp_path / "tenants.toml"),
            "--pool-rate-limit",
            "0",
            "--poll-interval",
            "0.02",
        ],
        env,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert read_ids(out) == emu.expected_event_ids("", EARLIEST, LATEST)
    # The parts were merged and removed; only the output and its checkpoint remain.
    assert sorted(os.listdir(tmp_path)) == [
        "big.ndjson",
        "big.ndjson.checkpoint.json",
        "tenants.toml",
    ]
    state = json.loads((tmp_path / "big.ndjson.checkpoint.json").read_text())
    assert state["done"] is True
    assert state["events"] == N_EVENTS


async def test_shard_slices_run_separately_then_merge(emu: SekoiaEmulator, tmp_path: Path) -> None:
    env = cli_env(emu, KEY=emu.api_key)
    config = ""
    for name in ("a", "b"):
        config += tenant_toml(name, emu, tmp_path / f"{name}.ndjson", key_env="KEY", time_shards=3)
    path = str(tmp_path / "tenants.toml")
    (tmp_path / "tenants.toml").write_text(config)
    # Two "machines", each with its slice of the 6 work items.
    for i in range(2):
        done = await run_cli(
            [
                "export",
                "--config",
                path,
                "--shard",
                f"{i}/2",
                "--pool-rate-limit",
                "0",
                "--poll-interval",
                "0.02",
            ],
            env,
        )
        assert done.returncode == 0, done.stderr.decode()
    assert not (tmp_path / "a.ndjson").exists()  # parts only, until the merge
    merged = await run_cli(["export", "--config", path], env)
    assert merged.returncode == 0, merged.stderr.decode()
    expected = emu.expected_event_ids("", EARLIEST, LATEST)
    assert read_ids(tmp_path / "a.ndjson") == expected
    assert read_ids(tmp_path / "b.ndjson") == expected


async def test_shard_with_relative_window_needs_now(emu: SekoiaEmulator, tmp_path: Path) -> None:
    (tmp_path / "tenants.toml").write_text(
        '[[tenants]]\nname = "a"\napi_key_env = "KEY"\n'
        f'base_url = "{emu.base_url}"\noutput = "a.ndjson"\ntime_shards = 2\n'
    )
    done = await run_cli(
        ["export", "--config", str(tmp_path / "tenants.toml"), "--shard", "0/2"],
        cli_env(emu, KEY=emu.api_key),
    )
    assert done.returncode == 2
    assert b"--now" in done.stderr


async def test_bad_config_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "tenants.toml").write_text("[[tenants]]\nname = 'x'\n")
    done = await run_cli(["export", "--config", str(tmp_path / "tenants.toml")], dict(os.environ))
    assert done.returncode == 2
    assert b"api_key_env" in done.stderr
