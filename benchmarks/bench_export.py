"""Multi-tenant export: N tenants exported concurrently (one shared pool) vs one after another.

    python benchmarks/bench_export.py            # 50 tenants x 20 000 events
    python benchmarks/bench_export.py --quick    # 10 tenants x 2 000 events

The emulator runs in its own process (so its CPU is not the exporter's) with ``--latency-ms``
added to every request, standing in for the network and Sekoia's own response time. Every
tenant has its own API key and exports the same window of 20 000 events to its own NDJSON file
(fsync per page, as in production). Rate limits are OFF (pool and clients) so the figure is the
exporter's own concurrency, not a throttle. Peak connections come from the emulator's stats.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import tempfile
import time
from datetime import datetime, timedelta, timezone
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import anyio

from sekoia_async import ExportConfig, Exporter, PollPolicy, TenantConfig

EARLIEST = datetime(2026, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2026, 2, 1, tzinfo=timezone.utc)


def _emulator_process(conn: Connection, events: int, tenants: int, latency_ms: float) -> None:
    anyio.run(_serve, conn, events, tenants, latency_ms)


async def _serve(conn: Connection, events: int, tenants: int, latency_ms: float) -> None:
    from sekoia_async.testing import Faults, SekoiaEmulator

    faults = Faults(latency_ms=latency_ms)
    async with SekoiaEmulator(seed=0, job_run_time=0.0, faults=faults) as emu:
        emu.generate_events(events, start=EARLIEST, end=LATEST - timedelta(seconds=1))
        keys = [emu.add_api_key(permissions=["View events"]) for _ in range(tenants)]
        conn.send((emu.base_url, keys))
        cpu = time.process_time()
        while True:
            command = await anyio.to_thread.run_sync(conn.recv)
            if command == "stats":
                used, cpu = time.process_time() - cpu, time.process_time()
                conn.send((emu.stats.requests, emu.stats.max_concurrent_connections, used))
                emu.stats.reset()
            else:
                return


def _tenants(base_url: str, keys: list[str], out: Path, page_size: int) -> list[TenantConfig]:
    return [
        TenantConfig(
            name=f"tenant{i:03d}",
            output=out / f"tenant{i:03d}.ndjson",
            api_key=key,
            base_url=base_url,
            earliest=EARLIEST.isoformat(),
            latest=LATEST.isoformat(),
            page_size=page_size,
        )
        for i, key in enumerate(keys)
    ]


async def _run(tenants: list[TenantConfig], concurrent: bool, pool_limit: int) -> int:
    options: dict[str, Any] = {
        "pool_limit": pool_limit,
        "pool_options": {"rate_limit": None},
        "search_options": {"poll": PollPolicy(initial=0.05, cap=1.0)},
    }
    configs = (
        [ExportConfig(tuple(tenants))] if concurrent else [ExportConfig((t,)) for t in tenants]
    )
    events = 0
    for config in configs:
        result = await Exporter(config, **options).run()
        assert result.ok, [t.error for t in result.tenants if not t.ok]
        events += result.events
    return events


def main(args: argparse.Namespace) -> None:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    server = ctx.Process(
        target=_emulator_process, args=(child, args.events, args.tenants, args.latency_ms)
    )
    server.start()
    rows = []
    try:
        base_url, keys = parent.recv()
        for mode in ("sequential", "concurrent"):
            work = Path(tempfile.mkdtemp(prefix=f"bench-export-{mode}-"))
            try:
                tenants = _tenants(base_url, keys, work, args.page_size)
                parent.send("stats")  # resets the emulator's counters and CPU clock
                parent.recv()
                started, cpu = time.perf_counter(), time.process_time()
                concurrent = mode == "concurrent"
                events = anyio.run(_run, tenants, concurrent, args.pool_limit)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
                expected = args.tenants * args.events
                assert events == expected, f"{mode}: {events} events, expected {expected}"
                parent.send("stats")
                requests, peak, emulator_cpu = parent.recv()
                rows.append((mode, elapsed, events, requests, peak, cpu, emulator_cpu))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        parent.send("stop")
        server.join(timeout=30)
    print(
        f"bench_export: {args.tenants} tenants x {args.events:,} events, pages of "
        f"{args.page_size}, {args.latency_ms:g} ms added latency/request, pool limit "
        f"{args.pool_limit}, rate limits off, emulator in its own process"
    )
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}"
    )
    print(f"{'mode':<12}{'seconds':>10}{'events':>12}{'events/s':>12}", end="")
    print(f"{'requests':>10}{'peak conn':>11}{'export CPU s':>14}{'emulator CPU s':>16}")
    for mode, elapsed, events, requests, peak, cpu, emulator_cpu in rows:
        print(
            f"{mode:<12}{elapsed:>10.2f}{events:>12,}{events / elapsed:>12,.0f}"
            f"{requests:>10,}{peak:>11}{cpu:>14.1f}{emulator_cpu:>16.1f}"
        )
    print(f"concurrent / sequential speed-up: {rows[0][1] / rows[1][1]:.1f}x")
    print(
        "when export CPU s + emulator CPU s approaches the wall time x the CPUs available, "
        "the run is CPU-bound and concurrency cannot help further"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 tenants x 2 000 events")
    parser.add_argument("--tenants", type=int, default=50)
    parser.add_argument("--events", type=int, default=20_000, help="events per tenant")
    parser.add_argument("--latency-ms", type=float, default=100.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--pool-limit", type=int, default=100)
    ns = parser.parse_args()
    if ns.quick:
        ns.tenants, ns.events = 10, 2_000
    main(ns)
