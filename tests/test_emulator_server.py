"""The emulator's server core: auth, permissions, routing errors, stats, keys, command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import aiohttp
import anyio
import pytest

from sekoia_async.testing import PERMISSIONS, SekoiaEmulator, VirtualClock
from sekoia_async.testing.__main__ import build_parser

JOBS = "/v1/sic/conf/events/search/jobs"


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=5, events=50) as emulator:
        yield emulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def call(
    session: aiohttp.ClientSession,
    emu: SekoiaEmulator,
    method: str,
    path: str,
    key: str | None,
    **kwargs: object,
) -> tuple[int, object]:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with session.request(method, emu.base_url + path, headers=headers, **kwargs) as resp:
        body = await resp.read()
        return resp.status, json.loads(body) if body else None


@pytest.mark.anyio
@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc", "Bearer "])
async def test_missing_or_unknown_key_is_401(
    emu: SekoiaEmulator, session: aiohttp.ClientSession, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    async with session.get(emu.base_url + f"{JOBS}/x", headers=headers) as resp:
        assert resp.status == 401
        body = await resp.json()
    assert body["message"] == "The token is invalid"


@pytest.mark.anyio
async def test_key_without_permission_is_403(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    alerts_only = emu.add_api_key(["View alerts"])
    status, body = await call(session, emu, "POST", JOBS, alerts_only, json={"term": ""})
    assert status == 403
    assert isinstance(body, dict)
    assert "View events" in body["message"]
    viewer = emu.add_api_key(["View events"])
    status, _ = await call(session, emu, "POST", JOBS, viewer, json={"term": ""})
    assert status == 200


def test_add_api_key_validates_names() -> None:
    emu = SekoiaEmulator(seed=5)  # keys can be added before the server starts
    with pytest.raises(ValueError, match="unknown permission 'SIC_READ_ALERTS'"):
        emu.add_api_key(["SIC_READ_ALERTS"])
    with pytest.raises(ValueError, match="unknown community"):
        emu.add_api_key(["View events"], community_uuid="nope")
    key = emu.add_api_key(list(PERMISSIONS)[:2])
    assert emu.key_info(key).permissions == frozenset(list(PERMISSIONS)[:2])
    assert emu.api_key not in repr(emu)


@pytest.mark.anyio
async def test_unknown_path_wrong_method_and_bad_json(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    status, body = await call(session, emu, "GET", "/v1/no/such/thing", emu.api_key)
    assert status == 404
    assert isinstance(body, dict)
    assert "GET /v1/no/such/thing" in body["message"]
    async with session.delete(
        emu.base_url + JOBS, headers={"Authorization": f"Bearer {emu.api_key}"}
    ) as resp:
        assert resp.status == 405
        assert "POST" in resp.headers["Allow"]
        assert "not allowed" in (await resp.json())["message"]
    headers = {"Authorization": f"Bearer {emu.api_key}", "Content-Type": "application/json"}
    async with session.post(emu.base_url + JOBS, data=b"{not json", headers=headers) as resp:
        assert resp.status == 400
        assert "Malformed JSON" in (await resp.json())["message"]


@pytest.mark.anyio
async def test_stats_count_endpoints_keys_statuses_and_connections(
    emu: SekoiaEmulator,
) -> None:
    other = emu.add_api_key(["View events"])
    sessions = [aiohttp.ClientSession() for _ in range(4)]
    try:
        # Four sessions keep four keep-alive connections open at the same time.
        for s in sessions:
            await call(s, emu, "POST", JOBS, emu.api_key, json={"term": ""})
        await call(sessions[0], emu, "GET", f"{JOBS}/unknown", other)
        await call(sessions[0], emu, "GET", "/v1/nothing", None)
    finally:
        for s in sessions:
            await s.close()
    stats = emu.stats
    assert stats.requests == 6
    assert stats.by_endpoint["events.jobs.create"] == 4
    assert stats.by_endpoint["events.jobs.get"] == 1
    assert stats.by_endpoint["unknown"] == 1
    assert stats.by_status == {200: 4, 404: 2}
    admin = emu.key_info(emu.api_key).uuid
    assert stats.by_key == {admin: 4, emu.key_info(other).uuid: 1}
    assert stats.max_concurrent_connections == 4
    assert stats.bytes_sent > 4 * 500  # four job objects and two small error bodies
    assert [r.endpoint for r in stats.log][-2:] == ["events.jobs.get", "unknown"]
    assert all(emu.api_key not in repr(r) for r in stats.log)
    stats.reset()
    assert stats.requests == 0
    assert not stats.log


@pytest.mark.anyio
async def test_stats_log_uses_the_emulator_clock() -> None:
    clock = VirtualClock(1_700_000_000.0)
    async with SekoiaEmulator(clock=clock) as emu, aiohttp.ClientSession() as session:
        await call(session, emu, "GET", "/v1/tasks/x", emu.api_key)
        clock.advance(5)
        await call(session, emu, "GET", "/v1/tasks/x", emu.api_key)
    assert [r.time for r in emu.stats.log] == [1_700_000_000.0, 1_700_000_005.0]


@pytest.mark.anyio
async def test_seeded_state_is_deterministic() -> None:
    async with SekoiaEmulator(seed=9, events=20) as a, SekoiaEmulator(seed=9, events=20) as b:
        assert a.api_key == b.api_key
        assert a.state.communities == b.state.communities
        assert a.state.intakes == b.state.intakes
        assert a.expected_event_ids() == b.expected_event_ids()
    async with SekoiaEmulator(seed=10, events=20) as c:
        assert c.api_key != a.api_key
        assert c.state.intakes[0]["uuid"] != a.state.intakes[0]["uuid"]


def test_seed_fills_communities_entities_intakes() -> None:
    emu = SekoiaEmulator(seed=1)
    state = emu.state
    main, sub = state.communities
    assert sub["parent_community_uuid"] == main["uuid"]
    assert {e["community_uuid"] for e in state.entities} == {main["uuid"], sub["uuid"]}
    entity_ids = {e["uuid"] for e in state.entities}
    assert all(i["entity_uuid"] in entity_ids for i in state.intakes)
    assert sum(e["number_of_intakes"] for e in state.entities) == len(state.intakes)


def test_parser_has_the_documented_options() -> None:
    args = build_parser().parse_args(
        ["--port", "8765", "--events", "5", "--latency-ms", "50", "--fault", "error_rate=0.1"]
    )
    assert args.page_cache_mb == 64.0
    assert build_parser().parse_args(["--page-cache-mb", "1024"]).page_cache_mb == 1024.0
    assert (args.host, args.port, args.events, args.seed) == ("127.0.0.1", 8765, 5, 0)
    assert args.latency_ms == 50.0
    assert args.fault == ["error_rate=0.1"]


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_command_line_prints_url_and_key_then_stops_cleanly(stop: signal.Signals) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "sekoia_async.testing", "--events", "10", "--seed", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url_line = proc.stdout.readline().strip()
        key_line = proc.stdout.readline().strip()
        assert url_line.startswith("SEKOIA_BASE_URL=http://127.0.0.1:")
        assert key_line.startswith("SEKOIA_API_KEY=")
        base_url = url_line.split("=", 1)[1]
        key = key_line.split("=", 1)[1]

        async def probe() -> int:
            async with (
                aiohttp.ClientSession() as s,
                s.post(
                    f"{base_url}/api{JOBS}",
                    json={"term": ""},
                    headers={"Authorization": f"Bearer {key}"},
                ) as resp,
            ):
                return resp.status

        assert anyio.run(probe) == 200
        proc.send_signal(stop)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "Traceback" not in err


def test_command_line_rejects_bad_faults() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sekoia_async.testing", "--fault", "nope=1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "invalid fault 'nope=1'" in result.stderr
