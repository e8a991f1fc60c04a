"""The error tree of sekoia_async. Every error the SDK raises derives from SekoiaError.

Messages say what went wrong and what to do; none of them ever contains an API key.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ConfigurationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "SearchJobCanceled",
    "SearchJobError",
    "SearchJobExpired",
    "SearchJobFailed",
    "SearchJobTimeout",
    "SekoiaError",
    "ServerError",
    "UnprocessableEntityError",
]


class SekoiaError(Exception):
    """Base class of every error raised by sekoia_async."""


class ConfigurationError(SekoiaError, ValueError):
    """The client was configured wrongly (missing API key, unknown region, unsafe URL...)."""


class ClientClosedError(SekoiaError, RuntimeError):
    """A request was made on a client (or pool) that was already closed."""


class APIConnectionError(SekoiaError):
    """The request did not get an HTTP response (DNS, refused, reset, TLS...)."""

    def __init__(self, message: str, *, method: str = "", url: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.method = method
        self.url = url


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read or total attempt timeout)."""


class APIResponseValidationError(SekoiaError):
    """A 2xx response did not carry what the API promises (not JSON, wrong shape...)."""

    def __init__(
        self, message: str, *, status: int = 0, method: str = "", url: str = "", body: Any = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.method = method
        self.url = url
        self.body = body


class APIStatusError(SekoiaError):
    """The API answered with a non-success HTTP status."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        body: Any = None,
        method: str = "",
        url: str = "",
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.body = body
        self.method = method
        self.url = url
        self.request_id = request_id

    def __str__(self) -> str:
        where = f" ({self.method} {self.url})" if self.method else ""
        rid = f" [request id {self.request_id}]" if self.request_id else ""
        return f"HTTP {self.status}{where}: {self.message}{rid}"


class BadRequestError(APIStatusError):
    """400: the API rejected the parameters or body."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, invalid, expired or revoked."""


class PermissionDeniedError(APIStatusError):
    """403: the API key lacks the permission this endpoint needs."""


class NotFoundError(APIStatusError):
    """404: no such resource (or no longer: expired search results)."""


class ConflictError(APIStatusError):
    """409: the request conflicts with the resource's state (e.g. invalid workflow transition)."""


class UnprocessableEntityError(APIStatusError):
    """422: the body was well-formed but semantically invalid."""


class RateLimitError(APIStatusError):
    """429: rate limited. ``retry_after`` is the server's advised wait in seconds, if any."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("status", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    """5xx: the API failed. Retried automatically; raised once retries are exhausted."""


class SearchJobError(SekoiaError):
    """An event search job did not produce its results.

    ``job_uuid`` names the job; ``continuation_token`` (a JSON-serialisable dict, or None when
    nothing can be resumed) can be given to ``client.events.resume()`` to carry on.
    """

    def __init__(
        self,
        message: str,
        *,
        job_uuid: str | None = None,
        continuation_token: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.job_uuid = job_uuid
        self.continuation_token = continuation_token


class SearchJobFailed(SearchJobError):
    """The job ended with status 4 (failed); the message is the server's."""


class SearchJobCanceled(SearchJobError):
    """The job ended with status 3 (canceled)."""


class SearchJobTimeout(SearchJobError):
    """The job did not start, or did not finish, within its deadline."""


class SearchJobExpired(SearchJobError):
    """The job's results expired (results_ttl elapsed) and could not be re-created."""


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def status_error_class(status: int) -> type[APIStatusError]:
    """The APIStatusError subclass for an HTTP status."""
    if status in _STATUS_ERRORS:
        return _STATUS_ERRORS[status]
    if status >= 500:
        return ServerError
    return APIStatusError
