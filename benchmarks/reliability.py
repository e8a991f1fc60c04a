"""The Reliability figures of the README: fault matrix, bad inputs and load, against the emulator.

    python benchmarks/reliability.py            # everything (about a minute on 2 cores)
    python benchmarks/reliability.py --skip-load

Runs the same scenarios as tests/test_reliability_*.py (imported from tests/) and prints a
Markdown report: per fault mode, the events delivered, lost and duplicated and the documented
errors seen (each followed by a resume); the bad inputs tried and what they sent; under load,
the peak connections against the pool's limit, each tenant's busiest second against its rate
limit, and the peak memory (tracemalloc).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from _reliability_bad_inputs import BAD_INPUTS, run_bad_input
from _reliability_scenarios import (
    DEADLINE,
    EVENTS,
    EXPORT_SCENARIOS,
    PAGER_SCENARIOS,
    SEARCH_SCENARIOS,
    Outcome,
    make_events,
    run_export,
    run_load,
    run_pager,
    run_search,
)

from sekoia_async import SekoiaClient
from sekoia_async.testing import SekoiaEmulator


def _errors(outcome: Outcome) -> str:
    counts = Counter(outcome.errors)
    return ", ".join(f"{name} x{n}" if n > 1 else name for name, n in counts.items()) or "-"


PAGER_HEADER = (
    "| fault | delivered | lost | duplicates | documented error raised | time | result |\n"
    "| --- | ---: | ---: | ---: | --- | ---: | --- |"
)


def _row(outcome: Outcome, expected: list[str]) -> tuple[str, bool]:
    ok = not outcome.unexpected and outcome.exact(expected)
    verdict = "exact" if ok else f"FAILED {outcome.unexpected!r}"[:60]
    line = (
        f"| {outcome.scenario} | {len(outcome.delivered)} | {outcome.lost(expected)} | "
        f"{outcome.duplicates()} | {_errors(outcome)} | {outcome.elapsed:.1f} s | {verdict} |"
    )
    return line, ok


async def fault_matrix() -> tuple[list[str], int, int, int, int]:
    lines: list[str] = []
    tried = lost = duplicates = failures = 0
    header = (
        "| fault | delivered | lost | duplicates | documented errors (then resumed) | time | "
        "result |\n| --- | ---: | ---: | ---: | --- | ---: | --- |"
    )
    async with SekoiaEmulator(seed=3) as emu:
        emu.add_events(make_events())
        expected = emu.expected_event_ids()
        async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
            alerts = [str(a.uuid) async for a in client.alerts.list(limit=100)]

        lines += [f"\nStreaming search of {EVENTS} events (pages of 1000):\n", header]
        for scenario in SEARCH_SCENARIOS:
            outcome = await run_search(emu, scenario)
            line, ok = _row(outcome, expected)
            lines.append(line)
            tried += 1
            lost += outcome.lost(expected)
            duplicates += outcome.duplicates()
            failures += not ok

        lines += [
            f"\nAuto-pager over the {len(alerts)} emulated alerts (pages of 5; a pager has no "
            "checkpoint, so after a documented error what it gave is an exact prefix):\n",
            PAGER_HEADER,
        ]
        for scenario in PAGER_SCENARIOS:
            outcome = await run_pager(emu, scenario)
            # A pager has no checkpoint: after a documented error, what it gave is a prefix.
            prefix = alerts[: len(outcome.delivered)]
            ok = not outcome.unexpected and outcome.delivered == (
                prefix if outcome.errors else alerts
            )
            missing = len(alerts) - len(outcome.delivered)
            verdict = "exact prefix, then raised" if outcome.errors else "exact"
            lines.append(
                f"| {scenario.name} | {len(outcome.delivered)} | "
                f"{0 if outcome.errors else missing} | {outcome.duplicates()} | "
                f"{_errors(outcome)} | {outcome.elapsed:.1f} s | {verdict if ok else 'FAILED'} |"
            )
            tried += 1
            duplicates += outcome.duplicates()
            failures += not ok

        lines += [f"\nExporter ({EVENTS} events to NDJSON; a failed tenant is rerun):\n", header]
        with tempfile.TemporaryDirectory() as tmp:
            for n, scenario in enumerate(EXPORT_SCENARIOS):
                out = Path(tmp) / f"export-{n}.ndjson"
                outcome = await run_export(emu, scenario, out, ("-30d", "now"))
                line, ok = _row(outcome, expected)
                lines.append(line)
                tried += 1
                lost += outcome.lost(expected)
                duplicates += outcome.duplicates()
                failures += not ok
    return lines, tried, lost, duplicates, failures


async def bad_inputs() -> tuple[list[str], int, int, int]:
    refused = leaked = 0
    failed: list[str] = []
    for row in BAD_INPUTS:
        with anyio.fail_after(10):
            result = await run_bad_input(row)
        if result.ok:
            refused += 1
        else:
            failed.append(f"- {row.name}: {result.why}")
        if row.sent == "nothing" and result.requests:
            leaked += len(result.requests)
    return failed, len(BAD_INPUTS), refused, leaked


async def load() -> list[str]:
    async with SekoiaEmulator(seed=5) as emu:
        emu.add_events(make_events(40_000))
        o = await run_load(emu)
    ok = o.completed == o.searches and o.exact == o.searches
    return [
        f"- {o.searches} concurrent searches from {o.tenants} tenants on one "
        f"`SessionPool(limit={o.pool_limit})`: {o.completed} completed, {o.exact} exact "
        f"({o.events} events, {o.lost} lost, {o.duplicates} duplicates), {o.requests} "
        f"requests in {o.elapsed:.1f} s{'' if ok else ' -- FAILED'}",
        f"- peak connections open at once (measured by the emulator): "
        f"{o.peak_connections} / limit {o.pool_limit}",
        f"- busiest tenant second (emulator request log): {o.max_tenant_rate} requests, "
        f"limit {o.rate_limit:g}/s with bursts of {o.burst} (token-bucket bound "
        f"{o.burst + int(o.rate_limit)})",
        f"- peak memory (tracemalloc, emulator included): {o.peak_memory / 2**20:.1f} MiB",
    ]


async def main(skip_load: bool) -> int:
    started = time.perf_counter()
    print("## Reliability figures\n")
    print(f"Every run is bounded by a {DEADLINE:g} s deadline; none hung.")
    matrix, tried, lost, duplicates, failures = await fault_matrix()
    print(
        f"\n**Fault matrix**: {tried} fault runs, {lost} events lost, {duplicates} duplicates, "
        f"{failures} failures."
    )
    print("\n".join(matrix))
    failed, total, refused, leaked = await bad_inputs()
    print(
        f"\n**Bad inputs**: {total} tried, {refused} refused with a clear typed error, "
        f"{leaked} requests sent that should not have been."
    )
    if failed:
        print("\n".join(failed))
    if not skip_load:
        print("\n**Load**:\n")
        print("\n".join(await load()))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    return 1 if failures or failed or leaked else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-load", action="store_true", help="skip the load scenario")
    args = parser.parse_args()
    # Retries log a WARNING each: the report is the output, not the retries.
    logging.basicConfig(level=logging.ERROR)
    sys.exit(anyio.run(main, args.skip_load))
