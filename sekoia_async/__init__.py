"""sekoia-async: an async-first Python SDK for the Sekoia.io REST API."""

from ._client import SekoiaClient, StreamResponse
from ._helpers.exporter import (
    ExportConfig,
    Exporter,
    ExportResult,
    TenantConfig,
    TenantProgress,
    load_export_config,
    run_export,
)
from ._helpers.polling import OperationFailed, OperationTimeout
from ._helpers.search.policy import PollPolicy
from ._helpers.search.stream import SearchResults, SearchStats
from ._models.assets import (
    Asset,
    AssetAttribute,
    AssetCriticity,
    AssetSource,
    AssetType,
    LegacyAsset,
    NamedRef,
)
from ._models.community import Community, Invitation, Role, User, UserCommunity
from ._models.events import EventsPage, SearchJob, SearchJobStatus
from ._models.exports import EventField, ExportJob, FieldValue, S3Destination
from ._models.intakes import Entity, EntityRef, Intake
from ._models.queries import QueryRun, QueryRunStatus
from ._models.tasks import Task, TaskStatus
from ._resources.events_export import EventsExport
from ._resources.queries import QueryRows
from ._transport.config import REGIONS, Timeout
from ._transport.pool import SessionPool
from ._transport.ratelimit import TokenBucket
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
    "Asset",
    "AssetAttribute",
    "AssetCriticity",
    "AssetSource",
    "AssetType",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "ClientStats",
    "Community",
    "ConfigurationError",
    "ConflictError",
    "Entity",
    "EntityRef",
    "EventField",
    "EventsExport",
    "EventsPage",
    "ExportConfig",
    "ExportJob",
    "ExportResult",
    "Exporter",
    "FieldValue",
    "Intake",
    "Invitation",
    "LegacyAsset",
    "NamedRef",
    "NotFoundError",
    "OperationFailed",
    "OperationTimeout",
    "PermissionDeniedError",
    "PollPolicy",
    "QueryRows",
    "QueryRun",
    "QueryRunStatus",
    "RateLimitError",
    "RetryPolicy",
    "Role",
    "S3Destination",
    "SearchJob",
    "SearchJobCanceled",
    "SearchJobError",
    "SearchJobExpired",
    "SearchJobFailed",
    "SearchJobStatus",
    "SearchJobTimeout",
    "SearchResults",
    "SearchStats",
    "SekoiaClient",
    "SekoiaError",
    "ServerError",
    "SessionPool",
    "StreamResponse",
    "Task",
    "TaskStatus",
    "TenantConfig",
    "TenantProgress",
    "Timeout",
    "TokenBucket",
    "UnprocessableEntityError",
    "User",
    "UserCommunity",
    "__version__",
    "load_export_config",
    "run_export",
]
