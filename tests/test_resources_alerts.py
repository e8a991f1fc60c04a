"""client.alerts against the emulator: listing with filters and the pager (faults on), count,
get, update, the status workflow, comments, and the 403/404/409 errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from sekoia_async import (
    Alert,
    AlertStatusName,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    SekoiaClient,
    UrgencyDisplay,
    WorkflowActionName,
)
from sekoia_async.testing import Faults, SekoiaEmulator

pytestmark = pytest.mark.anyio

# Retries fast enough for tests; the schedule itself is tested with the transport.
FAST_RETRY = RetryPolicy(max_retries=10, backoff_base=0.001, backoff_max=0.005)
N_ALERTS = 120  # seeded by the emulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=0) as emu:
        yield emu


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, retry=FAST_RETRY) as client:
        yield client


async def one_alert(client: SekoiaClient, status: AlertStatusName) -> Alert:
    page = await client.alerts.list(status_name=status, limit=1).first_page()
    assert page.items, f"the emulator seeds no {status.value} alert"
    return page.items[0]


# --- listing and paging -----------------------------------------------------------------------


async def test_list_every_alert_in_server_order_exactly_once(client: SekoiaClient) -> None:
    sequential = [a.uuid async for a in client.alerts.list(limit=100, concurrency=1)]
    concurrent = [a.uuid async for a in client.alerts.list(limit=7, concurrency=4)]
    assert len(sequential) == N_ALERTS
    assert len(set(sequential)) == N_ALERTS
    assert concurrent == sequential


async def test_paging_with_faults_is_ordered_and_exactly_once(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    expected = [a.uuid async for a in client.alerts.list(limit=100)]
    emu.faults = Faults(error_rate=0.3, reset_rate=0.1, endpoints={"alerts.list"}, seed=7)
    got = [a.uuid async for a in client.alerts.list(limit=5, concurrency=4)]
    assert got == expected
    # The faults really happened and were absorbed by retries.
    assert client.stats.retries > 0


async def test_pipelined_paging_with_faults(emu: SekoiaEmulator, client: SekoiaClient) -> None:
    expected = [a.uuid async for a in client.alerts.list(limit=100)]
    emu.faults = Faults(error_rate=0.3, reset_rate=0.1, endpoints={"alerts.list"}, seed=11)
    async with client.alerts.list(limit=3, concurrency=4) as pager:
        got = [a.uuid async for a in pager]
    assert got == expected


async def test_without_count_pages_follow_has_more(client: SekoiaClient) -> None:
    expected = [a.uuid async for a in client.alerts.list(limit=100)]
    pager = client.alerts.list(limit=25, with_count=False)
    first = await pager.first_page()
    assert first.total is None
    assert first.has_more is True
    assert [a.uuid async for a in pager] == expected


async def test_pages_and_max_items(client: SekoiaClient) -> None:
    pages = [p async for p in client.alerts.list(limit=50).pages()]
    assert [(p.offset, len(p.items), p.total) for p in pages] == [
        (0, 50, N_ALERTS),
        (50, 50, N_ALERTS),
        (100, 20, N_ALERTS),
    ]
    assert len([a async for a in client.alerts.list(limit=10, max_items=33)]) == 33


async def test_page_size_is_checked_before_any_request(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    before = emu.stats.requests
    with pytest.raises(ValueError, match=r"limit=101 .* use 1\.\.100"):
        client.alerts.list(limit=101)
    with pytest.raises(TypeError, match="no filter 'status'"):
        client.alerts.list(status="Closed")  # type: ignore[call-arg]
    assert emu.stats.requests == before


async def test_filters(client: SekoiaClient) -> None:
    pending = [a async for a in client.alerts.list(status_name=AlertStatusName.PENDING)]
    assert pending
    assert all(a.status_name is AlertStatusName.PENDING for a in pending)
    assert await client.alerts.count(status_name="Pending") == len(pending)

    others = [a async for a in client.alerts.list(exclude_status_uuid=AlertStatusName.PENDING.uuid)]
    assert len(others) + len(pending) == N_ALERTS
    assert {a.uuid for a in others}.isdisjoint({a.uuid for a in pending})

    urgent = [a async for a in client.alerts.list(urgency=(60, 100))]
    assert urgent
    assert all(a.urgency and a.urgency.value is not None for a in urgent)
    assert all(60 <= a.urgency.value <= 100 for a in urgent if a.urgency and a.urgency.value)
    assert all(
        a.urgency.display in (UrgencyDisplay.MAJOR, UrgencyDisplay.URGENT)
        for a in urgent
        if a.urgency
    )

    two = [a.short_id for a in pending[:2] if a.short_id]
    by_id = [a.short_id or "" async for a in client.alerts.list(short_id=two)]
    assert sorted(by_id) == sorted(two)  # values of one field are ORed

    recent = [a async for a in client.alerts.list(created_at=("-30d", "now"))]
    assert recent
    assert all(isinstance(a.created_at, datetime) and a.created_at.tzinfo for a in recent)
    # The same window given as datetimes, around the newest and oldest alert.
    newest = max(a.created_at for a in recent if a.created_at)
    oldest = min(a.created_at for a in recent if a.created_at)
    window = {a.uuid async for a in client.alerts.list(created_at=(oldest, newest))}
    assert window == {a.uuid for a in recent}


async def test_sort(client: SekoiaClient) -> None:
    alerts = [a async for a in client.alerts.list(sort="urgency", direction="asc")]
    values = [a.urgency.value for a in alerts if a.urgency and a.urgency.value is not None]
    assert len(values) == N_ALERTS
    assert values == sorted(values)


# --- one alert --------------------------------------------------------------------------------


async def test_get_by_uuid_or_short_id(client: SekoiaClient) -> None:
    listed = await one_alert(client, AlertStatusName.PENDING)
    assert listed.short_id is not None
    by_uuid = await client.alerts.get(listed)
    by_short = await client.alerts.get(listed.short_id)
    assert by_uuid == by_short
    assert by_uuid.uuid == listed.uuid
    assert by_uuid.created_at == listed.created_at
    assert by_uuid.history  # the detail view carries the history


async def test_get_unknown_is_404(client: SekoiaClient) -> None:
    with pytest.raises(NotFoundError) as info:
        await client.alerts.get("ALdoesnotexist")
    assert info.value.status == 404


async def test_update(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    updated = await client.alerts.update(alert, urgency=85, title="Escalated by the SDK test")
    assert updated.urgency is not None
    assert updated.urgency.value == 85
    assert updated.title == "Escalated by the SDK test"
    assert (await client.alerts.get(alert)).title == "Escalated by the SDK test"


async def test_update_is_validated_before_any_request(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    before = emu.stats.requests
    with pytest.raises(ValueError, match="urgency must be an integer from 0 to 100"):
        await client.alerts.update("ALx", urgency=101)
    with pytest.raises(ValueError, match="together"):
        await client.alerts.update("ALx", alert_type_category="malware")
    with pytest.raises(ValueError, match="nothing to update"):
        await client.alerts.update("ALx")
    assert emu.stats.requests == before


async def test_delete(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.CLOSED)
    await client.alerts.delete(alert)
    with pytest.raises(NotFoundError):
        await client.alerts.get(alert)


# --- workflow ---------------------------------------------------------------------------------


async def test_available_actions_follow_the_status(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    actions = await client.alerts.available_actions(alert)
    assert {a.name for a in actions} == {WorkflowActionName.ACKNOWLEDGE, WorkflowActionName.REJECT}
    assert {a.id for a in actions} == {
        WorkflowActionName.ACKNOWLEDGE.uuid,
        WorkflowActionName.REJECT.uuid,
    }


async def test_set_status_walks_the_workflow(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    await client.alerts.set_status(alert, "Acknowledged")
    await client.alerts.set_status(alert, AlertStatusName.ONGOING, comment="on it")
    await client.alerts.set_status(alert, "closed")
    final = await client.alerts.get(alert)
    assert final.status_name is AlertStatusName.CLOSED
    assert any(c.content == "on it" for c in final.comments)
    assert await client.alerts.available_actions(alert) == ()


async def test_invalid_transition_is_409(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    with pytest.raises(ConflictError) as info:
        await client.alerts.transition(alert, WorkflowActionName.CLOSE)
    assert info.value.status == 409
    # set_status finds no action to Closed either, sends the status and gets the same 409.
    with pytest.raises(ConflictError):
        await client.alerts.set_status(alert, AlertStatusName.CLOSED)
    assert (await client.alerts.get(alert)).status_name is AlertStatusName.PENDING


async def test_transition_by_action_name_and_object(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    await client.alerts.transition(alert, "acknowledge")
    actions = await client.alerts.available_actions(alert)
    validate = next(a for a in actions if a.name is WorkflowActionName.VALIDATE)
    await client.alerts.transition(alert, validate)
    assert (await client.alerts.get(alert)).status_name is AlertStatusName.ONGOING


async def test_set_status_rejects_an_unknown_status(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    with pytest.raises(ValueError, match="unknown alert status 'Archived'"):
        await client.alerts.set_status(alert, "Archived")


# --- comments ---------------------------------------------------------------------------------


async def test_comments(client: SekoiaClient) -> None:
    alert = await one_alert(client, AlertStatusName.PENDING)
    added = await client.alerts.add_comment(alert, "Looked at it", author="SOC bot")
    assert added.content == "Looked at it"
    assert added.author == "SOC bot"
    assert added.date is not None
    comments = [c async for c in client.alerts.list_comments(alert)]
    assert added.uuid in {c.uuid for c in comments}
    with pytest.raises(ValueError, match="at most 32"):
        await client.alerts.add_comment(alert, "x", author="a" * 33)


# --- permissions ------------------------------------------------------------------------------


async def test_permissions_are_enforced(emu: SekoiaEmulator) -> None:
    reader = emu.add_api_key(permissions=["View alerts"])
    nobody = emu.add_api_key(permissions=["View cases"])
    async with SekoiaClient(reader, base_url=emu.base_url) as client:
        alert = await one_alert(client, AlertStatusName.PENDING)
        with pytest.raises(PermissionDeniedError) as info:
            await client.alerts.add_comment(alert, "not allowed")
        assert info.value.status == 403
        with pytest.raises(PermissionDeniedError):
            await client.alerts.set_status(alert, "Acknowledged")
    async with SekoiaClient(nobody, base_url=emu.base_url) as client:
        with pytest.raises(PermissionDeniedError):
            await client.alerts.list().first_page()
