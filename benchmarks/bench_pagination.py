"""Auto-pagination: AsyncPager with concurrent page fetches vs one page at a time.

Lists every alert of the emulator (120 seeded) with ``client.alerts.list(limit=...)`` under a
per-request server latency, once with ``concurrency=1`` (the classic loop over offsets) and
once per concurrency level, and prints wall time, requests sent and the speed-up ratio. Then a
consumer that works ``--work-ms`` per page compares plain ``async for`` (fetches in batches
between the consumer's work) with ``async with pager:`` (a producer fetches ahead while the
consumer works). Results are checked to be the same alerts in the same order.

    python benchmarks/bench_pagination.py [--latency-ms 20] [--limit 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import time

import anyio

from sekoia_async import SekoiaClient
from sekoia_async.testing import Faults, SekoiaEmulator


async def timed_list(client: SekoiaClient, limit: int, concurrency: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    uuids = [a.uuid or "" async for a in client.alerts.list(limit=limit, concurrency=concurrency)]
    return time.perf_counter() - start, uuids


async def slow_consumer(
    client: SekoiaClient, limit: int, work_ms: float, pipelined: bool
) -> tuple[float, list[str]]:
    start = time.perf_counter()
    uuids: list[str] = []
    pager = client.alerts.list(limit=limit, concurrency=4)
    if pipelined:
        async with pager:
            async for alert in pager:
                uuids.append(alert.uuid or "")
                if len(uuids) % limit == 0:
                    await anyio.sleep(work_ms / 1000)  # the consumer's own work on a page
    else:
        async for alert in pager:
            uuids.append(alert.uuid or "")
            if len(uuids) % limit == 0:
                await anyio.sleep(work_ms / 1000)
    return time.perf_counter() - start, uuids


async def main(
    latency_ms: float, limit: int, repeat: int, levels: list[int], work_ms: float
) -> None:
    # rate_limit=None: measure the pager, not the client's default request budget.
    async with (
        SekoiaEmulator(seed=0) as emu,
        SekoiaClient(emu.api_key, base_url=emu.base_url, rate_limit=None) as client,
    ):
        baseline = [a.uuid async for a in client.alerts.list()]
        emu.faults = Faults(latency_ms=latency_ms)
        pages = -(-len(baseline) // limit)
        print(
            f"{len(baseline)} alerts, limit={limit} ({pages} pages), "
            f"server latency {latency_ms:.0f} ms, best of {repeat}"
        )
        results: dict[int, float] = {}
        for level in [1, *levels]:
            best = float("inf")
            for _ in range(repeat):
                before = client.stats.requests
                elapsed, uuids = await timed_list(client, limit, level)
                assert uuids == baseline, "pager changed the order or lost items"
                best = min(best, elapsed)
            results[level] = best
            print(
                f"  concurrency={level:<2} {best * 1000:8.1f} ms  "
                f"{client.stats.requests - before} requests  "
                f"x{results[1] / best:.2f} vs sequential"
            )
        print(f"consumer working {work_ms:.0f} ms per page, concurrency=4:")
        timings: dict[bool, float] = {}
        for pipelined in (False, True):
            best = float("inf")
            for _ in range(repeat):
                elapsed, uuids = await slow_consumer(client, limit, work_ms, pipelined)
                assert uuids == baseline, "pager changed the order or lost items"
                best = min(best, elapsed)
            timings[pipelined] = best
            label = "async with (pipelined)" if pipelined else "async for (batches)   "
            print(f"  {label} {best * 1000:8.1f} ms")
        print(f"  pipelined x{timings[False] / timings[True]:.2f} vs batches")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--limit", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--levels", type=int, nargs="*", default=[2, 4, 8])
    parser.add_argument("--work-ms", type=float, default=20.0)
    args = parser.parse_args()
    anyio.run(main, args.latency_ms, args.limit, args.repeat, args.levels, args.work_ms)
