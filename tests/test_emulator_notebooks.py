"""Emulated SOL query runs and the SOL subset parser."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from sekoia_async.testing import Faults, SekoiaEmulator, VirtualClock
from sekoia_async.testing._sol import SolSyntaxError, parse_sol

RUNS = "/v1/notebooks/queries/runs"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ROWS: list[dict[str, Any]] = [
    {"user.name": "alice", "destination.port": 443, "timestamp": "2026-06-01T11:30:00Z",
     "source.ip": "10.0.0.1", "tags": ["a", "b"]},
    {"user.name": "bob", "destination.port": 22, "timestamp": "2026-06-01T10:00:00Z",
     "source.ip": "192.168.1.5"},
    {"user.name": "alice", "destination.port": 8080, "timestamp": "2026-05-20T10:00:00Z",
     "source.ip": "10.0.0.2"},
]  # fmt: skip


def sol(text: str) -> list[dict[str, Any]]:
    return parse_sol(text, now=NOW).run(ROWS, max_rows=100)


def users(rows: list[dict[str, Any]]) -> list[str]:
    return [r["user.name"] for r in rows]


def test_sol_where_limit_select_order_aggregate() -> None:
    assert users(sol('events | where user.name == "alice"')) == ["alice", "alice"]
    assert users(sol("events | where destination.port >= 1024 or user.name == 'bob'")) == [
        "bob",
        "alice",
    ]
    assert users(sol('events | where not (user.name == "alice")')) == ["bob"]
    assert users(sol('events | where source.ip startswith "10."')) == ["alice", "alice"]
    assert users(sol('events | where source.ip endswith ".5"')) == ["bob"]
    assert users(sol('events | where user.name contains "LIC"')) == ["alice", "alice"]
    assert users(sol('events | where user.name in ("bob", "carol")')) == ["bob"]
    assert users(sol('events | where user.name != "alice"')) == ["bob"]
    assert users(sol('events | where tags == "b"')) == ["alice"]
    assert users(sol("events | where timestamp > ago(1d)")) == ["alice", "bob"]
    assert users(sol("events | where timestamp > ago(45m)")) == ["alice"]
    assert len(sol("events | limit 2")) == 2
    assert len(sol("events | take 0")) == 0
    assert sol("events | select user.name, destination.port | limit 1") == [
        {"user.name": "alice", "destination.port": 443}
    ]
    assert [r["destination.port"] for r in sol("events | order by destination.port asc")] == [
        22,
        443,
        8080,
    ]
    assert [r["destination.port"] for r in sol("events | sort by destination.port")] == [
        8080,
        443,
        22,
    ]
    assert sol("events | aggregate count() by user.name") == [
        {"user.name": "alice", "count": 2},
        {"user.name": "bob", "count": 1},
    ]
    assert parse_sol("events | limit 10", now=NOW).run(ROWS, max_rows=1) == ROWS[:1]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("alerts | limit 1", "unknown table 'alerts'"),
        ("events | explode x", "unsupported stage 'explode'"),
        ("events | where user.name", "expected an operator after 'user.name'"),
        ("events | where user.name == ", "expected a value"),
        ("events | limit many", "expected a row count"),
        ("events | limit 1.5", "non-negative integer"),
        ("events | order destination.port", "expected 'by'"),
        ('events | where user.name == "x" )', "expected '|' or the end"),
        ("events | where timestamp > ago(3x)", "invalid duration"),
        ("events | where a == $", "unexpected '$'"),
    ],
)
def test_sol_errors(text: str, fragment: str) -> None:
    with pytest.raises(SolSyntaxError) as info:
        parse_sol(text, now=NOW)
    assert fragment in str(info.value)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(NOW)


@pytest.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=2, events=2000, job_run_time=5.0, clock=clock) as emulator:
        yield emulator


class Client:
    def __init__(self, session: aiohttp.ClientSession, emu: SekoiaEmulator) -> None:
        self.session = session
        self.emu = emu

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {self.emu.api_key}"}
        url = self.emu.base_url + path
        async with self.session.request(method, url, headers=headers, **kwargs) as resp:
            return resp.status, await resp.text()

    async def run(self, ql: str, earliest: str = "-30d") -> str:
        status, text = await self.call(
            "POST",
            RUNS,
            json={
                "query_definition": {"ql_query": ql},
                "query_parameters": {"time": {"earliest": earliest, "latest": "now"}},
            },
        )
        assert status == 200, text
        body = json.loads(text)
        assert set(body) == {"uuid", "task_id"}
        run_uuid: str = body["uuid"]
        return run_uuid


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[Client]:
    async with aiohttp.ClientSession() as session:
        yield Client(session, emu)


@pytest.mark.anyio
async def test_run_lifecycle_and_jsonl_download(
    client: Client, emu: SekoiaEmulator, clock: VirtualClock
) -> None:
    run = await client.run('events | where user.name == "alice" | limit 5')
    statuses = []
    for step in (0.0, 2.0, 3.0):
        clock.advance(step)
        status, text = await client.call("GET", f"{RUNS}/{run}")
        assert status == 200
        statuses.append(json.loads(text)["status"])
    assert statuses == ["pending", "running", "done"]
    status, text = await client.call("GET", f"{RUNS}/{run}/download?download_format=jsonl")
    assert status == 200
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == 5
    assert {r["user.name"] for r in rows} == {"alice"}
    expected = emu.expected_event_ids('user.name:"alice"')[:5]
    assert [r["__event_id"] for r in rows] == expected


@pytest.mark.anyio
async def test_csv_download_with_select(client: Client, clock: VirtualClock) -> None:
    run = await client.run(
        "events | where destination.port == 22 | select host.name, destination.port | limit 3"
    )
    clock.advance(5)
    status, text = await client.call("GET", f"{RUNS}/{run}/download?download_format=csv")
    assert status == 200
    table = list(csv.DictReader(io.StringIO(text)))
    assert len(table) == 3
    assert all(set(r) == {"host.name", "destination.port"} for r in table)
    assert {r["destination.port"] for r in table} == {"22"}


@pytest.mark.anyio
async def test_empty_result_is_404_no_results(client: Client, clock: VirtualClock) -> None:
    run = await client.run('events | where user.name == "nobody"')
    clock.advance(5)
    status, text = await client.call("GET", f"{RUNS}/{run}/download?download_format=jsonl")
    assert status == 404
    assert json.loads(text) == {"detail": {"code": "NO_RESULTS"}}


@pytest.mark.anyio
async def test_bad_sol_ends_in_error_status(client: Client, clock: VirtualClock) -> None:
    run = await client.run("events | frobnicate")
    clock.advance(5)
    status, text = await client.call("GET", f"{RUNS}/{run}")
    body = json.loads(text)
    assert (status, body["status"]) == (200, "error")
    assert "frobnicate" in body["error"]
    status, text = await client.call("GET", f"{RUNS}/{run}/download")
    assert status == 400


@pytest.mark.anyio
async def test_not_done_unknown_and_invalid_requests(client: Client) -> None:
    run = await client.run("events | limit 1")
    status, text = await client.call("GET", f"{RUNS}/{run}/download")
    assert status == 400
    assert json.loads(text)["detail"]["code"] == "RUN_NOT_DONE"
    status, text = await client.call("GET", f"{RUNS}/nope")
    assert status == 404
    status, text = await client.call("POST", RUNS, json={"query_definition": {}})
    assert status == 422
    assert "detail" in json.loads(text)
    status, text = await client.call("GET", f"{RUNS}/{run}/download?download_format=xml")
    assert status == 422


@pytest.mark.anyio
async def test_aggregate_counts_the_window(
    client: Client, emu: SekoiaEmulator, clock: VirtualClock
) -> None:
    run = await client.run("events | aggregate count() by event.outcome", earliest="-1d")
    clock.advance(5)
    _, text = await client.call("GET", f"{RUNS}/{run}/download")
    rows = [json.loads(line) for line in text.splitlines()]
    earliest = (NOW - timedelta(days=1)).isoformat()
    assert sum(r["count"] for r in rows) == len(emu.expected_event_ids("", earliest, "now"))
    assert [r["count"] for r in rows] == sorted((r["count"] for r in rows), reverse=True)


@pytest.mark.anyio
async def test_sol_download_can_be_reset_in_the_middle_of_its_body(
    client: Client, emu: SekoiaEmulator, clock: VirtualClock
) -> None:
    run = await client.run("events | limit 500")
    clock.advance(5.0)
    emu.faults = Faults(reset_mid_body_rate=1.0, endpoints={"notebooks.runs.download"})
    with pytest.raises(aiohttp.ClientPayloadError):
        await client.call("GET", f"{RUNS}/{run}/download?download_format=jsonl")
    assert emu.stats.faults["reset_mid_body"] >= 1
    emu.reset_faults()
    status, text = await client.call("GET", f"{RUNS}/{run}/download?download_format=jsonl")
    assert status == 200
    assert len(text.splitlines()) == 500
