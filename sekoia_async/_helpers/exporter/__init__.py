"""The multi-tenant exporter: every tenant's search streamed to durable, resumable NDJSON files.

Usable from Python (``await run_export(load_export_config("tenants.toml"))``) and from the
command line (``sekoia-async export --config tenants.toml``).
"""

from ._config import ExportConfig, TenantConfig, load_export_config, parse_export_config
from ._output import DurableOutput, OutputStateError, encode_events
from ._plan import (
    ItemState,
    Window,
    WorkItem,
    parse_shard_spec,
    plan_work,
    resolve_window,
    select_shard,
    split_window,
)
from ._runner import Exporter, ExportResult, TenantProgress, run_export

__all__ = [
    "DurableOutput",
    "ExportConfig",
    "ExportResult",
    "Exporter",
    "ItemState",
    "OutputStateError",
    "TenantConfig",
    "TenantProgress",
    "Window",
    "WorkItem",
    "encode_events",
    "load_export_config",
    "parse_export_config",
    "parse_shard_spec",
    "plan_work",
    "resolve_window",
    "run_export",
    "select_shard",
    "split_window",
]
