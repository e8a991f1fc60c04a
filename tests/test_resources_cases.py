"""client.cases against the emulator: CRUD, the alerts of a case, comments, 403/404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime

import pytest

from sekoia_async import (
    Case,
    CasePriority,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    SekoiaClient,
)
from sekoia_async.testing import Faults, SekoiaEmulator

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryPolicy(max_retries=10, backoff_base=0.001, backoff_max=0.005)
N_CASES = 12  # seeded by the emulator


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=0) as emu:
        yield emu


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, retry=FAST_RETRY) as client:
        yield client


async def test_list_pages_exactly_once_under_faults(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    expected = [c.uuid async for c in client.cases.list()]
    assert len(expected) == len(set(expected)) == N_CASES
    emu.faults = Faults(error_rate=0.3, reset_rate=0.1, endpoints={"cases.list"}, seed=3)
    assert [c.uuid async for c in client.cases.list(limit=2, concurrency=3)] == expected
    assert client.stats.retries > 0


async def test_list_filters_and_sort(client: SekoiaClient) -> None:
    cases = [c async for c in client.cases.list(sort="title", direction="asc")]
    titles = [c.title or "" for c in cases]
    assert titles == sorted(titles)
    high = [c async for c in client.cases.list(priority=["high"])]
    assert all(c.priority is CasePriority.HIGH for c in high)
    assert all(isinstance(c.created_at, datetime) and c.created_at.tzinfo for c in cases)
    with pytest.raises(TypeError, match="no filter 'owner'"):
        client.cases.list(owner="me")  # type: ignore[call-arg]


async def test_create_get_update_delete(client: SekoiaClient) -> None:
    created = await client.cases.create(
        "Phishing wave",
        description="Several users reported the same mail",
        priority=CasePriority.HIGH,
        tags=["phishing", "mail"],
    )
    assert isinstance(created, Case)
    assert created.short_id is not None
    assert (created.title, created.priority, created.tags) == (
        "Phishing wave",
        CasePriority.HIGH,
        ("phishing", "mail"),
    )
    assert created.created_at is not None
    assert created.created_at.tzinfo is not None
    fetched = await client.cases.get(created)
    assert fetched.uuid == created.uuid
    assert fetched.raw["title"] == "Phishing wave"

    updated = await client.cases.update(created, title="Phishing wave (contained)", priority="low")
    assert updated.title == "Phishing wave (contained)"
    assert updated.priority is CasePriority.LOW

    await client.cases.delete(created)
    with pytest.raises(NotFoundError):
        await client.cases.get(created.uuid)


async def test_bodies_are_validated_before_any_request(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    before = emu.stats.requests
    with pytest.raises(ValueError, match="title must be a non-empty string"):
        await client.cases.create("  ")
    with pytest.raises(ValueError, match="priority must be low, medium or high"):
        await client.cases.create("x", priority="urgent")
    with pytest.raises(ValueError, match="description cannot be emptied"):
        await client.cases.update("c", description="")
    with pytest.raises(ValueError, match="verdict_confidence"):
        await client.cases.update("c", verdict_confidence=101)
    with pytest.raises(ValueError, match="at most 25 custom fields"):
        await client.cases.create("x", custom_fields={str(i): i for i in range(26)})
    assert emu.stats.requests == before


async def test_add_and_replace_alerts(client: SekoiaClient) -> None:
    first = await client.alerts.list(limit=1).first_page()
    community = first.items[0].community_uuid
    assert community is not None
    # A case groups alerts of its own community.
    alerts = [a async for a in client.alerts.list(community_uuid=community, max_items=3)]
    assert len(alerts) == 3
    case = await client.cases.create(
        "Lateral movement", description="from host A", community_uuid=community
    )
    await client.cases.add_alerts(case, alerts[:2])
    in_case = {a.uuid async for a in client.cases.list_alerts(case)}
    assert in_case == {alerts[0].uuid, alerts[1].uuid}
    # Adding keeps what is there; the short id works as well as the uuid.
    assert alerts[2].short_id is not None
    await client.cases.add_alerts(case, [alerts[2].short_id])
    assert {a.uuid async for a in client.cases.list_alerts(case)} == {a.uuid for a in alerts}
    # Replacing makes the given set exact.
    await client.cases.replace_alerts(case, [alerts[1]])
    assert [a.uuid async for a in client.cases.list_alerts(case, limit=1)] == [alerts[1].uuid]
    refreshed = await client.cases.get(case)
    assert refreshed.number_of_alerts == 1
    with pytest.raises(ValueError, match="at least one alert"):
        await client.cases.add_alerts(case, [])


async def test_comments(client: SekoiaClient) -> None:
    case = await client.cases.create("Commented case")
    first = await client.cases.add_comment(case, "First look")
    second = await client.cases.add_comment(case, "Escalated to tier 2")
    assert first.created_at is not None
    assert first.created_at.tzinfo is not None
    comments = [c async for c in client.cases.list_comments(case, sort="created_at")]
    assert {c.uuid for c in comments} == {first.uuid, second.uuid}
    assert {c.content for c in comments} == {"First look", "Escalated to tier 2"}


async def test_unknown_case_is_404(client: SekoiaClient) -> None:
    with pytest.raises(NotFoundError):
        await client.cases.get("00000000-0000-4000-8000-000000000000")
    with pytest.raises(NotFoundError):
        await client.cases.add_comment("00000000-0000-4000-8000-000000000000", "hello")


async def test_permissions_are_enforced(emu: SekoiaEmulator) -> None:
    reader = emu.add_api_key(permissions=["View cases"])
    async with SekoiaClient(reader, base_url=emu.base_url) as client:
        cases = [c async for c in client.cases.list()]
        assert len(cases) == N_CASES
        with pytest.raises(PermissionDeniedError) as info:
            await client.cases.create("not allowed")
        assert info.value.status == 403
        with pytest.raises(PermissionDeniedError):
            await client.cases.delete(cases[0])
    nobody = emu.add_api_key(permissions=["View alerts"])
    async with SekoiaClient(nobody, base_url=emu.base_url) as client:
        with pytest.raises(PermissionDeniedError):
            await client.cases.list().first_page()
