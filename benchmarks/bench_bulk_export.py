"""Bulk export download: ``download_to`` (streamed, gzip-checked) vs reading the body whole.

A local aiohttp server on 127.0.0.1 serves one pre-built ``jsonl.gz`` export file. Prints the
throughput (MB/s of compressed bytes) and the peak Python heap while downloading, for
``download_to`` (with and without the gzip integrity check) and for the naive
``await resp.read()`` + write, and their ratios.
Then runs one export end to end on the emulator (export -> task polling -> download_to).

    python benchmarks/bench_bulk_export.py [--rows 300000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

import aiohttp
import anyio
from aiohttp import web

from sekoia_async import SekoiaClient
from sekoia_async._helpers.search.policy import PollPolicy
from sekoia_async.testing import SekoiaEmulator


def make_export(rows: int) -> bytes:
    rng = random.Random(0)
    lines = (
        json.dumps(
            {
                "__event_id": f"{rng.getrandbits(128):032x}",
                "timestamp": f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.000000Z",
                "message": f"User u{rng.randrange(5000)} logged in from 10.{rng.randrange(256)}."
                f"{rng.randrange(256)}.{rng.randrange(256)}",
                "host.name": f"host-{rng.randrange(500)}",
            }
        )
        for i in range(rows)
    )
    return gzip.compress("\n".join(lines).encode() + b"\n", compresslevel=6)


async def serve(body: bytes) -> tuple[web.AppRunner, str]:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/gzip"})
        response.content_length = len(body)
        await response.prepare(request)
        view = memoryview(body)
        for i in range(0, len(body), 1 << 16):
            await response.write(view[i : i + (1 << 16)])
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_get("/export.jsonl.gz", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}/export.jsonl.gz"


async def measure(fn: Callable[[], Awaitable[None]], repeat: int) -> tuple[float, int]:
    """(best seconds, peak traced bytes); the peak is taken on a separate traced run."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        await fn()
        best = min(best, time.perf_counter() - started)
    tracemalloc.start()
    await fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, peak


async def main(rows: int, repeat: int) -> None:
    body = make_export(rows)
    mb = len(body) / 1e6
    runner, url = await serve(body)
    out = Path(tempfile.mkdtemp()) / "export.jsonl.gz"
    try:
        async with SekoiaClient("bench", base_url="http://127.0.0.1:1") as client:

            async def streamed() -> None:
                await client.events.download_export(url, out)

            async def verified() -> None:
                await client.events.download_export(url, out, verify=True)

            async def rows_streamed() -> None:
                count = 0
                async with client.events.read_export(url) as events:
                    async for _ in events:
                        count += 1
                assert count == rows

            async with aiohttp.ClientSession() as session:

                async def naive() -> None:
                    async with session.get(url) as resp:
                        data = await resp.read()
                    await anyio.Path(out).write_bytes(data)

                s_time, s_peak = await measure(streamed, repeat)
                v_time, v_peak = await measure(verified, repeat)
                n_time, n_peak = await measure(naive, repeat)

                async def rows_naive() -> None:
                    async with session.get(url) as resp:
                        data = await resp.read()
                    decoded = [json.loads(line) for line in gzip.decompress(data).splitlines()]
                    assert len(decoded) == rows

                r_time, r_peak = await measure(rows_streamed, 1)
                rn_time, rn_peak = await measure(rows_naive, 1)
    finally:
        await runner.cleanup()
        out.unlink(missing_ok=True)
        out.parent.rmdir()
    print(f"export file: {rows} rows, {mb:.1f} MB gzip")
    print(f"{'method':<28}{'MB/s':>10}{'peak heap MB':>16}")
    print(f"{'download_to (streamed)':<28}{mb / s_time:>10.1f}{s_peak / 1e6:>16.2f}")
    print(f"{'download_to(verify=True)':<28}{mb / v_time:>10.1f}{v_peak / 1e6:>16.2f}")
    print(f"{'resp.read() + write':<28}{mb / n_time:>10.1f}{n_peak / 1e6:>16.2f}")
    print(f"throughput ratio streamed/naive: {n_time / s_time:.2f}")
    print(f"peak heap ratio naive/streamed:  {n_peak / max(s_peak, 1):.1f}")
    print(f"{'decoding rows':<28}{'rows/s':>10}{'peak heap MB':>16}")
    print(f"{'read_export (streamed)':<28}{rows / r_time:>10,.0f}{r_peak / 1e6:>16.2f}")
    print(f"{'read + decompress + loads':<28}{rows / rn_time:>10,.0f}{rn_peak / 1e6:>16.2f}")

    events = max(1000, rows // 3)
    async with SekoiaEmulator(seed=0) as emu:
        emu.generate_events(events)
        async with SekoiaClient(emu.api_key, base_url=emu.base_url) as client:
            target = Path(tempfile.mkdtemp()) / "emulator.jsonl.gz"
            started = time.perf_counter()
            job = await client.events.create_search_job("", "-30d", "now")
            export = await client.events.export(
                job.uuid, ["__event_id", "timestamp", "message"], poll=PollPolicy(initial=0.05)
            )
            size = await export.download_to(target)
            elapsed = time.perf_counter() - started
            target.unlink()
            target.parent.rmdir()
    print(
        f"emulator end to end: {events} events exported and downloaded in {elapsed:.2f} s "
        f"({events / elapsed:,.0f} events/s, {size / 1e6:.1f} MB)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=300_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    anyio.run(main, args.rows, args.repeat)
