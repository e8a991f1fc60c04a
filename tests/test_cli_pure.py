"""Pure parts of the command line: exit-code mapping, key redaction, --match parsing."""

from __future__ import annotations

import logging

import click
import pytest

from sekoia_async.cli._common import KeyRedactingFilter, parse_match
from sekoia_async.cli._exit import ExitCode, exit_code_for
from sekoia_async.errors import (
    APIConnectionError,
    AuthenticationError,
    ConfigurationError,
    ConflictError,
    PermissionDeniedError,
    SearchJobCanceled,
    SearchJobExpired,
    SearchJobFailed,
    SearchJobTimeout,
    ServerError,
)


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (AuthenticationError("bad key", status=401), ExitCode.AUTHENTICATION),
        (PermissionDeniedError("no", status=403), ExitCode.PERMISSION),
        (SearchJobFailed("bad query"), ExitCode.JOB),
        (SearchJobCanceled("canceled"), ExitCode.JOB),
        (SearchJobTimeout("slow"), ExitCode.JOB),
        (SearchJobExpired("gone"), ExitCode.JOB),
        (ConflictError("409", status=409), ExitCode.API),
        (ServerError("503", status=503), ExitCode.API),
        (APIConnectionError("refused"), ExitCode.API),
        (ConfigurationError("no key"), ExitCode.USAGE),
        (ValueError("bad time"), ExitCode.USAGE),
        (KeyboardInterrupt(), ExitCode.INTERRUPTED),
        (OSError("disk full"), ExitCode.FAILED),
    ],
)
def test_exit_code_for(error: BaseException, code: ExitCode) -> None:
    assert exit_code_for(error) == code


class _Group(Exception):
    # Shaped like (Base)ExceptionGroup, which is a builtin only from Python 3.11.
    def __init__(self, *exceptions: BaseException) -> None:
        super().__init__("group")
        self.exceptions = exceptions


def test_exit_code_looks_inside_exception_groups() -> None:
    group = _Group(ServerError("x", status=500), AuthenticationError("y", status=401))
    assert exit_code_for(_Group(group)) == ExitCode.AUTHENTICATION


def test_redacting_filter_hides_keys_and_bearer_tokens() -> None:
    redact = KeyRedactingFilter(["sekret-key-123"])
    record = logging.LogRecord(
        "x",
        logging.DEBUG,
        __file__,
        1,
        "key=%s auth=%s",
        ("sekret-key-123", "Bearer abc.def"),
        None,
    )
    assert redact.filter(record)
    message = record.getMessage()
    assert "sekret-key-123" not in message
    assert "abc.def" not in message
    assert message == "key=*** auth=Bearer ***"


def test_parse_match() -> None:
    assert parse_match(["name=a,b", "status=open"]) == {"name": ["a", "b"], "status": ["open"]}
    assert parse_match(["name=Suspicious PowerShell"]) == {"name": ["Suspicious PowerShell"]}


@pytest.mark.parametrize("bad", [["name"], ["=x"], ["name="], ["a=1", "a=2"]])
def test_parse_match_rejects(bad: list[str]) -> None:
    with pytest.raises(click.BadParameter):
        parse_match(bad)
