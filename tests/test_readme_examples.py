"""The README's Quickstart example runs as written against the emulator.

The example reads its settings from the environment (SEKOIA_API_KEY, SEKOIA_BASE_URL), as the
README tells users to do, so the test only sets those and runs the code block in a subprocess.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import anyio
import pytest

from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

README = Path(__file__).resolve().parents[1] / "README.md"


def quickstart_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    blocks: list[str] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the Quickstart has exactly one Python example"
    return blocks[0]


async def test_quickstart_example_runs_against_the_emulator() -> None:
    source = quickstart_example()
    async with SekoiaEmulator(seed=0, events=2_000) as emu:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SEKOIA_")}
        env |= {"SEKOIA_API_KEY": emu.api_key, "SEKOIA_BASE_URL": emu.base_url}
        with anyio.fail_after(60):
            done = await anyio.run_process([sys.executable, "-c", source], env=env, check=False)
        out = done.stdout.decode()
        assert done.returncode == 0, done.stderr.decode()[-2000:]
        assert "Suspicious Windows Defender Exclusion Command" in out
        # The rule was created, and the search printed every matching event, one line each.
        assert await emu_rules_named(emu, "My custom SIGMA rule") == 1
        expected = emu.expected_event_ids('event.action:"connection-denied"', "-30d", "now")
        assert expected
        assert len(out.splitlines()) == 1 + len(expected)


async def emu_rules_named(emu: SekoiaEmulator, name: str) -> int:
    from sekoia_async import SekoiaClient

    async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
        return len([rule async for rule in client.rules.list(name=name)])
