"""Real recorded event-search responses read through ``client.events``' own calls.

The recordings (tests/data/recorded/SekoiaXDR_query_events*.json and
SekoiaXDR_retrieve_events.json, copied verbatim from the shared fixtures; provenance in that
README: demisto/content, SekoiaXDR test data) are served by a local aiohttp server on
127.0.0.1: job creation, two status reads (in progress, then done) and one events page.

The recordings shortened the job UUID (``df904d2e-2c57-488f``); the API sends full UUIDs and
``get_search_job`` refuses anything else, so the server pads it (as the shared README advises)
rather than the client loosening its check.

The asset recordings SekoiaXDR_post_asset_attr.json / _key.json are not read here: they answer
legacy v1 asset attribute/key creation, which ``client.assets`` does not offer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from _local_app import client_for
from aiohttp import web

from sekoia_async import EventsPage, SearchJob, SearchJobStatus, SekoiaClient

DATA = Path(__file__).parent / "data" / "recorded"
JOBS = "/v1/sic/conf/events/search/jobs"
SHORT_UUID = "df904d2e-2c57-488f"
JOB_UUID = SHORT_UUID + "-8000-000000000000"


def _load(name: str) -> Any:
    data = json.loads((DATA / name).read_text())
    if isinstance(data, dict) and data.get("uuid") == SHORT_UUID:
        data["uuid"] = JOB_UUID
    return data


class RecordedSearch:
    """Serves the search recordings in the order a real job goes through them."""

    def __init__(self) -> None:
        self.bodies: list[Any] = []
        self.queries: list[dict[str, str]] = []
        self.statuses = [
            "SekoiaXDR_query_events_status_in_progress.json",
            "SekoiaXDR_query_events_status.json",
        ]
        self.app = web.Application()
        self.app.router.add_post(JOBS, self._create)
        self.app.router.add_get(JOBS + "/{uuid}", self._get)
        self.app.router.add_get(JOBS + "/{uuid}/events", self._events)

    async def _create(self, request: web.Request) -> web.Response:
        self.bodies.append(await request.json())
        return web.json_response(_load("SekoiaXDR_query_events.json"))

    async def _get(self, request: web.Request) -> web.Response:
        if request.match_info["uuid"] != JOB_UUID:
            return web.json_response({"message": "Job not found"}, status=404)
        name = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return web.json_response(_load(name))

    async def _events(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        return web.json_response(_load("SekoiaXDR_retrieve_events.json"))


@pytest.fixture
async def recorded() -> AsyncIterator[tuple[RecordedSearch, SekoiaClient]]:
    server = RecordedSearch()
    async with client_for(server.app) as client:
        yield server, client


@pytest.mark.anyio
async def test_create_search_job(recorded: tuple[RecordedSearch, SekoiaClient]) -> None:
    server, client = recorded
    job = await client.events.create_search_job(
        "sekoiaio.intake.uuid:834a2d7f-3623-4b26",
        "2024-04-25T10:00:23",
        "2024-04-25T15:00:23",
        term_lang="es-query-string",
    )
    assert server.bodies == [
        {
            "term": "sekoiaio.intake.uuid:834a2d7f-3623-4b26",
            "earliest_time": "2024-04-25T10:00:23",
            "latest_time": "2024-04-25T15:00:23",
            "term_lang": "es-query-string",
        }
    ]
    assert isinstance(job, SearchJob)
    assert job.uuid == JOB_UUID
    assert job.status is SearchJobStatus.NOT_STARTED
    assert not job.is_finished
    assert job.total == 0
    assert job.created_at == datetime(2024, 4, 30, 13, 50, 4, 876962, tzinfo=timezone.utc)
    assert job.started_at is None
    assert job.ended_at is None
    assert job.results_ttl == 1800
    assert job.community_uuids == ["52bd045f-4199-4361"]
    assert job.created_by_type == "apikey"


@pytest.mark.anyio
async def test_job_status_goes_from_in_progress_to_done(
    recorded: tuple[RecordedSearch, SekoiaClient],
) -> None:
    _, client = recorded
    running = await client.events.get_search_job(JOB_UUID)
    assert running.status is SearchJobStatus.IN_PROGRESS
    assert not running.is_finished
    done = await client.events.get_search_job(JOB_UUID)
    assert done.status is SearchJobStatus.DONE
    assert done.is_finished
    assert done.total == 203912
    assert done.ended_at == datetime(2024, 4, 30, 13, 56, 33, 802894, tzinfo=timezone.utc)
    assert done.expiration_date == datetime(2024, 4, 30, 14, 26, 33, 838485, tzinfo=timezone.utc)
    assert done.expired is True
    # The window is echoed as sent: naive ISO strings stay strings.
    assert (done.earliest_time, done.latest_time) == ("2024-04-25T10:00:23", "2024-04-25T15:00:23")


@pytest.mark.anyio
async def test_get_search_job_events(recorded: tuple[RecordedSearch, SekoiaClient]) -> None:
    server, client = recorded
    page = await client.events.get_search_job_events(JOB_UUID, limit=1000, offset=0)
    assert server.queries == [{"limit": "1000", "offset": "0"}]
    assert isinstance(page, EventsPage)
    assert page.total == 1
    (event,) = page.items
    assert event["__event_id"] == "ZXZlbnRzLTUyYmQwNDVmLTQxOTktNDM2MS04MjY3LWNkZWJmYzc4NDM5Mi0"
    assert event["timestamp"] == "2024-04-25T14:11:10.652Z"
    # Flat dotted keys, kept exactly as sent (lists included).
    assert event["process.name"] == "processNameTest.exe"
    assert event["process.pid"] == 623
    assert event["sekoiaio.assets.host.ip.uuid"] == ["85dbcf0f-cc30-421e"]
    assert event["related.ip"] == "1.2.3.4"


@pytest.mark.anyio
async def test_short_recorded_uuid_is_refused_before_any_request(
    recorded: tuple[RecordedSearch, SekoiaClient],
) -> None:
    server, client = recorded
    with pytest.raises(ValueError, match="UUID"):
        await client.events.get_search_job(SHORT_UUID)
    assert server.statuses[0].endswith("in_progress.json")  # nothing was served
