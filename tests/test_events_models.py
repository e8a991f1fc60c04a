"""Search job and events page models read what the real API sends (recorded fixtures)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from sekoia_async import APIResponseValidationError, EventsPage, SearchJob, SearchJobStatus
from sekoia_async._models._converter import structure

# Copies of the shared recordings (provenance in the shared fixtures' README).
RECORDED = Path(__file__).parent / "data" / "recorded"


def load(name: str) -> Any:
    return json.loads((RECORDED / name).read_text())


@pytest.mark.parametrize(
    ("name", "status", "total"),
    [
        ("SekoiaXDR_query_events.json", SearchJobStatus.NOT_STARTED, 0),
        ("SekoiaXDR_query_events_status_in_progress.json", SearchJobStatus.IN_PROGRESS, 203912),
        ("SekoiaXDR_query_events_status.json", SearchJobStatus.DONE, 203912),
    ],
)
def test_recorded_jobs_parse(name: str, status: SearchJobStatus, total: int) -> None:
    data = load(name)
    job = structure(data, SearchJob)
    assert job.status is status
    assert job.total == total
    assert job.uuid == data["uuid"]
    assert job.term_lang == "es-query-string"
    assert job.created_at is not None
    assert job.created_at.tzinfo is not None
    assert job.raw == data
    assert job.is_finished is (status is SearchJobStatus.DONE)


def test_done_job_fields() -> None:
    job = structure(load("SekoiaXDR_query_events_status.json"), SearchJob)
    assert job.expired is True
    assert job.results_ttl == 1800
    assert job.ended_at == datetime(2024, 4, 30, 13, 56, 33, 802894, tzinfo=timezone.utc)
    assert job.earliest_time == "2024-04-25T10:00:23"  # the window echo stays a string


def test_unknown_status_and_fields_do_not_break_parsing() -> None:
    job = structure({"uuid": "u", "status": 7, "brand_new_field": {"x": 1}}, SearchJob)
    assert job.status == 7
    assert not isinstance(job.status, SearchJobStatus)
    assert not job.is_finished
    assert job.raw["brand_new_field"] == {"x": 1}
    failed = structure({"uuid": "u", "status": 4, "message": "bad query"}, SearchJob)
    assert failed.status is SearchJobStatus.FAILED
    assert failed.message == "bad query"


def test_status_enum_values() -> None:
    assert [s.value for s in SearchJobStatus] == [0, 1, 2, 3, 4]
    assert SearchJobStatus(3).name == "CANCELED"


def test_events_page_keeps_the_server_dicts() -> None:
    data = load("SekoiaXDR_retrieve_events.json")
    page = EventsPage.from_api(data)
    assert page.items is data["items"]  # no copy, no per-event model
    assert page.items[0]["__event_id"].startswith("ZXZlbnRz")
    assert page.total == data.get("total", len(data["items"]))


def test_events_page_rejects_a_non_page() -> None:
    with pytest.raises(APIResponseValidationError, match="events page"):
        EventsPage.from_api({"message": "nope"})
    with pytest.raises(APIResponseValidationError):
        EventsPage.from_api([1, 2])
