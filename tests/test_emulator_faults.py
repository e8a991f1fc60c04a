"""Each fault mode of the emulator happens as configured, deterministically under the seed."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sekoia_async import APIConnectionError, APIResponseValidationError, PollPolicy, SekoiaClient
from sekoia_async.testing import Faults, SekoiaEmulator, VirtualClock
from sekoia_async.testing._faults import RateLimiter, WafTracker, decide, latency_seconds

pytestmark = pytest.mark.anyio

JOBS = "/v1/sic/conf/events/search/jobs"
START = datetime(2026, 3, 1, tzinfo=timezone.utc)
FAST_POLL = PollPolicy(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=3, events=200, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


async def get(
    session: aiohttp.ClientSession, emu: SekoiaEmulator, path: str, key: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {key or emu.api_key}"}
    async with session.get(emu.base_url + path, headers=headers) as resp:
        return resp.status, dict(resp.headers), await resp.read()


async def new_job(session: aiohttp.ClientSession, emu: SekoiaEmulator) -> str:
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    body = {"term": "", "earliest_time": "-30d", "latest_time": "now"}
    async with session.post(emu.base_url + JOBS, json=body, headers=headers) as resp:
        assert resp.status == 200
        job_uuid: str = (await resp.json())["uuid"]
        return job_uuid


async def job_status(session: aiohttp.ClientSession, emu: SekoiaEmulator, job: str) -> Any:
    status, _, body = await get(session, emu, f"{JOBS}/{job}")
    assert status == 200
    return json.loads(body)


async def test_latency_delays_responses_past_a_client_timeout(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults.endpoint_latency_ms = {"tasks.get": 5000.0}
    timeout = aiohttp.ClientTimeout(total=0.05)
    with pytest.raises(TimeoutError):
        async with session.get(emu.base_url + "/v1/tasks/x", timeout=timeout) as resp:
            await resp.read()
    # Other endpoints are not slowed down.
    status, _, _ = await get(session, emu, "/v1/sic/conf/events/search/jobs/x")
    assert status == 404


def test_latency_and_jitter_are_deterministic() -> None:
    faults = Faults(latency_ms=100, jitter_ms=50, endpoint_latency_ms={"events.page": 20})
    delays = [latency_seconds(faults, 1, n, "events.page") for n in range(200)]
    assert delays == [latency_seconds(faults, 1, n, "events.page") for n in range(200)]
    assert all(0.07 <= d <= 0.17 for d in delays)
    assert len(set(delays)) > 150
    assert latency_seconds(Faults(latency_ms=100), 1, 5, "x") == 0.1


async def test_rate_limit_with_retry_after(
    emu: SekoiaEmulator, session: aiohttp.ClientSession, clock: VirtualClock
) -> None:
    emu.faults.rate_limit = 2.0
    statuses = [(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(3)]
    assert statuses == [404, 404, 429]
    status, headers, body = await get(session, emu, "/v1/tasks/x")
    assert status == 429
    assert headers["Retry-After"] == "1"
    assert "Too many requests" in json.loads(body)["message"]
    clock.advance(1.0)
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 404
    assert emu.stats.faults["rate_limit"] == 2


async def test_rate_limit_without_retry_after(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults = Faults(rate_limit=1.0, retry_after=False)
    await get(session, emu, "/v1/tasks/x")
    status, headers, _ = await get(session, emu, "/v1/tasks/x")
    assert status == 429
    assert "Retry-After" not in headers


async def test_rate_limit_is_per_key(emu: SekoiaEmulator, session: aiohttp.ClientSession) -> None:
    emu.faults.rate_limit = 1.0
    other = emu.add_api_key(["View events"])
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 404
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 429
    assert (await get(session, emu, "/v1/tasks/x", key=other))[0] == 404


async def test_error_rate_answers_the_configured_statuses(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults = Faults(error_rate=1.0, error_statuses=(502,))
    status, _, body = await get(session, emu, "/v1/tasks/x")
    assert status == 502
    assert "Injected" in json.loads(body)["message"]
    emu.faults = Faults(error_rate=0.5)
    statuses = [(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(60)]
    assert set(statuses) <= {404, 500, 502, 503, 504}
    assert 10 < sum(s != 404 for s in statuses) < 50
    assert len(set(statuses) - {404}) >= 3


async def test_faults_replay_under_the_same_seed(session: aiohttp.ClientSession) -> None:
    runs = []
    for _ in range(2):
        async with SekoiaEmulator(seed=11, faults=Faults(error_rate=0.4)) as emu:
            runs.append([(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(30)])
    assert runs[0] == runs[1]
    async with SekoiaEmulator(seed=12, faults=Faults(error_rate=0.4)) as emu:
        other = [(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(30)]
    assert other != runs[0]


async def test_connection_reset_before_the_response(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults.reset_rate = 1.0
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(session, emu, "/v1/tasks/x")
    # aiohttp retries an idempotent request once on a dropped connection: both were reset.
    assert emu.stats.faults["reset"] >= 1
    assert emu.stats.by_status[0] == emu.stats.faults["reset"]
    emu.faults.reset_rate = 0.0
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 404


async def test_connection_reset_in_the_middle_of_a_body(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    job = await new_job(session, emu)
    emu.faults = Faults(reset_mid_body_rate=1.0, endpoints={"events.page"})
    headers = {"Authorization": f"Bearer {emu.api_key}"}
    url = f"{emu.base_url}{JOBS}/{job}/events?limit=200"
    async with session.get(url, headers=headers) as resp:
        assert resp.status == 200
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()
    assert emu.stats.faults["reset_mid_body"] == 1


async def test_truncated_json_bodies(emu: SekoiaEmulator, session: aiohttp.ClientSession) -> None:
    job = await new_job(session, emu)
    emu.faults = Faults(truncate_rate=1.0, endpoints={"events.page"})
    status, _, body = await get(session, emu, f"{JOBS}/{job}/events")
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    assert body.startswith(b'{"items":[')


async def test_faults_restricted_to_endpoints(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults = Faults(error_rate=1.0, endpoints={"events.page"})
    job = await new_job(session, emu)
    assert (await job_status(session, emu, job))["status"] == 2
    assert (await get(session, emu, f"{JOBS}/{job}/events"))[0] in (500, 502, 503, 504)
    assert (await get(session, emu, f"/api{JOBS}/{job}/events"))[0] in (500, 502, 503, 504)


async def test_failing_and_canceled_jobs(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults.job_fail_rate = 1.0
    failed = await job_status(session, emu, await new_job(session, emu))
    assert failed["status"] == 4
    assert failed["message"]
    emu.faults = Faults(job_cancel_rate=1.0)
    canceled = await job_status(session, emu, await new_job(session, emu))
    assert canceled["status"] == 3
    assert canceled["canceled_at"] is not None
    assert (await get(session, emu, f"{JOBS}/{canceled['uuid']}/events"))[0] == 400


async def test_slow_jobs(clock: VirtualClock, session: aiohttp.ClientSession) -> None:
    async with SekoiaEmulator(
        events=10, job_run_time=1.0, clock=clock, faults=Faults(job_slowdown=5.0)
    ) as emu:
        job = await new_job(session, emu)
        clock.advance(2.0)
        assert (await job_status(session, emu, job))["status"] == 1
        clock.advance(3.0)
        assert (await job_status(session, emu, job))["status"] == 2


async def test_results_expire_in_the_middle_of_a_read(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    job = await new_job(session, emu)
    emu.faults.expire_after_reads = 2
    statuses = [(await get(session, emu, f"{JOBS}/{job}/events?offset={o}"))[0] for o in (0, 100)]
    status, _, body = await get(session, emu, f"{JOBS}/{job}/events?offset=200")
    assert statuses == [200, 200]
    assert status == 404
    assert "expired" in json.loads(body)["message"]
    assert (await job_status(session, emu, job))["expired"] is True


async def test_waf_blocks_a_heavy_key_for_a_while(
    emu: SekoiaEmulator, session: aiohttp.ClientSession, clock: VirtualClock
) -> None:
    emu.faults = Faults(waf_max_rps=3, waf_block_seconds=60)
    other = emu.add_api_key(["View events"])
    statuses = [(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(5)]
    assert statuses == [404, 404, 404, 429, 429]
    clock.advance(30)
    # Still blocked on every endpoint, whatever the rate now; other keys are untouched.
    assert (await get(session, emu, f"{JOBS}/x"))[0] == 429
    assert (await get(session, emu, "/v1/tasks/x", key=other))[0] == 404
    clock.advance(31)
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 404


async def test_reset_faults_lifts_blocks_and_refills_rate_limits(
    emu: SekoiaEmulator, session: aiohttp.ClientSession
) -> None:
    emu.faults = Faults(rate_limit=1.0)
    assert [(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(2)] == [404, 429]
    emu.block_key(emu.api_key, 60)
    emu.faults = Faults()  # assigning keeps the block in force
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 429
    emu.reset_faults(Faults(rate_limit=1.0))
    assert emu.faults == Faults(rate_limit=1.0)
    # No block, and a full bucket again, though no time passed on the clock.
    assert [(await get(session, emu, "/v1/tasks/x"))[0] for _ in range(2)] == [404, 429]
    emu.reset_faults()
    assert emu.faults == Faults()
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 404


async def test_block_key_by_hand(
    emu: SekoiaEmulator, session: aiohttp.ClientSession, clock: VirtualClock
) -> None:
    emu.block_key(emu.api_key, 10)
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 429
    clock.advance(10)
    assert (await get(session, emu, "/v1/tasks/x"))[0] == 404


def test_parse_faults_from_the_command_line() -> None:
    faults = Faults.parse(
        [
            "error_rate=0.25",
            "error_statuses=502,503",
            "endpoints=events.page,events.jobs.get",
            "endpoint_latency_ms=events.page:30,tasks.get:5",
            "rate_limit=5",
            "retry_after=false",
            "expire_after_reads=3",
            "waf-max-rps=10",
        ],
        Faults(latency_ms=50),
    )
    assert faults == Faults(
        latency_ms=50,
        error_rate=0.25,
        error_statuses=(502, 503),
        endpoints=frozenset({"events.page", "events.jobs.get"}),
        endpoint_latency_ms={"events.page": 30.0, "tasks.get": 5.0},
        rate_limit=5.0,
        retry_after=False,
        expire_after_reads=3,
        waf_max_rps=10.0,
    )


@pytest.mark.parametrize("item", ["nope=1", "error_rate", "error_rate=x", "error_rate=1.5"])
def test_parse_faults_rejects_bad_items(item: str) -> None:
    with pytest.raises(ValueError, match=r"fault|probability"):
        Faults.parse([item])


def test_decide_is_pure_and_respects_rates() -> None:
    faults = Faults(reset_rate=0.1, error_rate=0.1, truncate_rate=0.1)
    kinds = [decide(faults, 5, n, "events.page").kind for n in range(2000)]
    assert kinds == [decide(faults, 5, n, "events.page").kind for n in range(2000)]
    assert 120 < kinds.count("reset") < 280
    assert 100 < kinds.count("error") < 260
    assert 80 < kinds.count("truncate") < 240


def test_rate_limiter_and_waf_are_pure() -> None:
    limiter = RateLimiter()
    assert limiter.acquire("k", 2.0, 100.0) is None
    assert limiter.acquire("k", 2.0, 100.0) is None
    assert limiter.acquire("k", 2.0, 100.0) == pytest.approx(0.5)
    assert limiter.acquire("k", 2.0, 100.5) is None
    waf = WafTracker()
    faults = Faults(waf_max_rps=1, waf_block_seconds=5)
    assert waf.check("k", faults, 10.0) is None
    assert waf.check("k", faults, 10.5) == 5
    assert waf.check("k", faults, 14.0) == pytest.approx(1.5)
    assert waf.check("k", faults, 15.6) is None


async def test_running_jobs_quota_per_community(
    clock: VirtualClock, session: aiohttp.ClientSession
) -> None:
    async with SekoiaEmulator(
        events=10, job_run_time=10.0, clock=clock, faults=Faults(max_running_jobs=2)
    ) as emu:
        sub = emu.state.communities[1]["uuid"]
        other = emu.add_api_key(["View events"], community_uuid=sub)
        headers = {"Authorization": f"Bearer {emu.api_key}"}
        body = {"term": "", "earliest_time": "-1d"}

        async def create(key_headers: dict[str, str]) -> int:
            async with session.post(emu.base_url + JOBS, json=body, headers=key_headers) as r:
                return r.status

        assert [await create(headers) for _ in range(3)] == [200, 200, 429]
        # Another community has its own quota.
        assert await create({"Authorization": f"Bearer {other}"}) == 200
        clock.advance(10)  # the first two jobs finish
        assert await create(headers) == 200
        assert emu.stats.faults["max_running_jobs"] == 1


async def test_waf_blocks_a_key_that_collects_errors(
    emu: SekoiaEmulator, session: aiohttp.ClientSession, clock: VirtualClock
) -> None:
    emu.faults = Faults(waf_max_errors=3, waf_block_seconds=20)
    statuses = [(await get(session, emu, "/v1/tasks/missing"))[0] for _ in range(5)]
    # The fourth error within 5 s starts the block; the WAF answers the fifth.
    assert statuses == [404, 404, 404, 404, 429]
    clock.advance(21)
    assert (await get(session, emu, "/v1/tasks/missing"))[0] == 404
    clock.advance(6)  # errors older than the 5 s window do not count
    statuses = [(await get(session, emu, "/v1/tasks/missing"))[0] for _ in range(2)]
    assert statuses == [404, 404]


@pytest.mark.parametrize(
    ("fault", "error", "message"),
    [
        ("reset_mid_body_rate", APIConnectionError, "payload is not completed"),
        ("truncate_rate", APIResponseValidationError, "the download was cut short"),
    ],
)
async def test_streamed_export_download_can_be_cut(
    tmp_path: Path, fault: str, error: type[Exception], message: str
) -> None:
    async with (
        SekoiaEmulator(seed=5, events=3000) as emu,
        SekoiaClient(emu.api_key, base_url=emu.base_url, max_retries=0) as client,
    ):
        job = await client.events.create_search_job("", "-30d", "now")
        export = await client.events.export(job, ["__event_id", "message"], poll=FAST_POLL)
        emu.faults = Faults.parse([f"{fault}=1", "endpoints=events.export.download"])
        target = tmp_path / "events.jsonl.gz"
        with pytest.raises(error) as caught:
            await export.download_to(target)
        assert message in str(caught.value)
        # The SDK cleaned up: neither the file nor its ".part" is left behind.
        assert os.listdir(tmp_path) == []
        kind = fault.removesuffix("_rate")
        assert emu.stats.faults[kind] == 1
        if kind == "reset_mid_body":
            assert emu.stats.by_status[0] == 1  # recorded as a reset connection
        # Without the fault the same link serves the whole export.
        emu.reset_faults()
        await export.download_to(target)
        with gzip.open(target, "rt") as lines:
            assert sum(1 for _ in lines) == 3000
