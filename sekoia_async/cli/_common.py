"""Plumbing shared by the commands: the global options, running a coroutine with the documented
exit codes, logging with the API key redacted, and output helpers."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any, NoReturn

import anyio
import attrs
import click

from ._exit import ExitCode, exit_code_for, unwrap

if TYPE_CHECKING:
    from .._client import SekoiaClient

__all__ = [
    "GlobalOptions",
    "KeyRedactingFilter",
    "configure_logging",
    "emit_records",
    "fail",
    "run_command",
]

log = logging.getLogger("sekoia_async.cli")


@attrs.frozen
class GlobalOptions:
    """The options every command shares (``sekoia-async --api-key ... <command>``)."""

    api_key: str | None = attrs.field(default=None, repr=False)
    region: str | None = None
    base_url: str | None = None
    timeout: float | None = None
    max_retries: int | None = None
    rate_limit: float | None = None
    verbose: bool = False

    def client(self, **overrides: Any) -> SekoiaClient:
        """A SekoiaClient from these options (environment variables fill the gaps)."""
        from .._client import SekoiaClient

        options: dict[str, Any] = {
            "region": self.region,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "rate_limit": self.rate_limit,
        }
        options.update(overrides)
        return SekoiaClient(self.api_key, **options)

    def client_options(self) -> dict[str, Any]:
        """The options that apply to every tenant's client of an export."""
        options: dict[str, Any] = {}
        if self.timeout is not None:
            options["timeout"] = self.timeout
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        return options


class KeyRedactingFilter(logging.Filter):
    """Replaces API keys (the ones given, and any ``Bearer`` token) in log records by ``***``."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        if "Bearer " in text:
            head, _, tail = text.partition("Bearer ")
            rest = tail.split(None, 1)
            text = head + "Bearer ***" + (" " + rest[1] if len(rest) > 1 else "")
        return text


def configure_logging(verbose: bool, secrets: Iterable[str] = ()) -> None:
    """Logs go to stderr (stdout carries data); DEBUG with ``-v``, warnings otherwise."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(KeyRedactingFilter([*secrets, os.environ.get("SEKOIA_API_KEY", "")]))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.WARNING)
    if verbose:
        # aiohttp's and asyncio's DEBUG logs say nothing a user of this command needs.
        logging.getLogger("asyncio").setLevel(logging.INFO)


def fail(message: str, code: ExitCode) -> NoReturn:
    """Print ``message`` on stderr and exit with ``code``."""
    click.echo(f"sekoia-async: {message}", err=True)
    raise SystemExit(int(code))


def run_command(main: Callable[[], Awaitable[int | None]]) -> NoReturn:
    """Run ``main`` on an event loop and exit with the documented code.

    SIGTERM cancels the command like Ctrl-C does (cleanup runs; exit code 130). Errors are
    printed as one line (``-v`` adds the traceback through the logs).
    """
    try:
        code = anyio.run(_with_sigterm, main, backend="asyncio")
    except KeyboardInterrupt:
        fail("interrupted", ExitCode.INTERRUPTED)
    except (SystemExit, click.exceptions.Exit, click.ClickException):
        raise
    except BaseException as exc:
        inner = unwrap(exc)
        if isinstance(inner, (SystemExit, click.ClickException)):
            raise inner from None
        code = exit_code_for(inner)
        log.debug("command failed", exc_info=inner)
        fail(f"{_describe(inner)}", code)
    raise SystemExit(int(code or 0))


async def _with_sigterm(main: Callable[[], Awaitable[int | None]]) -> int | None:
    if os.name != "posix":
        return await main()
    code: int | None = int(ExitCode.INTERRUPTED)
    async with anyio.create_task_group() as tg:

        async def watch() -> None:
            with anyio.open_signal_receiver(signal.SIGTERM) as signals:
                async for _ in signals:
                    click.echo("sekoia-async: interrupted (SIGTERM)", err=True)
                    tg.cancel_scope.cancel()
                    return

        async def run() -> None:
            nonlocal code
            code = await main()
            tg.cancel_scope.cancel()

        tg.start_soon(watch)
        tg.start_soon(run)
    return code


def _describe(exc: BaseException) -> str:
    from ..errors import SekoiaError

    if isinstance(exc, SekoiaError):
        return str(exc) or type(exc).__name__
    if isinstance(exc, (ValueError, OSError)):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def parse_match(values: Sequence[str], option: str = "--match") -> dict[str, list[str]]:
    """``["name=a,b", "status=open"]`` -> ``{"name": ["a", "b"], "status": ["open"]}``."""
    out: dict[str, list[str]] = {}
    for value in values:
        field, sep, rest = value.partition("=")
        field = field.strip()
        if not sep or not field or not rest:
            raise click.BadParameter(f"{value!r} is not FIELD=VALUE[,VALUE...]", param_hint=option)
        if field in out:
            raise click.BadParameter(
                f"field {field!r} given twice; put several values in one: {field}=a,b",
                param_hint=option,
            )
        out[field] = [v for v in rest.split(",") if v]
    return out


def emit_records(
    records: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    *,
    as_json: bool,
    stream: IO[str] | None = None,
    title: str | None = None,
) -> None:
    """Print ``records``: a table on a terminal, JSON (a list) with ``--json`` or in a pipe.

    ``columns`` are ``(header, dotted.key)`` pairs for the table.
    """
    stream = stream or sys.stdout
    if as_json or not stream.isatty():
        json.dump(list(records), stream, indent=2, default=str, ensure_ascii=False)
        stream.write("\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for header, _ in columns:
        table.add_column(header, overflow="fold")
    for record in records:
        table.add_row(*(_cell(_dig(record, key)) for _, key in columns))
    Console(file=stream).print(table)


def _dig(record: Mapping[str, Any], key: str) -> Any:
    value: Any = record
    for part in key.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return json.dumps(value, default=str, ensure_ascii=False)
    return str(value)
