"""Bad input at the public surface: each row of the table gets a clear typed error before (or
instead of) a request, and nothing is sent that should not be (checked on the server side)."""

from __future__ import annotations

import anyio
import pytest
from _reliability_bad_inputs import BAD_INPUTS, Bad, run_bad_input

pytestmark = pytest.mark.anyio


def test_the_table_covers_at_least_forty_inputs() -> None:
    assert len(BAD_INPUTS) >= 40
    assert len({row.name for row in BAD_INPUTS}) == len(BAD_INPUTS)


@pytest.mark.parametrize("row", BAD_INPUTS, ids=lambda row: row.name)
async def test_bad_input_is_refused(row: Bad) -> None:
    with anyio.fail_after(10):
        result = await run_bad_input(row)
    assert result.ok, f"{row.name}: {result.why}"
