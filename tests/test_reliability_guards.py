"""The suite-wide guards of tests/_reliability_guards.py can fail: each detector fires on a
planted leak (which is then withdrawn so that this test itself passes)."""

from __future__ import annotations

import logging
import subprocess
import sys
from collections.abc import Iterator

import _reliability_guards as guards
import aiohttp
import click
import pytest
from click.testing import CliRunner

from sekoia_async import ConfigurationError, SekoiaClient
from sekoia_async.testing import SekoiaEmulator

PLANTED = "sk-planted-secret-for-the-guard-test"


@pytest.fixture
def planted() -> Iterator[list[str]]:
    """The violations recorded while the test runs, withdrawn afterwards."""
    before = len(guards._violations)
    seen: list[str] = []
    yield seen
    seen.extend(guards._violations[before:])
    del guards._violations[before:]


def take(planted: list[str]) -> list[str]:
    found = guards._violations[:]
    guards._violations.clear()
    planted.extend(found)
    return found


def test_keys_are_registered_by_clients_and_recognised_in_text(planted: list[str]) -> None:
    SekoiaClient(PLANTED, base_url="http://127.0.0.1:9")  # never opened: nothing to close
    assert PLANTED in guards.KEYS
    assert guards.find_secret(f"oops {PLANTED}!") == PLANTED
    assert guards.find_secret("emu-" + "ab" * 24) is not None  # any emulator-shaped key
    assert guards.find_secret("a short key like x or k") is None
    assert guards.KEYS.redact(f"Bearer {PLANTED}") == "Bearer <API KEY>"


def test_emulator_keys_are_registered(planted: list[str]) -> None:
    emu = SekoiaEmulator(api_key="custom-emulator-key-123456")
    assert "custom-emulator-key-123456" in guards.KEYS
    assert emu.add_api_key(["View events"]) in guards.KEYS


def test_a_debug_log_line_with_a_key_is_caught(planted: list[str]) -> None:
    guards.register_key(PLANTED)
    # Only the guard's handler sees this record: pytest's own capture would keep the planted
    # line in the report, where the guard would (rightly) find it again.
    logger = logging.getLogger("sekoia_async.guard_test")
    logger.propagate = False
    logger.addHandler(guards._HANDLER)
    try:
        logger.debug("sending %s", PLANTED)
    finally:
        logger.removeHandler(guards._HANDLER)
        logger.propagate = True
    found = take(planted)
    assert len(found) == 1
    assert "sekoia_async.guard_test" in found[0]
    assert PLANTED not in found[0]  # the report itself is redacted


def test_an_error_text_with_a_key_is_caught(planted: list[str]) -> None:
    guards.register_key(PLANTED)
    error = ConfigurationError(f"bad key {PLANTED}")
    found = take(planted)
    assert len(found) == 1
    assert "ConfigurationError" in found[0]
    del error


def test_cli_output_with_a_key_is_caught(planted: list[str]) -> None:
    guards.register_key(PLANTED)

    @click.command()
    def leaky() -> None:
        click.echo(f"key={PLANTED}")

    CliRunner().invoke(leaky, [])
    found = take(planted)
    assert any("CLI output" in f for f in found)


def test_subprocess_output_with_a_key_is_caught(planted: list[str]) -> None:
    guards.register_key(PLANTED)
    subprocess.run(
        [sys.executable, "-c", "import sys; print(sys.argv[1])", PLANTED],
        capture_output=True,
        check=True,
    )
    found = take(planted)
    assert any("stdout of the process" in f for f in found)
    assert all(PLANTED not in f for f in found)


@pytest.mark.anyio
async def test_connectors_opened_by_a_test_are_tracked() -> None:
    first = guards._connector_serial[0]
    connector = aiohttp.TCPConnector()
    opened = [c for serial, c in guards._connectors.items() if serial > first]
    assert opened == [connector]
    assert not connector.closed  # the guard would fail this test if it stayed open
    await connector.close()
