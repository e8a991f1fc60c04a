"""Task model semantics and the deadline-bounded poller, without any network."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest

from sekoia_async import ExportJob, OperationTimeout, PollPolicy, Task, TaskStatus
from sekoia_async._helpers.polling import poll_until_done
from sekoia_async._models._converter import structure

FAST = PollPolicy(initial=0.001, factor=1.0, cap=0.001, jitter=0.0)


@pytest.mark.parametrize(
    ("status", "succeeded", "failed"),
    [
        ("PENDING", False, False),
        ("RUNNING", False, False),
        ("FINISHED", True, False),
        ("SUCCESS", True, False),
        ("FAILED", False, True),
        ("CANCELED", False, True),
        ("CANCELLED", False, True),
        ("finished", True, False),
        ("SOMETHING_NEW", False, False),
        (None, False, False),
    ],
)
def test_task_status_classification(status: str | None, succeeded: bool, failed: bool) -> None:
    task = structure({"uuid": "t", "status": status}, Task)
    assert task.succeeded is succeeded
    assert task.failed is failed
    assert task.done is (succeeded or failed)


def test_task_keeps_unknown_statuses_and_exposes_results() -> None:
    task = structure(
        {
            "uuid": "t",
            "status": "FINISHED",
            "progress": 10,
            "total": 10,
            "attributes": {"download_url": "https://s3.example/x.jsonl.gz"},
        },
        Task,
    )
    assert task.status is TaskStatus.FINISHED
    assert task.download_url == "https://s3.example/x.jsonl.gz"
    assert structure({"status": "WEIRD"}, Task).status == "WEIRD"
    failed = structure({"status": "FAILED", "attributes": {"error": "quota exceeded"}}, Task)
    assert failed.error_message == "quota exceeded"
    assert structure({"status": "FAILED", "message": "boom"}, Task).error_message == "boom"
    assert structure({"status": "FAILED"}, Task).error_message is None


def _states(*states: str) -> Callable[[], Awaitable[str]]:
    remaining = list(states)

    async def fetch() -> str:
        if len(remaining) > 1:
            return remaining.pop(0)
        if remaining and remaining[0] != "<hang>":
            return remaining[0]
        await anyio.sleep_forever()
        raise AssertionError("unreachable")

    return fetch


@pytest.mark.anyio
async def test_poller_reports_every_state_to_sync_and_async_callbacks() -> None:
    seen: list[str] = []
    seen_async: list[str] = []

    async def async_cb(state: object) -> None:
        seen_async.append(str(state))

    result = await poll_until_done(
        _states("a", "b", "done"),
        lambda s: s == "done",
        policy=FAST,
        max_wait=None,
        what="task",
        operation_uuid="t1",
        on_update=lambda s: seen.append(str(s)),
    )
    assert result == "done"
    assert seen == ["a", "b", "done"]
    again = await poll_until_done(
        _states("x", "done"),
        lambda s: s == "done",
        policy=FAST,
        max_wait=None,
        what="task",
        operation_uuid="t1",
        on_update=async_cb,
    )
    assert again == "done"
    assert seen_async == ["x", "done"]


@pytest.mark.anyio
async def test_poller_deadline_raises_operation_timeout_with_the_last_state() -> None:
    with pytest.raises(OperationTimeout) as info:
        await poll_until_done(
            _states("pending", "running", "<hang>"),
            lambda s: s == "done",
            policy=FAST,
            max_wait=0.05,
            what="task",
            operation_uuid="t-42",
        )
    assert info.value.operation_uuid == "t-42"
    assert info.value.state == "running"
    assert "t-42" in str(info.value)
    assert isinstance(info.value, TimeoutError)


@pytest.mark.anyio
async def test_poller_lets_a_timeout_error_from_the_fetch_through() -> None:
    async def fetch() -> str:
        raise TimeoutError("from the fetch itself")

    with pytest.raises(TimeoutError, match="from the fetch itself") as info:
        await poll_until_done(
            fetch, lambda s: True, policy=FAST, max_wait=10, what="task", operation_uuid="t"
        )
    assert not isinstance(info.value, OperationTimeout)


def test_reprs_hide_the_signature_of_pre_signed_urls() -> None:
    url = "https://bucket.s3.example/export.jsonl.gz?X-Amz-Signature=deadbeef"
    task = structure({"uuid": "t", "attributes": {"download_url": url}}, Task)
    job = structure({"download_url": url, "format": "jsonl.gz"}, ExportJob)
    for obj in (task, job):
        assert "deadbeef" not in repr(obj)
        assert "export.jsonl.gz?<redacted>" in repr(obj)
    assert task.download_url == url
    assert job.download_url == url
