"""The fault matrix: every emulator fault mode against the streaming search (50 000 events), the
auto-pager and the exporter.

Each run either delivers exactly the emulator's ``__event_id`` list (in order, none lost, none
twice) or raises a documented error, from which resuming delivers exactly the rest; it always
ends within ``DEADLINE`` (``anyio.fail_after``), and the emulator's counters prove that the fault
really happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from _reliability_scenarios import (
    EVENTS,
    EXPORT_SCENARIOS,
    PAGER_SCENARIOS,
    SEARCH_SCENARIOS,
    Outcome,
    Scenario,
    fault_count,
    make_events,
    run_export,
    run_pager,
    run_search,
)

from sekoia_async import SekoiaClient
from sekoia_async.testing import Faults, SekoiaEmulator

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    # One event loop for the module, so that one emulator (50 000 events) serves every case.
    return "asyncio"


@pytest.fixture(scope="module")
async def emu() -> AsyncIterator[SekoiaEmulator]:
    async with SekoiaEmulator(seed=3) as emulator:
        emulator.add_events(make_events())
        yield emulator


@pytest.fixture(autouse=True)
def clean_faults(emu: SekoiaEmulator) -> Iterator[None]:
    emu.faults = Faults()
    yield
    emu.faults = Faults()


@pytest.fixture(scope="module")
def expected(emu: SekoiaEmulator) -> list[str]:
    ids = emu.expected_event_ids()
    assert len(ids) == EVENTS
    return ids


@pytest.fixture(scope="module")
async def expected_alerts(emu: SekoiaEmulator) -> list[str]:
    async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
        uuids = [str(alert.uuid) async for alert in client.alerts.list(limit=100)]
    assert len(uuids) == len(set(uuids)) > 100
    return uuids


def check(outcome: Outcome, scenario: Scenario, expected: list[str], emu_count: int) -> None:
    assert not outcome.unexpected, f"{scenario.name}: undocumented error {outcome.unexpected!r}"
    assert outcome.duplicates() == 0
    assert outcome.lost(expected) == 0
    assert outcome.exact(expected), f"{scenario.name}: events out of order"
    if scenario.must_raise:
        assert outcome.errors, f"{scenario.name}: the fault should have surfaced"
    assert set(outcome.errors) <= {cls.__name__ for cls in scenario.allowed}
    if scenario.proof:
        assert emu_count > 0, f"{scenario.name}: the emulator injected nothing"


@pytest.mark.parametrize("scenario", SEARCH_SCENARIOS, ids=lambda s: s.name)
async def test_search_stream_under_fault(
    emu: SekoiaEmulator, expected: list[str], scenario: Scenario
) -> None:
    outcome = await run_search(emu, scenario)
    count = outcome.faults[scenario.proof] if scenario.proof else 0
    if scenario.proof.startswith("status:") or scenario.proof == "slow":
        count = max(count, fault_count(emu, scenario.proof))
    check(outcome, scenario, expected, count)


@pytest.mark.parametrize("scenario", PAGER_SCENARIOS, ids=lambda s: s.name)
async def test_auto_pager_under_fault(
    emu: SekoiaEmulator, expected_alerts: list[str], scenario: Scenario
) -> None:
    outcome = await run_pager(emu, scenario)
    count = max(outcome.faults[scenario.proof], fault_count(emu, scenario.proof))
    assert not outcome.unexpected, f"{scenario.name}: undocumented error {outcome.unexpected!r}"
    assert outcome.duplicates() == 0
    if outcome.errors:
        # A pager has no checkpoint: what it delivered before raising is an exact prefix.
        assert set(outcome.errors) <= {cls.__name__ for cls in scenario.allowed}
        assert outcome.delivered == expected_alerts[: len(outcome.delivered)]
        assert len(outcome.delivered) < len(expected_alerts)
    else:
        assert not scenario.must_raise
        assert outcome.delivered == expected_alerts
    assert count > 0, f"{scenario.name}: the emulator injected nothing"


@pytest.mark.parametrize("scenario", EXPORT_SCENARIOS, ids=lambda s: s.name)
async def test_exporter_under_fault(
    emu: SekoiaEmulator, expected: list[str], scenario: Scenario, tmp_path: Path
) -> None:
    outcome = await run_export(emu, scenario, tmp_path / "out.ndjson", ("-30d", "now"))
    assert not outcome.unexpected, outcome.unexpected
    assert outcome.duplicates() == 0
    assert outcome.delivered == expected
    if scenario.must_raise:
        assert outcome.errors, f"{scenario.name}: the tenant should have failed once"
    assert set(outcome.errors) <= {cls.__name__ for cls in scenario.allowed}
