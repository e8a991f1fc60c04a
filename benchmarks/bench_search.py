"""Streaming event search benchmark: prints a table of ratios measured in the same run.

    python benchmarks/bench_search.py            # 200 000 events, 1 000 000 for memory (minutes)
    python benchmarks/bench_search.py --quick    # smaller sizes, about two minutes

The emulator runs in its own process (``sekoia_async.testing``'s main, page cache raised to
1 GiB with ``--page-cache-mb`` and warmed); the client's and
the pool's rate limits are OFF. Pages of 1000 events. Every contender reads the pages of the
same finished search job, so job creation and polling are not part of throughput figures:

(a) 50 ms added latency per request: the SDK's ``async for`` at concurrency 1, 4, 8, 16 against
    a sequential pager written the quickstart's way (``requests``, one page after another) and
    a sequential aiohttp loop.
(b) no added latency: the SDK against a minimal hand-written aiohttp loop reading the same
    pages in order with the same window of concurrent requests.
(c) peak RSS of a process streaming N events vs N/10 events (each in its own subprocess).
(d) time from the job reaching status 2 (its ``ended_at``) to the first event yielded, with
    the default PollPolicy, against the poll wait in force at that moment.

Not a test: nothing here asserts; targets are printed next to the measured ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import functools
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timezone
from typing import Any

import aiohttp
import attrs
import requests

from sekoia_async import PollPolicy, SekoiaClient, SessionPool
from sekoia_async._helpers.search.checkpoint import Checkpoint, decode_token, encode_token
from sekoia_async._helpers.search.spec import build_spec
from sekoia_async._json import DECODER

JOBS = "/v1/sic/conf/events/search/jobs"
PAGE = 1000

# The baselines decode with the stdlib and, when it is installed, with orjson too: the SDK uses
# orjson when present (``sekoia-async[speed]``), and a ratio against a slower decoder than the
# SDK's would flatter it.
Loads = Callable[[bytes], Any]
DECODERS: dict[str, Loads] = {"json": json.loads}
try:
    import orjson
except ImportError:
    pass
else:
    DECODERS["orjson"] = orjson.loads


# -- emulator process -------------------------------------------------------------------------


# The emulator's encoded-page cache raised from 64 MB to 1 GiB (``--page-cache-mb``): 200 000
# events of ~1 KB do not fit in 64 MB, so every read of a sequential scan would re-encode its
# page and the benchmark would measure the emulator. With the cache, each contender reads pages
# the emulator already encoded (one warm-up pass first).
_PAGE_CACHE_MB = "1024"


@contextmanager
def emulator(events: int, *, latency_ms: float = 0, job_run_time: float = 0) -> Iterator[Any]:
    """Run ``python -m sekoia_async.testing`` and yield (base_url, api_key)."""
    cmd = [
        sys.executable,
        "-m",
        "sekoia_async.testing",
        "--page-cache-mb",
        _PAGE_CACHE_MB,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--events",
        str(events),
        "--seed",
        "0",
        "--job-run-time",
        str(job_run_time),
        "--results-ttl",
        "7200",
    ]
    if latency_ms:
        cmd += ["--latency-ms", str(latency_ms)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert proc.stdout is not None
        env = dict(proc.stdout.readline().strip().split("=", 1) for _ in range(2))
        yield env["SEKOIA_BASE_URL"], env["SEKOIA_API_KEY"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@asynccontextmanager
async def sdk_client(base_url: str, key: str) -> AsyncIterator[SekoiaClient]:
    # Rate limits off: the pool's (default 50 req/s) and the client's (default none).
    async with (
        SessionPool(rate_limit=None) as pool,
        SekoiaClient(key, base_url=base_url, pool=pool, rate_limit=None) as client,
    ):
        yield client


async def finished_job(client: SekoiaClient, max_events: int | None = None) -> dict[str, Any]:
    """Create a job over every event and wait until it is done; returns a resume token at 0."""
    spec = build_spec(
        "", "-30d", "now", now=datetime.now(timezone.utc), page_size=PAGE, max_events=max_events
    )
    job = await client.events._create_job(spec.job_body())
    while True:
        job = await client.events.get_search_job(job.uuid)
        if job.status == 2:
            break
        await asyncio.sleep(0.05)
    return encode_token(Checkpoint(spec=spec, job_uuid=job.uuid, total=job.total, offset=0))


# -- contenders -------------------------------------------------------------------------------


def requests_sequential(base_url: str, key: str, job: str, total: int) -> int:
    """The quickstart's way: requests.get, one page after another, no session."""
    n = 0
    for offset in range(0, total, PAGE):
        res = requests.get(
            f"{base_url}{JOBS}/{job}/events",
            params={"limit": PAGE, "offset": offset},
            headers={"Authorization": f"Bearer {key}"},
            timeout=60,
        )
        if res.status_code == 200:
            for _event in res.json()["items"]:
                n += 1
    return n


async def aiohttp_window(
    base_url: str, key: str, job: str, total: int, window: int, loads: Loads = json.loads
) -> int:
    """A minimal hand-written aiohttp loop: ``window`` requests ahead, pages read in order."""
    n = 0
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:

        async def fetch(offset: int) -> list[dict[str, Any]]:
            url = f"{base_url}{JOBS}/{job}/events"
            async with session.get(url, params={"limit": PAGE, "offset": offset}) as resp:
                resp.raise_for_status()
                items: list[dict[str, Any]] = loads(await resp.read())["items"]
                return items

        pending: collections.deque[asyncio.Task[list[dict[str, Any]]]] = collections.deque()
        for offset in range(0, total, PAGE):
            pending.append(asyncio.ensure_future(fetch(offset)))
            if len(pending) >= window:
                for _event in await pending.popleft():
                    n += 1
        while pending:
            for _event in await pending.popleft():
                n += 1
    return n


async def sdk_stream(client: SekoiaClient, token: dict[str, Any], concurrency: int) -> int:
    n = 0
    async with client.events.resume(token, concurrency=concurrency) as results:
        async for _event in results:
            n += 1
    return n


def timed(label: str, events: int, seconds: float, cpu: float) -> tuple[float, float]:
    """Print and return (events/s of wall time, client-process CPU microseconds per event)."""
    rate = events / seconds
    cpu_us = cpu / max(events, 1) * 1e6
    print(
        f"  {label:<40} {events:>8} events {seconds:6.2f} s {rate:8.0f} ev/s"
        f" {cpu_us:6.1f} us CPU/event",
        flush=True,
    )
    return rate, cpu_us


# -- (a) and (b): throughput ------------------------------------------------------------------


def _prefix(token: dict[str, Any], events: int) -> dict[str, Any]:
    """The same job's token, limited to its first ``events`` events."""
    checkpoint = decode_token(token)
    spec = attrs.evolve(checkpoint.spec, max_events=events)
    return encode_token(attrs.evolve(checkpoint, spec=spec))


async def throughput(
    events: int, latency_ms: float, concurrencies: list[int], *, rounds: int, seq_events: int
) -> dict[str, float]:
    """Best events/s of each contender over ``rounds`` interleaved rounds (the machine is shared:
    interleaving and best-of keep the ratios fair when the load changes during the run).

    The one-page-at-a-time contenders read the first ``seq_events`` events (their rate is steady,
    so a prefix is enough when time is short); the others read everything.
    """
    rates: dict[str, float] = {}
    with emulator(events, latency_ms=latency_ms) as (base_url, key):
        async with sdk_client(base_url, key) as client:
            token = await finished_job(client)
            job, total = token["job_uuid"], token["total"]
            assert total == events, (total, events)
            short = min(seq_events, total)
            await sdk_stream(client, token, 8)  # warm-up: the emulator encodes every page once
            contenders: list[tuple[str, str, Callable[[], Awaitable[int]]]] = []
            if latency_ms:
                contenders += [
                    (
                        "requests_seq",
                        "requests, sequential (quickstart)",
                        lambda: asyncio.to_thread(requests_sequential, base_url, key, job, short),
                    ),
                    *(
                        (
                            "aiohttp_seq" + ("" if name == "json" else f"_{name}"),
                            f"aiohttp loop, sequential, {name}",
                            functools.partial(aiohttp_window, base_url, key, job, short, 1, loads),
                        )
                        for name, loads in DECODERS.items()
                    ),
                    (
                        "sdk_c1",
                        "sekoia-async async for, concurrency 1",
                        lambda: sdk_stream(client, _prefix(token, short), 1),
                    ),
                ]
            for c in concurrencies:
                if c == 1 and latency_ms:
                    continue
                if not latency_ms:
                    for name, loads in DECODERS.items():
                        contenders.append(
                            (
                                f"aiohttp_c{c}" + ("" if name == "json" else f"_{name}"),
                                f"aiohttp loop, window {c}, {name}",
                                functools.partial(
                                    aiohttp_window, base_url, key, job, total, c, loads
                                ),
                            )
                        )
                contenders.append(
                    (
                        f"sdk_c{c}",
                        f"sekoia-async async for, concurrency {c}",
                        functools.partial(sdk_stream, client, token, c),
                    )
                )
            decode: dict[str, list[float]] = {name: [] for name in DECODERS}
            for r in range(rounds):
                print(f"  round {r + 1} of {rounds}", flush=True)
                for name, loads in DECODERS.items():
                    decode[name].append(decode_cost_ms(base_url, key, job, loads))
                for name, label, run in contenders:
                    wall, cpu = time.perf_counter(), time.process_time()
                    n = await run()
                    rate, cpu_us = timed(
                        label, n, time.perf_counter() - wall, time.process_time() - cpu
                    )
                    rates[name] = max(rates.get(name, 0.0), rate)
                    key_cpu = f"{name}_cpu"
                    rates[key_cpu] = min(rates.get(key_cpu, float("inf")), cpu_us)
            for name, samples in decode.items():
                rates[f"decode_ms_{name}"] = min(samples)
    return rates


# -- (c): memory ------------------------------------------------------------------------------


def _peak_rss_kb() -> int:
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork+exec from the parent process.
    try:
        with open("/proc/self/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def _rss_child(base_url: str, key: str, max_events: int) -> None:
    before = _peak_rss_kb()
    async with sdk_client(base_url, key) as client:
        token = await finished_job(client, max_events=max_events)
        n = await sdk_stream(client, token, 8)
    peak = _peak_rss_kb()
    print(json.dumps({"events": n, "rss_before_kb": before, "peak_rss_kb": peak}))


def rss_of(base_url: str, key: str, max_events: int) -> dict[str, int]:
    out = subprocess.run(
        [sys.executable, __file__, "--rss-child", base_url, key, str(max_events)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"  streamed {result['events']:>9} events: peak RSS {result['peak_rss_kb'] / 1024:7.1f} MiB"
        f" (after imports {result['rss_before_kb'] / 1024:.1f} MiB)",
        flush=True,
    )
    return result


# -- (d): status 2 -> first event ---------------------------------------------------------------


async def first_event_latency(run_times: list[float]) -> list[dict[str, float]]:
    """Per job: how long after ``ended_at`` the client saw status 2 and yielded the first event."""
    results: list[dict[str, float]] = []

    async def one(base_url: str, key: str, run_time: float) -> None:
        async with (
            sdk_client(base_url, key) as client,
            client.events.search("", poll=PollPolicy()) as stream,
        ):
            async for _event in stream:
                first_wall, first_loop = time.time(), asyncio.get_running_loop().time()
                break
            job, stats = stream.job, stream.stats
            assert job is not None
            assert job.ended_at is not None
            assert stats.job_done_at is not None
            ended = job.ended_at.timestamp()
            seen_wall = first_wall - (first_loop - stats.job_done_at)
            results.append(
                {
                    "run_time": run_time,
                    "seen": seen_wall - ended,
                    "first_event": first_wall - ended,
                    "wait": stats.last_poll_delay,
                }
            )

    # One emulator per job run time, all started before any search so that their start-up does
    # not load the CPU during the measurement; the searches then run concurrently (each mostly
    # sleeps between polls).
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(emulator(2000, job_run_time=r)) for r in run_times]
        await asyncio.gather(*(one(u, k, r) for (u, k), r in zip(servers, run_times, strict=True)))
    return results


def decode_cost_ms(base_url: str, key: str, job: str, loads: Loads = json.loads) -> float:
    """Best time to decode one page of 1000 events, the CPU floor per page of any client."""
    body = requests.get(
        f"{base_url}{JOBS}/{job}/events",
        params={"limit": PAGE, "offset": 0},
        headers={"Authorization": f"Bearer {key}"},
        timeout=60,
    ).content
    samples = []
    for _ in range(7):
        t = time.perf_counter()
        loads(body)
        samples.append(time.perf_counter() - t)
    return min(samples) * 1000


# -- main -------------------------------------------------------------------------------------


def machine() -> str:
    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (
        f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}, load average {load:.1f} at start"
    )


async def main(args: argparse.Namespace) -> None:
    n = 40_000 if args.quick else args.events  # 40k: the emulator caches every page
    big = 300_000 if args.quick else args.rss_events
    print(f"# sekoia-async search benchmark, {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC")
    print(f"# {machine()}")
    print("# emulator in its own process (page cache 1 GiB, warmed); client and pool rate limits")
    print("# OFF; pages of 1000")
    print(f"# SDK JSON decoder: {DECODER}; baselines decode with {', '.join(DECODERS)}\n")

    print(f"(a) {n} events, 50 ms added latency per request; best of interleaved rounds")
    rounds = 2
    seq = n
    a = await throughput(n, 50, [1, 4, 8, 16], rounds=rounds, seq_events=seq)
    print(f"\n(b) {n} events, no added latency")
    b = await throughput(n, 0, [4, 8], rounds=rounds + 1, seq_events=seq)

    print(f"\n(c) peak RSS streaming {big} vs {big // 10} events (concurrency 8)")
    with emulator(big) as (base_url, key):
        small_rss = rss_of(base_url, key, big // 10)
        big_rss = rss_of(base_url, key, big)

    runs = 8 if args.quick else 12
    rng = random.Random(0)
    run_times = [round(rng.uniform(0.5, 3.0 if args.quick else 10.0), 2) for _ in range(runs)]
    print(f"\n(d) status 2 -> first event, default PollPolicy, {runs} jobs of random run time")
    d = await first_event_latency(run_times)
    for row in sorted(d, key=lambda x: x["run_time"]):
        print(
            f"  job ran {row['run_time']:5.2f} s: status 2 seen {row['seen']:6.3f} s and first "
            f"event {row['first_event']:6.3f} s after it ended (poll wait {row['wait']:5.3f} s)"
        )

    seq_ms = PAGE / a["aiohttp_seq"] * 1000
    cpu_ms = a["sdk_c8_cpu"] * PAGE / 1000
    ceiling = seq_ms / cpu_ms
    decode_ms = a[f"decode_ms_{DECODER}"]
    print(
        f"\nsequential aiohttp: {seq_ms:.1f} ms/page of wall time. The SDK at concurrency 8 spends"
        f" {cpu_ms:.1f} ms of client CPU per page ({decode_ms:.1f} ms of it in {DECODER}.loads"
        f" alone), so on one core it cannot beat {ceiling:.1f}x the sequential loop in (a)."
    )
    costs = ", ".join(f"{name} {a['decode_ms_' + name]:.1f} ms" for name in DECODERS)
    print(f"decode one page of {PAGE} events: {costs}")
    print(f"\n| measure (SDK decodes with {DECODER}) | value | target |")
    print("|---|---|---|")
    for name in DECODERS:
        seq = a["aiohttp_seq" + ("" if name == "json" else f"_{name}")]
        target = ">= 6x" if name == "json" else ""
        print(f"| (a) SDK c8 / sequential aiohttp ({name}) | {a['sdk_c8'] / seq:.2f}x | {target} |")
    for c in (1, 4, 16):
        print(f"| (a) SDK c{c} / sequential aiohttp | {a[f'sdk_c{c}'] / a['aiohttp_seq']:.2f}x | |")
    print(f"| (a) SDK c8 / requests (quickstart) | {a['sdk_c8'] / a['requests_seq']:.2f}x | |")
    print(f"| (a) CPU ceiling: sequential ms/page / SDK client CPU ms/page | {ceiling:.2f}x | |")
    for c in (4, 8):
        for name in DECODERS:
            base = f"aiohttp_c{c}" + ("" if name == "json" else f"_{name}")
            print(
                f"| (b) SDK / hand-written aiohttp ({name}), window {c} (events/s) | "
                f"{b[f'sdk_c{c}'] / b[base]:.2f}x | >= 0.9x |"
            )
            print(
                f"| (b) hand-written aiohttp ({name}) / SDK, window {c} (client CPU per event) | "
                f"{b[f'{base}_cpu'] / b[f'sdk_c{c}_cpu']:.2f}x | >= 0.9x |"
            )
    ratio = big_rss["peak_rss_kb"] / small_rss["peak_rss_kb"]
    print(f"| (c) peak RSS {big} / {big // 10} events | {ratio:.2f}x | <= 1.2x |")
    mean_wait = statistics.mean(x["wait"] for x in d)
    mean_seen = statistics.mean(x["seen"] for x in d)
    mean_first = statistics.mean(x["first_event"] for x in d)
    print(f"| (d) mean status-2-seen delay / mean poll wait | {mean_seen / mean_wait:.2f} | ~0.5 |")
    print(f"| (d) mean first-event delay / mean poll wait | {mean_first / mean_wait:.2f} | ~0.5 |")
    print(f"| (d) max first-event delay | {max(x['first_event'] for x in d):.3f} s | <= cap 10 s |")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--rss-child":
        asyncio.run(_rss_child(sys.argv[2], sys.argv[3], int(sys.argv[4])))
        sys.exit(0)
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (about two minutes)")
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rss-events", type=int, default=1_000_000)
    asyncio.run(main(parser.parse_args()))
