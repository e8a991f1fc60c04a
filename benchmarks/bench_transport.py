"""Overhead of SekoiaClient.request over a minimal hand-written aiohttp loop.

Both fetch the same pre-encoded page of events from a local aiohttp server, with the same
concurrency, and decode it with the SDK's decoder (orjson if installed, else json.loads) so that
only the transport differs. Prints pages per CPU-second of this process (server
included) for each and their ratio: CPU time, unlike wall time, is barely disturbed by other
processes on a shared machine.

    python benchmarks/bench_transport.py [--pages 400] [--events 1000] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Awaitable, Callable

import aiohttp
import anyio
from aiohttp import web

from sekoia_async import SekoiaClient, SessionPool
from sekoia_async._json import DECODER, loads


def make_page(n: int) -> bytes:
    items = [
        {
            "__event_id": f"evt-{i:08d}",
            "timestamp": "2026-01-01T00:00:00.000000Z",
            "message": "User logged in from 10.0.0.1 " + "x" * 60,
            "host.name": f"host-{i % 50}",
            "source.ip": "10.0.0.1",
            "event.dialect": "windows",
        }
        for i in range(n)
    ]
    return json.dumps({"items": items, "total": n}).encode()


async def run_pages(concurrency: int, pages: int, fetch: Callable[[], Awaitable[int]]) -> float:
    remaining = pages

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            assert await fetch() > 0

    start = time.process_time()
    async with anyio.create_task_group() as tg:
        for _ in range(concurrency):
            tg.start_soon(worker)
    return pages / (time.process_time() - start)


async def main(pages: int, events: int, concurrency: int, rounds: int) -> None:
    body = make_page(events)

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/json")

    app = web.Application()
    app.router.add_get("/v1/page", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/v1/page"
    headers = {"Authorization": "Bearer k"}
    try:
        async with aiohttp.ClientSession() as session, SessionPool(rate_limit=None) as pool:
            client = SekoiaClient("k", base_url=f"http://127.0.0.1:{port}", pool=pool)

            async def raw() -> int:
                async with session.get(url, headers=headers) as resp:
                    return len(loads(await resp.read())["items"])

            async def sdk() -> int:
                page = await client.request("GET", "/v1/page", params={"limit": 1000})
                return len(page["items"])

            await run_pages(concurrency, 20, raw)
            await run_pages(concurrency, 20, sdk)
            best_raw = best_sdk = 0.0
            for _ in range(rounds):  # interleaved, best of N: the machine is shared
                best_raw = max(best_raw, await run_pages(concurrency, pages, raw))
                best_sdk = max(best_sdk, await run_pages(concurrency, pages, sdk))
            await client.aclose()
    finally:
        await runner.cleanup()
    print(f"page of {events} events ({len(body)} bytes), concurrency {concurrency}, {DECODER}")
    print(f"raw aiohttp loop : {best_raw:8.1f} pages/CPU-s")
    print(f"SekoiaClient     : {best_sdk:8.1f} pages/CPU-s")
    print(f"ratio sdk/raw    : {best_sdk / best_raw:8.3f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    anyio.run(main, args.pages, args.events, args.concurrency, args.rounds)
