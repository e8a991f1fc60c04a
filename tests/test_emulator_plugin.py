"""The pytest plugin's fixtures, used the way a connector's test suite would use them."""

from __future__ import annotations

import pytest

from sekoia_async import SekoiaClient
from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

JOBS = "/v1/sic/conf/events/search/jobs"


async def test_sekoia_emulator_fixture_is_running(sekoia_emulator: SekoiaEmulator) -> None:
    assert sekoia_emulator.base_url.startswith("http://127.0.0.1:")
    assert sekoia_emulator.event_count == 0


@pytest.mark.sekoia_emulator(events=250, seed=4, job_run_time=0.0)
async def test_marker_configures_the_emulator(sekoia_emulator: SekoiaEmulator) -> None:
    assert sekoia_emulator.event_count == 250
    assert sekoia_emulator.state.seed == 4


@pytest.mark.sekoia_emulator(events=120)
async def test_sekoia_client_talks_to_the_emulator(
    sekoia_client: SekoiaClient, sekoia_emulator: SekoiaEmulator
) -> None:
    job = await sekoia_client.request(
        "POST", JOBS, json={"term": "", "earliest_time": "-30d", "latest_time": "now"}
    )
    done = await sekoia_client.request("GET", f"{JOBS}/{job['uuid']}")
    assert done["total"] == 120
    page = await sekoia_client.request(
        "GET", f"{JOBS}/{job['uuid']}/events", params={"limit": 1000}
    )
    assert [e["__event_id"] for e in page["items"]] == sekoia_emulator.expected_event_ids()
    assert sekoia_emulator.stats.by_endpoint["events.page"] == 1
