"""sekoia-async: an async-first Python SDK for the Sekoia.io REST API."""

from ._client import SekoiaClient, StreamResponse
from ._transport.config import REGIONS, Timeout
from ._transport.pool import SessionPool
from ._transport.retry import RetryPolicy
from ._transport.stats import ClientStats
from ._version import __version__
from .errors import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConfigurationError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    SearchJobCanceled,
    SearchJobError,
    SearchJobExpired,
    SearchJobFailed,
    SearchJobTimeout,
    SekoiaError,
    ServerError,
    UnprocessableEntityError,
)

__all__ = [
    "REGIONS",
    "APIConnectionError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ClientStats",
    "ConfigurationError",
    "ConflictError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "SearchJobCanceled",
    "SearchJobError",
    "SearchJobExpired",
    "SearchJobFailed",
    "SearchJobTimeout",
    "SekoiaClient",
    "SekoiaError",
    "ServerError",
    "SessionPool",
    "StreamResponse",
    "Timeout",
    "UnprocessableEntityError",
    "__version__",
]
