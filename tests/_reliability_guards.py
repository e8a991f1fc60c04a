"""Suite-wide guards (imported by conftest.py): no leaked task or connection, no leaked API key.

Leaks: after every test, each aiohttp connector created during it must be closed, and (in async
tests) no task started during it may still be pending once the test's fixtures are torn down.

Secrets: every API key a ``SekoiaClient`` or ``SekoiaEmulator`` was given (and anything shaped
like an emulator key) is registered; a logging handler at DEBUG on the root and ``sekoia_async``
loggers, the text of every ``SekoiaError``, every CLI result (click's ``CliRunner``, and the
output of every ``anyio.run_process``/``subprocess.run``, which the CLI tests use), the
captured output and the failure text of every test are searched for those keys. A hit fails the
test, with the key redacted from what is shown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import subprocess
import weakref
from collections import Counter
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

import aiohttp
import anyio
import pytest

from sekoia_async import SekoiaClient
from sekoia_async.errors import SekoiaError
from sekoia_async.testing import SekoiaEmulator

__all__ = [
    "CHECKED",
    "KEYS",
    "SecretLogHandler",
    "find_secret",
    "pytest_configure",
    "pytest_runtest_makereport",
    "pytest_terminal_summary",
    "pytest_unconfigure",
    "register_key",
    "sekoia_leak_guard",
    "sekoia_task_guard",
]

# Shorter strings ("k", "x") are placeholders used by unit tests and would match everywhere.
_MIN_KEY_LENGTH = 8
# Every emulator key has this shape, so even a key created behind our back is recognised.
_EMULATOR_KEY = r"emu-[0-9a-f]{48}"


class _KeyRegistry:
    """The known API keys and one compiled pattern matching any of them."""

    def __init__(self) -> None:
        self._keys: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, key: object) -> None:
        if isinstance(key, str) and len(key) >= _MIN_KEY_LENGTH and key not in self._keys:
            self._keys.add(key)
            self._pattern = None

    def __contains__(self, key: object) -> bool:
        return key in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    @property
    def pattern(self) -> re.Pattern[str]:
        if self._pattern is None:
            literals = sorted(self._keys, key=len, reverse=True)
            self._pattern = re.compile("|".join([_EMULATOR_KEY, *map(re.escape, literals)]))
        return self._pattern

    def find(self, text: str) -> str | None:
        match = self.pattern.search(text)
        return match.group(0) if match else None

    def redact(self, text: str) -> str:
        return self.pattern.sub("<API KEY>", text)


KEYS = _KeyRegistry()
_violations: list[str] = []
# What the guards looked at over the session (printed in the terminal summary).
CHECKED: Counter[str] = Counter()
_exceptions: weakref.WeakSet[SekoiaError] = weakref.WeakSet()


def register_key(key: object) -> None:
    """Add a key to the registry (for tests that use keys without a client or emulator)."""
    KEYS.add(key)


def find_secret(text: str) -> str | None:
    """The first known key found in ``text`` (None if there is none)."""
    return KEYS.find(text)


def _report(where: str, text: str) -> None:
    CHECKED["texts"] += 1
    if KEYS.find(text) is not None:
        shown = KEYS.redact(text)
        _violations.append(f"{where}: {shown[:300]!r}")


class SecretLogHandler(logging.Handler):
    """Checks every record (message and exception text) for a known key; never raises."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.records += 1
        CHECKED["log records"] += 1
        try:
            text = record.getMessage()
            if record.exc_info:
                text += "\n" + logging.Formatter().formatException(record.exc_info)
        except Exception:  # a broken record is the logging module's business, not ours
            return
        _report(f"log record of {record.name!r} at {record.levelname}", text)


_HANDLER = SecretLogHandler()
_saved: list[Callable[[], None]] = []


def _patch(owner: Any, name: str, wrap: Callable[[Any], Any]) -> None:
    original = getattr(owner, name)
    setattr(owner, name, wrap(original))
    _saved.append(lambda: setattr(owner, name, original))


def _wrap_client_init(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: SekoiaClient, *args: Any, **kwargs: Any) -> None:
        KEYS.add(args[0] if args else kwargs.get("api_key"))
        original(self, *args, **kwargs)
        KEYS.add(getattr(self, "_api_key", None))  # the environment's key, too

    return __init__


def _wrap_register_key(original: Callable[..., Any]) -> Callable[..., Any]:
    def _register_key(self: SekoiaEmulator, key: str, *args: Any, **kwargs: Any) -> Any:
        KEYS.add(key)
        return original(self, key, *args, **kwargs)

    return _register_key


def _error_init(self: SekoiaError, *args: Any) -> None:
    Exception.__init__(self, *args)
    CHECKED["SDK errors"] += 1
    _exceptions.add(self)
    for arg in args:
        if isinstance(arg, str):
            _report(f"{type(self).__name__} message", arg)


def _wrap_invoke(original: Callable[..., Any]) -> Callable[..., Any]:
    def invoke(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        CHECKED["CLI runs"] += 1
        _report("CLI output", result.output)
        with contextlib.suppress(ValueError):  # stderr mixed into output (older click)
            _report("CLI stderr", result.stderr)
        if result.exception is not None:
            _report("CLI exception", f"{type(result.exception).__name__}: {result.exception}")
        return result

    return invoke


def _check_process(done: Any, args: Any) -> None:
    CHECKED["processes"] += 1
    program = " ".join(map(str, args)) if isinstance(args, (list, tuple)) else str(args)
    for name in ("stdout", "stderr"):
        value = getattr(done, name, None)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            # The command line itself may carry a key on purpose: only the output is judged.
            _report(f"{name} of the process {KEYS.redact(program)[:80]!r}", value)


def _wrap_run_process(original: Callable[..., Any]) -> Callable[..., Any]:
    async def run_process(command: Any, *args: Any, **kwargs: Any) -> Any:
        done = await original(command, *args, **kwargs)
        _check_process(done, command)
        return done

    return run_process


def _wrap_subprocess_run(original: Callable[..., Any]) -> Callable[..., Any]:
    def run(args: Any, *rest: Any, **kwargs: Any) -> Any:
        done = original(args, *rest, **kwargs)
        _check_process(done, args)
        return done

    return run


def pytest_configure(config: pytest.Config) -> None:
    _patch(SekoiaClient, "__init__", _wrap_client_init)
    _patch(SekoiaEmulator, "_register_key", _wrap_register_key)
    if "__init__" in SekoiaError.__dict__:  # pragma: no cover - errors.py defines none today
        raise RuntimeError("SekoiaError grew an __init__: update tests/_reliability_guards.py")
    setattr(SekoiaError, "__init__", _error_init)  # noqa: B010 (mypy: no method assign)
    _saved.append(lambda: delattr(SekoiaError, "__init__"))
    try:
        from click.testing import CliRunner
    except ImportError:  # pragma: no cover - the cli extra is part of the test extra
        pass
    else:
        _patch(CliRunner, "invoke", _wrap_invoke)
    # The CLI tests run the real command in a subprocess: its output is judged too.
    _patch(anyio, "run_process", _wrap_run_process)
    _patch(subprocess, "run", _wrap_subprocess_run)
    # DEBUG everywhere we own, so that the debug lines are produced (and checked) too.
    for name in ("", "sekoia_async"):
        logger = logging.getLogger(name)
        logger.addHandler(_HANDLER)
        logger.setLevel(logging.DEBUG)
    # Records of "sekoia_async.*" reach the root handler too; one handler is enough.
    logging.getLogger("sekoia_async").removeHandler(_HANDLER)
    # Third-party chatter at DEBUG is costly and not ours: keep those loggers at INFO.
    for name in ("asyncio", "hypothesis", "urllib3", "filelock", "markdown_it"):
        logging.getLogger(name).setLevel(logging.INFO)


def pytest_unconfigure(config: pytest.Config) -> None:
    logging.getLogger().removeHandler(_HANDLER)
    while _saved:
        _saved.pop()()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, None]:
    outcome: Any = yield
    report: pytest.TestReport = outcome.get_result()
    for title, text in report.sections:
        _report(title, text)
    if call.excinfo is not None:
        _report("exception", f"{call.excinfo.typename}: {call.excinfo.value}")
    if report.longrepr is not None:
        _report("failure text", str(report.longrepr))
    if call.when == "teardown":
        for exc in list(_exceptions):
            try:
                text = f"{exc}\n{exc!r}"
            except Exception:  # a half-built error object; its message was checked at init
                continue
            _report(f"{type(exc).__name__} text", text)
        _exceptions.clear()
    if _violations:
        CHECKED["leaked keys"] += len(_violations)
        found = "\n".join(_violations)
        _violations.clear()
        original = KEYS.redact(str(report.longrepr)) if report.longrepr else ""
        report.outcome = "failed"
        report.longrepr = (
            f"An API key leaked (shown redacted) in:\n{found}\n"
            "Keys must never reach logs, exception texts or CLI output; redact them at the "
            f"source.\n{original}"
        )
        report.sections = [(title, KEYS.redact(text)) for title, text in report.sections]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not CHECKED["tests"]:
        return
    terminalreporter.write_line(
        f"reliability guards: {CHECKED['tests']} tests, {CHECKED['connectors']} connectors "
        f"opened ({CHECKED['leaked connectors']} left open), {CHECKED['leaked tasks']} tasks "
        f"left pending; {len(KEYS)} known keys searched in {CHECKED['log records']} log "
        f"records, {CHECKED['SDK errors']} SDK errors, {CHECKED['CLI runs']} CliRunner runs, "
        f"{CHECKED['processes']} subprocess outputs and "
        f"{CHECKED['texts']} texts in all: {CHECKED['leaked keys']} leaks"
    )


# -- leaks ------------------------------------------------------------------------------------

_connectors: weakref.WeakValueDictionary[int, aiohttp.BaseConnector] = weakref.WeakValueDictionary()
_connector_serial = [0]


def _wrap_connector_init(original: Callable[..., None]) -> Callable[..., None]:
    def __init__(self: aiohttp.BaseConnector, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        _connector_serial[0] += 1
        _connectors[_connector_serial[0]] = self

    return __init__


_patch(aiohttp.BaseConnector, "__init__", _wrap_connector_init)


def _is_foreign_task(task: asyncio.Task[Any]) -> bool:
    coro = task.get_coro()
    if getattr(coro, "__qualname__", "").startswith("TestRunner."):
        return True  # anyio's pytest runner itself
    # A server's per-connection tasks belong to the server's owner (maybe a module fixture)
    # and end when it closes, or when the peer's close is read on a later loop iteration.
    filename = getattr(getattr(coro, "cr_code", None), "co_filename", "")
    return "aiohttp" in filename and "web_" in filename


@pytest.fixture
async def sekoia_task_guard() -> AsyncIterator[None]:
    """Fails an async test that leaves a task it started pending after its fixtures closed."""
    before = set(asyncio.all_tasks())
    yield
    # Let tasks that were told to stop (cancelled, woken) actually finish first.
    await anyio.wait_all_tasks_blocked()
    pending = [
        t
        for t in asyncio.all_tasks()
        if t not in before and not t.done() and not _is_foreign_task(t)
    ]
    if pending:
        CHECKED["leaked tasks"] += len(pending)
        names = ", ".join(sorted(f"{t.get_name()} ({t.get_coro()!r})" for t in pending))
        pytest.fail(f"{len(pending)} task(s) left pending after the test: {names}")


@pytest.fixture(autouse=True)
def sekoia_leak_guard(request: pytest.FixtureRequest) -> Iterator[None]:
    """After each test: every aiohttp connector it created is closed; no task is left pending."""
    first = _connector_serial[0]
    CHECKED["tests"] += 1
    if "anyio_backend" in request.fixturenames and request.node.get_closest_marker("anyio"):
        request.getfixturevalue("sekoia_task_guard")
    yield
    open_connectors = [
        c for serial, c in list(_connectors.items()) if serial > first and not c.closed
    ]
    CHECKED["connectors"] += _connector_serial[0] - first
    if open_connectors:
        CHECKED["leaked connectors"] += len(open_connectors)
        pytest.fail(
            f"{len(open_connectors)} aiohttp connector(s) created by this test are still open: "
            "close every SekoiaClient/SessionPool/ClientSession (use 'async with')"
        )
