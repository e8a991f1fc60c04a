"""The other commands as real subprocesses: demo, emulator, rules, alerts, invitations."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest

from sekoia_async.testing import SekoiaEmulator
from sekoia_async.testing._domains._stores import roles_of

pytestmark = pytest.mark.anyio


def cli_env(emu: SekoiaEmulator, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SEKOIA_")}
    env.update(SEKOIA_API_KEY=emu.api_key, SEKOIA_BASE_URL=emu.base_url, NO_PROXY="*")
    env.update(extra)
    return env


async def run_cli(
    args: Sequence[str], env: Mapping[str, str]
) -> subprocess.CompletedProcess[bytes]:
    with anyio.fail_after(60):
        return await anyio.run_process(
            [sys.executable, "-m", "sekoia_async", *args], env=env, check=False
        )


def as_json(done: subprocess.CompletedProcess[bytes]) -> Any:
    assert done.returncode == 0, done.stderr.decode()
    return json.loads(done.stdout)


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=2) as emulator:
        yield emulator


async def test_demo_is_complete(tmp_path: Path) -> None:
    out = tmp_path / "demo.ndjson"
    done = await run_cli(["demo", "--events", "3000", "--output", str(out)], dict(os.environ))
    assert done.returncode == 0, done.stderr.decode()
    assert b"OK: every event exactly once, in order" in done.stdout
    ids = [json.loads(line)["__event_id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) == 3000


async def test_emulator_command_serves_the_cli(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "sekoia_async", "emulator", "--port", "0", "--events", "50"]
    async with await anyio.open_process(cmd) as proc:
        assert proc.stdout is not None
        with anyio.fail_after(30):
            buffered = b""
            while buffered.count(b"\n") < 2:
                buffered += await proc.stdout.receive()
        lines = buffered.decode().splitlines()
        assert lines[0].startswith("SEKOIA_BASE_URL=http://127.0.0.1:")
        assert lines[1].startswith("SEKOIA_API_KEY=")
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKOIA_")}
        for line in lines[:2]:
            name, _, value = line.partition("=")
            env[name] = value
        done = await run_cli(["events", "search", "-q", "", "-d", "-30d,now"], env)
        assert done.returncode == 0, done.stderr.decode()
        assert len(done.stdout.splitlines()) == 50
        proc.send_signal(signal.SIGTERM)
        with anyio.fail_after(30):
            await proc.wait()


async def test_rules_list_match_and_create(emu: SekoiaEmulator, tmp_path: Path) -> None:
    env = cli_env(emu)
    rules = as_json(await run_cli(["rules", "list", "--json"], env))
    assert rules
    name = rules[0]["name"]
    matched = as_json(await run_cli(["rules", "list", "--match", f"name={name}", "--json"], env))
    assert {r["name"] for r in matched} == {name}

    rule = tmp_path / "rule.yml"
    rule.write_text(
        "name: My custom SIGMA rule\n"
        "type: sigma\n"
        "description: Detect spawn of Powershell\n"
        "payload: |\n"
        "  detection:\n"
        "    selection:\n"
        "      process.command_line|contains: 'powershell'\n"
        "    condition: selection\n"
        "severity: 40\n"
        "effort: 3\n"
        "alert_type_uuid: 599f4b1a-dd60-43fe-8ee9-07d3c5d00ded\n"
        "enabled: true\n"
    )
    created = as_json(await run_cli(["rules", "create", "--file", str(rule), "--json"], env))
    assert created[0]["name"] == "My custom SIGMA rule"
    found = as_json(
        await run_cli(["rules", "list", "--match", "name=My custom SIGMA rule", "--json"], env)
    )
    assert [r["uuid"] for r in found] == [created[0]["uuid"]]


async def test_rules_create_rejects_an_incomplete_file(emu: SekoiaEmulator, tmp_path: Path) -> None:
    rule = tmp_path / "rule.json"
    rule.write_text(json.dumps({"name": "x" * 10}))
    done = await run_cli(["rules", "create", "--file", str(rule)], cli_env(emu))
    assert done.returncode == 2
    assert b"payload" in done.stderr


async def test_alerts_list_and_set_status(emu: SekoiaEmulator) -> None:
    env = cli_env(emu)
    pending = as_json(
        await run_cli(["alerts", "list", "--match", "status_name=Pending", "--json"], env)
    )
    assert pending
    assert {a["status"]["name"] for a in pending} == {"Pending"}
    recent = as_json(await run_cli(["alerts", "list", "--since", "-3650d", "--json"], env))
    assert len(recent) >= len(pending)

    short_id = pending[0]["short_id"]
    done = await run_cli(["alerts", "set-status", short_id, "Acknowledged", "--json"], env)
    assert as_json(done)[0]["status"]["name"] == "Acknowledged"
    # Pending is not reachable from Acknowledged: the API's 409 is "other API error".
    again = await run_cli(["alerts", "set-status", short_id, "Pending"], env)
    assert again.returncode == 6, again.stderr.decode()


async def test_alerts_list_rejects_an_unknown_filter(emu: SekoiaEmulator) -> None:
    done = await run_cli(["alerts", "list", "--match", "colour=red"], cli_env(emu))
    assert done.returncode == 2
    assert b"colour" in done.stderr


async def test_invitations_create(emu: SekoiaEmulator) -> None:
    community = emu.main_community_uuid
    role = roles_of(emu.state, community)[0]["uuid"]
    done = await run_cli(
        [
            "invitations",
            "create",
            "--email",
            "jane@example.com",
            "--community",
            community,
            "--role",
            role,
            "--json",
        ],
        cli_env(emu),
    )
    invitation = as_json(done)[0]
    assert invitation["email"] == "jane@example.com"


async def test_list_commands_need_their_permission(emu: SekoiaEmulator) -> None:
    key = emu.add_api_key(permissions=["View events"])
    done = await run_cli(["alerts", "list"], cli_env(emu, SEKOIA_API_KEY=key))
    assert done.returncode == 4
