"""`sekoia-async events search` run as a real subprocess against the in-process emulator."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path

import anyio
import pytest

from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

# An absolute window around the generated events, so the command and the emulator's expectation
# resolve the same instants (relative times would be resolved at two different moments).
EARLIEST, LATEST = "2000-01-01T00:00:00Z", "2100-01-01T00:00:00Z"
DATES = f"{EARLIEST},{LATEST}"
N_EVENTS = 2_500


def cli_env(emu: SekoiaEmulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKOIA_")}
    env.update(SEKOIA_API_KEY=emu.api_key, SEKOIA_BASE_URL=emu.base_url, NO_PROXY="*")
    env.update(extra)
    return env


async def run_cli(
    args: Sequence[str], env: Mapping[str, str], *, cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(60):
        return await anyio.run_process(
            [sys.executable, "-m", "sekoia_async", *args], env=env, check=False, cwd=cwd
        )


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=3, job_run_time=0.0) as emulator:
        emulator.generate_events(N_EVENTS, start=EARLIEST_EVENTS, end=LATEST_EVENTS)
        yield emulator


EARLIEST_EVENTS = datetime(2026, 1, 1, tzinfo=timezone.utc)
LATEST_EVENTS = datetime(2026, 2, 1, tzinfo=timezone.utc)


def ids(ndjson: bytes) -> list[str]:
    return [json.loads(line)["__event_id"] for line in ndjson.splitlines() if line.strip()]


async def test_search_streams_every_event_in_server_order(emu: SekoiaEmulator) -> None:
    expected = emu.expected_event_ids("", EARLIEST, LATEST)
    assert len(expected) == N_EVENTS
    done = await run_cli(
        ["events", "search", "-q", "", "-d", DATES, "--concurrency", "3"], cli_env(emu)
    )
    assert done.returncode == 0, done.stderr.decode()
    assert ids(done.stdout) == expected
    # stderr is not a terminal here: no progress bar, no noise.
    assert done.stderr == b""


async def test_search_with_a_query_json_format_and_output_file(
    emu: SekoiaEmulator, tmp_path: Path
) -> None:
    query = "event.dialect:*"
    expected = emu.expected_event_ids(query, EARLIEST, LATEST)
    out = tmp_path / "events.json"
    done = await run_cli(
        ["events", "search", "-q", query, "-d", DATES, "--format", "json", "-o", str(out)],
        cli_env(emu),
    )
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout == b""
    assert [e["__event_id"] for e in json.loads(out.read_text())] == expected


async def test_max_events_keeps_the_newest(emu: SekoiaEmulator) -> None:
    done = await run_cli(
        ["events", "search", "-q", "", "-d", DATES, "--max-events", "7"], cli_env(emu)
    )
    assert done.returncode == 0, done.stderr.decode()
    assert ids(done.stdout) == emu.expected_event_ids("", EARLIEST, LATEST)[:7]


async def test_exit_code_3_for_a_bad_key(emu: SekoiaEmulator) -> None:
    done = await run_cli(
        ["events", "search", "-q", "", "-d", DATES], cli_env(emu, SEKOIA_API_KEY="not-a-key")
    )
    assert done.returncode == 3
    assert b"not-a-key" not in done.stderr  # the key is never echoed


async def test_exit_code_4_for_a_missing_permission(emu: SekoiaEmulator) -> None:
    key = emu.add_api_key(permissions=["View alerts"])
    done = await run_cli(
        ["events", "search", "-q", "", "-d", DATES], cli_env(emu, SEKOIA_API_KEY=key)
    )
    assert done.returncode == 4, done.stderr.decode()


async def test_exit_code_5_for_a_failed_job(emu: SekoiaEmulator) -> None:
    done = await run_cli(["events", "search", "-q", "source.ip:(", "-d", DATES], cli_env(emu))
    assert done.returncode == 5, done.stderr.decode()


async def test_exit_code_6_when_the_api_is_unreachable(emu: SekoiaEmulator) -> None:
    env = cli_env(emu, SEKOIA_BASE_URL="http://127.0.0.1:9")
    done = await run_cli(["--max-retries", "0", "events", "search", "-q", "", "-d", DATES], env)
    assert done.returncode == 6, done.stderr.decode()


@pytest.mark.parametrize(
    "args",
    [
        ["events", "search", "-q", "", "-d", "yesterday"],
        ["events", "search", "-q", "", "-d", "now,-1d"],
        ["events", "search", "-d", DATES],
        ["events", "search", "-q", "", "-d", DATES, "--format", "xml"],
        ["no-such-command"],
    ],
)
async def test_exit_code_2_for_usage_errors(emu: SekoiaEmulator, args: list[str]) -> None:
    done = await run_cli(args, cli_env(emu))
    assert done.returncode == 2, done.stderr.decode()


async def test_exit_code_2_without_an_api_key(emu: SekoiaEmulator) -> None:
    env = cli_env(emu)
    del env["SEKOIA_API_KEY"]
    done = await run_cli(["events", "search", "-q", "", "-d", DATES], env)
    assert done.returncode == 2
    assert b"SEKOIA_API_KEY" in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_exit_code_130_when_interrupted(sig: signal.Signals) -> None:
    # The job never finishes within the test: the command is polling when the signal lands.
    async with SekoiaEmulator(seed=1, job_run_time=3600.0) as emu:
        emu.generate_events(10, start=EARLIEST_EVENTS, end=LATEST_EVENTS)
        cmd = [sys.executable, "-m", "sekoia_async", "events", "search", "-q", "", "-d", DATES]
        async with await anyio.open_process(cmd, env=cli_env(emu)) as proc:
            with anyio.fail_after(30):
                for _ in range(1500):  # bounded: 30 s at most
                    if _jobs_created(emu):
                        break
                    await anyio.sleep(0.02)
                proc.send_signal(sig)
                code = await proc.wait()
        assert code == 130


def _jobs_created(emu: SekoiaEmulator) -> bool:
    return any(r.endpoint == "events.jobs.create" and r.status == 200 for r in emu.stats.log)


async def test_python_dash_m_and_version() -> None:
    done = await run_cli(["--version"], dict(os.environ))
    assert done.returncode == 0
    assert done.stdout.startswith(b"sekoia-async, version ")


async def test_help_documents_exit_codes_and_key_warning() -> None:
    done = await run_cli(["--help"], dict(os.environ))
    text = " ".join(done.stdout.decode().split())
    assert "visible to other local users" in text
    assert "3 authentication" in text
    assert "130 interrupted" in text


async def test_a_reader_that_goes_away_ends_the_search_quietly(emu: SekoiaEmulator) -> None:
    # `sekoia-async events search ... | head -1`: the pipe closes after the first line;
    # pipefail makes the shell's status the command's own if it failed.
    script = f"set -o pipefail; {shlex.quote(sys.executable)} -m sekoia_async events search "
    script += f"-q '' -d {shlex.quote(DATES)} | head -1"
    with anyio.fail_after(60):
        done = await anyio.run_process(["bash", "-c", script], env=cli_env(emu), check=False)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.startswith(b'{"__event_id"')
    assert done.stdout.count(b"\n") == 1
    assert done.stderr == b""
