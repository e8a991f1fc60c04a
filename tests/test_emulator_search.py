"""The emulator's event search: jobs, pages, fields, export, tasks (plain aiohttp client)."""

from __future__ import annotations

import gzip
import json
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import aiohttp
import pytest

from sekoia_async.testing import SekoiaEmulator, VirtualClock

pytestmark = pytest.mark.anyio

JOBS = "/v1/sic/conf/events/search/jobs"
START = datetime(2026, 1, 10, 12, 0, tzinfo=timezone.utc)


class Api:
    """A tiny JSON client over one aiohttp session."""

    def __init__(self, session: aiohttp.ClientSession, emu: SekoiaEmulator, key: str) -> None:
        self.session = session
        self.emu = emu
        self.key = key

    async def call(
        self, method: str, path: str, *, key: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {key or self.key}"}
        async with self.session.request(
            method, self.emu.base_url + path, headers=headers, **kwargs
        ) as resp:
            body = await resp.read()
            return resp.status, json.loads(body) if body else None

    async def job(self, **body: Any) -> dict[str, Any]:
        body.setdefault("earliest_time", "-30d")
        body.setdefault("latest_time", "now")
        status, job = await self.call("POST", JOBS, json=body)
        assert status == 200, job
        assert isinstance(job, dict)
        return job

    async def done(self, **body: Any) -> dict[str, Any]:
        job = await self.job(**body)
        status, got = await self.call("GET", f"{JOBS}/{job['uuid']}")
        assert status == 200
        assert isinstance(got, dict)
        return got

    async def all_ids(self, job_uuid: str, page: int = 1000) -> list[str]:
        ids: list[str] = []
        offset = 0
        while True:
            status, body = await self.call(
                "GET", f"{JOBS}/{job_uuid}/events", params={"limit": page, "offset": offset}
            )
            assert status == 200, body
            if not body["items"]:
                return ids
            ids += [e["__event_id"] for e in body["items"]]
            offset += page


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock(START)


@pytest.fixture
async def emu(clock: VirtualClock) -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=7, events=3000, clock=clock) as emulator:
        yield emulator


@pytest.fixture
async def api(emu: SekoiaEmulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(session, emu, emu.api_key)


async def test_job_created_with_status_0_then_done_with_total(
    api: Api, emu: SekoiaEmulator
) -> None:
    job = await api.job(term="")
    assert job["status"] == 0
    assert job["total"] == 0
    uuid.UUID(job["uuid"])
    assert job["created_at"] == "2026-01-10T12:00:00.000000+00:00"
    status, got = await api.call("GET", f"{JOBS}/{job['uuid']}")
    assert status == 200
    assert got["status"] == 2
    assert got["total"] == 3000
    assert got["expired"] is False
    assert got["expiration_date"] == "2026-01-10T12:30:00.000000+00:00"
    for name in ("term", "term_lang", "earliest_time", "latest_time", "started_at", "ended_at",
                 "created_by", "results_ttl", "max_last_events", "community_uuids"):  # fmt: skip
        assert name in got


async def test_api_prefix_answers_too(api: Api) -> None:
    job = await api.job(term="")
    status, got = await api.call("GET", f"/api{JOBS}/{job['uuid']}")
    assert status == 200
    assert got["uuid"] == job["uuid"]


async def test_job_lifecycle_follows_the_clock(clock: VirtualClock) -> None:
    async with (
        SekoiaEmulator(events=100, job_run_time=10.0, clock=clock) as emu,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, emu, emu.api_key)
        job = await api.job(term="")
        seen = []
        for step in (0.0, 1.0, 2.5, 5.0, 2.5):
            clock.advance(step)
            _, got = await api.call("GET", f"{JOBS}/{job['uuid']}")
            seen.append((got["status"], got["total"]))
        assert seen == [(0, 0), (0, 0), (1, 0), (1, 0), (2, 100)]
        assert got["started_at"] == "2026-01-10T12:00:02.000000+00:00"
        assert got["ended_at"] == "2026-01-10T12:00:10.000000+00:00"


async def test_pages_are_newest_first_and_complete(api: Api, emu: SekoiaEmulator) -> None:
    job = await api.done(term="")
    status, page = await api.call("GET", f"{JOBS}/{job['uuid']}/events")
    assert status == 200
    assert len(page["items"]) == 100  # the default limit
    assert page["total"] == 3000
    stamps = [e["timestamp"] for e in page["items"]]
    assert stamps == sorted(stamps, reverse=True)
    ids = await api.all_ids(job["uuid"], page=700)
    assert ids == emu.expected_event_ids("")
    assert len(set(ids)) == 3000


async def test_page_limits_and_offsets(api: Api) -> None:
    job = await api.done(term="")
    path = f"{JOBS}/{job['uuid']}/events"
    assert (await api.call("GET", path, params={"limit": 1001}))[0] == 400
    assert (await api.call("GET", path, params={"limit": 0}))[0] == 400
    assert (await api.call("GET", path, params={"offset": -1}))[0] == 400
    status, body = await api.call("GET", path, params={"limit": 1000, "offset": 2500})
    assert status == 200
    assert len(body["items"]) == 500
    status, body = await api.call("GET", path, params={"offset": 5000})
    assert (status, body["items"], body["total"]) == (200, [], 3000)


async def test_unknown_job_is_404(api: Api) -> None:
    status, body = await api.call("GET", f"{JOBS}/{uuid.uuid4()}/events")
    assert status == 404
    assert "not found" in body["message"]


async def test_query_filters_events(api: Api, emu: SekoiaEmulator) -> None:
    term = 'destination.port:443 AND NOT user.name:"alice"'
    job = await api.done(term=term)
    ids = await api.all_ids(job["uuid"])
    assert 0 < len(ids) < 3000
    assert ids == emu.expected_event_ids(term)
    _, page = await api.call("GET", f"{JOBS}/{job['uuid']}/events", params={"limit": 1000})
    assert all(e["destination.port"] == 443 and e["user.name"] != "alice" for e in page["items"])


async def test_bad_query_fails_the_job_with_a_message(api: Api) -> None:
    job = await api.done(term='source.ip:"unterminated')
    assert job["status"] == 4
    assert "unterminated" in job["message"]
    status, body = await api.call("GET", f"{JOBS}/{job['uuid']}/events")
    assert status == 400
    assert "status 4" in body["message"]


@pytest.mark.parametrize(
    ("earliest", "latest"), [("yesterday", "now"), ("-30d", "-1x"), ("now", "-1d")]
)
async def test_bad_times_are_400_at_creation(api: Api, earliest: str, latest: str) -> None:
    status, body = await api.call(
        "POST", JOBS, json={"term": "", "earliest_time": earliest, "latest_time": latest}
    )
    assert status == 400
    assert "time" in body["message"]


async def test_time_window_selects_events(api: Api, emu: SekoiaEmulator) -> None:
    # 3000 events spread over the last 7 days: the last day holds about a seventh of them.
    job = await api.done(term="", earliest_time="-1d", latest_time="now")
    assert 400 < job["total"] < 460
    earliest = (START - timedelta(days=2)).isoformat()
    latest = (START - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    job = await api.done(term="", earliest_time=earliest, latest_time=latest)
    ids = await api.all_ids(job["uuid"])
    assert ids == emu.expected_event_ids("", earliest, latest)
    assert 400 < len(ids) < 460


async def test_max_last_events_and_max_job_total(api: Api, emu: SekoiaEmulator) -> None:
    job = await api.done(term="", max_last_events=10)
    assert job["total"] == 10
    ids = await api.all_ids(job["uuid"])
    assert ids == emu.expected_event_ids("")[:10]
    async with (
        SekoiaEmulator(events=500, max_job_total=100) as capped,
        aiohttp.ClientSession() as session,
    ):
        small = Api(session, capped, capped.api_key)
        assert (await small.done(term=""))["total"] == 100


async def test_results_expire_after_ttl(api: Api, clock: VirtualClock) -> None:
    job = await api.done(term="", results_ttl=60)
    path = f"{JOBS}/{job['uuid']}/events"
    assert (await api.call("GET", path))[0] == 200
    clock.advance(61)
    status, body = await api.call("GET", path)
    assert status == 404
    assert "expired" in body["message"]
    _, got = await api.call("GET", f"{JOBS}/{job['uuid']}")
    assert got["expired"] is True


async def test_added_events_merge_by_timestamp(api: Api, emu: SekoiaEmulator) -> None:
    newest = (START - timedelta(seconds=1)).isoformat()
    older = (START - timedelta(days=3)).isoformat()
    ids = emu.add_events(
        [
            {"timestamp": older, "message": "planted old", "source.ip": "1.2.3.4"},
            {"timestamp": newest, "message": "planted new", "source.ip": "1.2.3.4"},
        ]
    )
    job = await api.done(term='source.ip:"1.2.3.4"')
    got = await api.all_ids(job["uuid"])
    assert got == [ids[1], ids[0]]
    everything = emu.expected_event_ids("")
    # Generated event 0 sits exactly at START; the next one is ~200 s older than ids[1].
    assert everything[1] == ids[1]
    assert everything.index(ids[0]) > everything.index(ids[1])
    assert len(everything) == 3002
    full = await api.all_ids((await api.done(term=""))["uuid"])
    assert full == everything


async def test_community_scoping(api: Api, emu: SekoiaEmulator) -> None:
    main, sub = (c["uuid"] for c in emu.state.communities)
    job = await api.done(term="", community_uuids=[sub])
    _, page = await api.call("GET", f"{JOBS}/{job['uuid']}/events", params={"limit": 1000})
    assert page["items"]
    assert {e["sekoiaio.customer.community_uuid"] for e in page["items"]} == {sub}
    sub_key = emu.add_api_key(["View events"], community_uuid=sub)
    status, _ = await api.call(
        "POST", JOBS, key=sub_key, json={"term": "", "community_uuids": [main]}
    )
    assert status == 403
    status, job = await api.call(
        "POST", JOBS, key=sub_key, json={"term": "", "earliest_time": "-30d"}
    )
    assert status == 200
    _, got = await api.call("GET", f"{JOBS}/{job['uuid']}", key=sub_key)
    assert 0 < got["total"] < 3000


async def test_filters_in_the_body(api: Api) -> None:
    filters = [{"field": "user.name", "operator": "=", "value": "bob", "excluded": False}]
    job = await api.done(term="", filters=filters)
    _, page = await api.call("GET", f"{JOBS}/{job['uuid']}/events", params={"limit": 1000})
    assert page["items"]
    assert {e["user.name"] for e in page["items"]} == {"bob"}
    excluded = [{**filters[0], "excluded": True}]
    other = await api.done(term="", filters=excluded)
    assert other["total"] == 3000 - job["total"]


async def test_field_statistics(api: Api) -> None:
    job = await api.done(term="destination.port:22")
    status, body = await api.call("GET", f"{JOBS}/{job['uuid']}/fields", params={"limit": 1000})
    assert status == 200
    by_name = {f["name"]: f for f in body["items"]}
    assert body["total"] == len(by_name)
    port = by_name["destination.port"]
    assert port["value_type"] == "number"
    assert port["most_common_values"] == [{"name": "22", "value": 100.0}]


async def test_export_task_and_download(api: Api, emu: SekoiaEmulator, clock: VirtualClock) -> None:
    job = await api.done(term="user.name:carol")
    status, created = await api.call(
        "POST", f"{JOBS}/{job['uuid']}/export", json={"fields": ["__event_id", "user.name"]}
    )
    assert status == 200
    clock.advance(1)  # exports run at 1M events/s of the emulator clock by default
    status, task = await api.call("GET", f"/v1/tasks/{created['task_uuid']}")
    assert status == 200
    assert task["status"] == "FINISHED"
    assert task["progress"] == task["total"] == job["total"]
    url = task["attributes"]["download_url"]
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url) as resp:
        assert resp.status == 200
        data = gzip.decompress(await resp.read())
    lines = [json.loads(line) for line in data.splitlines()]
    assert [e["__event_id"] for e in lines] == emu.expected_event_ids("user.name:carol")
    assert all(set(e) == {"__event_id", "user.name"} for e in lines)
    status, info = await api.call("GET", f"{JOBS}/{job['uuid']}/export-jobs")
    assert status == 200
    assert info["exported_events_count"] == job["total"]
    assert info["format"] == "jsonl.gz"
    async with aiohttp.ClientSession() as anonymous, anonymous.get(url + "x") as resp:
        assert resp.status == 403


async def test_export_progress_follows_the_clock(clock: VirtualClock) -> None:
    async with (
        SekoiaEmulator(events=1000, clock=clock, export_rate=100.0) as emu,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, emu, emu.api_key)
        job = await api.done(term="")
        _, created = await api.call("POST", f"{JOBS}/{job['uuid']}/export", json={})
        seen = []
        for step in (0.0, 5.0, 5.0):
            clock.advance(step)
            _, task = await api.call("GET", f"/v1/tasks/{created['task_uuid']}")
            seen.append((task["status"], task["progress"]))
        assert seen == [("PENDING", 0), ("RUNNING", 500), ("FINISHED", 1000)]


async def test_export_needs_the_massive_export_permission(api: Api, emu: SekoiaEmulator) -> None:
    job = await api.done(term="")
    viewer = emu.add_api_key(["View events"])
    status, body = await api.call("POST", f"{JOBS}/{job['uuid']}/export", key=viewer, json={})
    assert status == 403
    assert "Massive export of events" in body["message"]
    status, body = await api.call(
        "POST", f"{JOBS}/{job['uuid']}/export", json={"fields": ["event.*"]}
    )
    assert status == 400


async def test_a_done_job_is_a_snapshot(api: Api, emu: SekoiaEmulator) -> None:
    job = await api.done(term="")
    before = await api.all_ids(job["uuid"])
    emu.add_events([{"timestamp": (START - timedelta(minutes=1)).isoformat(), "message": "late"}])
    emu.generate_events(10)
    assert await api.all_ids(job["uuid"]) == before
    _, again = await api.call("GET", f"{JOBS}/{job['uuid']}")
    assert again["total"] == 3000
    assert (await api.done(term=""))["total"] == 3011


def test_ten_million_events_cost_little_memory() -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        emu = SekoiaEmulator(seed=1, clock=VirtualClock(START))
        emu.generate_events(10_000_000)
        store = emu._core.events
        results = store.search(0, 2**62, None)
        middle = results.page(5_000_000, 1000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert results.total == 10_000_000
    assert len({e["__event_id"] for e in middle}) == 1000
    stamps = [e["timestamp"] for e in middle]
    assert stamps == sorted(stamps, reverse=True)
    assert peak < 20_000_000  # bytes: the 1000 materialised events, not the 10 M


def test_generated_events_are_about_one_kilobyte_with_the_required_fields() -> None:
    emu = SekoiaEmulator(seed=3, clock=VirtualClock(START))
    emu.generate_events(5000)
    events = list(emu._core.events.search(0, 2**62, None))
    mean = sum(len(json.dumps(e)) for e in events) / len(events)
    assert 900 < mean < 1100  # the issue: "about 1 KB each"
    required = {
        *("__event_id", "timestamp", "message", "event.dialect", "source.ip", "destination.ip"),
        *("destination.port", "host.name", "user.name", "process.command_line"),
        *("sekoiaio.intake.uuid", "sekoiaio.entity.name"),
    }
    assert all(required <= e.keys() for e in events)


async def test_events_link_to_seeded_alerts(clock: VirtualClock) -> None:
    # The reference's flow: an alert's short id, searched over the alert's window, finds the
    # events that raised it.
    async with (
        SekoiaEmulator(seed=11, events=20_000, clock=clock) as emu,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, emu, emu.api_key)
        status, listed = await api.call("GET", "/v1/sic/alerts", params={"limit": 100})
        assert status == 200
        week_ago = clock() - 7 * 86400 + 3600
        recent = [a for a in listed["items"] if a["created_at"] > week_ago]
        assert len(recent) >= 5
        found = {}
        for alert in recent:
            sid, lo, hi = alert["short_id"], alert["first_seen_at"], alert["last_seen_at"]
            found[sid] = emu.expected_event_ids(f'alert_short_ids:"{sid}"', lo, hi)
            assert found[sid], f"no event carries alert {sid}"
        alert = recent[0]
        sid = alert["short_id"]
        job = await api.done(
            term=f'alert_short_ids:"{sid}"',
            earliest_time=alert["first_seen_at"],
            latest_time=alert["last_seen_at"],
        )
        status, page = await api.call("GET", f"{JOBS}/{job['uuid']}/events")
        assert status == 200
        events = page["items"]
        assert [e["__event_id"] for e in events] == found[sid]
        for event in events:
            assert sid in event["alert_short_ids"]
            assert alert["first_seen_at"][:19] <= event["timestamp"][:19]
            assert event["timestamp"][:19] <= alert["last_seen_at"][:19]
    # Only seeded short ids appear, each on a few events at most (not every event of a window).
    everything = list(emu._core.events.search(0, 2**62, None))
    linked = [sid for e in everything for sid in e.get("alert_short_ids", [])]
    known = set(emu._core.state.stores["sic"].alert_short_ids)
    assert linked
    assert set(linked) <= known
    assert len(linked) < len(everything) / 10


def test_fast_json_paths_equal_the_event_dicts() -> None:
    from sekoia_async.testing._core import get_core
    from sekoia_async.testing._events import FIELDS

    emu = SekoiaEmulator(seed=21, clock=VirtualClock(START))
    emu.generate_events(20_000)
    emu.add_events([{"timestamp": START.isoformat(), "message": "added", "user.name": "bob"}])
    store = get_core(emu.state).events
    block = store.blocks[0]
    for i in range(0, 20_000, 97):
        event = block.event(i)
        assert json.loads(block.event_json(i)) == event
        get = block.accessor(i)
        assert {name: get(name) for name in FIELDS if get(name) is not None} == event
    for query in (None, lambda get: get("user.name") == "bob"):
        results = store.search(0, 2**62, query)
        pages = [results.page_json(o, 500) for o in (0, 500)]
        assert [json.loads(e) for p in pages for e in p] == results.page(0, 1000)


@pytest.mark.parametrize("megabytes", [0.0, 0.5])
async def test_page_cache_stays_within_page_cache_mb(megabytes: float, clock: VirtualClock) -> None:
    async with (
        SekoiaEmulator(seed=7, events=3000, clock=clock, page_cache_mb=megabytes) as emu,
        aiohttp.ClientSession() as session,
    ):
        api = Api(session, emu, emu.api_key)
        job = await api.done(term="")
        path = f"{JOBS}/{job['uuid']}/events"
        sizes = []
        for offset in range(0, 1000, 100):  # ten pages of about 100 KB
            status, body = await api.call("GET", path, params={"limit": 100, "offset": offset})
            assert status == 200
            sizes.append(len(json.dumps(body, separators=(",", ":"))))
        store = emu.state.stores["search"]
        limit = megabytes * 1024 * 1024
        assert store.page_bytes == sum(len(b) for b in store.pages.values()) <= limit
        kept = sorted(offset for _, offset, _ in store.pages)
        if megabytes:
            # The newest reads stay (LRU); the oldest were evicted to make room.
            assert 0 < len(kept) < 10
            assert kept == list(range(1000 - 100 * len(kept), 1000, 100))
        else:
            assert kept == []


def test_page_cache_mb_must_not_be_negative() -> None:
    with pytest.raises(ValueError, match="page_cache_mb must be >= 0"):
        SekoiaEmulator(page_cache_mb=-1)


async def test_expiry_frees_results_but_keeps_the_job(api: Api, clock: VirtualClock) -> None:
    job = await api.done(term="", results_ttl=10)
    path = f"{JOBS}/{job['uuid']}/events"
    assert (await api.call("GET", path, params={"limit": 1000}))[0] == 200
    clock.advance(11)
    await api.job(term="")  # creating a job sweeps expired results
    store = api.emu.state.stores["search"]
    assert store.jobs[job["uuid"]].results is None
    assert not [k for k in store.pages if k[0] == job["uuid"]]
    _, got = await api.call("GET", f"{JOBS}/{job['uuid']}")
    assert (got["status"], got["total"], got["expired"]) == (2, 3000, True)


def test_expected_event_ids_rejects_bad_times() -> None:
    emu = SekoiaEmulator()
    with pytest.raises(ValueError, match="earliest_time"):
        emu.expected_event_ids("", "yesterday")


async def test_export_without_fields_has_whole_events(
    api: Api, emu: SekoiaEmulator, clock: VirtualClock
) -> None:
    job = await api.done(term="host.name:dc-*")
    _, created = await api.call("POST", f"{JOBS}/{job['uuid']}/export", json={})
    clock.advance(1)
    _, task = await api.call("GET", f"/v1/tasks/{created['task_uuid']}")
    async with (
        aiohttp.ClientSession() as anonymous,
        anonymous.get(task["attributes"]["download_url"]) as resp,
    ):
        data = gzip.decompress(await resp.read())
    lines = [json.loads(line) for line in data.splitlines()]
    _, page = await api.call("GET", f"{JOBS}/{job['uuid']}/events", params={"limit": 1000})
    assert lines[: len(page["items"])] == page["items"]
    assert len(lines) == job["total"]


@pytest.mark.parametrize("stamp", ["now", "-1d", "+3h", "not a time", 12345])
def test_added_events_need_absolute_timestamps(stamp: object) -> None:
    emu = SekoiaEmulator()
    with pytest.raises(ValueError, match="time"):
        emu.add_events([{"timestamp": stamp, "message": "x"}])
    assert emu.expected_event_ids() == []
