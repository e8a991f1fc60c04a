"""SOL query runs: request body and the JSON-lines row decoder, without any network."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timezone

import pytest

from sekoia_async import APIResponseValidationError, QueryRows, QueryRun, QueryRunStatus
from sekoia_async._models._converter import structure
from sekoia_async._resources.queries import query_run_body


def test_inline_query_body_keeps_relative_times_for_the_server() -> None:
    body = query_run_body("events | limit 5", "-1d", "now", community_uuids=["c1"])
    assert body == {
        "query_parameters": {"time": {"earliest": "-1d", "latest": "now"}},
        "query_definition": {"ql_query": "events | limit 5", "community_uuids": ["c1"]},
    }


def test_saved_query_body_and_datetimes() -> None:
    start = datetime(2024, 1, 2, 3, 4, 5)
    body = query_run_body(None, start, "2024-01-03T00:00:00Z", query_uuid="q-1")
    assert body == {
        "query_uuid": "q-1",
        "query_parameters": {
            "time": {"earliest": "2024-01-02T03:04:05+00:00", "latest": "2024-01-03T00:00:00Z"}
        },
    }


@pytest.mark.parametrize(
    ("sol", "query_uuid", "earliest", "fragment"),
    [
        (None, None, "-1d", "exactly one"),
        ("events", "q", "-1d", "exactly one"),
        ("  ", None, "-1d", "sol is empty"),
        ("events", None, "yesterday", "invalid time"),
        ("events", None, "", "invalid time"),
    ],
)
def test_query_body_is_checked_before_any_request(
    sol: str | None, query_uuid: str | None, earliest: str, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        query_run_body(sol, earliest, "now", query_uuid=query_uuid)


async def _lines(*lines: bytes) -> AsyncIterator[bytes]:
    for line in lines:
        yield line


RUN = structure({"uuid": "r-1", "status": "done"}, QueryRun)


@pytest.mark.anyio
async def test_rows_decode_json_lines_and_skip_blank_ones() -> None:
    rows = QueryRows(RUN, _lines(b'{"a": 1}', b"", b'{"a": 2}', b"  ", b"3"))
    got = [row async for row in rows]
    assert got == [{"a": 1}, {"a": 2}, {"value": 3}]
    assert rows.rows_read == 3
    assert [row async for row in QueryRows(RUN, None)] == []


@pytest.mark.anyio
async def test_rows_report_a_cut_line_with_its_number() -> None:
    rows = QueryRows(RUN, _lines(b'{"a": 1}', b'{"a": '))
    assert await rows.__anext__() == {"a": 1}
    with pytest.raises(APIResponseValidationError, match="line 2 of the results of SOL run r-1"):
        await rows.__anext__()


def test_query_run_model_states() -> None:
    assert RUN.status is QueryRunStatus.DONE
    assert RUN.done
    failed = structure({"uuid": "r", "status": "error", "error": {"code": "SYNTAX"}}, QueryRun)
    assert failed.done
    assert failed.error_message == "{'code': 'SYNTAX'}"
    assert not structure({"uuid": "r", "status": "running"}, QueryRun).done
    odd = structure(
        {"uuid": "r", "status": "queued", "created_at": "2024-01-01T00:00:00Z"}, QueryRun
    )
    assert odd.status == "queued"
    assert not odd.done
    assert odd.created_at == datetime(2024, 1, 1, tzinfo=timezone.utc)
