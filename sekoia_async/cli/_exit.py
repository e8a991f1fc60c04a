"""Exit codes of the ``sekoia-async`` command and the mapping from errors to them. Pure."""

from __future__ import annotations

import enum

from ..errors import (
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    SearchJobError,
    SekoiaError,
)

__all__ = ["EXIT_CODES_HELP", "ExitCode", "exit_code_for", "unwrap"]


class ExitCode(enum.IntEnum):
    """What the process exit status means (documented in ``--help`` and the README)."""

    OK = 0
    FAILED = 1  # export: at least one tenant failed; or a local error (disk full...)
    USAGE = 2
    AUTHENTICATION = 3
    PERMISSION = 4
    JOB = 5
    API = 6
    INTERRUPTED = 130


EXIT_CODES_HELP = (
    "Exit codes: 0 ok, 1 export with failed tenants or a local error, 2 usage or "
    "configuration, 3 authentication (bad API key), 4 permission denied, 5 search job "
    "failed/canceled/timed out/expired, 6 other API or network error, 130 interrupted "
    "(SIGINT or SIGTERM)."
)


def unwrap(exc: BaseException) -> BaseException:
    """The single error inside (nested) exception groups, else ``exc`` itself."""
    # Exception groups are builtins only from Python 3.11; anyio uses the backport on 3.10.
    while True:
        inner = getattr(exc, "exceptions", None)
        if not isinstance(inner, tuple) or not inner:
            return exc
        # Several failures at once: report the most specific one.
        exc = min(inner, key=lambda e: _rank(unwrap(e)))


def _rank(exc: BaseException) -> int:
    code = exit_code_for(exc)
    return 0 if code not in (ExitCode.API, ExitCode.FAILED) else 1


def exit_code_for(exc: BaseException) -> ExitCode:
    """The exit code for an error that ended a command."""
    exc = unwrap(exc)
    if isinstance(exc, KeyboardInterrupt):
        return ExitCode.INTERRUPTED
    if isinstance(exc, AuthenticationError):
        return ExitCode.AUTHENTICATION
    if isinstance(exc, PermissionDeniedError):
        return ExitCode.PERMISSION
    if isinstance(exc, SearchJobError):
        return ExitCode.JOB
    if isinstance(exc, ConfigurationError):
        return ExitCode.USAGE
    if isinstance(exc, SekoiaError):
        return ExitCode.API
    if isinstance(exc, ValueError):
        # Bad arguments found before any request (times, filters, uuids).
        return ExitCode.USAGE
    return ExitCode.FAILED
