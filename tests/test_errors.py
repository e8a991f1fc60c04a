from __future__ import annotations

import pytest

import sekoia_async
from sekoia_async.errors import (
    APIStatusError,
    AuthenticationError,
    NotFoundError,
    RateLimitError,
    SekoiaError,
    ServerError,
    status_error_class,
)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (404, NotFoundError),
        (429, RateLimitError),
        (503, ServerError),
        (418, APIStatusError),
    ],
)
def test_status_error_class(status: int, cls: type[APIStatusError]) -> None:
    assert status_error_class(status) is cls
    assert issubclass(cls, SekoiaError)


def test_error_text_names_status_and_request() -> None:
    err = RateLimitError("slow down", retry_after=3.0, method="GET", url="/v1/x", request_id="r1")
    assert str(err) == "HTTP 429 (GET /v1/x): slow down [request id r1]"
    assert err.retry_after == 3.0


def test_public_names_are_reexported() -> None:
    for name in sekoia_async.__all__:
        assert hasattr(sekoia_async, name)
