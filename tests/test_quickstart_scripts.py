"""Sekoia's quickstart examples, run unchanged against the emulator.

``tests/quickstart/*.py`` are the quickstart's three Python scripts, verbatim. Each runs in a
subprocess through a tiny runner that only repoints the two module constants (``BASE_URL`` and,
where the script has one, ``API_KEY``) at the emulator and turns logging on at INFO, as a user
pasting the script would do; the search script gets its API key as its ``APIKEY`` argument.
"""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import anyio
import pytest
from _emulator_api import Api

from sekoia_async.testing import SekoiaEmulator

pytestmark = pytest.mark.anyio

SCRIPTS = Path(__file__).parent / "quickstart"

RUNNER = r"""
import logging, re, sys

path, base_url, api_key, *args = sys.argv[1:]
source = open(path, encoding="utf-8").read()
source, n_base = re.subn(
    r'^BASE_URL = "https://api\.sekoia\.io/v1"$', f"BASE_URL = {base_url!r}", source, flags=re.M
)
source, n_key = re.subn(
    r'^API_KEY = "YOUR_API_KEY"$', f"API_KEY = {api_key!r}", source, flags=re.M
)
if n_base != 1 or n_key > 1:
    sys.exit(f"runner: expected one BASE_URL and at most one API_KEY line in {path}")
logging.basicConfig(level=logging.INFO)
sys.argv = [path, *args]
exec(compile(source, path, "exec"), {"__name__": "__main__", "__file__": path})
"""


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with SekoiaEmulator(seed=0) as emu, aiohttp.ClientSession() as session:
        yield Api(emu, session)


async def run_script(api: Api, script: str, *args: str, key: str | None = None) -> str:
    """Run a quickstart script against the emulator; returns its log output (stderr)."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["NO_PROXY"] = "127.0.0.1,localhost"  # requests must reach the emulator directly
    command = [
        sys.executable,
        "-c",
        RUNNER,
        str(SCRIPTS / script),
        f"{api.emu.base_url}/v1",
        key or api.emu.api_key,
        *args,
    ]
    with anyio.fail_after(60):
        result = await anyio.run_process(command, env=env, check=False)
    stderr = result.stderr.decode()
    assert result.returncode == 0, stderr
    return stderr


def test_the_scripts_are_the_quickstart_verbatim() -> None:
    quickstart = Path(__file__).resolve().parents[2] / "shared" / "reference" / "quickstart.md"
    if not quickstart.exists():
        pytest.skip("../shared/reference is not present")
    text = quickstart.read_text(encoding="utf-8")
    for script in ("get_rule.py", "create_rule.py", "search_events.py"):
        source = (SCRIPTS / script).read_text(encoding="utf-8")
        assert f"```python\n{source}```" in text, script


async def test_get_rule_script_logs_the_rule_found_by_name(api: Api) -> None:
    log = await run_script(api, "get_rule.py")
    assert "This is the result of the request:" in log
    assert '"name": "Suspicious Windows Defender Exclusion Command"' in log
    assert '"total": 1' in log
    assert "ERROR" not in log


async def test_get_rule_script_reports_a_bad_key(api: Api) -> None:
    log = await run_script(api, "get_rule.py", key="not-a-key")
    assert "Authentication failed: 401" in log
    assert "The token is invalid" in log


async def test_create_rule_script_creates_the_rule(api: Api) -> None:
    log = await run_script(api, "create_rule.py")
    assert "The rule has been created on your community" in log
    status, body = await api(
        "GET", "/v1/sic/conf/rules-catalog/rules", params={"match[name]": "My custom SIGMA rule"}
    )
    assert status == 200
    assert body["total"] == 1
    rule = body["items"][0]
    assert rule["severity"] == 40
    assert rule["effort"] == 3
    assert rule["enabled"] is True
    assert rule["alert_type"]["uuid"] == "599f4b1a-dd60-43fe-8ee9-07d3c5d00ded"


async def test_search_events_script_prints_the_events(api: Api) -> None:
    api.emu.generate_events(300)
    (wanted,) = api.emu.add_events(
        [{"source.ip": "1.2.3.4", "message": "quickstart probe", "event.dialect": "nginx"}]
    )
    log = await run_script(
        api,
        "search_events.py",
        "--dates=-30d,now",
        '--query=source.ip: "1.2.3.4"',
        api.emu.api_key,
    )
    assert "Job is failed or canceled" not in log
    assert wanted in log
    assert "quickstart probe" in log
    assert '"total": 1' in log
