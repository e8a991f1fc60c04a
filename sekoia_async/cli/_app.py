"""The ``sekoia-async`` click application."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from .._version import __version__
from ._common import (
    GlobalOptions,
    configure_logging,
    emit_records,
    fail,
    parse_match,
    run_command,
)
from ._exit import EXIT_CODES_HELP, ExitCode

if TYPE_CHECKING:
    from .._helpers.search.policy import PollPolicy

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}

_POLL_OPTION = click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.01),
    default=0.5,
    show_default=True,
    help="First wait between search-job status polls (s); grows x1.5 up to 10 s.",
)


def _poll_policy(first: float) -> PollPolicy:
    from .._helpers.search.policy import PollPolicy

    return PollPolicy(initial=first, cap=max(10.0, first))


@click.group(context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "--api-key",
    metavar="KEY",
    help=(
        "Sekoia.io API key. Prefer the SEKOIA_API_KEY environment variable: a key on the "
        "command line is visible to other local users (ps, /proc) and lands in shell history."
    ),
)
@click.option(
    "--region",
    metavar="REGION",
    help="fra1 (default), fra2, mco1, uae1, usa1 or sgp1 (env SEKOIA_REGION).",
)
@click.option(
    "--base-url",
    metavar="URL",
    help="API base URL, overrides --region (env SEKOIA_BASE_URL); http:// only for loopback.",
)
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), help="Seconds per attempt.")
@click.option("--max-retries", type=click.IntRange(min=0), help="Retries on 429, 5xx, network.")
@click.option(
    "--rate-limit", type=click.FloatRange(min=0, min_open=True), help="Requests per second."
)
@click.option("-v", "--verbose", is_flag=True, help="DEBUG logs on stderr (API key redacted).")
@click.version_option(__version__, prog_name="sekoia-async")
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    region: str | None,
    base_url: str | None,
    timeout: float | None,
    max_retries: int | None,
    rate_limit: float | None,
    verbose: bool,
) -> None:
    """Search, export and manage a Sekoia.io tenant from the shell.

    Data goes to stdout, progress and logs to stderr. Start with `sekoia-async demo`
    (no API key or network needed).
    """
    ctx.obj = GlobalOptions(api_key, region, base_url, timeout, max_retries, rate_limit, verbose)
    configure_logging(verbose, [api_key] if api_key else [])


def _verbose(opts: GlobalOptions, verbose: bool) -> None:
    if verbose and not opts.verbose:
        configure_logging(True, [opts.api_key] if opts.api_key else [])


# -- demo ------------------------------------------------------------------------------------


@cli.command(epilog=EXIT_CODES_HELP)
@click.option(
    "--events",
    "n_events",
    type=click.IntRange(min=1),
    default=200_000,
    show_default=True,
    help="Events in the emulator.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="NDJSON file (default: a temporary file).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Emulator seed.")
@click.pass_obj
def demo(opts: GlobalOptions, n_events: int, output: Path | None, seed: int) -> None:
    """Stream a search of the built-in emulator (faults on) and check it is complete."""
    from .._helpers.demo import run_demo
    from ._progress import EventsProgress

    if not opts.verbose:
        # The demo's faults are deliberate: its summary counts the retries they cause.
        logging.getLogger("sekoia_async").setLevel(logging.ERROR)

    async def main() -> int:
        with EventsProgress(sys.stderr.isatty(), "demo") as progress:

            def report(p: Any) -> None:
                progress.set(p.events, p.total)

            summary = await run_demo(events=n_events, output=output, seed=seed, progress=report)
        click.echo(_demo_text(summary))
        return int(ExitCode.OK if summary.ok else ExitCode.FAILED)

    run_command(main)


_DEMO_FIELDS = (
    "events",
    "expected",
    "pages",
    "requests",
    "retries",
    "rate_limited",
    "elapsed",
    "events_per_second",
    "missing",
    "duplicates",
    "in_order",
    "output",
)


def _demo_record(summary: Any) -> dict[str, Any]:
    record = {k: getattr(summary, k) for k in _DEMO_FIELDS}
    record["elapsed"] = f"{summary.elapsed:.2f} s"
    record["events_per_second"] = f"{summary.events_per_second:,.0f}"
    record["output"] = str(summary.output)
    return record


def _demo_text(summary: Any) -> str:
    verdict = "OK: every event exactly once, in order" if summary.ok else "INCOMPLETE"
    width = max(len(k) for k in _DEMO_FIELDS)
    lines = [f"  {k.replace('_', ' '):<{width}}  {v}" for k, v in _demo_record(summary).items()]
    return "\n".join([f"sekoia-async demo: {verdict}", *lines])


# -- emulator --------------------------------------------------------------------------------


@cli.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def emulator(args: tuple[str, ...]) -> None:
    """Run the local Sekoia.io emulator (see `sekoia-async emulator --help`)."""
    from ..testing.__main__ import main as emulator_main

    raise SystemExit(emulator_main(list(args), prog="sekoia-async emulator"))


# -- events search ---------------------------------------------------------------------------


@cli.group(context_settings=CONTEXT)
def events() -> None:
    """Search events."""


def _parse_dates(value: str) -> tuple[str, str]:
    from .._times import parse_time

    parts = value.split(",")
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise click.BadParameter(
            f"{value!r} must be EARLIEST,LATEST, e.g. -30d,now or "
            "2026-11-01T00:00:00Z,2026-12-01T00:00:00Z",
            param_hint="--dates",
        )
    earliest, latest = (p.strip() for p in parts)
    now = datetime.now(timezone.utc)
    try:
        if parse_time(earliest, now=now) > parse_time(latest, now=now):
            raise click.BadParameter(f"{earliest} is after {latest}", param_hint="--dates")
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--dates") from None
    return earliest, latest


@events.command("search", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option("-q", "--query", required=True, help='Dork query, e.g. source.ip:"1.2.3.4".')
@click.option(
    "-d",
    "--dates",
    required=True,
    metavar="EARLIEST,LATEST",
    help="Time window: ISO 8601 or relative (-30d,now).",
)
@click.option("--max-events", type=click.IntRange(min=1), help="Stop after N events (newest).")
@click.option(
    "-o",
    "--output",
    default="-",
    show_default=True,
    metavar="FILE|-",
    help="Where to write the events.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["ndjson", "json"]),
    default="ndjson",
    show_default=True,
    help="One JSON event per line, or one JSON array.",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Pages fetched at once.",
)
@click.option(
    "--page-size", type=click.IntRange(1, 1000), default=1000, show_default=True, hidden=True
)
@_POLL_OPTION
@click.option("-v", "--verbose", is_flag=True, help="DEBUG logs on stderr.")
@click.pass_obj
def events_search(
    opts: GlobalOptions,
    query: str,
    dates: str,
    max_events: int | None,
    output: str,
    fmt: str,
    concurrency: int,
    page_size: int,
    poll_interval: float,
    verbose: bool,
) -> None:
    """Stream every event of a search (newest first) as NDJSON.

    Example: sekoia-async events search -q 'source.ip:"1.2.3.4"' -d -30d,now > events.ndjson
    """
    _verbose(opts, verbose)
    earliest, latest = _parse_dates(dates)
    from ._progress import EventsProgress

    async def main() -> int:
        async with opts.client() as client:
            search = client.events.search(
                query,
                earliest=earliest,
                latest=latest,
                page_size=page_size,
                concurrency=concurrency,
                max_events=max_events,
                poll=_poll_policy(poll_interval),
            )
            with _open_output(output) as sink, EventsProgress(sys.stderr.isatty()) as progress:
                writer = _EventWriter(sink, fmt)
                async with search as results:
                    async for page in results.pages():
                        if not writer.write(page):
                            break  # the reader went away (e.g. `| head`)
                        progress.advance(len(page), results.total)
                writer.close()
        return int(ExitCode.OK)

    run_command(main)


# Reused: json.dumps() with non-default arguments builds a new encoder for every event.
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


@contextlib.contextmanager
def _open_output(target: str) -> Iterator[IO[bytes]]:
    if target == "-":
        yield sys.stdout.buffer
        return
    with open(target, "wb") as fh:
        yield fh


class _EventWriter:
    def __init__(self, sink: IO[bytes], fmt: str) -> None:
        self.sink = sink
        self.json = fmt == "json"
        self.first = True
        self.broken = False

    def write(self, page: list[dict[str, Any]]) -> bool:
        parts: list[str] = []
        for event in page:
            line = _ENCODER.encode(event)
            if self.json:
                parts.append(("[\n" if self.first else ",\n") + line)
                self.first = False
            else:
                parts.append(line + "\n")
        try:
            self.sink.write("".join(parts).encode("utf-8"))
            self.sink.flush()
        except BrokenPipeError:
            self._broken_pipe()
            return False
        return True

    def close(self) -> None:
        if self.broken:
            return
        try:
            if self.json:
                self.sink.write(b"[]\n" if self.first else b"\n]\n")
            self.sink.flush()
        except BrokenPipeError:
            self._broken_pipe()

    def _broken_pipe(self) -> None:
        # Python would report the broken pipe again when flushing stdout at exit.
        self.broken = True
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


# -- export ----------------------------------------------------------------------------------


@cli.command(context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "-c",
    "--config",
    "config_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="TOML file listing the tenants (see the README).",
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Run only slice I (from 0) of N of the (tenant x time shard) work items.",
)
@click.option(
    "--pool-limit",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Connections shared by all tenants.",
)
@click.option(
    "--pool-rate-limit",
    type=click.FloatRange(min=0),
    default=50.0,
    show_default=True,
    help="Requests/s shared by all tenants (Sekoia's WAF counts per egress IP); 0: off.",
)
@click.option(
    "--now",
    "now_text",
    metavar="TIME",
    help="Pin relative windows (-30d, now) to this ISO 8601 time (needed by --shard with "
    "time shards).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Live per-tenant table on stderr (default: when stderr is a terminal).",
)
@_POLL_OPTION
@click.pass_obj
def export(
    opts: GlobalOptions,
    config_path: Path,
    shard: str | None,
    pool_limit: int,
    pool_rate_limit: float,
    now_text: str | None,
    progress: bool | None,
    poll_interval: float,
) -> None:
    """Export every tenant of a config concurrently to NDJSON files, resumably.

    Kill it at any moment (Ctrl-C, SIGTERM, even SIGKILL) and run the same command again: it
    carries on from each tenant's checkpoint and every event ends up in the output exactly
    once. Exit code 0 when every tenant succeeded, 1 when at least one failed.
    """
    from .._helpers.exporter import Exporter, load_export_config, parse_shard_spec
    from .._times import parse_time
    from ._progress import ExportDisplay, export_summary

    config = load_export_config(config_path)
    shard_spec = None
    if shard is not None:
        try:
            shard_spec = parse_shard_spec(shard)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--shard") from None
    now = None
    if now_text is not None:
        try:
            now = parse_time(now_text, now=datetime.now(timezone.utc))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--now") from None
    client_options = opts.client_options()
    if opts.rate_limit is not None:
        client_options["rate_limit"] = opts.rate_limit
    exporter = Exporter(
        config,
        shard=shard_spec,
        pool_limit=pool_limit,
        now=now,
        client_options=client_options,
        pool_options={"rate_limit": pool_rate_limit or None},
        search_options={"poll": _poll_policy(poll_interval)},
    )
    if not exporter.progress:
        click.echo(f"sekoia-async: shard {shard} has no work items; nothing to do", err=True)
        raise SystemExit(0)
    show = sys.stderr.isatty() if progress is None else progress
    if not opts.verbose:
        # Failures are in the summary; the runner's warnings would say it twice.
        logging.getLogger("sekoia_async.export").setLevel(logging.ERROR)

    async def main() -> int:
        display = ExportDisplay(exporter.progress, enabled=show)
        result = await display.run(exporter.run)
        display.console.print(export_summary(result))
        return int(ExitCode.OK if result.ok else ExitCode.FAILED)

    run_command(main)


# -- rules, alerts, invitations --------------------------------------------------------------


def _records(items: Any) -> list[dict[str, Any]]:
    out = []
    for item in items:
        raw = getattr(item, "raw", None)
        out.append(raw if isinstance(raw, dict) and raw else _as_dict(item))
    return out


def _as_dict(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return item
    from .._models._converter import converter

    data = converter.unstructure(item)
    return data if isinstance(data, dict) else {"value": data}


_JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
_LIMIT_OPTION = click.option(
    "--limit", type=click.IntRange(min=1), help="At most N items (default: all)."
)


@cli.group(context_settings=CONTEXT)
def rules() -> None:
    """The detection rules catalog."""


@rules.command("list", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "--match",
    "matches",
    multiple=True,
    metavar="FIELD=V[,V]",
    help="Filter, e.g. name=Suspicious PowerShell (repeatable; values are ORed).",
)
@_LIMIT_OPTION
@_JSON_OPTION
@click.pass_obj
def rules_list(
    opts: GlobalOptions, matches: tuple[str, ...], limit: int | None, as_json: bool
) -> None:
    """List rules."""
    match = parse_match(matches)

    async def main() -> int:
        async with opts.client() as client:
            pager = client.rules.list(match=match or None, max_items=limit)
            items = [item async for item in pager]
        emit_records(
            _records(items),
            [
                ("uuid", "uuid"),
                ("name", "name"),
                ("type", "type"),
                ("severity", "severity"),
                ("enabled", "enabled"),
            ],
            as_json=as_json,
            title=f"{len(items)} rules",
        )
        return 0

    run_command(main)


@rules.command("create", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "-f",
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The rule as YAML (.yml/.yaml) or JSON: name, type, description, payload, severity, "
    "effort, alert_type_uuid, enabled...",
)
@_JSON_OPTION
@click.pass_obj
def rules_create(opts: GlobalOptions, path: Path, as_json: bool) -> None:
    """Create a rule from a file."""
    body = _load_document(path)

    async def main() -> int:
        async with opts.client() as client:
            rule = await client.rules.create(**_rule_arguments(client.rules.create, body, path))
        emit_records(
            _records([rule]),
            [("uuid", "uuid"), ("name", "name"), ("type", "type"), ("enabled", "enabled")],
            as_json=as_json,
            title="rule created",
        )
        return 0

    run_command(main)


def _rule_arguments(create: Any, body: dict[str, Any], path: Path) -> dict[str, Any]:
    """The rule file's fields as ``rules.create`` arguments; other API fields go in ``extra``."""
    import inspect

    params = inspect.signature(create).parameters
    required = [n for n, p in params.items() if p.default is inspect.Parameter.empty]
    missing = [n for n in required if n not in body]
    if missing:
        raise click.BadParameter(
            f"{path} lacks the required field(s) {', '.join(missing)}", param_hint="--file"
        )
    known = {k: v for k, v in body.items() if k in params and k != "extra"}
    extra = {k: v for k, v in body.items() if k not in params}
    if extra:
        known["extra"] = {**extra, **body.get("extra", {})}
    return known


def _load_document(path: Path) -> dict[str, Any]:
    import yaml

    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() in (".yml", ".yaml"):
            data = yaml.safe_load(text)
        else:
            data = json.loads(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise click.BadParameter(f"{path} is not valid: {exc}", param_hint="--file") from None
    if not isinstance(data, dict):
        raise click.BadParameter(f"{path} must hold one object (mapping)", param_hint="--file")
    return data


@cli.group(context_settings=CONTEXT)
def alerts() -> None:
    """Alerts."""


@alerts.command("list", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option(
    "--match",
    "matches",
    multiple=True,
    metavar="FIELD=V[,V]",
    help="Filter, e.g. status_name=Pending or rule_name=a,b (repeatable).",
)
@click.option(
    "--since",
    metavar="TIME",
    help="Only alerts created since TIME (-1d, -2w, ISO 8601).",
)
@_LIMIT_OPTION
@_JSON_OPTION
@click.pass_obj
def alerts_list(
    opts: GlobalOptions,
    matches: tuple[str, ...],
    since: str | None,
    limit: int | None,
    as_json: bool,
) -> None:
    """List alerts, newest first."""
    match = parse_match(matches)
    if since is not None:
        _parse_dates(f"{since},now")

    filters: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in match.items()}
    if since is not None:
        filters["created_at"] = (since, "now")

    async def main() -> int:
        async with opts.client() as client:
            list_alerts: Any = client.alerts.list  # filters are checked at run time
            try:
                pager = list_alerts(max_items=limit, **filters)
            except TypeError as exc:
                raise click.BadParameter(str(exc), param_hint="--match") from None
            items = [item async for item in pager]
        emit_records(
            _records(items),
            [
                ("short id", "short_id"),
                ("title", "title"),
                ("status", "status.name"),
                ("urgency", "urgency.current_value"),
                ("rule", "rule.name"),
                ("entity", "entity.name"),
                ("created", "created_at"),
            ],
            as_json=as_json,
            title=f"{len(items)} alerts",
        )
        return 0

    run_command(main)


@alerts.command("set-status", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.argument("alert")
@click.argument("status")
@click.option("--comment", help="Comment recorded with the change.")
@_JSON_OPTION
@click.pass_obj
def alerts_set_status(
    opts: GlobalOptions, alert: str, status: str, comment: str | None, as_json: bool
) -> None:
    """Move ALERT (uuid or short id) to STATUS (Acknowledged, Ongoing, Rejected, Closed)."""

    async def main() -> int:
        async with opts.client() as client:
            await client.alerts.set_status(alert, status, comment=comment)
            updated = await client.alerts.get(alert)
        emit_records(
            _records([updated]),
            [("alert", "short_id"), ("uuid", "uuid"), ("status", "status.name")],
            as_json=as_json,
            title="alert updated",
        )
        return 0

    run_command(main)


@cli.group(context_settings=CONTEXT)
def invitations() -> None:
    """Invite users into communities."""


@invitations.command("create", context_settings=CONTEXT, epilog=EXIT_CODES_HELP)
@click.option("--email", required=True, help="Who to invite.")
@click.option("--community", required=True, metavar="UUID", help="Community uuid.")
@click.option(
    "--role", "roles", required=True, multiple=True, metavar="UUID", help="Role uuid (repeatable)."
)
@_JSON_OPTION
@click.pass_obj
def invitations_create(
    opts: GlobalOptions, email: str, community: str, roles: tuple[str, ...], as_json: bool
) -> None:
    """Invite EMAIL into a community with the given role(s)."""

    async def main() -> int:
        async with opts.client() as client:
            invitation = await client.invitations.create(email, {community: list(roles)})
        emit_records(
            _records([invitation]),
            [("uuid", "uuid"), ("email", "email"), ("communities", "communities")],
            as_json=as_json,
            title="invitation sent",
        )
        return 0

    run_command(main)


def main() -> None:
    """Entry point: exit codes as documented (click's usage errors are 2)."""
    try:
        cli.main(prog_name="sekoia-async", standalone_mode=False)
    except click.exceptions.Abort:
        fail("interrupted", ExitCode.INTERRUPTED)
    except click.ClickException as exc:
        exc.show()
        raise SystemExit(ExitCode.USAGE if exc.exit_code == 2 else exc.exit_code) from None
    except click.exceptions.Exit as exc:
        raise SystemExit(exc.exit_code) from None
    except SystemExit:
        raise
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)
    except Exception as exc:
        # Errors raised while parsing (bad config...) before any coroutine ran.
        from ._exit import exit_code_for

        fail(str(exc), exit_code_for(exc))
    raise SystemExit(0)
