"""client.rules against the emulator: the page-numbered list with filters, CRUD of a custom
rule with client-side validation, enable/disable, 403/404."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from sekoia_async import (
    BadRequestError,
    NotFoundError,
    PermissionDeniedError,
    RetryPolicy,
    Rule,
    RuleEffort,
    RuleType,
    SekoiaClient,
)
from sekoia_async._resources.rules import rule_body
from sekoia_async.testing import Faults, SekoiaEmulator

pytestmark = pytest.mark.anyio

FAST_RETRY = RetryPolicy(max_retries=10, backoff_base=0.001, backoff_max=0.005)

# The quickstart's example rule.
QUICKSTART: dict[str, Any] = {
    "name": "My custom SIGMA rule",
    "type": "sigma",
    "description": "Detect spawn of Powershell",
    "payload": (
        "detection:\n  selection:\n    process.command_line|contains: 'powershell'\n"
        "  condition: selection"
    ),
    "severity": 40,
    "effort": 3,
    "alert_type_uuid": "599f4b1a-dd60-43fe-8ee9-07d3c5d00ded",
    "enabled": True,
}


@pytest.fixture
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=0) as emu:
        yield emu


@pytest.fixture
async def client(emu: SekoiaEmulator) -> AsyncIterator[SekoiaClient]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url, retry=FAST_RETRY) as client:
        yield client


async def test_list_is_paged_by_page_number_exactly_once(
    emu: SekoiaEmulator, client: SekoiaClient
) -> None:
    expected = [r.uuid async for r in client.rules.list()]
    assert len(expected) == len(set(expected)) > 10
    emu.faults = Faults(error_rate=0.5, endpoints={"rules.list"}, seed=5)
    assert [r.uuid async for r in client.rules.list(limit=2, concurrency=4)] == expected
    assert client.stats.retries > 0


async def test_list_filters(client: SekoiaClient) -> None:
    rules = [r async for r in client.rules.list()]
    name = rules[0].name
    assert name is not None
    assert [r.name async for r in client.rules.list(name=name)] == [name]
    high = [r async for r in client.rules.list(severity="high")]
    assert high
    assert all(r.severity is not None and 60 <= r.severity <= 79 for r in high)
    sigma = [r async for r in client.rules.list(type=RuleType.SIGMA)]
    assert all(r.type is RuleType.SIGMA for r in sigma)
    disabled = [r async for r in client.rules.list(enabled=False)]
    assert all(r.enabled is False for r in disabled)


async def test_quickstart_rule_lifecycle(client: SekoiaClient) -> None:
    body = dict(QUICKSTART)
    rule = await client.rules.create(body.pop("name"), **body)
    assert isinstance(rule, Rule)
    assert (rule.name, rule.type, rule.severity, rule.effort) == (
        "My custom SIGMA rule",
        RuleType.SIGMA,
        40,
        RuleEffort.ADVANCED,
    )
    assert rule.alert_type is not None
    assert rule.alert_type.uuid == QUICKSTART["alert_type_uuid"]
    assert rule.enabled is True
    assert rule.created_at is not None
    assert rule.created_at.tzinfo is not None

    assert (await client.rules.get(rule)).uuid == rule.uuid
    found = [r.uuid async for r in client.rules.list(name="My custom SIGMA rule")]
    assert found == [rule.uuid]

    updated = await client.rules.update(rule, severity=90, effort=RuleEffort.MASTER)
    assert (updated.severity, updated.effort) == (90, 4)

    await client.rules.disable(rule)
    assert (await client.rules.get(rule)).enabled is False
    await client.rules.enable(rule.uuid)
    assert (await client.rules.get(rule)).enabled is True

    await client.rules.delete(rule)
    with pytest.raises(NotFoundError):
        await client.rules.get(rule)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"severity": 101}, "severity must be an integer from 0 to 100"),
        ({"severity": -1}, "severity must be an integer from 0 to 100"),
        ({"effort": 0}, "effort must be an integer from 1 to 4"),
        ({"effort": 5}, "effort must be an integer from 1 to 4"),
        ({"name": "abc"}, "name must be 5 to 100 characters"),
        ({"description": "x" * 1001}, "description must be at most 1000"),
        ({"severity": True}, "severity must be an integer"),
    ],
)
async def test_rule_ranges_are_checked_before_any_request(
    emu: SekoiaEmulator, client: SekoiaClient, change: dict[str, Any], message: str
) -> None:
    body = {**QUICKSTART, **change}
    before = emu.stats.requests
    with pytest.raises(ValueError, match=message):
        await client.rules.create(body.pop("name"), **body)
    assert emu.stats.requests == before


def test_rule_body_is_pure_and_keeps_extra_fields() -> None:
    body = rule_body({**QUICKSTART, "extra": {"goal": "spot powershell"}}, creating=True)
    assert body["goal"] == "spot powershell"
    assert "extra" not in body
    assert rule_body({"effort": RuleEffort.MASTER}, creating=False) == {"effort": 4}
    with pytest.raises(ValueError, match="needs"):
        rule_body({"name": "Some rule"}, creating=True)


async def test_server_side_rejection_is_a_400(client: SekoiaClient) -> None:
    body = {**QUICKSTART, "alert_type_uuid": "00000000-0000-4000-8000-000000000000"}
    with pytest.raises(BadRequestError, match="alert_type_uuid"):
        await client.rules.create(body.pop("name"), **body)


async def test_permissions_are_enforced(emu: SekoiaEmulator) -> None:
    reader = emu.add_api_key(permissions=["View rules"])
    async with SekoiaClient(reader, base_url=emu.base_url) as client:
        first = await client.rules.list(limit=1).first_page()
        assert len(first.items) == 1
        body = dict(QUICKSTART)
        with pytest.raises(PermissionDeniedError) as info:
            await client.rules.create(body.pop("name"), **body)
        assert info.value.status == 403
        with pytest.raises(PermissionDeniedError):
            await client.rules.disable(first.items[0])
    nobody = emu.add_api_key(permissions=["View alerts"])
    async with SekoiaClient(nobody, base_url=emu.base_url) as client:
        with pytest.raises(PermissionDeniedError):
            await client.rules.list().first_page()
