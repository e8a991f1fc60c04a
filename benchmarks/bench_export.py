"""Multi-tenant export: N tenants exported concurrently (one shared pool) vs one after another.

    python benchmarks/bench_export.py            # 50 tenants x 20 000 events, 20 ms latency
    python benchmarks/bench_export.py --quick    # 10 tenants x 2 000 events

Every tenant has its own API key and exports the same 20 000-event window of the in-process
emulator (``--latency-ms`` added to every request, like a real network) to its own NDJSON file.
Rate limits are OFF (pool and clients) so the figure is the exporter's own concurrency, not a
throttle. The emulator runs in this process: its CPU is shared with the exporter, which
understates both modes alike. Peak connections come from the emulator's stats.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import anyio

from sekoia_async import ExportConfig, Exporter, TenantConfig
from sekoia_async.testing import Faults, SekoiaEmulator

EARLIEST = datetime(2026, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2026, 2, 1, tzinfo=timezone.utc)


def _tenants(emu: SekoiaEmulator, n: int, out: Path, page_size: int) -> list[TenantConfig]:
    return [
        TenantConfig(
            name=f"tenant{i:03d}",
            output=out / f"tenant{i:03d}.ndjson",
            api_key=emu.add_api_key(permissions=["View events"]),
            base_url=emu.base_url,
            earliest=EARLIEST.isoformat(),
            latest=LATEST.isoformat(),
            page_size=page_size,
        )
        for i in range(n)
    ]


async def _run(
    emu: SekoiaEmulator, tenants: list[TenantConfig], *, concurrent: bool, pool_limit: int
) -> tuple[float, int, int, int]:
    from sekoia_async import PollPolicy

    emu.stats.reset()
    options: dict[str, Any] = {
        "pool_limit": pool_limit,
        "pool_options": {"rate_limit": None},
        "search_options": {"poll": PollPolicy(initial=0.05, cap=1.0)},
    }
    started = time.perf_counter()
    events = 0
    if concurrent:
        result = await Exporter(ExportConfig(tuple(tenants)), **options).run()
        assert result.ok, [t.error for t in result.tenants if not t.ok]
        events = result.events
    else:
        for tenant in tenants:
            result = await Exporter(ExportConfig((tenant,)), **options).run()
            assert result.ok, [t.error for t in result.tenants if not t.ok]
            events += result.events
    elapsed = time.perf_counter() - started
    return elapsed, events, emu.stats.requests, emu.stats.max_concurrent_connections


async def main(args: argparse.Namespace) -> None:
    faults = Faults(latency_ms=args.latency_ms)
    async with SekoiaEmulator(seed=0, job_run_time=0.0, faults=faults) as emu:
        emu.generate_events(args.events, start=EARLIEST, end=LATEST - timedelta(seconds=1))
        rows = []
        for mode in ("sequential", "concurrent"):
            work = Path(tempfile.mkdtemp(prefix=f"bench-export-{mode}-"))
            try:
                tenants = _tenants(emu, args.tenants, work, args.page_size)
                elapsed, events, requests, peak = await _run(
                    emu, tenants, concurrent=mode == "concurrent", pool_limit=args.pool_limit
                )
                expected = args.tenants * args.events
                assert events == expected, f"{mode}: {events} events, expected {expected}"
                rows.append((mode, elapsed, events, requests, peak))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    print(
        f"bench_export: {args.tenants} tenants x {args.events:,} events, pages of "
        f"{args.page_size}, {args.latency_ms:g} ms latency/request, pool limit "
        f"{args.pool_limit}, rate limits off"
    )
    print(f"machine: {platform.platform()}, Python {platform.python_version()}")
    print(f"{'mode':<12}{'seconds':>10}{'events':>12}{'events/s':>12}", end="")
    print(f"{'requests':>10}{'peak conn':>11}")
    for mode, elapsed, events, requests, peak in rows:
        print(
            f"{mode:<12}{elapsed:>10.2f}{events:>12,}{events / elapsed:>12,.0f}"
            f"{requests:>10,}{peak:>11}"
        )
    ratio = rows[0][1] / rows[1][1]
    print(f"concurrent / sequential speed-up: {ratio:.1f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 tenants x 2 000 events")
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--events", type=int, default=20_000, help="events per tenant")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--pool-limit", type=int, default=100)
    ns = parser.parse_args()
    if ns.quick:
        ns.tenants, ns.events = 10, 2_000
    anyio.run(main, ns)
