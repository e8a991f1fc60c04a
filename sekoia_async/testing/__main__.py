"""``python -m sekoia_async.testing``: run the emulator until SIGINT/SIGTERM.

The first two stdout lines are ``SEKOIA_BASE_URL=...`` and ``SEKOIA_API_KEY=...`` (flushed), so
a script can ``eval`` them or a test can read them from a subprocess. ``sekoia-async emulator``
mounts the same parser (``build_parser``) and entry point (``main`` / ``serve``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Sequence

import anyio

from ._domains.search import DEFAULT_PAGE_CACHE_MB
from ._faults import Faults
from ._server import SekoiaEmulator

__all__ = ["build_parser", "main", "serve"]


def build_parser(
    parser: argparse.ArgumentParser | None = None, *, prog: str = "python -m sekoia_async.testing"
) -> argparse.ArgumentParser:
    """The emulator's options, added to ``parser`` (or a new one named ``prog``)."""
    if parser is None:
        parser = argparse.ArgumentParser(
            prog=prog,
            description="Run a local emulator of the Sekoia.io API (for tests and demos).",
        )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: a free one)")
    parser.add_argument(
        "--events", type=int, default=10_000, help="synthetic events over the last 7 days"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of every generated value")
    parser.add_argument("--api-key", default=None, help="the all-permissions API key to accept")
    parser.add_argument(
        "--job-run-time", type=float, default=0.0, help="seconds a search job takes to finish"
    )
    parser.add_argument(
        "--results-ttl", type=int, default=1800, help="seconds search results stay readable"
    )
    parser.add_argument(
        "--max-job-total", type=int, default=None, help="cap on a search job's total (default off)"
    )
    parser.add_argument(
        "--page-cache-mb",
        type=float,
        default=DEFAULT_PAGE_CACHE_MB,
        help=f"size of the encoded events-page cache (default {DEFAULT_PAGE_CACHE_MB:g} MB; "
        "raise it so a large scan is served from cache)",
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="latency added to every request"
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="inject a fault, e.g. error_rate=0.05, rate_limit=5, endpoints=events.page "
        "(repeatable; see sekoia_async.testing.Faults)",
    )
    return parser


def _faults(args: argparse.Namespace) -> Faults:
    return Faults.parse(args.fault, Faults(latency_ms=args.latency_ms))


async def serve(args: argparse.Namespace) -> None:
    """Run the emulator described by parsed ``args`` until SIGINT or SIGTERM."""
    emulator = SekoiaEmulator(
        seed=args.seed,
        events=args.events,
        job_run_time=args.job_run_time,
        results_ttl=args.results_ttl,
        max_job_total=args.max_job_total,
        faults=_faults(args),
        host=args.host,
        port=args.port,
        api_key=args.api_key,
        page_cache_mb=args.page_cache_mb,
    )
    with anyio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
        async with emulator:
            print(f"SEKOIA_BASE_URL={emulator.base_url}", flush=True)
            print(f"SEKOIA_API_KEY={emulator.api_key}", flush=True)
            print(
                f"Serving {emulator.event_count} events; press Ctrl-C to stop.",
                file=sys.stderr,
                flush=True,
            )
            async for _ in signals:
                break


def main(argv: Sequence[str] | None = None, *, prog: str | None = None) -> int:
    """Command-line entry point; returns the exit code (``prog`` names it in --help)."""
    parser = build_parser(prog=prog) if prog is not None else build_parser()
    args = parser.parse_args(argv)
    try:
        _faults(args)
    except ValueError as exc:
        parser.error(str(exc))
    if args.page_cache_mb < 0:
        parser.error("--page-cache-mb must be >= 0 (0 disables the page cache)")
    try:
        anyio.run(serve, args)
    except KeyboardInterrupt:  # a second Ctrl-C during shutdown
        pass
    except OSError as exc:
        print(f"error: cannot start the emulator: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
